/**
 * The receiving side of a chunk stream. The first chunk tells the total length; the assembler
 * allocates it once and copies each chunk's payload into place, so it never holds two full
 * copies of a snapshot. Chunks must arrive in order (a WebSocket link keeps order, so anything
 * else is a bug or an attack).
 *
 * `push(frame)` validates a chunk and throws a `CodecError` (codec `chunk`, `chunkIndex` set)
 * for: a short or foreign frame, a corrupted header or payload (CRC-32C), a chunk of another
 * stream, a duplicate, a chunk out of order (reordered, or one lost before it), a truncated frame
 * or one with trailing bytes, and header fields that disagree with the stream. A rejected chunk
 * leaves the assembler unchanged, so the sender may resend it. `finish()` returns the bytes, or
 * throws naming the first missing chunk when the stream is truncated.
 */
import { type ChunkHeader, CHUNK_HEADER_BYTES, readChunkHeader } from './chunk-format.js';
import { type ChecksumKind, checksumOf, combineChecksums } from './checksums.js';
import { CodecError, CodecOperations, describeError } from './errors.js';

export interface ChunkAssemblerOptions {
  /** Accept only this stream (16 hex digits); default: the stream of the first chunk. */
  streamId?: string;
  /** Refuse streams whose total length exceeds this many bytes (default Infinity). */
  maxTotalBytes?: number;
  /**
   * Free bytes to keep in front of the assembled stream (default 0), so a header can be written
   * there afterwards without copying the stream (see `framed`).
   */
  headroomBytes?: number;
  /**
   * A buffer to assemble into (its first headroom-plus-stream bytes) when it has room and the
   * stream needs at least half of it (else one is allocated at the first chunk): made, and its
   * pages touched, ahead of time.
   */
  buffer?: Uint8Array;
}

export interface ChunkProgress {
  /** Chunks accepted so far. */
  received: number;
  count: number;
  receivedBytes: number;
  totalBytes: number;
  done: boolean;
}

/** Largest stream an assembler accepts unless told otherwise (1 GiB). */
export const DEFAULT_MAX_TOTAL_BYTES = 2 ** 30;

export class ChunkAssembler {
  private streamId: string | undefined;
  private readonly maxTotalBytes: number;
  private buffer: Uint8Array | undefined;
  private count = 0;
  private totalBytes = 0;
  private nextIndex = 0;
  private receivedBytes = 0;
  private finished = false;
  private readonly headroomBytes: number;
  private readonly prepared: Uint8Array | undefined;
  private crc = 0;
  private kind: ChecksumKind | undefined;

  constructor(options: ChunkAssemblerOptions = {}) {
    this.streamId = options.streamId;
    // The first chunk's header makes the assembler allocate the whole stream: a bound keeps one
    // forged 57-byte frame from costing gigabytes.
    this.maxTotalBytes = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    this.headroomBytes = options.headroomBytes ?? 0;
    this.prepared = options.buffer;
  }

  /** Checksum (of `checksumKind`) of the bytes accepted so far, combined from the chunks' own (no extra pass). */
  get checksum(): number {
    return this.crc;
  }

  /** The stream's payload checksum (every chunk of a stream uses the same), once a chunk is in. */
  get checksumKind(): ChecksumKind | undefined {
    return this.kind;
  }

  /** The stream being assembled, once known. */
  get stream(): string | undefined {
    return this.streamId;
  }

  get progress(): ChunkProgress {
    return {
      received: this.nextIndex,
      count: this.count,
      receivedBytes: this.receivedBytes,
      totalBytes: this.totalBytes,
      done: this.buffer !== undefined && this.nextIndex === this.count,
    };
  }

  /** Validates one chunk and copies it into place; returns true when it was the last one. */
  push(frame: Uint8Array): boolean {
    if (!(frame instanceof Uint8Array) || frame.byteLength < CHUNK_HEADER_BYTES) return this.pushParts(frame, new Uint8Array(0));
    return this.pushParts(frame.subarray(0, CHUNK_HEADER_BYTES), frame.subarray(CHUNK_HEADER_BYTES));
  }

  /** `push` for a chunk whose 56-byte header and payload travelled as two pieces (`ChunkProducer#parts`). */
  pushParts(head: Uint8Array, payload: Uint8Array): boolean {
    const header = readChunkHeader(head);
    if (typeof header === 'string') throw this.fail(header, this.nextIndex);
    if (head.byteLength !== CHUNK_HEADER_BYTES) throw this.fail(`chunk header is ${head.byteLength} bytes, not ${CHUNK_HEADER_BYTES}`, header.index);
    if (!(payload instanceof Uint8Array)) throw this.fail('chunk payload is not a Uint8Array', header.index);
    const i = header.index;
    if (this.finished) throw this.fail('the stream is already finished', i);
    if (this.streamId !== undefined && header.streamId !== this.streamId) {
      throw this.fail(`chunk belongs to stream ${header.streamId}, not ${this.streamId}`, i);
    }
    if (i < this.nextIndex) throw this.fail(`chunk ${i} is a duplicate (chunk ${this.nextIndex} expected)`, i);
    if (i > this.nextIndex) throw this.fail(`chunk ${i} arrived out of order (chunk ${this.nextIndex} expected)`, i);
    if (this.buffer === undefined) this.checkFirst(header);
    else if (header.count !== this.count || header.totalBytes !== this.totalBytes) {
      throw this.fail(`chunk ${i} disagrees with the stream's count or total length`, i);
    }
    const last = i === header.count - 1;
    if (header.last !== last) throw this.fail(`chunk ${i} has a wrong last flag`, i);
    if (header.offset !== this.receivedBytes) throw this.fail(`chunk ${i} starts at offset ${header.offset}, not ${this.receivedBytes}`, i);
    const available = payload.byteLength;
    if (available < header.payloadBytes) throw this.fail(`chunk ${i} is truncated (${available} of ${header.payloadBytes} payload bytes)`, i);
    if (available > header.payloadBytes) throw this.fail(`chunk ${i} has ${available - header.payloadBytes} trailing bytes`, i);
    const end = header.offset + header.payloadBytes;
    if (end > header.totalBytes || (last && end !== header.totalBytes) || (!last && header.payloadBytes === 0)) {
      throw this.fail(`chunk ${i} payload length ${header.payloadBytes} does not fit the stream`, i);
    }
    if (this.kind !== undefined && header.checksum !== this.kind) throw this.fail(`chunk ${i} uses checksum ${header.checksum}, the stream ${this.kind}`, i);
    if (checksumOf(header.checksum, payload) !== header.payloadChecksum) throw this.fail(`chunk ${i} payload checksum mismatch`, i);

    if (this.buffer === undefined) this.start(header);
    this.buffer!.set(payload, this.headroomBytes + header.offset);
    this.kind = header.checksum;
    this.crc = combineChecksums(header.checksum, this.crc, header.payloadChecksum, header.payloadBytes);
    this.receivedBytes = end;
    this.nextIndex++;
    return last;
  }

  /** The assembled bytes; throws naming the first missing chunk if the stream is incomplete. */
  finish(): Uint8Array {
    if (this.buffer === undefined) throw this.fail('no chunk was received', 0);
    if (this.nextIndex < this.count) {
      throw this.fail(`the stream is truncated: chunk ${this.nextIndex} of ${this.count} is missing`, this.nextIndex);
    }
    this.finished = true;
    return this.headroomBytes === 0 ? this.buffer : this.buffer.subarray(this.headroomBytes);
  }

  /** After `finish`: the headroom followed by the stream, one buffer (the headroom is zeros until written). */
  framed(): Uint8Array {
    if (!this.finished || this.buffer === undefined) throw this.fail('the stream is not finished', this.nextIndex);
    return this.buffer;
  }

  private checkFirst(header: ChunkHeader): void {
    const { count, totalBytes } = header;
    if (count < 1 || Number.isNaN(totalBytes) || (count > 1 && totalBytes < count - 1)) {
      throw this.fail(`chunk ${header.index} declares an impossible stream (${count} chunks, ${totalBytes} bytes)`, header.index);
    }
    if (totalBytes > this.maxTotalBytes) {
      throw this.fail(`the stream of ${totalBytes} bytes exceeds the limit of ${this.maxTotalBytes} bytes`, header.index);
    }
  }

  private start(header: ChunkHeader): void {
    const needed = this.headroomBytes + header.totalBytes;
    const prepared = this.prepared;
    this.buffer = prepared && prepared.byteLength >= needed && needed >= prepared.byteLength / 2 ? prepared.subarray(0, needed) : this.allocate(header);
    this.streamId = header.streamId;
    this.count = header.count;
    this.totalBytes = header.totalBytes;
  }

  private allocate(header: ChunkHeader): Uint8Array {
    try {
      // Not zeroed: every byte after the headroom is written by a chunk before `finish` returns it.
      const unzeroed = Buffer.allocUnsafeSlow(this.headroomBytes + header.totalBytes);
      return new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, unzeroed.byteLength);
    } catch (err) {
      throw this.fail(`cannot allocate ${header.totalBytes} bytes (${describeError(err)})`, header.index, err);
    }
  }

  private fail(reason: string, chunkIndex: number, cause?: unknown): CodecError {
    return new CodecError({
      codec: 'chunk',
      operation: CodecOperations.DECODE,
      reason,
      chunkIndex,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
