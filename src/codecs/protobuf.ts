/**
 * Protobuf codecs over a user schema (protobufjs). This is the only file that references
 * protobufjs; the library is loaded with a dynamic `import()` only when a `.proto` source has to
 * be parsed (`createProtobufCodec({ proto, type: 'pkg.Message' })`). A caller that already holds
 * a protobufjs `Type` can build a codec synchronously with `protobufCodecFromType(type)`.
 *
 * State is the message as a plain object. Encode validates it with `Type.verify` (a BigInt is
 * accepted where a 64-bit integer is expected) and converts with `Type.fromObject`; decode
 * returns `Type.toObject(message, conversion)` with, by default, `longs: BigInt`, `defaults:
 * true`, `arrays: true`, `objects: true`: every field is present (unset scalars as their zero
 * value, unset messages as `null`), 64-bit integers are BigInt, `bytes` are `Buffer`, enums are
 * numbers. So a state round-trips exactly when it is written in that normal form.
 *
 * The codec is named `protobuf:<full type name>` unless `name` is given; that name is what a
 * snapshot envelope records, so register the codec under it where snapshots are restored.
 */
import type { IConversionOptions, Type } from 'protobufjs';
import type { Codec } from './codec.js';
import { CodecError, CodecOperations, wrapCodecError } from './errors.js';

export type ProtobufType = Type;
export type ProtobufConversionOptions = IConversionOptions;

export interface ProtobufCodecOptions {
  /** A `.proto` source; with it, `type` is the message's full name, e.g. `demo.Counter`. */
  proto?: string;
  /** The message type: a full name inside `proto`, or a protobufjs `Type`. */
  type: string | ProtobufType;
  /** Codec name (default `protobuf:<full type name>`). */
  name?: string;
  /** `Type.toObject` options for decode (default `{ longs: BigInt, defaults: true, arrays: true, objects: true }`). */
  toObject?: ProtobufConversionOptions;
}

export const DEFAULT_PROTOBUF_CONVERSION: ProtobufConversionOptions = Object.freeze({
  longs: BigInt,
  defaults: true,
  arrays: true,
  objects: true,
});

/** Loads protobufjs when a `.proto` source must be parsed, then builds the codec. */
export async function createProtobufCodec(options: ProtobufCodecOptions): Promise<Codec> {
  if (typeof options.type !== 'string') return protobufCodecFromType(options.type, options);
  if (typeof options.proto !== 'string') {
    throw new CodecError({ codec: 'protobuf', operation: CodecOperations.LOAD, reason: 'a type given by name needs the .proto source in `proto`' });
  }
  let type: Type;
  try {
    const protobuf = (await import('protobufjs')).default;
    type = protobuf.parse(options.proto, { keepCase: true }).root.lookupType(options.type);
  } catch (err) {
    throw wrapCodecError('protobuf', CodecOperations.LOAD, err);
  }
  return protobufCodecFromType(type, options);
}

/** A codec over a protobufjs `Type` the caller already holds (synchronous, imports nothing). */
export function protobufCodecFromType(type: ProtobufType, options: Omit<ProtobufCodecOptions, 'type' | 'proto'> = {}): Codec {
  const name = options.name ?? `protobuf:${type.fullName.replace(/^\./, '')}`;
  const conversion = options.toObject ?? DEFAULT_PROTOBUF_CONVERSION;

  function encode(value: unknown): Uint8Array {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CodecError({ codec: name, operation: CodecOperations.ENCODE, reason: `state must be a plain object shaped like ${type.name}` });
    }
    const record = value as Record<string, unknown>;
    const problem = type.verify(record);
    if (problem !== null && type.verify(withoutBigInts(record) as Record<string, unknown>) !== null) {
      throw new CodecError({ codec: name, operation: CodecOperations.ENCODE, reason: `state does not match ${type.name}: ${problem}` });
    }
    try {
      return type.encode(type.fromObject(record)).finish();
    } catch (err) {
      throw wrapCodecError(name, CodecOperations.ENCODE, err);
    }
  }

  function decode(bytes: Uint8Array): unknown {
    try {
      return type.toObject(type.decode(bytes), conversion);
    } catch (err) {
      throw wrapCodecError(name, CodecOperations.DECODE, err);
    }
  }

  return Object.freeze({ name, encode, decode });
}

/** A copy with every BigInt turned into a Number, only for `verify` (which knows Long, not BigInt). */
function withoutBigInts(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (depth > 64 || typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((v) => withoutBigInts(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withoutBigInts(v, depth + 1);
  return out;
}
