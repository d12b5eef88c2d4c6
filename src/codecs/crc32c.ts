/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and
 * gRPC/Snappy framing. `crc32c("123456789")` is 0xE3069283. Pass the previous result as `crc` to
 * continue over a second piece: `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`.
 *
 * Table-driven slicing-by-8: eight 256-entry tables fold eight bytes per step. Inputs of 192 KiB
 * and more are cut into three lanes computed in the same loop (the lanes' table lookups do not
 * depend on each other, so the CPU overlaps them) with 32-bit word loads on little-endian hosts,
 * then joined as zlib's `crc32_combine` does (a GF(2) operator for "append n zero bytes"). That
 * ran at about 1.8 GB/s against about 1.1 GB/s for the plain loop on the machine of
 * docs/codecs.md.
 */

import { crcCombiner, gf2Times } from './crc-combine.js';

const POLYNOMIAL = 0x82f63b78;
const { zerosOperator, combine } = crcCombiner(POLYNOMIAL);
const LANES = 3;
/** Below 3 x 64 KiB the single loop wins: joining lanes costs up to ~50 us when the lane length is new. */
const LANE_MIN_BYTES = 64 * 1024;

/** TABLES[k * 256 + b]: the CRC contribution of byte b followed by k zero bytes. */
const TABLES = buildTables();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/** CRC-32C of `bytes` (an unsigned 32-bit integer), continuing from `crc` when given. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const n = bytes.length;
  if (!LITTLE_ENDIAN || n < LANES * LANE_MIN_BYTES) return crcRange(bytes, crc, 0, n);
  // Align the word view to 4 bytes, run three equal lanes, join them, then finish the short tail.
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  const lane = Math.floor((n - head) / LANES / 8) * 8;
  let c = crcRange(bytes, crc, 0, head);
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + head, (lane * LANES) >> 2);
  const shift = zerosOperator(lane);
  for (const laneCrc of threeLanes(words, lane >> 2)) c = (gf2Times(shift, c) ^ laneCrc) >>> 0;
  return crcRange(bytes, c, head + lane * LANES, n);
}

/** Slicing-by-8 over bytes[start, end), continuing from `crc`. */
function crcRange(bytes: Uint8Array, crc: number, start: number, end: number): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Standard CRC-32C of each of three consecutive word ranges of `laneWords` words (little-endian loads). */
function threeLanes(w: Int32Array, laneWords: number): [number, number, number] {
  const t = TABLES;
  let a = ~0;
  let b = ~0;
  let d = ~0;
  const o1 = laneWords;
  const o2 = 2 * laneWords;
  for (let i = 0; i < laneWords; i += 2) {
    let lo = a ^ w[i]!;
    let hi = w[i + 1]!;
    a = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^ t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]! ^ t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!;
    lo = b ^ w[i + o1]!;
    hi = w[i + o1 + 1]!;
    b = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^ t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]! ^ t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!;
    lo = d ^ w[i + o2]!;
    hi = w[i + o2 + 1]!;
    d = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^ t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]! ^ t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!;
  }
  return [~a >>> 0, ~b >>> 0, ~d >>> 0];
}

/** The CRC-32C of `A ++ B` from `crcA`, `crcB` and the length of B (as zlib's crc32_combine). */
export const crc32cCombine: (crcA: number, crcB: number, lengthB: number) => number = combine;
