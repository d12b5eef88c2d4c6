/**
 * The 16-byte prefix of an `arrow` codec payload and the structural check run before any byte
 * reaches apache-arrow. arrow-js trusts the lengths inside IPC metadata (a flipped bit in a
 * flatbuffer vector length makes it build millions of entries and run out of memory), so decode
 * first walks the IPC framing itself, bounds-checking every length, and compares a CRC-32C of
 * all framing and metadata bytes (not the bodies, so the check stays cheap for large columns)
 * with the one written at encode time. Bodies are data: a flipped bit there changes a value, the
 * envelope checksum is what catches that.
 *
 * | offset | bytes | field                                                         |
 * |--------|-------|---------------------------------------------------------------|
 * | 0      | 4     | magic `GWAR` (0x47 0x57 0x41 0x52)                             |
 * | 4      | 1     | payload format version (1)                                     |
 * | 5      | 3     | reserved, 0                                                    |
 * | 8      | 4     | CRC-32C over every message's prefix and metadata, in order     |
 * | 12     | 4     | number of IPC messages (end-of-stream markers included)        |
 * | 16     | ...   | concatenated Arrow IPC streams (8-byte aligned: 16 is)         |
 */
import { viewOf } from './bytes.js';
import { crc32c } from './crc32c.js';

export const ARROW_PREFIX_BYTES = 16;
const MAGIC = 0x52415747; // 'GWAR' read as a little-endian u32
const VERSION = 1;
const CONTINUATION = 0xffffffff;
/** vtable slot of `Message.bodyLength` in Arrow's Message.fbs (version, header_type, header, bodyLength). */
const BODY_LENGTH_SLOT = 10;

export function newArrowPrefix(): Uint8Array {
  const prefix = new Uint8Array(ARROW_PREFIX_BYTES);
  viewOf(prefix).setUint32(0, MAGIC, true);
  prefix[4] = VERSION;
  return prefix;
}

/** Fills in the checksum and message count of a payload whose first 16 bytes are `newArrowPrefix()`. */
export function sealArrowPayload(payload: Uint8Array): void {
  const { checksum, messages } = walk(payload.subarray(ARROW_PREFIX_BYTES));
  const view = viewOf(payload);
  view.setUint32(8, checksum, true);
  view.setUint32(12, messages, true);
}

/** Checks the prefix and the IPC structure; returns the IPC bytes (a view) or a reason they are refused. */
export function openArrowPayload(payload: Uint8Array): Uint8Array | string {
  if (payload.byteLength < ARROW_PREFIX_BYTES) return `payload is ${payload.byteLength} bytes, shorter than its prefix`;
  const view = viewOf(payload);
  if (view.getUint32(0, true) !== MAGIC) return 'payload has a bad magic (not a godwit arrow payload)';
  if (payload[4] !== VERSION || payload[5] !== 0 || payload[6] !== 0 || payload[7] !== 0) return `payload format ${payload[4]} is not supported`;
  const ipc = payload.subarray(ARROW_PREFIX_BYTES);
  let result: { checksum: number; messages: number };
  try {
    result = walk(ipc);
  } catch (err) {
    return err instanceof FrameError ? err.message : 'ipc framing is malformed';
  }
  if (result.messages !== view.getUint32(12, true)) return `ipc holds ${result.messages} messages, not ${view.getUint32(12, true)}`;
  if (result.checksum !== view.getUint32(8, true)) return 'ipc metadata checksum mismatch';
  return ipc;
}

class FrameError extends Error {}

/** Walks `continuation, metadata length, metadata, body` frames to the end, bounds-checking each. */
function walk(ipc: Uint8Array): { checksum: number; messages: number } {
  const view = viewOf(ipc);
  const n = ipc.byteLength;
  let pos = 0;
  let checksum = 0;
  let messages = 0;
  while (pos < n) {
    if (pos + 8 > n) throw new FrameError(`ipc is truncated inside a message prefix at offset ${pos}`);
    if (view.getUint32(pos, true) !== CONTINUATION) throw new FrameError(`ipc lacks a continuation marker at offset ${pos}`);
    const metaLength = view.getInt32(pos + 4, true);
    if (metaLength < 0 || pos + 8 + metaLength > n) throw new FrameError(`ipc metadata at offset ${pos} overruns the payload`);
    checksum = crc32c(ipc.subarray(pos, pos + 8 + metaLength), checksum);
    const body = metaLength === 0 ? 0 : bodyLength(ipc.subarray(pos + 8, pos + 8 + metaLength));
    if (pos + 8 + metaLength + body > n) throw new FrameError(`ipc body at offset ${pos} overruns the payload`);
    pos += 8 + metaLength + body;
    messages++;
  }
  return { checksum, messages };
}

/** Reads `Message.bodyLength` from a flatbuffer with every offset bounds-checked. */
function bodyLength(meta: Uint8Array): number {
  const view = viewOf(meta);
  const n = meta.byteLength;
  const fail = () => new FrameError('ipc message metadata is malformed');
  if (n < 8) throw fail();
  const root = view.getUint32(0, true);
  if (root + 4 > n) throw fail();
  const vtable = root - view.getInt32(root, true);
  if (vtable < 0 || vtable + 4 > n) throw fail();
  const vtableBytes = view.getUint16(vtable, true);
  if (vtable + vtableBytes > n) throw fail();
  if (BODY_LENGTH_SLOT + 2 > vtableBytes) return 0;
  const field = view.getUint16(vtable + BODY_LENGTH_SLOT, true);
  if (field === 0) return 0;
  if (root + field + 8 > n) throw fail();
  const lo = view.getUint32(root + field, true);
  const hi = view.getUint32(root + field + 4, true);
  if (hi > 0x1f_ffff) throw fail();
  return hi * 0x1_0000_0000 + lo;
}
