/**
 * Codec throughput: encode+decode of one state, in MB/s (10^6 bytes of state per second), for 1
 * KiB, 1 MiB and 64 MiB states and each codec, beside a raw `Buffer` copy of the same number of
 * bytes measured in the same run (the "memcpy" baseline). Then the snapshot envelope (checksum
 * over the payload, one extra copy) beside the bare codec, CRC-32C alone beside memcpy, and small
 * state (1 KiB) cbor encode+decode in ops/s against the 300k ops/s target, for a binary-heavy and
 * a record-heavy state. Last, pre-copy's snapshot of a cbor state (its large arrays copied into a
 * warm buffer) beside an encode of the state: the synchronous time, which the task stalls for.
 *
 * States are binary-heavy, as migrating state mostly is:
 * - cbor: `{ task, seq, updatedAt, weights: Float64Array, raw: Uint8Array }`, half and half;
 * - arrow: typed-array columns `{ t: Float64Array, v: Float32Array, id: Int32Array }`;
 * - protobuf: `{ name, seq, samples: repeated double (packed), blob: bytes }`, half and half;
 * - json: `{ task, seq, samples: number[] }` (JSON has no binary; the size is its text size).
 *
 * Rounds alternate codec and baseline; each figure is the median of the rounds.
 */
import {
  type Codec,
  cborCodec,
  crc32c,
  createCodecRegistry,
  createProtobufCodec,
  decodeSnapshot,
  encodeSnapshot,
  jsonCodec,
} from '../src/codecs/index.js';
import { encodeStatePayload, encodeStatePayloadPieces } from '../src/codecs/snapshot.js';
import { bumpCopier, warmBuffer } from '../src/runtime/warm-buffer.js';
import { type Bench, type BenchResult, benchResult, median } from './report.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MB = 1e6;

interface Plan {
  sizes: number[];
  rounds: number;
  /** Keep repeating an operation within a round until this much time has passed. */
  minRoundMs: number;
}

const FULL: Plan = { sizes: [KiB, MiB, 64 * MiB], rounds: 5, minRoundMs: 150 };
const QUICK: Plan = { sizes: [KiB, 256 * KiB], rounds: 1, minRoundMs: 5 };

function label(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB}MiB` : `${bytes / KiB}KiB`;
}

function filled(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed | 1;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1_103_515_245 + 12_345) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

function cborState(bytes: number): unknown {
  const half = Math.floor(bytes / 2 / 8) * 8;
  return { task: 'bench', seq: 12_345, updatedAt: 1_700_000_000_000, weights: new Float64Array(filled(half, 1).buffer), raw: filled(bytes - half - 64, 2) };
}

/** About `bytes` of CBOR made of small records: strings, numbers, booleans, a nested array. */
function recordState(bytes: number): unknown {
  const count = Math.max(1, Math.floor(bytes / 38));
  return { task: 'bench', seq: 12_345, items: Array.from({ length: count }, (_, i) => ({ id: i, name: `item-${i}`, score: i * 1.25, on: i % 2 === 0 })) };
}

function arrowState(bytes: number): unknown {
  const rows = Math.max(1, Math.floor(bytes / 16));
  return { t: new Float64Array(filled(rows * 8, 3).buffer), v: new Float32Array(rows).fill(1.5), id: new Int32Array(rows).fill(7) };
}

function protobufState(bytes: number): unknown {
  const doubles = Math.max(1, Math.floor(bytes / 2 / 8));
  return { name: 'bench', seq: 12_345n, samples: Array.from({ length: doubles }, (_, i) => i * 0.5), blob: Buffer.from(filled(bytes - doubles * 8 - 32, 4)) };
}

function jsonState(bytes: number): unknown {
  const count = Math.max(1, Math.floor(bytes / 9));
  return { task: 'bench', seq: 12_345, samples: Array.from({ length: count }, (_, i) => (i * 7919) % 99_991) };
}

/** Runs `op` in growing batches for at least `minMs` (reading the clock once a batch) and returns its rate (calls per second). */
function rate(op: () => void, minMs: number): number {
  let calls = 0;
  let batch = 1;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) op();
    calls += batch;
    elapsed = performance.now() - t0;
    if (elapsed < minMs / 4) batch *= 2;
  } while (elapsed < minMs);
  return calls / (elapsed / 1000);
}

/** Median rates of `op` and `baseline` over alternating rounds. */
function compare(op: () => void, baseline: () => void, plan: Plan): { value: number; base: number } {
  const a: number[] = [];
  const b: number[] = [];
  op();
  baseline();
  for (let r = 0; r < plan.rounds; r++) {
    a.push(rate(op, plan.minRoundMs));
    b.push(rate(baseline, plan.minRoundMs));
  }
  return { value: median(a), base: median(b) };
}

function memcpyOf(bytes: number): () => void {
  const source = filled(bytes, 9);
  return () => {
    Buffer.from(source);
  };
}

function roundTrip(codec: Codec, state: unknown): () => void {
  return () => {
    codec.decode(codec.encode(state));
  };
}

function viaEnvelope(codec: Codec, state: unknown): () => void {
  return () => {
    const bytes = encodeSnapshot({ task: 'bench', stateVersion: 1, codec, state });
    decodeSnapshot(bytes, { codec, expect: { task: 'bench', stateVersion: 1 } });
  };
}

export const bench: Bench = {
  name: 'codecs',
  description: 'encode+decode MB/s per codec and state size vs a Buffer copy (memcpy); envelope vs bare codec; 1 KiB cbor ops/s',
  async run({ quick }) {
    const plan = quick ? QUICK : FULL;
    const registry = createCodecRegistry();
    const arrow = await registry.load('arrow');
    const protobuf = await createProtobufCodec({
      proto: 'syntax = "proto3"; message BenchState { string name = 1; int64 seq = 2; repeated double samples = 3; bytes blob = 4; }',
      type: 'BenchState',
    });
    const codecs: [Codec, (bytes: number) => unknown][] = [
      [cborCodec, cborState],
      [arrow, arrowState],
      [protobuf, protobufState],
      [jsonCodec, jsonState],
    ];
    const results: BenchResult[] = [];
    const mbps = (perSecond: number, bytes: number) => (perSecond * bytes) / MB;

    // Small states first, on a heap not yet churned by the 64 MiB cases.
    for (const [shape, state] of [['binary-heavy', cborState(KiB)], ['record-heavy', recordState(KiB)]] as const) {
      const ops = median(Array.from({ length: plan.rounds }, () => rate(roundTrip(cborCodec, state), plan.minRoundMs)));
      results.push(benchResult({ case: `cbor 1KiB ${shape}`, metric: 'encode+decode ops', value: ops, unit: 'ops/s', baseline: 'target', baselineValue: 300_000 }));
    }

    for (const size of plan.sizes) {
      const memcpy = memcpyOf(size);
      for (const [codec, makeState] of codecs) {
        const state = makeState(size);
        const { value, base } = compare(roundTrip(codec, state), memcpy, plan);
        results.push(benchResult({ case: `${codec.name.split(':')[0]} ${label(size)}`, metric: 'encode+decode throughput', value: mbps(value, size), unit: 'MB/s', baseline: 'memcpy', baselineValue: mbps(base, size) }));
      }
      for (const [codec, makeState] of codecs.slice(0, 2)) {
        const state = makeState(size);
        const { value, base } = compare(viaEnvelope(codec, state), roundTrip(codec, state), plan);
        results.push(benchResult({ case: `envelope(${codec.name}) ${label(size)}`, metric: 'encode+decode throughput', value: mbps(value, size), unit: 'MB/s', baseline: `bare ${codec.name} codec`, baselineValue: mbps(base, size) }));
      }
      const data = filled(size, 5);
      const { value, base } = compare(() => crc32c(data), memcpy, plan);
      results.push(benchResult({ case: `crc32c ${label(size)}`, metric: 'checksum throughput', value: mbps(value, size), unit: 'MB/s', baseline: 'memcpy', baselineValue: mbps(base, size) }));
      if (size >= MiB) {
        // Pre-copy's snapshot of a state that keeps changing, the synchronous part (the task's stall):
        // its large arrays copied into a warm buffer, against encoding the whole state.
        const state = cborState(size);
        const subject = { name: 'bench', version: 1, codec: cborCodec.name };
        const scratch = await warmBuffer(size + 64 * KiB);
        const snap = compare(() => void encodeStatePayloadPieces(subject, state, { copyLarge: bumpCopier(scratch) }), () => void encodeStatePayload(subject, state), plan);
        results.push(benchResult({ case: `pre-copy snapshot ${label(size)}`, metric: 'synchronous time', value: 1000 / snap.value, unit: 'ms', baseline: 'encode of the state', baselineValue: 1000 / snap.base, better: 'lower' }));
      }
    }
    return results;
  },
};
