/**
 * A buffer whose pages are touched before it is needed, a slice per event-loop turn: the first
 * write to fresh memory runs at page-fault speed, several times below a copy, so a large copy
 * into a warm buffer takes a fraction of the time (and of the stall) it would into a fresh one.
 */

/** Bytes touched per event-loop turn (4 MiB). */
export const WARM_SLICE_BYTES = 4 * 2 ** 20;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `bytes` and some room to spare (64 KiB, or 1/256 of it): a state a little larger than its last snapshot still fits. */
export function withSpare(bytes: number): number {
  return bytes + Math.max(64 * 1024, Math.ceil(bytes / 256));
}

/**
 * A buffer of `bytes` with every page touched, `WARM_SLICE_BYTES` a turn; undefined if
 * `cancelled()` turns true on the way (the caller no longer wants it).
 */
export async function warmBuffer(bytes: number, cancelled: () => boolean = () => false): Promise<Uint8Array | undefined> {
  const raw = Buffer.allocUnsafeSlow(bytes);
  const buffer = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let at = 0; at < buffer.byteLength; at += WARM_SLICE_BYTES) {
    if (cancelled()) return undefined;
    buffer.fill(0, at, Math.min(buffer.byteLength, at + WARM_SLICE_BYTES));
    await nextTurn();
  }
  return cancelled() ? undefined : buffer;
}

/**
 * Copies byte arrays one after the other into `buffer` while they fit, into fresh memory once
 * they do not: `copy(bytes)` returns the copy.
 */
export function bumpCopier(buffer: Uint8Array | undefined): (bytes: Uint8Array) => Uint8Array {
  let used = 0;
  return (bytes) => {
    if (buffer && used + bytes.byteLength <= buffer.byteLength) {
      const out = buffer.subarray(used, used + bytes.byteLength);
      out.set(bytes);
      used += bytes.byteLength;
      return out;
    }
    // Not `slice`: on a Buffer it is a view.
    const out = new Uint8Array(bytes.byteLength);
    out.set(bytes);
    return out;
  };
}
