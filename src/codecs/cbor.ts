/**
 * The `cbor` codec (the default), over cbor-x. This is the only file that imports cbor-x; the
 * transport reuses `cborEncode` / `cborDecode` for its frames.
 *
 * Round-trips: plain objects, arrays, strings, numbers (except `-0`, which comes back as `0`),
 * booleans, `null`, `undefined`, BigInt (any size), `Map` (any key type, as CBOR tag 259), `Set`,
 * `Date` (tag 1; private tag 40502 for the far past or future, where float seconds would lose
 * milliseconds), `RegExp`, `Error` (name and message), every typed array, and `TaskRef` (private
 * tag 40501). `Buffer` comes
 * back as `Buffer`, `ArrayBuffer` and `DataView` come back as `Buffer` (bytes kept, type not).
 * Other class instances come back as plain objects with their own enumerable fields. An own
 * property named `__proto__` is not preserved (cbor-x renames it on decode).
 *
 * Options: `useRecords: false` writes objects as standard CBOR maps any CBOR decoder reads;
 * `mapsAsObjects: true` reads those back as objects while `Map`s, tagged 259, stay `Map`s.
 *
 * Zero-copy: a decoded `Uint8Array`/`Buffer` is a view into the input bytes (do not reuse the
 * input buffer while the state lives); other typed arrays are copied to get aligned storage.
 * `encode` returns a view into cbor-x's output buffer, which is never overwritten afterwards.
 */
import { addExtension, Encoder } from 'cbor-x';
import { isTaskRef, TaskRef } from '../actors/ref.js';
import type { Codec } from './codec.js';
import { CodecError, CodecOperations, wrapCodecError } from './errors.js';

/** CBOR tag for `TaskRef` (first-come private range above 40500, as cbor-x asks). */
export const TASK_REF_CBOR_TAG = 40501;

addExtension<TaskRef, unknown>({
  Class: TaskRef,
  tag: TASK_REF_CBOR_TAG,
  encode(ref, encode) {
    return encode([ref.id, ref.task]);
  },
  decode(item) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string' || typeof item[1] !== 'string') {
      throw new CodecError({ codec: 'cbor', operation: CodecOperations.DECODE, reason: `tag ${TASK_REF_CBOR_TAG} (task ref) holds a malformed value` });
    }
    return new TaskRef(item[0], item[1]);
  },
});

/**
 * Private tag for a `Date` whose milliseconds standard tag 1 (float seconds) cannot carry exactly
 * (beyond about ±69,000 years from 1970); every other date keeps tag 1, as other decoders expect.
 */
export const DATE_MS_CBOR_TAG = 40502;

/** What cbor-x's addExtension accepts, beyond its published types: a per-value tag, decode-only entries. */
interface CborExtension {
  Class?: abstract new (...args: never[]) => unknown;
  tag?: number;
  getTag?(value: unknown): number;
  encode?(value: unknown, encode: (data: unknown) => Uint8Array): Uint8Array;
  decode?(item: unknown): unknown;
}
const addCborExtension = addExtension as unknown as (extension: CborExtension) => void;

addCborExtension({
  Class: Date,
  // cbor-x reads tag 1 back as Math.round(seconds * 1000): keep tag 1 whenever that is exact.
  getTag(date) {
    const ms = (date as Date).getTime();
    return Number.isNaN(ms) || Math.round((ms / 1000) * 1000) === ms ? 1 : DATE_MS_CBOR_TAG;
  },
  encode(date, encode) {
    const ms = (date as Date).getTime();
    return encode(Number.isNaN(ms) || Math.round((ms / 1000) * 1000) === ms ? ms / 1000 : ms);
  },
});

addCborExtension({
  tag: DATE_MS_CBOR_TAG,
  decode(item) {
    if (typeof item !== 'number') {
      throw new CodecError({ codec: 'cbor', operation: CodecOperations.DECODE, reason: `tag ${DATE_MS_CBOR_TAG} (date) holds a malformed value` });
    }
    return new Date(item);
  },
});

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });

/** CBOR bytes of `value`; throws `CodecError` for values cbor-x cannot write. */
export function cborEncode(value: unknown): Uint8Array {
  try {
    return encoder.encode(value);
  } catch (err) {
    throw wrapCodecError('cbor', CodecOperations.ENCODE, err);
  }
}

/** The value in `bytes` (exactly one CBOR item, no trailing bytes); throws `CodecError` otherwise. */
export function cborDecode(bytes: Uint8Array): unknown {
  try {
    return encoder.decode(bytes) as unknown;
  } catch (err) {
    throw wrapCodecError('cbor', CodecOperations.DECODE, err);
  }
}

/** Upper-bound-ish estimate of the CBOR size of `value` (walks at most `budget` nodes). */
export function estimateCborSize(value: unknown, budget = 100_000): number {
  let nodes = 0;
  const walk = (v: unknown): number => {
    if (++nodes > budget) return 0;
    switch (typeof v) {
      case 'number':
        return 9;
      case 'string':
        return v.length * 3 + 5;
      case 'bigint':
        return 9 + Math.ceil(v.toString(16).length / 2);
      case 'object': {
        if (v === null) return 1;
        if (ArrayBuffer.isView(v)) return v.byteLength + 9;
        if (v instanceof ArrayBuffer) return v.byteLength + 9;
        if (isTaskRef(v)) return v.id.length + v.task.length + 16;
        if (v instanceof Date) return 11;
        let total = 9;
        if (v instanceof Map) for (const [k, x] of v) total += walk(k) + walk(x);
        else if (v instanceof Set || Array.isArray(v)) for (const x of v) total += walk(x);
        else for (const k of Object.keys(v)) total += k.length + 5 + walk((v as Record<string, unknown>)[k]);
        return total;
      }
      default:
        return 1;
    }
  };
  return walk(value);
}

export const cborCodec: Codec = Object.freeze({
  name: 'cbor',
  encode: cborEncode,
  decode: cborDecode,
  estimateSize: (value: unknown) => estimateCborSize(value),
});
