import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c } from '../../src/codecs/index.js';
import { crc32cCombine } from '../../src/codecs/crc32c.js';
import { pseudoRandomBytes } from './codec-fixtures.js';

/** Bit-at-a-time reference implementation. */
function reference(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  describe('#crc32c', () => {
    // RFC 3720 (iSCSI) appendix B.4 test vectors, plus the classic check value.
    const vectors: [string, Uint8Array, number][] = [
      ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
      ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
      ['32 bytes of 0xff', new Uint8Array(32).fill(0xff), 0x62a8ab43],
      ['32 ascending bytes', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
      ['32 descending bytes', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
      ['no bytes', new Uint8Array(0), 0],
    ];
    for (const [name, bytes, expected] of vectors) {
      it(`gives ${expected.toString(16)} for ${name}`, () => {
        assert.equal(crc32c(bytes), expected);
      });
    }

    it('matches a bitwise reference on any input and any offset', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 7 }), (bytes, skip) => {
          const view = bytes.subarray(Math.min(skip, bytes.length));
          assert.equal(crc32c(view), reference(view));
        }),
        { numRuns: 300 },
      );
    });

    it('matches the reference on large inputs (three-lane path) at every alignment and length remainder', () => {
      const big = pseudoRandomBytes(600 * 1024 + 64, 3);
      for (const [start, end] of [[0, big.length], [1, 200_000], [2, 196_611], [3, 400_005], [5, 524_288 + 5]] as const) {
        const view = big.subarray(start, end);
        assert.equal(crc32c(view), reference(view), `bytes ${start}..${end}`);
        assert.equal(crc32c(view, 0xdeadbeef), crc32c(view.subarray(1000), crc32c(view.subarray(0, 1000), 0xdeadbeef)));
      }
    });

    it('combines two CRCs like crc32_combine', () => {
      const bytes = pseudoRandomBytes(5000, 11);
      for (const cut of [0, 1, 7, 2500, 4999]) {
        assert.equal(crc32cCombine(crc32c(bytes.subarray(0, cut)), crc32c(bytes.subarray(cut)), 5000 - cut), crc32c(bytes));
      }
    });

    it('continues across pieces: crc32c(b, crc32c(a)) = crc32c(a + b)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
          const ab = new Uint8Array(a.length + b.length);
          ab.set(a);
          ab.set(b, a.length);
          assert.equal(crc32c(b, crc32c(a)), crc32c(ab));
        }),
        { numRuns: 300 },
      );
    });
  });
});
