/**
 * Joining CRCs: the CRC of `A ++ B` from the CRCs of A and B and the length of B, as zlib's
 * `crc32_combine` does it, for any reflected 32-bit polynomial: the register of A is advanced
 * over |B| zero bytes by a GF(2) 32x32 matrix ("append n zero bytes", built by squaring), then
 * XORed with the CRC of B. Cost: O(log n) matrix products for a new length; the last few
 * operators are cached, so joining the chunks of one stream (all the same length) is cheap.
 */

/** `matrix` (32 column words) times `vector` over GF(2). */
export function gf2Times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

/** The operator `a` after `b` (both 32x32 GF(2) matrices as 32 column words). */
function compose(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(32);
  for (let n = 0; n < 32; n++) out[n] = gf2Times(a, b[n]!);
  return out;
}

const CACHED_OPERATORS = 8;

export interface CrcCombiner {
  /** Operator appending `length` zero bytes to a CRC register. */
  zerosOperator(length: number): Uint32Array;
  /** The CRC of `A ++ B` from `crcA`, `crcB` and the length of B. */
  combine(crcA: number, crcB: number, lengthB: number): number;
}

/** Combining for the reflected CRC-32 with `polynomial` (0x82F63B78 for CRC-32C, 0xEDB88320 for zlib's CRC-32). */
export function crcCombiner(polynomial: number): CrcCombiner {
  // One zero byte: the one-zero-bit operator squared three times.
  let oneZeroByte: Uint32Array = new Uint32Array(32);
  oneZeroByte[0] = polynomial;
  for (let n = 1; n < 32; n++) oneZeroByte[n] = 1 << (n - 1);
  for (let k = 0; k < 3; k++) oneZeroByte = compose(oneZeroByte, oneZeroByte);
  const byte = oneZeroByte;
  const cache = new Map<number, Uint32Array>();
  const zerosOperator = (length: number): Uint32Array => {
    const cached = cache.get(length);
    if (cached) return cached;
    let result: Uint32Array | undefined;
    let power: Uint32Array = byte;
    for (let len = length; len > 0; len = Math.floor(len / 2)) {
      if (len % 2 === 1) result = result === undefined ? power : compose(power, result);
      if (len > 1) power = compose(power, power);
    }
    const operator = result ?? byte;
    if (cache.size >= CACHED_OPERATORS) cache.delete(cache.keys().next().value!);
    cache.set(length, operator);
    return operator;
  };
  return {
    zerosOperator,
    combine: (crcA, crcB, lengthB) => (lengthB <= 0 ? crcA >>> 0 : (gf2Times(zerosOperator(lengthB), crcA) ^ crcB) >>> 0),
  };
}
