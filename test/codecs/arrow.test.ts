import assert from 'node:assert/strict';
import { makeVector, RecordBatch, Schema, Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import { type Codec, CodecOperations, createCodecRegistry } from '../../src/codecs/index.js';
import { ARROW_PREFIX_BYTES, newArrowPrefix, sealArrowPayload } from '../../src/codecs/arrow-frame.js';
import { assertCodecError } from './codec-fixtures.js';

let arrow: Codec;

function tableRows(t: Table): unknown[] {
  return t.toArray().map((row: { toJSON(): unknown }) => row.toJSON());
}

describe('ArrowCodec', () => {
  before(async () => {
    arrow = await createCodecRegistry().load('arrow');
  });

  describe('#encode / #decode', () => {
    it('round-trips a Table with strings, nulls, several batches and schema metadata', () => {
      const t1 = tableFromArrays({ name: ['a', 'b'], score: Float64Array.from([1, 2]) });
      const t2 = tableFromArrays({ name: ['c', null], score: Float64Array.from([3, 4]) });
      const joined = t1.concat(t2);
      const table = new Table(new Schema(joined.schema.fields, new Map([['owner', 'me']])), joined.batches);
      const back = arrow.decode(arrow.encode(table)) as Table;
      assert.ok(back instanceof Table);
      assert.equal(back.batches.length, 2);
      assert.deepStrictEqual(tableRows(back), tableRows(table));
      assert.deepStrictEqual([...back.schema.metadata], [['owner', 'me']]);
    });

    it('round-trips a RecordBatch as a RecordBatch', () => {
      const batch = tableFromArrays({ x: Int32Array.from([1, 2, 3]) }).batches[0]!;
      const back = arrow.decode(arrow.encode(batch));
      assert.ok(back instanceof RecordBatch);
      assert.deepStrictEqual([...back.getChildAt(0)!.toArray()], [1, 2, 3]);
    });

    it('round-trips a plain object of equal-length typed-array columns of every supported type', () => {
      const n = 5;
      const columns = {
        i8: Int8Array.from({ length: n }, (_, i) => -i),
        i16: Int16Array.from({ length: n }, (_, i) => i * 300),
        i32: Int32Array.from({ length: n }, (_, i) => -i * 70_000),
        i64: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * -(2n ** 40n)),
        u8: Uint8Array.from({ length: n }, (_, i) => i),
        u16: Uint16Array.from({ length: n }, (_, i) => 65_535 - i),
        u32: Uint32Array.from({ length: n }, (_, i) => 4_000_000_000 + i),
        u64: BigUint64Array.from({ length: n }, (_, i) => 2n ** 63n + BigInt(i)),
        f32: Float32Array.from({ length: n }, (_, i) => i + 0.5),
        f64: Float64Array.from({ length: n }, (_, i) => Math.PI * i),
      };
      assert.deepStrictEqual(arrow.decode(arrow.encode(columns)), columns);
    });

    it('round-trips a parts object mixing tables, batches, columns and typed arrays of any length', () => {
      const table = tableFromArrays({ k: ['x', 'y'] });
      const state = {
        index: table,
        batch: tableFromArrays({ v: Float64Array.from([9]) }).batches[0]!,
        weights: new Float32Array([1, 2, 3]),
        bias: new Float32Array([0.5]),
        grid: { x: new Float64Array([1, 2]), y: new Float64Array([3, 4]) },
      };
      const back = arrow.decode(arrow.encode(state)) as typeof state;
      assert.deepStrictEqual(Object.keys(back), Object.keys(state));
      assert.deepStrictEqual(tableRows(back.index), tableRows(table));
      assert.ok(back.batch instanceof RecordBatch);
      assert.deepStrictEqual(back.weights, state.weights);
      assert.deepStrictEqual(back.bias, state.bias);
      assert.deepStrictEqual(back.grid, state.grid);
    });

    it('round-trips empty columns', () => {
      const columns = { a: new Float64Array(0), b: new Int32Array(0) };
      assert.deepStrictEqual(arrow.decode(arrow.encode(columns)), columns);
    });

    it('returns a Buffer column as a Uint8Array with the same bytes', () => {
      const back = arrow.decode(arrow.encode({ b: Buffer.from([1, 2, 3]) })) as { b: Uint8Array };
      assert.deepStrictEqual(back.b, new Uint8Array([1, 2, 3]));
    });
  });

  describe('#decode', () => {
    it('decodes typed-array columns as views over the input bytes (zero-copy)', () => {
      const bytes = arrow.encode({ a: new Float64Array(1000).fill(1.5), b: new BigInt64Array(1000) });
      assert.equal(bytes.byteOffset % 8, 0);
      const back = arrow.decode(bytes) as { a: Float64Array; b: BigInt64Array };
      assert.equal(back.a.buffer, bytes.buffer);
      assert.equal(back.b.buffer, bytes.buffer);
      assert.equal(back.a[999], 1.5);
    });

    it('copies misaligned input once and still decodes it', () => {
      const bytes = arrow.encode({ a: new Float64Array([1, 2, 3]) });
      const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
      shifted.set(bytes);
      const back = arrow.decode(shifted) as { a: Float64Array };
      assert.deepStrictEqual(back.a, new Float64Array([1, 2, 3]));
      assert.notEqual(back.a.buffer, shifted.buffer);
    });

    it('rejects Arrow IPC written without the godwit prefix', () => {
      const foreign = tableToIPC(tableFromArrays({ a: Float64Array.from([1]) }), 'stream');
      assertCodecError(() => arrow.decode(foreign), { codec: 'arrow', operation: CodecOperations.DECODE, reason: /bad magic/ });
    });

    it('rejects prefixed Arrow IPC that lacks godwit metadata', () => {
      const foreign = withPrefix(tableToIPC(tableFromArrays({ a: Float64Array.from([1]) }), 'stream'));
      assertCodecError(() => arrow.decode(foreign), { codec: 'arrow', reason: /not a godwit arrow payload/ });
    });

    it('rejects a payload with a dropped part, even with a recomputed prefix', () => {
      const bytes = arrow.encode({ a: new Float64Array([1]), b: new Float64Array([1, 2]) });
      const ipc = bytes.subarray(ARROW_PREFIX_BYTES);
      const firstStreamEnd = indexOfEos(ipc) + 8;
      assertCodecError(() => arrow.decode(bytes.slice(0, ARROW_PREFIX_BYTES + firstStreamEnd)), { codec: 'arrow', reason: /messages, not/ });
      assertCodecError(() => arrow.decode(withPrefix(ipc.slice(0, firstStreamEnd))), { codec: 'arrow', reason: /1 of 2 parts/ });
    });

    it('rejects a flipped bit in the IPC metadata by the prefix checksum', () => {
      const bytes = arrow.encode({ a: new Float64Array([1, 2]) });
      const bad = bytes.slice();
      bad[ARROW_PREFIX_BYTES + 20]! ^= 0x80;
      assertCodecError(() => arrow.decode(bad), { codec: 'arrow', reason: /checksum mismatch|malformed|overruns/ });
    });

    it('rejects every truncation of an encoded table with a CodecError or returns the same table', () => {
      const table = tableFromArrays({ a: Float64Array.from([1, 2, 3]), s: ['x', 'y', 'z'] });
      const bytes = arrow.encode(table);
      for (let n = 0; n < bytes.length; n += 7) {
        try {
          const back = arrow.decode(bytes.slice(0, n)) as Table;
          assert.deepStrictEqual(tableRows(back), tableRows(table));
        } catch (err) {
          assert.equal((err as { code?: unknown }).code, 'GODWIT_ERR_CODEC');
        }
      }
    });

    it('rejects empty input', () => {
      assertCodecError(() => arrow.decode(new Uint8Array(0)), { codec: 'arrow', reason: /shorter than its prefix/ });
      assertCodecError(() => arrow.decode(withPrefix(new Uint8Array(0))), { codec: 'arrow', reason: /no arrow stream/ });
    });
  });

  describe('#encode', () => {
    const rejected: Record<string, unknown> = {
      'a number': 5,
      'an array': [new Float64Array(1)],
      'a Map': new Map(),
      'an empty object': {},
      'a string part': { a: 'text' },
      'a Uint8ClampedArray': { a: new Uint8ClampedArray(2) },
      'a nested object of unequal columns': { part: { a: new Float64Array(1), b: new Float64Array(2) } },
    };
    for (const [name, value] of Object.entries(rejected)) {
      it(`rejects ${name} with a CodecError`, () => {
        assertCodecError(() => arrow.encode(value), { codec: 'arrow', operation: CodecOperations.ENCODE });
      });
    }

    it('estimates the size of typed-array state closely', () => {
      const state = { a: new Float64Array(100_000) };
      const estimate = arrow.estimateSize!(state);
      const actual = arrow.encode(state).byteLength;
      assert.ok(Math.abs(estimate - actual) < 2048, `estimate ${estimate} vs ${actual}`);
    });

    it('accepts a table built from vectors', () => {
      const t = new Table({ v: makeVector(new Int16Array([1, 2])) });
      assert.deepStrictEqual(tableRows(arrow.decode(arrow.encode(t)) as Table), [{ v: 1 }, { v: 2 }]);
    });
  });
});

function indexOfEos(bytes: Uint8Array): number {
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xff && bytes[i + 2] === 0xff && bytes[i + 3] === 0xff && bytes[i + 4] === 0 && bytes[i + 5] === 0 && bytes[i + 6] === 0 && bytes[i + 7] === 0) return i;
  }
  return -1;
}

/** Wraps raw IPC bytes in a valid godwit arrow prefix. */
function withPrefix(ipc: Uint8Array): Uint8Array {
  const out = new Uint8Array(ARROW_PREFIX_BYTES + ipc.length);
  out.set(newArrowPrefix());
  out.set(ipc, ARROW_PREFIX_BYTES);
  sealArrowPayload(out);
  return out;
}
