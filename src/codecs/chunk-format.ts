/**
 * The chunk format of a large snapshot in transit, and the producer side. A snapshot (any bytes,
 * normally an envelope) is cut into chunks of at most `chunkBytes` payload (default 1 MiB), each
 * a self-describing frame: a 56-byte header then the payload.
 *
 * | offset | bytes | field                                                   |
 * |--------|-------|---------------------------------------------------------|
 * | 0      | 4     | magic `GWCK` (0x47 0x57 0x43 0x4B)                       |
 * | 4      | 1     | chunk format version (1)                                 |
 * | 5      | 1     | flags: bit 0 set on the last chunk; bit 1: the payload   |
 * |        |       | checksum is CRC-32 (zlib's) instead of CRC-32C          |
 * | 6      | 2     | header length (56)                                       |
 * | 8      | 8     | stream id (random; shown as 16 hex digits)               |
 * | 16     | 4     | chunk index, from 0                                      |
 * | 20     | 4     | chunk count                                              |
 * | 24     | 8     | total length of the snapshot (u64)                       |
 * | 32     | 8     | offset of this chunk's payload in the snapshot (u64)     |
 * | 40     | 4     | payload length                                           |
 * | 44     | 4     | CRC-32C (or, flagged, CRC-32) of the payload             |
 * | 48     | 4     | CRC-32C of header bytes 0..47 followed by 52..55         |
 * | 52     | 4     | reserved, 0                                              |
 * | 56     | len   | payload                                                  |
 *
 * The producer is pull-based (an iterator): a transport applies back-pressure by not asking for
 * the next chunk until the link drains, and can re-make any chunk with `chunk(index)`.
 */
import { randomBytes } from 'node:crypto';
import { getU64, setU64, viewOf } from './bytes.js';
import { crc32c } from './crc32c.js';
import { type ChecksumKind, checksumOf } from './checksums.js';
import { InvalidArgumentError } from '../errors.js';

export const CHUNK_MAGIC = 0x4b435747; // 'GWCK' read as a little-endian u32
export const CHUNK_FORMAT_VERSION = 1;
export const CHUNK_HEADER_BYTES = 56;
/** Default payload bytes per chunk: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const MAX_CHUNK_BYTES = 0xffff_ffff - CHUNK_HEADER_BYTES;
const MAX_CHUNK_COUNT = 0xffff_ffff;
const FLAG_LAST = 1;
const FLAG_CRC32 = 2;

export interface ChunkHeader {
  formatVersion: number;
  last: boolean;
  /** 16 lowercase hex digits. */
  streamId: string;
  index: number;
  count: number;
  totalBytes: number;
  offset: number;
  payloadBytes: number;
  payloadChecksum: number;
  /** What `payloadChecksum` is. */
  checksum: ChecksumKind;
}

export interface ChunkStreamOptions {
  /** Payload bytes per chunk (default 1 MiB, at least 1). */
  chunkBytes?: number;
  /** Stream id, 16 hex digits (default random). */
  streamId?: string;
  /** Payload checksum: `crc32c` (default) or `crc32` (zlib's, native and faster; flagged in each header). */
  checksum?: ChecksumKind;
}

/** Chunks needed for `totalBytes` (an empty snapshot still travels as one empty chunk). */
export function chunkCount(totalBytes: number, chunkBytes = DEFAULT_CHUNK_BYTES): number {
  return Math.max(1, Math.ceil(totalBytes / chunkBytes));
}

export function newStreamId(): string {
  return randomBytes(8).toString('hex');
}

function headerChecksum(frame: Uint8Array): number {
  return crc32c(frame.subarray(52, CHUNK_HEADER_BYTES), crc32c(frame.subarray(0, 48)));
}

/** Parses a chunk header if the frame is long enough, magic and version match and its checksum holds; else says why. */
export function readChunkHeader(frame: Uint8Array): ChunkHeader | string {
  if (!(frame instanceof Uint8Array)) return 'chunk is not a Uint8Array';
  if (frame.byteLength < CHUNK_HEADER_BYTES) return `chunk is ${frame.byteLength} bytes, shorter than a chunk header`;
  const view = viewOf(frame);
  if (view.getUint32(0, true) !== CHUNK_MAGIC) return 'chunk has a bad magic (not a godwit chunk)';
  if (frame[4] !== CHUNK_FORMAT_VERSION) return `chunk format version ${frame[4]} is not supported`;
  if (view.getUint16(6, true) !== CHUNK_HEADER_BYTES) return 'chunk header length is not 56';
  if (headerChecksum(frame) !== view.getUint32(48, true)) return 'chunk header checksum mismatch';
  return {
    formatVersion: CHUNK_FORMAT_VERSION,
    last: (frame[5]! & FLAG_LAST) !== 0,
    streamId: Buffer.from(frame.buffer, frame.byteOffset + 8, 8).toString('hex'),
    index: view.getUint32(16, true),
    count: view.getUint32(20, true),
    totalBytes: getU64(view, 24),
    offset: getU64(view, 32),
    payloadBytes: view.getUint32(40, true),
    payloadChecksum: view.getUint32(44, true),
    checksum: (frame[5]! & FLAG_CRC32) !== 0 ? 'crc32' : 'crc32c',
  };
}

/**
 * Cuts `bytes` into chunk frames, pulled one at a time. The producer keeps a reference to
 * `bytes` (no copy of the whole); each frame is a fresh buffer holding a copy of its slice.
 * `bytes` may be a list of pieces standing for their concatenation (never joined: a chunk's
 * payload is a view of one piece, or a copy when it spans two).
 */
export class ChunkProducer implements IterableIterator<Uint8Array> {
  readonly streamId: string;
  readonly chunkBytes: number;
  readonly count: number;
  readonly totalBytes: number;
  private readonly pieces: readonly Uint8Array[];
  /** Where each piece starts in the stream. */
  private readonly starts: number[];
  private readonly streamIdBytes: Uint8Array;
  private nextIndex = 0;
  readonly checksum: ChecksumKind;

  constructor(bytes: Uint8Array | readonly Uint8Array[], options: ChunkStreamOptions = {}) {
    const pieces = bytes instanceof Uint8Array ? [bytes] : bytes;
    if (!Array.isArray(pieces) || !pieces.every((p) => p instanceof Uint8Array)) throw new InvalidArgumentError('bytes', 'must be a Uint8Array (or a list of them)');
    this.pieces = pieces;
    this.starts = [];
    let total = 0;
    for (const p of pieces) {
      this.starts.push(total);
      total += p.byteLength;
    }
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
      throw new InvalidArgumentError('chunkBytes', `must be an integer in 1..${MAX_CHUNK_BYTES}`);
    }
    const streamId = options.streamId ?? newStreamId();
    if (!/^[0-9a-f]{16}$/.test(streamId)) throw new InvalidArgumentError('streamId', 'must be 16 lowercase hex digits');
    const count = chunkCount(total, chunkBytes);
    if (count > MAX_CHUNK_COUNT) throw new InvalidArgumentError('chunkBytes', 'is too small: the snapshot would need more than 2^32-1 chunks');
    this.chunkBytes = chunkBytes;
    this.streamId = streamId;
    this.streamIdBytes = Buffer.from(streamId, 'hex');
    this.count = count;
    this.totalBytes = total;
    this.checksum = options.checksum ?? 'crc32c';
    if (this.checksum !== 'crc32c' && this.checksum !== 'crc32') throw new InvalidArgumentError('checksum', 'must be crc32c or crc32');
  }

  /** The frame of chunk `index` (for a first send or a resend): its header and payload in one buffer. */
  chunk(index: number): Uint8Array {
    const { head, payload } = this.parts(index);
    const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
    frame.set(head, 0);
    frame.set(payload, CHUNK_HEADER_BYTES);
    return frame;
  }

  /**
   * Chunk `index` as its 56-byte header and its payload, a view into the snapshot (no copy): for
   * a transport that carries the two side by side (`ChunkAssembler#pushParts` takes them).
   */
  parts(index: number): { head: Uint8Array; payload: Uint8Array } {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) throw new InvalidArgumentError('index', `must be an integer in 0..${this.count - 1}`);
    const offset = index * this.chunkBytes;
    const payload = this.slice(offset, Math.min(offset + this.chunkBytes, this.totalBytes));
    const head = new Uint8Array(CHUNK_HEADER_BYTES);
    const view = viewOf(head);
    view.setUint32(0, CHUNK_MAGIC, true);
    head[4] = CHUNK_FORMAT_VERSION;
    head[5] = (index === this.count - 1 ? FLAG_LAST : 0) | (this.checksum === 'crc32' ? FLAG_CRC32 : 0);
    view.setUint16(6, CHUNK_HEADER_BYTES, true);
    head.set(this.streamIdBytes, 8);
    view.setUint32(16, index, true);
    view.setUint32(20, this.count, true);
    setU64(view, 24, this.totalBytes);
    setU64(view, 32, offset);
    view.setUint32(40, payload.byteLength, true);
    view.setUint32(44, checksumOf(this.checksum, payload), true);
    view.setUint32(48, headerChecksum(head), true);
    return { head, payload };
  }

  /** Bytes [start, end) of the stream: a view within one piece, a copy across pieces. */
  private slice(start: number, end: number): Uint8Array {
    let i = this.starts.length - 1;
    while (i > 0 && this.starts[i]! > start) i--;
    const first = this.pieces[i]!;
    const at = start - this.starts[i]!;
    if (at + (end - start) <= first.byteLength || this.pieces.length === 1) return first.subarray(at, at + (end - start));
    const out = new Uint8Array(end - start);
    for (let k = i, filled = 0; filled < out.byteLength; k++) {
      const piece = this.pieces[k]!;
      const from = k === i ? at : 0;
      const take = Math.min(piece.byteLength - from, out.byteLength - filled);
      out.set(piece.subarray(from, from + take), filled);
      filled += take;
    }
    return out;
  }

  next(): IteratorResult<Uint8Array, undefined> {
    if (this.nextIndex >= this.count) return { done: true, value: undefined };
    return { done: false, value: this.chunk(this.nextIndex++) };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** A pull-based chunk stream over `bytes` (see `ChunkProducer`). */
export function createChunkStream(bytes: Uint8Array | readonly Uint8Array[], options: ChunkStreamOptions = {}): ChunkProducer {
  return new ChunkProducer(bytes, options);
}
