/** Small byte helpers shared by the envelope and chunk formats (little-endian throughout). */

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, returning undefined for malformed input instead of throwing. */
export function fromUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Writes a non-negative safe integer as a 64-bit little-endian unsigned value. */
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Reads a 64-bit little-endian unsigned value; NaN when it exceeds `Number.MAX_SAFE_INTEGER`. */
export function getU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  if (hi > 0x1f_ffff) return Number.NaN;
  return hi * 0x1_0000_0000 + lo;
}

/** `n` rounded up to a multiple of 8. */
export function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
