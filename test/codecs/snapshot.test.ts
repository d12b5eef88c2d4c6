import assert from 'node:assert/strict';
import { TaskRef } from '../../src/actors/ref.js';
import {
  type Codec,
  CodecNotLoadedError,
  createCodecRegistry,
  createProtobufCodec,
  decodeSnapshot,
  encodeSnapshot,
  readSnapshotHeader,
  restoreState,
  restoreStateAsync,
  roundTripState,
  snapshotState,
  snapshotStateAsync,
  type SnapshotSubject,
  SnapshotVersionError,
  UnknownCodecError,
} from '../../src/codecs/index.js';
import { defineTask } from '../../src/actors/task.js';
import { cborEncode } from '../../src/codecs/cbor.js';
import { ErrorCodes } from '../../src/errors.js';
import { assertCodecError, assertThrowsCode } from './codec-fixtures.js';

/** A task-like subject: pure receive plus snapshot/restore, as a task definition has. */
interface TaskLike<S, M, R> extends SnapshotSubject<S> {
  init(): S;
  receive(state: S, msg: M): [S, R];
}

/** Feeds the same messages to `state` and to its round trip through the codec; both must answer and end the same. */
function assertBehavesTheSame<S, M, R>(task: TaskLike<S, M, R>, messages: M[], options: Parameters<typeof snapshotState>[2] = {}): void {
  let original = task.init();
  // warm up: the snapshot is taken mid-life
  for (const m of messages.slice(0, 3)) original = task.receive(original, m)[0];
  let copy = restoreState(task, snapshotState(task, original, options), options.registry ? { registry: options.registry } : {});
  for (const m of messages) {
    const [a, ra] = task.receive(original, m);
    const [b, rb] = task.receive(copy, m);
    assert.deepStrictEqual(rb, ra);
    original = a;
    copy = b;
  }
  assert.deepStrictEqual(copy, original);
}

// cbor: rich JS state, kept as is (no snapshot hook)
type Bank = { balances: Map<string, bigint>; owners: Set<string>; auditor: TaskRef; opened: Date; log: Uint8Array };
type BankMsg = { op: 'deposit'; who: string; amount: bigint } | { op: 'balance'; who: string } | { op: 'audit' };
const bank: TaskLike<Bank, BankMsg, unknown> = {
  name: 'bank',
  version: 1,
  init: () => ({ balances: new Map(), owners: new Set(), auditor: new TaskRef('aud-1', 'auditor'), opened: new Date(1_000), log: new Uint8Array(0) }),
  receive(s, m) {
    if (m.op === 'deposit') {
      const balances = new Map(s.balances).set(m.who, (s.balances.get(m.who) ?? 0n) + m.amount);
      const log = new Uint8Array(s.log.length + 1);
      log.set(s.log);
      log[s.log.length] = Number(m.amount & 0xffn);
      return [{ ...s, balances, owners: new Set(s.owners).add(m.who), log }, balances.get(m.who)];
    }
    if (m.op === 'balance') return [s, s.balances.get(m.who) ?? null];
    return [s, { auditor: s.auditor, owners: [...s.owners].sort(), total: [...s.balances.values()].reduce((a, b) => a + b, 0n) }];
  },
};
const bankMessages: BankMsg[] = [
  { op: 'deposit', who: 'ann', amount: 10n },
  { op: 'deposit', who: 'bob', amount: 2n ** 70n },
  { op: 'balance', who: 'ann' },
  { op: 'deposit', who: 'ann', amount: 5n },
  { op: 'audit' },
  { op: 'balance', who: 'zed' },
];

// json: snapshot/restore hooks turn the Map into entries
type Tally = { counts: Map<string, number>; last: string | null };
const tally: TaskLike<Tally, string, number> = {
  name: 'tally',
  version: 1,
  codec: 'json',
  init: () => ({ counts: new Map(), last: null }),
  receive(s, word) {
    const n = (s.counts.get(word) ?? 0) + 1;
    return [{ counts: new Map(s.counts).set(word, n), last: word }, n];
  },
  snapshot: (s) => ({ counts: [...s.counts], last: s.last }),
  restore: (snap) => {
    const v = snap as { counts: [string, number][]; last: string | null };
    return { counts: new Map(v.counts), last: v.last };
  },
};

// arrow: a moving window of samples in typed-array columns
type Window = { t: Float64Array; v: Float32Array };
const window: TaskLike<Window, number, number> = {
  name: 'window',
  version: 1,
  codec: 'arrow',
  init: () => ({ t: new Float64Array(4), v: new Float32Array(4) }),
  receive(s, x) {
    const t = new Float64Array(s.t.length);
    const v = new Float32Array(s.v.length);
    t.set(s.t.subarray(1));
    v.set(s.v.subarray(1));
    t[t.length - 1] = s.t[s.t.length - 1]! + 1;
    v[v.length - 1] = x;
    return [{ t, v }, v.reduce((a, b) => a + b, 0)];
  },
};

describe('Snapshots', () => {
  describe('restore(decode(encode(snapshot(s)))) behaves the same as s', () => {
    it('with cbor (the default): Maps, Sets, BigInt, Date, bytes and a TaskRef', () => {
      assertBehavesTheSame(bank, bankMessages);
    });

    it('with json, through snapshot and restore hooks', () => {
      assertBehavesTheSame(tally, ['a', 'b', 'a', 'c', 'a', 'b']);
    });

    it('with arrow, for typed-array columns', async () => {
      const registry = createCodecRegistry();
      await registry.load('arrow');
      assertBehavesTheSame(window, [1, 2, 3, 4, 5, 6, 7], { registry });
    });

    it('with protobuf, for a schema-defined state', async () => {
      const codec = await createProtobufCodec({
        proto: 'syntax = "proto3"; message Counter { int64 n = 1; repeated string seen = 2; }',
        type: 'Counter',
      });
      type Counter = { n: bigint; seen: string[] };
      const counter: TaskLike<Counter, string, bigint> = {
        name: 'counter',
        version: 1,
        codec,
        init: () => ({ n: 0n, seen: [] }),
        receive: (s, who) => [{ n: s.n + 1n, seen: [...s.seen, who] }, s.n + 1n],
      };
      assertBehavesTheSame(counter, ['x', 'y', 'z', 'x']);
    });

    it('with a task-supplied codec object that is registered nowhere', () => {
      const tiny: Codec = {
        name: 'tiny-u32',
        encode: (v) => new Uint8Array(new Uint32Array([v as number]).buffer),
        decode: (b) => new Uint32Array(b.slice().buffer)[0],
      };
      const sum: TaskLike<number, number, number> = { name: 'sum', version: 1, codec: tiny, init: () => 0, receive: (s, x) => [s + x, s + x] };
      assertBehavesTheSame(sum, [1, 2, 3, 4]);
      assert.equal(readSnapshotHeader(snapshotState(sum, 5)).codec, 'tiny-u32');
    });
  });

  describe('with a task definition', () => {
    it('takes a defineTask definition as the subject', () => {
      const def = defineTask<{ n: number }, number>({
        name: 'adder',
        version: 3,
        init: () => ({ n: 0 }),
        receive: (s, x) => ({ n: s.n + x }),
        snapshot: (s) => [s.n],
        restore: (snap) => ({ n: (snap as number[])[0]! }),
      });
      const bytes = snapshotState(def, { n: 41 });
      assert.equal(readSnapshotHeader(bytes).stateVersion, 3);
      assert.deepStrictEqual(restoreState(def, bytes), { n: 41 });
    });
  });

  describe('a cbor state with large arrays', () => {
    const blob = defineTask<{ data: Uint8Array; samples: Float64Array; n: number }, number>({
      name: 'blob',
      init: () => ({ data: new Uint8Array(0), samples: new Float64Array(0), n: 0 }),
      receive: (s) => s,
    });
    const state = { data: new Uint8Array(300_000).map((_, i) => i * 7), samples: Float64Array.from({ length: 70_000 }, (_, i) => i / 3), n: 5 };

    it('is the bytes cborEncode gives, in an envelope checksummed with CRC-32, and restores equal', () => {
      const bytes = snapshotState(blob, state);
      const header = readSnapshotHeader(bytes);
      assert.deepEqual([header.codec, header.checksum, header.compression], ['cbor', 'crc32', 'none']);
      assert.ok(Buffer.from(cborEncode(state)).equals(bytes.subarray(header.headerBytes)), 'the codec bytes');
      assert.deepStrictEqual(restoreState(blob, bytes), state);
      // Compressed snapshots take the encoder's path (CRC-32C), and restore equal too.
      const deflated = snapshotState(blob, state, { compress: 'deflate' });
      assert.equal(readSnapshotHeader(deflated).checksum, 'crc32c');
      assert.deepStrictEqual(restoreState(blob, deflated), state);
    });

    it('is a copy: changing the state afterwards does not change the snapshot, and a flipped payload byte is caught', () => {
      const live = { data: state.data.slice(), samples: state.samples.slice(), n: 5 };
      const bytes = snapshotState(blob, live);
      live.data[10] = 255 - live.data[10]!;
      live.samples[3] = -1;
      assert.deepStrictEqual(restoreState(blob, bytes), state);
      const header = readSnapshotHeader(bytes);
      bytes[header.headerBytes + 1000]! ^= 1;
      assertThrowsCode(() => restoreState(blob, bytes), ErrorCodes.CODEC);
    });
  });

  describe('#roundTripState', () => {
    it('returns an equal state through the codec', () => {
      const s = bank.receive(bank.init(), bankMessages[0]!)[0];
      assert.deepStrictEqual(roundTripState(bank, s), s);
    });

    it('surfaces unserializable state as a CodecError', () => {
      assertCodecError(() => roundTripState({ name: 'bad', version: 1 }, { f: () => 1 }), { codec: 'cbor' });
    });
  });

  describe('state versions', () => {
    const v1 = { name: 'profile', version: 1 };
    const old = snapshotState(v1, { fullName: 'Ada Lovelace' });

    it('restores the same version without migrate', () => {
      assert.deepStrictEqual(restoreState(v1, old), { fullName: 'Ada Lovelace' });
    });

    it('throws SnapshotVersionError for an older version without migrate', () => {
      const err = assertThrowsCode<SnapshotVersionError>(() => restoreState({ name: 'profile', version: 2 }, old), ErrorCodes.SNAPSHOT_VERSION);
      assert.ok(err instanceof SnapshotVersionError);
      assert.equal(err.task, 'profile');
      assert.equal(err.expectedVersion, 2);
      assert.equal(err.foundVersion, 1);
      assert.match(err.message, /snapshot of task profile has state version 1 but version 2 is expected \(the task has no migrate hook\)/);
    });

    it('upgrades an older version through migrate, then restore', () => {
      const calls: number[] = [];
      const v2 = {
        name: 'profile',
        version: 2,
        prefix: 'Dr',
        migrate(oldVersion: number, snap: unknown) {
          calls.push(oldVersion);
          const [first, last] = (snap as { fullName: string }).fullName.split(' ');
          return { first, last };
        },
        restore(snap: unknown) {
          return { ...(snap as object), title: this.prefix };
        },
      };
      assert.deepStrictEqual(restoreState(v2, old), { first: 'Ada', last: 'Lovelace', title: 'Dr' });
      assert.deepStrictEqual(calls, [1]);
    });

    it('reports migratedFrom from decodeSnapshot', () => {
      const decoded = decodeSnapshot(old, { expect: { task: 'profile', stateVersion: 4, migrate: (_v, s) => s } });
      assert.equal(decoded.migratedFrom, 1);
    });

    it('refuses a snapshot newer than the task even with migrate', () => {
      const newer = snapshotState({ name: 'profile', version: 5 }, {});
      const err = assertThrowsCode<SnapshotVersionError>(() => restoreState({ name: 'profile', version: 2, migrate: (_v: number, s: unknown) => s }, newer), ErrorCodes.SNAPSHOT_VERSION);
      assert.equal(err.foundVersion, 5);
      assert.match(err.message, /newer than the task/);
    });

    it('refuses the snapshot of another task', () => {
      assertCodecError(() => restoreState({ name: 'other', version: 1 }, old), { codec: 'envelope', reason: /belongs to task profile, not other/ });
    });
  });

  describe('codec lookup', () => {
    it('throws UnknownCodecError for a codec the registry lacks', () => {
      const bytes = encodeSnapshot({ task: 't', stateVersion: 1, codec: { name: 'mine', encode: () => new Uint8Array(1), decode: () => 1 }, state: 1 });
      const err = assertThrowsCode<UnknownCodecError>(() => restoreState({ name: 't', version: 1 }, bytes), ErrorCodes.UNKNOWN_CODEC);
      assert.equal(err.codecName, 'mine');
    });

    it('needs a lazy codec loaded for the synchronous path; the async path loads it', async () => {
      const registry = createCodecRegistry();
      const task = { name: 'cols', version: 1, codec: 'arrow' };
      const state = { a: new Float64Array([1, 2]) };
      assert.throws(() => snapshotState(task, state, { registry }), CodecNotLoadedError);
      const bytes = await snapshotStateAsync(task, state, { registry });
      const fresh = createCodecRegistry();
      assert.throws(() => restoreState(task, bytes, { registry: fresh }), CodecNotLoadedError);
      assert.deepStrictEqual(await restoreStateAsync(task, bytes, { registry: fresh }), state);
    });

    it('decodes with the codec the envelope names, even when the task now prefers another', () => {
      const bytes = snapshotState({ name: 't', version: 1, codec: 'json' }, { a: 1 });
      assert.deepStrictEqual(restoreState({ name: 't', version: 1, codec: 'cbor' }, bytes), { a: 1 });
    });

    it('wraps a non-typed error thrown by a custom codec', () => {
      const broken: Codec = { name: 'broken', encode: () => new Uint8Array(0), decode: () => { throw new TypeError('boom'); } };
      const bytes = snapshotState({ name: 't', version: 1, codec: broken }, 1);
      assertCodecError(() => restoreState({ name: 't', version: 1, codec: broken }, bytes), { codec: 'broken', reason: /boom/ });
    });

    it('rejects a custom codec that does not return bytes', () => {
      const liar = { name: 'liar', encode: () => 'text' as unknown as Uint8Array, decode: () => 1 };
      assertCodecError(() => snapshotState({ name: 't', version: 1, codec: liar }, 1), { codec: 'liar', reason: /did not return a Uint8Array/ });
    });
  });
});
