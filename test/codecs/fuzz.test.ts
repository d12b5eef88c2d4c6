/**
 * Bad input never crashes and never yields a silently wrong state: random bytes, bit flips and
 * truncations against every codec, the envelope and the chunk assembler give a correct value or
 * a typed error (asserted by `code`).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tableFromArrays } from 'apache-arrow';
import { TaskRef } from '../../src/actors/ref.js';
import {
  ChunkAssembler,
  type Codec,
  cborCodec,
  createChunkStream,
  createCodecRegistry,
  createProtobufCodec,
  decodeSnapshot,
  encodeSnapshot,
  jsonCodec,
} from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { decodeOrTypedError } from './codec-fixtures.js';

/** Runs per property (300 keeps the suite fast); set GODWIT_FUZZ_RUNS for a deeper search. */
const RUNS = Number(process.env.GODWIT_FUZZ_RUNS ?? 300);
const randomBytes = fc.uint8Array({ maxLength: 512 });

/** A value cbor round-trips exactly (fast-check's anything, normalized). */
const cborValue = fc
  .anything({ withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, maxDepth: 3 })
  .map((v) => normalize(v));

/** -0 becomes 0 (cbor writes integers), an invalid Date a valid one (deepStrictEqual cannot compare NaN times). */
function normalize(v: unknown): unknown {
  if (typeof v === 'number' && Object.is(v, -0)) return 0;
  if (v instanceof Date && Number.isNaN(v.getTime())) return new Date(0);
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [normalize(k), normalize(x)]));
  if (v instanceof Set) return new Set([...v].map(normalize));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== '__proto__') out[k] = normalize(x);
    return out;
  }
  return v;
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  const i = bit % (copy.length * 8);
  copy[i >> 3]! ^= 1 << (i & 7);
  return copy;
}

/**
 * A bare codec cannot tell a flipped data bit from real data (the envelope checksum does), so
 * here the outcome must be a value or a CodecError: never another exception, a hang or a crash.
 */
function assertValueOrCodecError(codec: Codec, bytes: Uint8Array): void {
  const r = decodeOrTypedError(codec, bytes);
  if (!r.ok) assert.equal(r.code, ErrorCodes.CODEC);
}

describe('Bad input (property tests)', () => {
  let arrow: Codec;
  let proto: Codec;
  const codecs: Record<string, () => { codec: Codec; sample: unknown }> = {};

  before(async () => {
    arrow = await createCodecRegistry().load('arrow');
    proto = await createProtobufCodec({
      proto: 'syntax = "proto3"; message S { string name = 1; int64 n = 2; repeated double xs = 3; S child = 4; }',
      type: 'S',
    });
    codecs.cbor = () => ({ codec: cborCodec, sample: { a: [1, 'two', new Map([[3, 4n]])], ref: new TaskRef('t', 'k'), blob: new Uint8Array(64).fill(9) } });
    codecs.json = () => ({ codec: jsonCodec, sample: { a: [1, 'two', { b: null }], ref: new TaskRef('t', 'k') } });
    codecs.arrow = () => ({
      codec: arrow,
      sample: { t: tableFromArrays({ s: ['a', 'bb', null], x: Float64Array.from([1, 2, 3]) }), w: new Float32Array([1, 2]) },
    });
    codecs.protobuf = () => ({ codec: proto, sample: { name: 'root', n: 5n, xs: [1.5], child: { name: 'c', n: 0n, xs: [], child: null } } });
  });

  // Self-delimiting formats (cbor; arrow with its prefix) always reject a truncation; json and
  // protobuf can read a prefix as a smaller valid value, which only the envelope catches.
  const truncationAlwaysFails: Record<string, boolean> = { cbor: true, json: false, arrow: true, protobuf: false };

  for (const name of ['cbor', 'json', 'arrow', 'protobuf']) {
    describe(`${name} codec`, () => {
      it('decodes random bytes to a value or a CodecError', () => {
        const { codec } = codecs[name]!();
        fc.assert(fc.property(randomBytes, (bytes) => assertValueOrCodecError(codec, bytes)), { numRuns: RUNS });
      });

      it('decodes a valid encoding with one flipped bit to a value or a CodecError', () => {
        const { codec, sample } = codecs[name]!();
        const bytes = codec.encode(sample);
        fc.assert(fc.property(fc.nat(), (bit) => assertValueOrCodecError(codec, flipBit(bytes, bit))), { numRuns: RUNS });
      });

      it(truncationAlwaysFails[name] ? 'rejects every truncated encoding with a CodecError' : 'decodes a truncated encoding to a value or a CodecError', () => {
        const { codec, sample } = codecs[name]!();
        const bytes = codec.encode(sample);
        fc.assert(
          fc.property(fc.nat({ max: bytes.length - 1 }), (n) => {
            const r = decodeOrTypedError(codec, bytes.subarray(0, n));
            if (truncationAlwaysFails[name]) assert.equal(r.ok, false);
            else if (!r.ok) assert.equal(r.code, ErrorCodes.CODEC);
          }),
          { numRuns: RUNS },
        );
      });
    });
  }

  describe('arrow codec', () => {
    it('rejects random bytes behind a valid prefix magic', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (tail) => {
          const bytes = new Uint8Array(16 + tail.length);
          bytes.set([0x47, 0x57, 0x41, 0x52, 1]);
          bytes.set(tail, 16);
          assert.equal(decodeOrTypedError(arrow, bytes).ok, false);
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('cbor codec', () => {
    it('round-trips arbitrary values (objects, Maps, Sets, BigInt, Dates, typed arrays)', () => {
      fc.assert(
        fc.property(cborValue, (v) => {
          assert.deepStrictEqual(cborCodec.decode(cborCodec.encode(v)), v);
        }),
        { numRuns: RUNS },
      );
    });

    it('always rejects a truncated encoding', () => {
      fc.assert(
        fc.property(cborValue, fc.nat(), (v, cut) => {
          const bytes = cborCodec.encode(v);
          const r = decodeOrTypedError(cborCodec, bytes.subarray(0, cut % bytes.length));
          assert.equal(r.ok, false);
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('json codec', () => {
    it('round-trips arbitrary JSON values', () => {
      fc.assert(
        fc.property(fc.jsonValue().map(normalize), (v) => {
          assert.deepStrictEqual(jsonCodec.decode(jsonCodec.encode(v)), v);
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('snapshot envelope', () => {
    const compressions = ['none', 'deflate', 'brotli'] as const;
    const envelopes = () => {
      const out: { bytes: Uint8Array; codec: Codec; version: number }[] = [];
      for (const name of Object.keys(codecs)) {
        const { codec, sample } = codecs[name]!();
        for (const compress of compressions) out.push({ bytes: encodeSnapshot({ task: 'fuzz', stateVersion: 2, codec, state: sample, compress }), codec, version: 2 });
      }
      return out;
    };

    function decodeEnvelope(bytes: Uint8Array, codec: Codec): unknown {
      return decodeSnapshot(bytes, { codec, expect: { task: 'fuzz', stateVersion: 2 } }).state;
    }

    it('rejects any single flipped bit, with every codec and compression, as a CodecError', () => {
      for (const { bytes, codec } of envelopes()) {
        fc.assert(
          fc.property(fc.nat(), (bit) => {
            assert.throws(() => decodeEnvelope(flipBit(bytes, bit), codec), { code: ErrorCodes.CODEC });
          }),
          { numRuns: 100 },
        );
      }
    });

    it('rejects any truncation or extension as a CodecError', () => {
      for (const { bytes, codec } of envelopes()) {
        fc.assert(
          fc.property(fc.nat({ max: bytes.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), (n, extra) => {
            assert.throws(() => decodeEnvelope(bytes.subarray(0, n), codec), { code: ErrorCodes.CODEC });
            const longer = new Uint8Array(bytes.length + extra.length);
            longer.set(bytes);
            longer.set(extra, bytes.length);
            assert.throws(() => decodeEnvelope(longer, codec), { code: ErrorCodes.CODEC });
          }),
          { numRuns: 50 },
        );
      }
    });

    it('rejects random bytes as a CodecError', () => {
      fc.assert(
        fc.property(randomBytes, (bytes) => {
          assert.throws(() => decodeEnvelope(bytes, cborCodec), { code: ErrorCodes.CODEC });
        }),
        { numRuns: RUNS },
      );
    });

    it('rejects random bytes behind a valid magic as a CodecError', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 36, maxLength: 300 }), (tail) => {
          const bytes = new Uint8Array(4 + tail.length);
          bytes.set([0x47, 0x57, 0x53, 0x4e, 1]);
          bytes.set(tail.subarray(1), 5);
          assert.throws(() => decodeEnvelope(bytes, cborCodec), { code: ErrorCodes.CODEC });
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('chunk assembler', () => {
    const data = encodeSnapshot({ task: 'fuzz', stateVersion: 1, codec: cborCodec, state: { blob: new Uint8Array(5000).map((_, i) => i * 7) } });
    const streamFrames = () => [...createChunkStream(data, { chunkBytes: 700, streamId: '00000000000000ff' })];

    /** Feeds frames; the outcome is the exact bytes or a CodecError, never anything else. */
    function run(frames: Uint8Array[]): Uint8Array | 'rejected' {
      const a = new ChunkAssembler();
      try {
        for (const f of frames) a.push(f);
        return a.finish();
      } catch (err) {
        assert.equal((err as { code?: unknown }).code, ErrorCodes.CODEC);
        assert.equal(typeof (err as { chunkIndex?: unknown }).chunkIndex, 'number');
        return 'rejected';
      }
    }

    it('rejects any single flipped bit in any chunk', () => {
      const frames = streamFrames();
      fc.assert(
        fc.property(fc.nat({ max: frames.length - 1 }), fc.nat(), (which, bit) => {
          const bad = frames.map((f, i) => (i === which ? flipBit(f, bit) : f));
          assert.equal(run(bad), 'rejected');
        }),
        { numRuns: RUNS },
      );
    });

    it('gives the exact bytes or a CodecError for shuffled, duplicated, dropped or cut chunk sequences', () => {
      const frames = streamFrames();
      const seq = fc.array(fc.record({ index: fc.nat({ max: frames.length - 1 }), cut: fc.option(fc.nat(), { nil: undefined }) }), { maxLength: frames.length + 3 });
      fc.assert(
        fc.property(seq, (picks) => {
          const chosen = picks.map(({ index, cut }) => (cut === undefined ? frames[index]! : frames[index]!.subarray(0, cut % frames[index]!.length)));
          const out = run(chosen);
          if (out !== 'rejected') assert.deepStrictEqual(out, data);
        }),
        { numRuns: RUNS },
      );
    });

    it('rejects random frames', () => {
      fc.assert(
        fc.property(fc.array(randomBytes, { minLength: 1, maxLength: 4 }), (frames) => {
          assert.equal(run(frames), 'rejected');
        }),
        { numRuns: RUNS },
      );
    });
  });
});
