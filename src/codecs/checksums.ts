/**
 * The two payload checksums of godwit's binary formats. `crc32c` (Castagnoli, plain JavaScript,
 * about 1.8 GB/s) is the default everywhere; `crc32` (zlib's CRC-32, native in Node through
 * `zlib.crc32`, several times faster) is what a migration stream asks for, flagged in each chunk
 * and envelope header that uses it. Header checksums are always CRC-32C.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crcCombiner } from './crc-combine.js';
import { crc32c, crc32cCombine } from './crc32c.js';

export type ChecksumKind = 'crc32c' | 'crc32';

const crc32Combine = crcCombiner(0xedb88320).combine;

/** The checksum `kind` of `bytes`, continuing from `crc` when given. */
export function checksumOf(kind: ChecksumKind, bytes: Uint8Array, crc = 0): number {
  return kind === 'crc32' ? zlibCrc32(bytes, crc) >>> 0 : crc32c(bytes, crc);
}

/** The checksum `kind` of `A ++ B` from those of A and B and the length of B. */
export function combineChecksums(kind: ChecksumKind, crcA: number, crcB: number, lengthB: number): number {
  return kind === 'crc32' ? crc32Combine(crcA, crcB, lengthB) : crc32cCombine(crcA, crcB, lengthB);
}
