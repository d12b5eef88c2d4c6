/**
 * The `json` codec, for debugging and interop. UTF-8 JSON text.
 *
 * Strict on encode, so that `decode(encode(x))` deep-equals `x` or `encode` throws: it accepts
 * `null`, booleans, finite numbers (not `-0`), strings, arrays, plain objects (own enumerable
 * string keys) and `TaskRef` (written as `{ "$taskRef": id, "task": name }` and read back as a
 * `TaskRef`). It rejects, with a `CodecError` naming the path (`$.a[2].b`): BigInt, `Map`, `Set`,
 * `Date`, typed arrays and buffers, `undefined` (as a value or a property), `NaN`/`Infinity`,
 * functions, symbols, class instances, and cycles. An object that happens to have exactly the
 * string fields `$taskRef` and `task` decodes as a `TaskRef`.
 */
import { isTaskRef, taskRefFromJSON } from '../actors/ref.js';
import type { Codec } from './codec.js';
import { CodecError, CodecOperations, wrapCodecError } from './errors.js';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function reject(path: string, what: string): never {
  throw new CodecError({ codec: 'json', operation: CodecOperations.ENCODE, reason: `${what} at ${path} is not representable in json` });
}

/** Throws unless `value` is made only of what JSON round-trips (see the file comment). */
function check(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) reject(path, String(value));
      if (Object.is(value, -0)) reject(path, '-0');
      return;
    case 'object': {
      if (value === null || isTaskRef(value)) return;
      if (seen.has(value)) reject(path, 'a cycle');
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, seen);
      } else {
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) reject(path, `an instance of ${describeClass(value)}`);
        for (const key of Object.keys(value)) check((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
      }
      seen.delete(value);
      return;
    }
    case 'undefined':
      return reject(path, 'undefined');
    default:
      return reject(path, `a ${typeof value}`);
  }
}

function describeClass(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name.length > 0 ? ctor.name : 'an unnamed class';
}

export function jsonEncode(value: unknown): Uint8Array {
  check(value, '$', new Set());
  try {
    return utf8.encode(JSON.stringify(value));
  } catch (err) {
    throw wrapCodecError('json', CodecOperations.ENCODE, err);
  }
}

function revive(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 2 && '$taskRef' in value && 'task' in value) return taskRefFromJSON(value) ?? value;
  }
  return value;
}

export function jsonDecode(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(bytes), revive) as unknown;
  } catch (err) {
    throw wrapCodecError('json', CodecOperations.DECODE, err);
  }
}

export const jsonCodec: Codec = Object.freeze({
  name: 'json',
  encode: jsonEncode,
  decode: jsonDecode,
});
