import assert from 'node:assert/strict';
import { TaskRef, isTaskRef } from '../../src/actors/ref.js';
import { cborCodec, cborDecode, cborEncode, CodecOperations, TASK_REF_CBOR_TAG } from '../../src/codecs/index.js';
import { assertCodecError, cborShapes } from './codec-fixtures.js';

describe('CborCodec', () => {
  describe('#encode / #decode', () => {
    for (const [name, value] of Object.entries(cborShapes())) {
      it(`round-trips ${name}`, () => {
        assert.deepStrictEqual(cborCodec.decode(cborCodec.encode(value)), value);
      });
    }

    it('keeps Maps as Maps and plain objects as plain objects side by side', () => {
      const back = cborDecode(cborEncode({ obj: { a: 1 }, map: new Map([['a', 1]]) })) as { obj: unknown; map: unknown };
      assert.ok(back.map instanceof Map);
      assert.equal(Object.getPrototypeOf(back.obj), Object.prototype);
    });

    it('brings a TaskRef back as a TaskRef instance', () => {
      const back = cborDecode(cborEncode({ to: new TaskRef('abc', 'counter') })) as { to: unknown };
      assert.ok(isTaskRef(back.to));
      assert.ok(back.to instanceof TaskRef);
      assert.equal(back.to.id, 'abc');
      assert.equal(back.to.task, 'counter');
    });

    it('round-trips an invalid Date as an invalid Date', () => {
      const back = cborDecode(cborEncode({ d: new Date(Number.NaN) })) as { d: Date };
      assert.ok(back.d instanceof Date);
      assert.ok(Number.isNaN(back.d.getTime()));
    });

    it('keeps the milliseconds of dates far from 1970, where float seconds cannot', () => {
      for (const ms of [-4_290_000_000_000_123, 8_600_000_000_000_001, -8.64e15 + 1]) {
        assert.equal((cborDecode(cborEncode(new Date(ms))) as Date).getTime(), ms);
      }
    });

    it('writes ordinary dates under standard tag 1', () => {
      assert.equal(cborEncode(new Date(1_700_000_000_123))[0], 0xc1);
    });

    it('writes a TaskRef under its private tag', () => {
      const bytes = cborEncode(new TaskRef('a', 'b'));
      // 0xd9 = tag with a 2-byte number
      assert.deepStrictEqual([...bytes.subarray(0, 3)], [0xd9, TASK_REF_CBOR_TAG >> 8, TASK_REF_CBOR_TAG & 0xff]);
    });

    it('decodes a Uint8Array as a view over the input (no copy)', () => {
      const bytes = cborEncode({ blob: new Uint8Array(4096).fill(7) });
      const back = cborDecode(bytes) as { blob: Uint8Array };
      assert.equal(back.blob.buffer, bytes.buffer);
    });

    it('estimates the encoded size within a factor of two for binary state', () => {
      const state = { blob: new Uint8Array(100_000), n: 1, s: 'abc' };
      const estimate = cborCodec.estimateSize!(state);
      const actual = cborEncode(state).byteLength;
      assert.ok(estimate >= actual && estimate < actual * 2, `estimate ${estimate} vs ${actual}`);
    });
  });

  describe('#encode', () => {
    it('rejects a function with a CodecError', () => {
      assertCodecError(() => cborEncode({ f: () => 1 }), { codec: 'cbor', operation: CodecOperations.ENCODE });
    });

    it('rejects a symbol with a CodecError', () => {
      assertCodecError(() => cborEncode(Symbol('s')), { codec: 'cbor', operation: CodecOperations.ENCODE });
    });
  });

  describe('#decode', () => {
    it('rejects empty input', () => {
      assertCodecError(() => cborDecode(new Uint8Array(0)), { codec: 'cbor', operation: CodecOperations.DECODE, reason: /unexpected end/ });
    });

    it('rejects trailing bytes after the item', () => {
      assertCodecError(() => cborDecode(new Uint8Array([0x01, 0x02])), { codec: 'cbor' });
    });

    it('rejects a truncated item', () => {
      const bytes = cborEncode({ a: 'some text', b: [1, 2, 3] });
      for (let n = 0; n < bytes.length; n++) assertCodecError(() => cborDecode(bytes.subarray(0, n)), { codec: 'cbor' });
    });

    it('rejects a malformed TaskRef tag', () => {
      // tag 40501 around the integer 1 instead of [id, task]
      const bytes = new Uint8Array([0xd9, TASK_REF_CBOR_TAG >> 8, TASK_REF_CBOR_TAG & 0xff, 0x01]);
      assertCodecError(() => cborDecode(bytes), { codec: 'cbor', reason: /task ref/ });
    });

    it('rejects a huge declared array length without allocating it', () => {
      assertCodecError(() => cborDecode(new Uint8Array([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), { codec: 'cbor' });
    });

    it('keeps the original error as cause', () => {
      const err = assertCodecError(() => cborDecode(new Uint8Array(0)));
      assert.ok(err.cause instanceof Error);
    });
  });
});
