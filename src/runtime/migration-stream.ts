/**
 * The state stream of a migration across nodes, source side: the bytes cut into checksummed
 * chunks (codecs/chunk-format.ts), each sent as a request the target acknowledges once it has
 * checked and placed the chunk. Flow control is a window of unacknowledged bytes, so a slow
 * target (or a full link) slows the source; between chunks the event loop runs, so the node
 * keeps serving its other tasks (and, with pre-copy, the moving task itself) while a large state
 * streams. Each chunk is checksummed once here and once at the target (CRC-32, native); nothing
 * else passes over the whole state (the target seals the envelope from the chunks' checksums).
 */
import { ChunkProducer } from '../codecs/chunk-format.js';

/** Payload bytes per chunk (1 MiB). */
export const STREAM_CHUNK_BYTES = 2 ** 20;
/** Most bytes sent and not yet acknowledged (16 MiB: a fraction of a link's default 64 MiB pending limit). */
export const STREAM_WINDOW_BYTES = 16 * 2 ** 20;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Sends `bytes` (or the concatenation of its pieces) as chunks (header and payload view apart:
 * the link sends the payload as a message of its own, uncopied; see `Env.tail`) through `send` (which resolves on the
 * target's acknowledgement). Resolves with the bytes sent; rejects with the first failure.
 */
export async function streamChunks(bytes: Uint8Array | readonly Uint8Array[], send: (chunk: { head: Uint8Array; payload: Uint8Array }, index: number) => Promise<unknown>): Promise<number> {
  // zlib's CRC-32 (native) rather than the default CRC-32C (JavaScript): several times cheaper per byte at both ends.
  const producer = new ChunkProducer(bytes, { chunkBytes: STREAM_CHUNK_BYTES, checksum: 'crc32' });
  const window = Math.max(1, Math.floor(STREAM_WINDOW_BYTES / STREAM_CHUNK_BYTES));
  const inflight = new Set<Promise<unknown>>();
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < producer.count; i++) {
    if (failure) throw failure.err;
    const acked = send(producer.parts(i), i);
    inflight.add(acked);
    acked.then(
      () => inflight.delete(acked),
      (err: unknown) => {
        inflight.delete(acked);
        failure ??= { err };
      },
    );
    while (inflight.size >= window && !failure) await Promise.race(inflight).catch(() => {});
    if (i + 1 < producer.count) await nextTurn();
  }
  await Promise.all(inflight).catch(() => {});
  if (failure) throw failure.err;
  return producer.totalBytes;
}
