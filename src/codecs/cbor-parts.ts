/**
 * CBOR of a value as a list of pieces whose concatenation is exactly `cborEncode(value)`, with
 * large byte arrays left where they are: the pieces are views of them, not copies. For a state
 * that will not change while its bytes are read (a frozen task being streamed), this skips the
 * one big copy an encode makes. Only byte arrays and typed arrays (Float64Array...) held by plain
 * objects and arrays are found (up to a depth of 16); anything else is encoded as usual.
 *
 * How: each large array is swapped, in a shallow copy of the containers on its path, for a
 * placeholder of the same class holding a 16-byte random marker; the placeholder encodes as the
 * same tag (if any), a byte-string head and the marker, so cutting the marker's byte-string out of
 * the encoding and putting the array's own head and bytes in its place gives the full encoding.
 */
import { randomBytes } from 'node:crypto';
import { cborEncode } from './cbor.js';

/** Byte arrays at least this long are passed by reference (default 1 MiB). */
export const CBOR_PARTS_MIN_BYTES = 2 ** 20;
const MAX_DEPTH = 16;
const MARKER_BYTES = 16;

interface Found {
  bytes: Uint8Array;
  marker: Uint8Array;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type TypedArrayClass = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

/** The typed arrays cbor-x writes as a tag (Uint8Array: none) and a byte string of their memory. */
const TYPED_ARRAYS = new Set<unknown>([Uint8Array, Uint8ClampedArray, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigUint64Array, BigInt64Array]);

function isLargeBytes(v: unknown, minBytes: number): v is ArrayBufferView {
  return ArrayBuffer.isView(v) && (TYPED_ARRAYS.has(v.constructor) || Buffer.isBuffer(v)) && v.byteLength >= minBytes;
}

/** An array of `v`'s class whose memory is the 16 bytes of `marker`: it encodes as `v` would, marker for contents. */
function placeholder(v: ArrayBufferView, marker: Uint8Array): ArrayBufferView {
  if (Buffer.isBuffer(v)) return Buffer.from(marker);
  const memory = new Uint8Array(marker).buffer;
  const Class = v.constructor as TypedArrayClass & { BYTES_PER_ELEMENT: number };
  return new Class(memory, 0, MARKER_BYTES / Class.BYTES_PER_ELEMENT);
}

/** A copy of the containers on the way to large byte arrays, with placeholders in their place. */
function swapOut(v: unknown, minBytes: number, found: Found[], depth: number, seen: Set<object>): unknown {
  if (isLargeBytes(v, minBytes)) {
    const marker = randomBytes(MARKER_BYTES);
    found.push({ bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), marker });
    return placeholder(v, marker);
  }
  if (depth >= MAX_DEPTH || typeof v !== 'object' || v === null || seen.has(v)) return v;
  if (Array.isArray(v)) {
    seen.add(v);
    const out = v.map((x) => swapOut(x, minBytes, found, depth + 1, seen));
    seen.delete(v);
    return out.every((x, i) => x === v[i]) ? v : out;
  }
  if (!isPlainObject(v)) return v;
  seen.add(v);
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(v)) {
    const x = v[key];
    const y = swapOut(x, minBytes, found, depth + 1, seen);
    if (y !== x) copy ??= { ...v };
    if (copy) copy[key] = y;
  }
  seen.delete(v);
  return copy ?? v;
}

function byteStringHead(n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x40 | n);
  if (n < 0x100) return Uint8Array.of(0x58, n);
  if (n < 0x10000) return Uint8Array.of(0x59, n >> 8, n & 0xff);
  if (n <= 0xffff_ffff) return Uint8Array.of(0x5a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const out = new Uint8Array(9);
  out[0] = 0x5b;
  new DataView(out.buffer).setBigUint64(1, BigInt(n));
  return out;
}

/**
 * `cborEncode(value)` as pieces, large byte arrays by reference (see the file comment), or, with
 * `copy`, as what `copy` returns for each: a snapshot of a state that goes on changing, taken at
 * the cost of one copy of each large array (into memory the caller chose) instead of an encode.
 */
export function cborEncodeParts(value: unknown, minBytes = CBOR_PARTS_MIN_BYTES, copy?: (bytes: Uint8Array) => Uint8Array): Uint8Array[] {
  const found: Found[] = [];
  const skeleton = swapOut(value, minBytes, found, 0, new Set());
  const encoded = cborEncode(skeleton);
  if (found.length === 0) return [encoded];
  const text = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const parts: Uint8Array[] = [];
  let from = 0;
  // Placeholders are encoded in the order the walk met them (keys and elements in order).
  for (const { bytes, marker } of found) {
    const at = text.indexOf(marker, from);
    if (at < 1 || encoded[at - 1] !== (0x40 | MARKER_BYTES)) return [cborEncode(value)]; // not where expected: encode as usual
    parts.push(encoded.subarray(from, at - 1), byteStringHead(bytes.byteLength), copy ? copy(bytes) : bytes);
    from = at + MARKER_BYTES;
  }
  parts.push(encoded.subarray(from));
  return parts.filter((p) => p.byteLength > 0);
}
