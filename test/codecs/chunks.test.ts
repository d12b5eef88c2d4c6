import assert from 'node:assert/strict';
import {
  ChunkAssembler,
  chunkCount,
  CHUNK_HEADER_BYTES,
  checksumOf,
  createChunkStream,
  crc32c,
  readChunkHeader,
} from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { assertCodecError, assertThrowsCode, pseudoRandomBytes } from './codec-fixtures.js';

const data = pseudoRandomBytes(10_000, 7);

function frames(bytes = data, chunkBytes = 1024, streamId?: string): Uint8Array[] {
  return [...createChunkStream(bytes, { chunkBytes, ...(streamId ? { streamId } : {}) })];
}

function assemble(list: Uint8Array[]): Uint8Array {
  const a = new ChunkAssembler();
  for (const f of list) a.push(f);
  return a.finish();
}

/** Rewrites a header field and fixes the header checksum, as a buggy (not corrupting) sender would. */
function rewrite(frame: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = frame.slice();
  const view = new DataView(copy.buffer);
  edit(view);
  view.setUint32(48, crc32c(copy.subarray(52, 56), crc32c(copy.subarray(0, 48))), true);
  return copy;
}

describe('ChunkStream', () => {
  describe('createChunkStream', () => {
    it('cuts bytes into bounded chunks with headers and a last flag', () => {
      const list = frames();
      assert.equal(list.length, chunkCount(data.length, 1024));
      assert.equal(list.length, 10);
      const headers = list.map((f) => readChunkHeader(f));
      headers.forEach((h, i) => {
        assert.ok(typeof h !== 'string');
        assert.equal(h.index, i);
        assert.equal(h.count, 10);
        assert.equal(h.totalBytes, 10_000);
        assert.equal(h.offset, i * 1024);
        assert.equal(h.last, i === 9);
        assert.equal(h.streamId, (headers[0] as { streamId: string }).streamId);
      });
      assert.equal(list[9]!.byteLength, CHUNK_HEADER_BYTES + 10_000 - 9 * 1024);
    });

    it('is pulled one chunk at a time, so the consumer sets the pace', () => {
      const stream = createChunkStream(data, { chunkBytes: 4096 });
      assert.equal(stream.count, 3);
      const first = stream.next();
      assert.equal(first.done, false);
      assert.deepStrictEqual(stream.chunk(0), first.value);
      stream.next();
      stream.next();
      assert.equal(stream.next().done, true);
    });

    it('defaults to 1 MiB chunks and sends an empty snapshot as one empty chunk', () => {
      assert.equal(createChunkStream(new Uint8Array(3 << 20)).count, 3);
      const empty = frames(new Uint8Array(0));
      assert.equal(empty.length, 1);
      assert.deepStrictEqual(assemble(empty), new Uint8Array(0));
    });

    it('refuses a bad chunk size or stream id', () => {
      assertThrowsCode(() => createChunkStream(data, { chunkBytes: 0 }), ErrorCodes.INVALID_ARGUMENT);
      assertThrowsCode(() => createChunkStream(data, { streamId: 'xyz' }), ErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe('ChunkAssembler', () => {
    describe('#push / #finish', () => {
      it('reassembles the exact bytes into one preallocated buffer', () => {
        const a = new ChunkAssembler();
        const list = frames();
        list.forEach((f, i) => assert.equal(a.push(f), i === list.length - 1));
        assert.deepStrictEqual(a.progress, { received: 10, count: 10, receivedBytes: 10_000, totalBytes: 10_000, done: true });
        const out = a.finish();
        assert.deepStrictEqual(out, data);
        assert.equal(out.buffer.byteLength, 10_000);
      });

      it('works for a single chunk and for chunks of one byte', () => {
        assert.deepStrictEqual(assemble(frames(data, 1 << 20)), data);
        assert.deepStrictEqual(assemble(frames(data.subarray(0, 50), 1)), data.subarray(0, 50));
      });

      it('assembles into a prepared buffer with room to spare, and allocates when it is too small or mostly unused', () => {
        const into = (buffer: Uint8Array) => {
          const a = new ChunkAssembler({ buffer, headroomBytes: 8 });
          for (const f of frames()) a.push(f);
          assert.deepStrictEqual(a.finish(), data);
          return a.framed();
        };
        const roomy = new Uint8Array(10_100);
        const framed = into(roomy);
        assert.equal(framed.buffer, roomy.buffer);
        assert.equal(framed.byteLength, 10_008);
        assert.notEqual(into(new Uint8Array(10_007)).buffer.byteLength, 10_007);
        assert.notEqual(into(new Uint8Array(30_000)).buffer.byteLength, 30_000);
      });
    });

    describe('faults', () => {
      it('detects a truncated stream at finish, naming the missing chunk', () => {
        const a = new ChunkAssembler();
        frames().slice(0, 6).forEach((f) => a.push(f));
        assertCodecError(() => a.finish(), { codec: 'chunk', chunkIndex: 6, reason: /truncated: chunk 6 of 10 is missing/ });
      });

      it('detects finish with no chunk at all', () => {
        assertCodecError(() => new ChunkAssembler().finish(), { codec: 'chunk', reason: /no chunk/ });
      });

      it('detects a reordered (or lost) chunk', () => {
        const list = frames();
        const a = new ChunkAssembler();
        a.push(list[0]!);
        assertCodecError(() => a.push(list[2]!), { chunkIndex: 2, reason: /out of order \(chunk 1 expected\)/ });
      });

      it('detects a stream that starts with a later chunk', () => {
        assertCodecError(() => new ChunkAssembler().push(frames()[3]!), { chunkIndex: 3, reason: /out of order/ });
      });

      it('detects a duplicated chunk', () => {
        const list = frames();
        const a = new ChunkAssembler();
        a.push(list[0]!);
        a.push(list[1]!);
        assertCodecError(() => a.push(list[1]!), { chunkIndex: 1, reason: /duplicate/ });
      });

      it('detects a corrupted payload by its checksum, then accepts the resent chunk', () => {
        const stream = createChunkStream(data, { chunkBytes: 1024 });
        const a = new ChunkAssembler();
        a.push(stream.chunk(0));
        const bad = stream.chunk(1);
        bad[CHUNK_HEADER_BYTES + 100]! ^= 0x04;
        assertCodecError(() => a.push(bad), { chunkIndex: 1, reason: /payload checksum mismatch/ });
        for (let i = 1; i < stream.count; i++) a.push(stream.chunk(i));
        assert.deepStrictEqual(a.finish(), data);
      });

      it('detects a corrupted header by its checksum', () => {
        const list = frames();
        const a = new ChunkAssembler();
        a.push(list[0]!);
        const bad = list[1]!.slice();
        bad[17]! ^= 0x01;
        assertCodecError(() => a.push(bad), { chunkIndex: 1, reason: /header checksum mismatch/ });
      });

      it('detects a chunk of another stream', () => {
        const mine = frames(data, 1024, '0000000000000001');
        const theirs = frames(data, 1024, '0000000000000002');
        const a = new ChunkAssembler();
        a.push(mine[0]!);
        assertCodecError(() => a.push(theirs[1]!), { chunkIndex: 1, reason: /belongs to stream 0000000000000002, not 0000000000000001/ });
      });

      it('accepts only the stream it was told to expect', () => {
        const a = new ChunkAssembler({ streamId: '00000000000000aa' });
        assertCodecError(() => a.push(frames(data, 1024, '00000000000000bb')[0]!), { chunkIndex: 0, reason: /belongs to stream/ });
      });

      it('detects a truncated frame and one with trailing bytes', () => {
        const list = frames();
        const a = new ChunkAssembler();
        assertCodecError(() => a.push(list[0]!.subarray(0, 500)), { chunkIndex: 0, reason: /truncated \(444 of 1024 payload bytes\)/ });
        assertCodecError(() => a.push(list[0]!.subarray(0, 30)), { chunkIndex: 0, reason: /shorter than a chunk header/ });
        const longer = new Uint8Array(list[0]!.length + 2);
        longer.set(list[0]!);
        assertCodecError(() => a.push(longer), { chunkIndex: 0, reason: /trailing bytes/ });
      });

      it('detects a foreign frame', () => {
        assertCodecError(() => new ChunkAssembler().push(new Uint8Array(100)), { chunkIndex: 0, reason: /bad magic/ });
      });

      it('detects header fields that disagree with the stream', () => {
        const list = frames();
        const a = new ChunkAssembler();
        a.push(list[0]!);
        assertCodecError(() => a.push(rewrite(list[1]!, (v) => v.setUint32(20, 11, true))), { chunkIndex: 1, reason: /disagrees/ });
        assertCodecError(() => a.push(rewrite(list[1]!, (v) => v.setUint32(32, 1000, true))), { chunkIndex: 1, reason: /starts at offset 1000, not 1024/ });
        assertCodecError(() => a.push(rewrite(list[1]!, (v) => v.setUint8(5, 1))), { chunkIndex: 1, reason: /last flag/ });
      });

      it('refuses a stream larger than maxTotalBytes before allocating', () => {
        assertCodecError(() => new ChunkAssembler({ maxTotalBytes: 1000 }).push(frames()[0]!), { chunkIndex: 0, reason: /exceeds the limit of 1000 bytes/ });
      });

      it('refuses chunks after finish', () => {
        const list = frames(data, 1 << 20);
        const a = new ChunkAssembler();
        a.push(list[0]!);
        a.finish();
        assertCodecError(() => a.push(list[0]!), { reason: /already finished/ });
      });
    });
  });

  describe('with zlib CRC-32 payload checksums (checksum: crc32)', () => {
    it('flags each header, reassembles the bytes and combines the chunk checksums into the stream\'s', () => {
      const list = [...createChunkStream(data, { chunkBytes: 1024, checksum: 'crc32' })];
      assert.ok(list.every((f) => (readChunkHeader(f) as { checksum: string }).checksum === 'crc32'));
      const a = new ChunkAssembler();
      for (const f of list) a.push(f);
      assert.deepEqual(a.finish(), data);
      assert.equal(a.checksumKind, 'crc32');
      assert.equal(a.checksum, checksumOf('crc32', data));
    });

    it('detects a flipped payload bit, and a chunk whose checksum kind differs from the stream\'s', () => {
      const list = [...createChunkStream(data, { chunkBytes: 1024, checksum: 'crc32' })];
      const a = new ChunkAssembler();
      const bad = list[0]!.slice();
      bad[CHUNK_HEADER_BYTES + 5]! ^= 0x10;
      assertCodecError(() => a.push(bad), { codec: 'chunk', chunkIndex: 0, reason: /payload checksum mismatch/ });
      a.push(list[0]!);
      const { streamId } = readChunkHeader(list[0]!) as { streamId: string };
      const other = [...createChunkStream(data, { chunkBytes: 1024, streamId })];
      assertCodecError(() => a.push(other[1]!), { codec: 'chunk', chunkIndex: 1, reason: /uses checksum crc32c, the stream crc32/ });
    });

    it('carries the header and the payload apart (parts / pushParts) with the same checks', () => {
      const producer = createChunkStream(data, { chunkBytes: 4096, checksum: 'crc32' });
      const a = new ChunkAssembler({ headroomBytes: 16 });
      for (let i = 0; i < producer.count; i++) {
        const { head, payload } = producer.parts(i);
        assert.equal(payload.buffer, data.buffer, 'the payload is a view, not a copy');
        a.pushParts(head, payload);
      }
      assert.deepEqual(a.finish(), data);
      assert.equal(a.framed().byteLength, 16 + data.byteLength);
      assertCodecError(() => new ChunkAssembler().pushParts(producer.parts(0).head.subarray(0, 40), data), { codec: 'chunk', reason: /shorter than a chunk header/ });
    });
  });
});
