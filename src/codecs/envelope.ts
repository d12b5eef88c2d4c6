/**
 * The versioned snapshot envelope: a fixed binary header, the codec and task names, then the
 * payload (the codec's bytes, optionally compressed). Both the header and the payload carry a
 * CRC-32C, so any single flipped bit anywhere in an envelope is a `CodecError`, never a state.
 *
 * Layout (little-endian; the header is padded to a multiple of 8 so the payload stays 8-byte
 * aligned for zero-copy codecs such as arrow):
 *
 * | offset | bytes | field                                                        |
 * |--------|-------|--------------------------------------------------------------|
 * | 0      | 4     | magic `GWSN` (0x47 0x57 0x53 0x4E)                            |
 * | 4      | 1     | envelope format version (1)                                   |
 * | 5      | 1     | compression: 0 none, 1 deflate (raw), 2 brotli                |
 * | 6      | 1     | codec name length C (1..255)                                  |
 * | 7      | 1     | flags: bit 0, the payload checksum is CRC-32 (zlib's), not    |
 * |        |       | CRC-32C; other bits 0                                         |
 * | 8      | 2     | task name length T                                            |
 * | 10     | 2     | header length H = 40 + C + T rounded up to a multiple of 8    |
 * | 12     | 4     | task state version (u32)                                      |
 * | 16     | 8     | payload length P as stored (u64)                              |
 * | 24     | 8     | raw length R, before compression (u64; equals P when none)    |
 * | 32     | 4     | CRC-32C (flagged: CRC-32) of the P stored payload bytes       |
 * | 36     | 4     | CRC-32C of header bytes 0..35 followed by bytes 40..H-1       |
 * | 40     | C     | codec name (UTF-8)                                            |
 * | 40 + C | T     | task name (UTF-8), then zero padding up to H                  |
 * | H      | P     | payload                                                       |
 *
 * An envelope is exactly H + P bytes: shorter is truncated, longer has trailing bytes; both are
 * errors.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { align8, fromUtf8, getU64, setU64, utf8, viewOf } from './bytes.js';
import { crc32c } from './crc32c.js';
import { type ChecksumKind, checksumOf } from './checksums.js';
import { CodecError, CodecOperations, describeError } from './errors.js';
import { InvalidArgumentError } from '../errors.js';

export const SNAPSHOT_MAGIC = 0x4e535747; // 'GWSN' read as a little-endian u32
export const SNAPSHOT_FORMAT_VERSION = 1;
export const SNAPSHOT_FIXED_HEADER_BYTES = 40;
const MAX_HEADER_BYTES = 0xffff;
const MAX_STATE_VERSION = 0xffff_ffff;
/** Byte 7, bit 0: the payload checksum is CRC-32 (zlib's). */
const FLAG_CRC32 = 1;

export const Compressions = {
  NONE: 'none',
  DEFLATE: 'deflate',
  BROTLI: 'brotli',
} as const;
export type Compression = (typeof Compressions)[keyof typeof Compressions];

const COMPRESSION_IDS: Record<Compression, number> = { none: 0, deflate: 1, brotli: 2 };
const COMPRESSION_BY_ID: readonly Compression[] = ['none', 'deflate', 'brotli'];
/** Brotli quality used when compressing (0..11; 5 trades ratio for speed, 11 is very slow). */
export const BROTLI_QUALITY = 5;

export interface SnapshotHeader {
  formatVersion: number;
  codec: string;
  task: string;
  stateVersion: number;
  compression: Compression;
  /** Bytes of header, padding included: the payload starts here. */
  headerBytes: number;
  /** Stored payload bytes (after compression). */
  payloadBytes: number;
  /** Payload bytes before compression: what the codec produced. */
  rawBytes: number;
  payloadChecksum: number;
  /** What `payloadChecksum` is: `crc32c`, or `crc32` when flagged. */
  checksum: ChecksumKind;
}

export interface SealOptions {
  task: string;
  stateVersion: number;
  /** Name of the codec that produced `payload`. */
  codec: string;
  payload: Uint8Array;
  /** Compress the payload (default `none`); kept uncompressed when compressing does not shrink it. */
  compress?: Compression;
}

function envelopeError(reason: string, offset?: number, cause?: unknown): CodecError {
  return new CodecError({
    codec: 'envelope',
    operation: CodecOperations.DECODE,
    reason,
    ...(offset === undefined ? {} : { offset }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function compress(raw: Uint8Array, how: Compression): Uint8Array {
  if (how === Compressions.DEFLATE) return deflateRawSync(raw);
  if (how === Compressions.BROTLI) {
    return brotliCompressSync(raw, {
      params: { [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.byteLength },
    });
  }
  return raw;
}

/** Wraps already-encoded payload bytes into an envelope (one copy of the payload). */
export function sealSnapshot(options: SealOptions): Uint8Array {
  const { task, stateVersion, payload } = options;
  if (!(payload instanceof Uint8Array)) throw new InvalidArgumentError('payload', 'must be a Uint8Array');
  const headerBytes = checkedHeaderBytes(options);
  let compression: Compression = options.compress ?? Compressions.NONE;
  if (!(compression in COMPRESSION_IDS)) throw new InvalidArgumentError('compress', `must be one of ${Object.values(Compressions).join(', ')}`);
  let stored = compression === Compressions.NONE ? payload : compress(payload, compression);
  if (stored.byteLength >= payload.byteLength) {
    stored = payload;
    compression = Compressions.NONE;
  }
  const out = new Uint8Array(headerBytes + stored.byteLength);
  out.set(stored, headerBytes);
  writeSnapshotHeader(out, { task, stateVersion, codec: options.codec, compression, rawBytes: payload.byteLength, payloadBytes: stored.byteLength, payloadChecksum: crc32c(stored) });
  return out;
}

/**
 * Wraps a payload given as pieces (their concatenation, e.g. `cborEncodeParts`' views of a state's
 * large arrays) into an uncompressed envelope: one copy of each piece, then one checksum pass of
 * `checksum` (default `crc32`, zlib's: several times faster than CRC-32C, flagged in the header).
 */
export function sealSnapshotPieces(options: Omit<SealOptions, 'payload' | 'compress'>, pieces: readonly Uint8Array[], checksum: ChecksumKind = 'crc32'): Uint8Array {
  const headerBytes = checkedHeaderBytes(options);
  let payloadBytes = 0;
  for (const piece of pieces) payloadBytes += piece.byteLength;
  const out = new Uint8Array(headerBytes + payloadBytes);
  let at = headerBytes;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  const payloadChecksum = checksumOf(checksum, out.subarray(headerBytes));
  writeSnapshotHeader(out, { task: options.task, stateVersion: options.stateVersion, codec: options.codec, payloadBytes, payloadChecksum, checksum });
  return out;
}

function checkedHeaderBytes({ task, stateVersion, codec }: { task: string; stateVersion: number; codec: string }): number {
  if (typeof task !== 'string') throw new InvalidArgumentError('task', 'must be a string');
  if (!Number.isInteger(stateVersion) || stateVersion < 0 || stateVersion > MAX_STATE_VERSION) {
    throw new InvalidArgumentError('stateVersion', 'must be an integer in 0..4294967295');
  }
  return snapshotHeaderBytes(codec, task);
}

/** Bytes of header (padding included) of an envelope for this codec and task: where its payload starts. */
export function snapshotHeaderBytes(codec: string, task: string): number {
  const codecName = utf8(codec);
  if (codecName.byteLength === 0 || codecName.byteLength > 255) throw new InvalidArgumentError('codec', 'name must be 1..255 UTF-8 bytes');
  const headerBytes = align8(SNAPSHOT_FIXED_HEADER_BYTES + codecName.byteLength + utf8(task).byteLength);
  if (headerBytes > MAX_HEADER_BYTES) throw new InvalidArgumentError('task', 'name is too long for a snapshot header');
  return headerBytes;
}

export interface SnapshotHeaderFields {
  task: string;
  stateVersion: number;
  codec: string;
  compression?: Compression;
  /** Stored payload bytes, already in place after the header. */
  payloadBytes: number;
  /** Raw payload bytes (default `payloadBytes`: no compression). */
  rawBytes?: number;
  /** Checksum of the stored payload (CRC-32C unless `checksum` says `crc32`). */
  payloadChecksum: number;
  checksum?: ChecksumKind;
}

/**
 * Writes an envelope header into `out[0..H)` in front of a payload already at `out[H..)`. For a
 * payload assembled from a checksummed chunk stream, its checksum combines the chunks' own
 * (`crc32cCombine`), so no second pass over the payload is needed.
 */
export function writeSnapshotHeader(out: Uint8Array, fields: SnapshotHeaderFields): void {
  const { task, stateVersion } = fields;
  if (typeof task !== 'string') throw new InvalidArgumentError('task', 'must be a string');
  if (!Number.isInteger(stateVersion) || stateVersion < 0 || stateVersion > MAX_STATE_VERSION) {
    throw new InvalidArgumentError('stateVersion', 'must be an integer in 0..4294967295');
  }
  const codecName = utf8(fields.codec);
  const taskName = utf8(task);
  const headerBytes = snapshotHeaderBytes(fields.codec, task);
  if (out.byteLength !== headerBytes + fields.payloadBytes) throw new InvalidArgumentError('out', `must be ${headerBytes + fields.payloadBytes} bytes (header and payload)`);
  const view = viewOf(out);
  out.fill(0, 0, headerBytes);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  out[4] = SNAPSHOT_FORMAT_VERSION;
  out[5] = COMPRESSION_IDS[fields.compression ?? Compressions.NONE];
  out[6] = codecName.byteLength;
  out[7] = fields.checksum === 'crc32' ? FLAG_CRC32 : 0;
  view.setUint16(8, taskName.byteLength, true);
  view.setUint16(10, headerBytes, true);
  view.setUint32(12, stateVersion, true);
  setU64(view, 16, fields.payloadBytes);
  setU64(view, 24, fields.rawBytes ?? fields.payloadBytes);
  out.set(codecName, SNAPSHOT_FIXED_HEADER_BYTES);
  out.set(taskName, SNAPSHOT_FIXED_HEADER_BYTES + codecName.byteLength);
  view.setUint32(32, fields.payloadChecksum >>> 0, true);
  view.setUint32(36, headerChecksum(out, headerBytes), true);
}

function headerChecksum(bytes: Uint8Array, headerBytes: number): number {
  return crc32c(bytes.subarray(40, headerBytes), crc32c(bytes.subarray(0, 36)));
}

/** Parses and verifies the header (its checksum and the total length); does not touch the payload. */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  if (!(bytes instanceof Uint8Array)) throw envelopeError('input is not a Uint8Array');
  if (bytes.byteLength < SNAPSHOT_FIXED_HEADER_BYTES) throw envelopeError(`input is ${bytes.byteLength} bytes, shorter than a snapshot header`, bytes.byteLength);
  const view = viewOf(bytes);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw envelopeError('input is not a godwit snapshot (bad magic)', 0);
  const formatVersion = bytes[4]!;
  if (formatVersion !== SNAPSHOT_FORMAT_VERSION) throw envelopeError(`envelope format version ${formatVersion} is not supported`, 4);
  const headerBytes = view.getUint16(10, true);
  const codecLength = bytes[6]!;
  const taskLength = view.getUint16(8, true);
  if (headerBytes !== align8(SNAPSHOT_FIXED_HEADER_BYTES + codecLength + taskLength)) throw envelopeError('header length field is inconsistent', 10);
  if (bytes.byteLength < headerBytes) throw envelopeError(`input is truncated inside the header (${bytes.byteLength} of ${headerBytes} bytes)`, bytes.byteLength);
  if (headerChecksum(bytes, headerBytes) !== view.getUint32(36, true)) throw envelopeError('header checksum mismatch', 36);

  const compression = COMPRESSION_BY_ID[bytes[5]!];
  if (compression === undefined) throw envelopeError(`compression ${bytes[5]} is not known`, 5);
  if ((bytes[7]! & ~FLAG_CRC32) !== 0) throw envelopeError(`flags ${bytes[7]} are not known`, 7);
  const payloadBytes = getU64(view, 16);
  const rawBytes = getU64(view, 24);
  if (Number.isNaN(payloadBytes) || Number.isNaN(rawBytes) || (compression === Compressions.NONE && rawBytes !== payloadBytes)) {
    throw envelopeError('payload length fields are inconsistent', 16);
  }
  const codec = fromUtf8(bytes.subarray(40, 40 + codecLength));
  const task = fromUtf8(bytes.subarray(40 + codecLength, 40 + codecLength + taskLength));
  if (codec === undefined || codec.length === 0 || task === undefined) throw envelopeError('codec or task name is not valid utf-8', 40);

  const total = headerBytes + payloadBytes;
  if (bytes.byteLength < total) throw envelopeError(`input is truncated (${bytes.byteLength} of ${total} bytes)`, bytes.byteLength);
  if (bytes.byteLength > total) throw envelopeError(`input has ${bytes.byteLength - total} trailing bytes after the payload`, total);
  return {
    formatVersion,
    codec,
    task,
    stateVersion: view.getUint32(12, true),
    compression,
    headerBytes,
    payloadBytes,
    rawBytes,
    payloadChecksum: view.getUint32(32, true),
    checksum: bytes[7] === FLAG_CRC32 ? 'crc32' : 'crc32c',
  };
}

export interface OpenOptions {
  /** Refuse payloads whose raw (uncompressed) size exceeds this many bytes (default Infinity). */
  maxRawBytes?: number;
  /**
   * The caller has already verified every payload byte against checksums (a chunk stream whose
   * combined checksum went into the header): the payload's checksum pass is skipped. Default false.
   */
  payloadVerified?: boolean;
}

/**
 * Verifies an envelope and returns its header and the codec's bytes (decompressed when needed).
 * Without compression the payload is a view into `bytes`, not a copy.
 */
/** Largest payload `openSnapshot` accepts unless told otherwise (2 GiB). */
export const DEFAULT_MAX_RAW_BYTES = 2 ** 31;

export function openSnapshot(bytes: Uint8Array, options: OpenOptions = {}): { header: SnapshotHeader; payload: Uint8Array } {
  const header = readSnapshotHeader(bytes);
  // A compressed payload can claim any size: without a bound, a few kilobytes could inflate to gigabytes.
  const maxRawBytes = options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES;
  if (header.rawBytes > maxRawBytes) throw envelopeError(`payload of ${header.rawBytes} bytes exceeds the limit of ${maxRawBytes} bytes`, 24);
  const stored = bytes.subarray(header.headerBytes, header.headerBytes + header.payloadBytes);
  if (!options.payloadVerified && checksumOf(header.checksum, stored) !== header.payloadChecksum) throw envelopeError('payload checksum mismatch', header.headerBytes);
  if (header.compression === Compressions.NONE) return { header, payload: stored };
  let payload: Uint8Array;
  try {
    const limits = { maxOutputLength: Math.max(1, header.rawBytes) };
    payload = header.compression === Compressions.DEFLATE ? inflateRawSync(stored, limits) : brotliDecompressSync(stored, limits);
  } catch (err) {
    throw envelopeError(`payload does not decompress (${describeError(err)})`, header.headerBytes, err);
  }
  if (payload.byteLength !== header.rawBytes) throw envelopeError(`payload decompresses to ${payload.byteLength} bytes, not ${header.rawBytes}`, header.headerBytes);
  return { header, payload };
}
