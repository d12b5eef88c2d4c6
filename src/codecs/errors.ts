/**
 * Typed errors of the codecs layer. Each carries data naming the thing involved, and every failure
 * of a third-party decoder is wrapped into a `CodecError` whose `cause` is the original error.
 *
 * - `CodecError` (`GODWIT_ERR_CODEC`): bytes could not be decoded (corrupt, truncated, foreign), a
 *   value could not be encoded by the chosen codec, or a chunk stream is broken. `codec` names the
 *   codec or the layer (`envelope`, `chunk`, `partitioned`) that refused.
 * - `SnapshotVersionError` (`GODWIT_ERR_SNAPSHOT_VERSION`): a snapshot's state version is not the
 *   one expected and the task has no `migrate` hook that can upgrade it.
 * - `UnknownCodecError` (`GODWIT_ERR_UNKNOWN_CODEC`): no codec of that name is registered.
 */
import { ErrorCodes, GodwitError } from '../errors.js';

export const CodecOperations = {
  ENCODE: 'encode',
  DECODE: 'decode',
  /** Loading a lazily registered codec's library. */
  LOAD: 'load',
} as const;

export type CodecOperation = (typeof CodecOperations)[keyof typeof CodecOperations];

export interface CodecErrorData {
  /** The codec (`cbor`, `arrow`, ...) or layer (`envelope`, `chunk`, `partitioned`) that refused. */
  codec: string;
  operation: CodecOperation;
  /** What is wrong, as a lowercase phrase: `checksum mismatch`, `unexpected end of data`. */
  reason: string;
  /** Index of the offending chunk in a chunk stream. */
  chunkIndex?: number;
  /** Byte offset of the problem inside the input, where known. */
  offset?: number;
  cause?: unknown;
}

export class CodecError extends GodwitError {
  readonly codec: string;
  readonly operation: CodecOperation;
  readonly reason: string;
  readonly chunkIndex: number | undefined;
  readonly offset: number | undefined;

  constructor(data: CodecErrorData) {
    super(ErrorCodes.CODEC, codecMessage(data), data.cause === undefined ? undefined : { cause: data.cause });
    this.codec = data.codec;
    this.operation = data.operation;
    this.reason = data.reason;
    this.chunkIndex = data.chunkIndex;
    this.offset = data.offset;
  }
}

/** A lazily loaded codec (arrow, protobuf) was asked for synchronously before `registry.load(name)`. */
export class CodecNotLoadedError extends CodecError {
  constructor(codec: string, operation: CodecOperation = CodecOperations.LOAD) {
    super({ codec, operation, reason: `it is registered but not loaded yet (await registry.load('${codec}') first)` });
  }
}

export class SnapshotVersionError extends GodwitError {
  constructor(
    readonly task: string,
    readonly expectedVersion: number,
    readonly foundVersion: number,
    detail: string,
  ) {
    super(
      ErrorCodes.SNAPSHOT_VERSION,
      `snapshot of task ${task} has state version ${foundVersion} but version ${expectedVersion} is expected (${detail})`,
    );
  }
}

export class UnknownCodecError extends GodwitError {
  constructor(readonly codecName: string) {
    super(ErrorCodes.UNKNOWN_CODEC, `codec ${codecName} is not registered`);
  }
}

function codecMessage(data: CodecErrorData): string {
  const where = [
    data.chunkIndex === undefined ? '' : ` at chunk ${data.chunkIndex}`,
    data.offset === undefined ? '' : ` at offset ${data.offset}`,
  ].join('');
  return `codec ${data.codec} could not ${data.operation}${where}: ${data.reason}`;
}

/** The message of an unknown thrown value, for a reason string. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? (err.message.length > 0 ? err.message : err.name) : String(err);
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Wraps any error thrown by a third-party decoder into a `CodecError` (typed errors pass through). */
export function wrapCodecError(codec: string, operation: CodecOperation, err: unknown): GodwitError {
  if (err instanceof GodwitError) return err;
  return new CodecError({ codec, operation, reason: describeError(err), cause: err });
}
