/**
 * The `Codec` contract: turns a task's state (or a message) into bytes and back, synchronously.
 * Codecs whose library is heavy (arrow, protobuf) are registered lazily and become synchronous once
 * loaded (see registry.ts).
 *
 * Contract every codec keeps:
 * - `decode` of arbitrary bytes returns a value or throws a typed `GodwitError` (normally
 *   `CodecError` with the third-party error as `cause`); it never throws anything else.
 * - `encode` of a value the codec cannot represent throws a `CodecError` naming what and where.
 * - A bare codec cannot tell a flipped bit inside a payload from real data: the snapshot envelope's
 *   checksum is what catches that.
 */

export interface Codec {
  /** Unique name recorded in snapshot envelopes (1..255 UTF-8 bytes), e.g. `cbor`. */
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
  /** A cheap estimate of `encode(value).byteLength`, for planning transfers. */
  estimateSize?(value: unknown): number;
}

/** A codec whose implementation is loaded on first use (dynamic `import()` of a heavy library). */
export interface LazyCodec {
  readonly name: string;
  readonly lazy: true;
  load(): Promise<Codec>;
}

/** What a task may name as its codec: a registered name, a codec object, or a `{ name }` to look up. */
export type CodecChoice = string | Codec | { readonly name: string };

/** The default codec's name. */
export const DEFAULT_CODEC = 'cbor';

export function isCodec(value: unknown): value is Codec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Codec>;
  return typeof v.name === 'string' && typeof v.encode === 'function' && typeof v.decode === 'function';
}

export function isLazyCodec(value: unknown): value is LazyCodec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<LazyCodec>;
  return typeof v.name === 'string' && v.lazy === true && typeof v.load === 'function';
}

/** The codec name a choice refers to (`cbor` when none). */
export function codecNameOf(choice: CodecChoice | undefined): string {
  if (choice === undefined) return DEFAULT_CODEC;
  return typeof choice === 'string' ? choice : choice.name;
}
