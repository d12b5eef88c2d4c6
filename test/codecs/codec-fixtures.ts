/** Shared state shapes and helpers for the codecs tests. */
import assert from 'node:assert/strict';
import { TaskRef } from '../../src/actors/ref.js';
import { CodecError, type Codec } from '../../src/codecs/index.js';
import { ErrorCodes } from '../../src/errors.js';

/** State shapes every general-purpose codec (cbor) must round-trip exactly. */
export function cborShapes(): Record<string, unknown> {
  return {
    'null': null,
    'undefined': undefined,
    'a number': 42.5,
    'a large integer': 2 ** 53 - 1,
    'a string': 'héllo ☃',
    'an empty object': {},
    'a nested plain object': { a: 1, b: { c: [1, 'two', null, true] }, d: 'x' },
    'an array of records': Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i}`, on: i % 2 === 0 })),
    'a Map with string keys': new Map([['a', 1], ['b', 2]]),
    'a Map with number and object keys': new Map<unknown, unknown>([[1, 'one'], [{ k: 1 }, 'obj']]),
    'a Set': new Set([1, 'a', 3]),
    'a Date': new Date(1_700_000_000_123),
    'BigInts small and huge': { a: 5n, b: -3n, c: 2n ** 100n, d: -(2n ** 70n) },
    'undefined inside objects and arrays': { u: undefined, arr: [undefined, 1] },
    'typed arrays': {
      u8: new Uint8Array([1, 2, 3]),
      i16: new Int16Array([-1, 300]),
      u32: new Uint32Array([4_000_000_000]),
      f32: new Float32Array([1.5, -2.25]),
      f64: new Float64Array([Math.PI, -0, Number.NaN]),
      i64: new BigInt64Array([-5n, 2n ** 62n]),
      u64: new BigUint64Array([2n ** 64n - 1n]),
    },
    'a TaskRef inside state': { peer: new TaskRef('t-1', 'counter'), peers: [new TaskRef('t-2', 'worker')] },
    'a Map of TaskRefs': new Map([['x', new TaskRef('t-3', 'sink')]]),
    'special numbers': [Infinity, -Infinity, Number.NaN, Number.MIN_VALUE],
    'a 1 MiB binary blob': { blob: new Uint8Array(1 << 20).map((_, i) => i & 0xff) },
  };
}

/** Shapes the json codec must round-trip exactly. */
export function jsonShapes(): Record<string, unknown> {
  return {
    'null': null,
    'a number': 42.5,
    'a string': 'héllo ☃ "quoted"',
    'a nested plain object': { a: 1, b: { c: [1, 'two', null, true] } },
    'an array': [1, 2, [3, [4]]],
    'a TaskRef': new TaskRef('t-1', 'counter'),
    'TaskRefs inside state': { peers: [new TaskRef('t-2', 'w'), new TaskRef('t-3', 'w')] },
  };
}

/** Asserts that `fn` throws a typed error with `code` (and returns it). */
export function assertThrowsCode<T = Error>(fn: () => unknown, code: string): T {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected an error with code ${code}`);
  assert.equal((caught as { code?: unknown }).code, code, `expected code ${code}, got ${String(caught)}`);
  return caught as T;
}

export function assertCodecError(fn: () => unknown, match?: Partial<Pick<CodecError, 'codec' | 'operation' | 'chunkIndex'>> & { reason?: RegExp }): CodecError {
  const err = assertThrowsCode<CodecError>(fn, ErrorCodes.CODEC);
  assert.ok(err instanceof CodecError);
  if (match?.codec !== undefined) assert.equal(err.codec, match.codec);
  if (match?.operation !== undefined) assert.equal(err.operation, match.operation);
  if (match?.chunkIndex !== undefined) assert.equal(err.chunkIndex, match.chunkIndex);
  if (match?.reason !== undefined) assert.match(err.reason, match.reason);
  return err;
}

/** Decoding must give a value or a typed godwit error; anything else fails the property. */
export function decodeOrTypedError(codec: Codec, bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; code: string } {
  try {
    return { ok: true, value: codec.decode(bytes) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('GODWIT_ERR_')) throw err;
    return { ok: false, code };
  }
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
