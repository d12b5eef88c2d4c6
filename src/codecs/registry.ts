/**
 * A `CodecRegistry` maps codec names to codecs. `get` is synchronous (what the runtime's hot path
 * uses); lazily registered codecs (arrow) must be loaded once with `await registry.load(name)`
 * before `get` can return them. `defaultCodecRegistry` is the shared one the runtime uses when no
 * registry is passed; `createCodecRegistry()` makes an independent one (tests, embedding).
 */
import { cborCodec } from './cbor.js';
import { type Codec, type CodecChoice, DEFAULT_CODEC, isCodec, isLazyCodec, type LazyCodec } from './codec.js';
import { CodecNotLoadedError, CodecOperations, UnknownCodecError, wrapCodecError } from './errors.js';
import { InvalidArgumentError } from '../errors.js';
import { jsonCodec } from './json.js';

export interface CodecRegistry {
  /** Adds a codec (or a lazy one); replaces an earlier one of the same name. */
  register(codec: Codec | LazyCodec): void;
  /** The loaded codec `name`; throws `UnknownCodecError`, or `CodecNotLoadedError` for a lazy one not loaded yet. */
  get(name: string): Codec;
  /** The codec `name`, loading it first if it is lazy; rejects with `UnknownCodecError`. */
  load(name: string): Promise<Codec>;
  has(name: string): boolean;
  /** True when `get(name)` would succeed. */
  isLoaded(name: string): boolean;
  names(): string[];
  /** The codec a task chose: a codec object is used as is; a name (or `{ name }`) is looked up; none means `cbor`. */
  resolve(choice: CodecChoice | undefined): Codec;
  /** `resolve`, loading a lazy codec first. */
  resolveAsync(choice: CodecChoice | undefined): Promise<Codec>;
}

export interface CodecRegistryOptions {
  /** Register the built-in codecs: `cbor`, `json`, and lazy `arrow` (default true). */
  builtins?: boolean;
}

type Entry = { kind: 'ready'; codec: Codec } | { kind: 'lazy'; lazy: LazyCodec; loading: Promise<Codec> | undefined };

/** The lazily loaded `arrow` codec: apache-arrow is imported on first `load`. */
export const lazyArrowCodec: LazyCodec = Object.freeze({
  name: 'arrow',
  lazy: true as const,
  load: async (): Promise<Codec> => (await import('./arrow.js')).loadArrowCodec(),
});

export function createCodecRegistry(options: CodecRegistryOptions = {}): CodecRegistry {
  const entries = new Map<string, Entry>();

  const registry: CodecRegistry = {
    register(codec) {
      if (isLazyCodec(codec)) {
        checkName(codec.name);
        entries.set(codec.name, { kind: 'lazy', lazy: codec, loading: undefined });
      } else if (isCodec(codec)) {
        checkName(codec.name);
        entries.set(codec.name, { kind: 'ready', codec });
      } else {
        throw new InvalidArgumentError('codec', 'must be a codec ({ name, encode, decode }) or a lazy codec ({ name, lazy: true, load })');
      }
    },
    get(name) {
      const entry = entries.get(name);
      if (entry === undefined) throw new UnknownCodecError(name);
      if (entry.kind === 'lazy') throw new CodecNotLoadedError(name);
      return entry.codec;
    },
    async load(name) {
      const entry = entries.get(name);
      if (entry === undefined) throw new UnknownCodecError(name);
      if (entry.kind === 'ready') return entry.codec;
      entry.loading ??= entry.lazy.load().then(
        (codec) => {
          // A later register() of the same name wins over this load.
          if (entries.get(name) === entry) entries.set(name, { kind: 'ready', codec });
          return codec;
        },
        (err: unknown) => {
          entry.loading = undefined;
          throw wrapCodecError(name, CodecOperations.LOAD, err);
        },
      );
      return entry.loading;
    },
    has: (name) => entries.has(name),
    isLoaded: (name) => entries.get(name)?.kind === 'ready',
    names: () => [...entries.keys()],
    resolve(choice) {
      if (isCodec(choice)) return choice;
      return registry.get(choice === undefined ? DEFAULT_CODEC : typeof choice === 'string' ? choice : choice.name);
    },
    async resolveAsync(choice) {
      if (isCodec(choice)) return choice;
      return registry.load(choice === undefined ? DEFAULT_CODEC : typeof choice === 'string' ? choice : choice.name);
    },
  };

  if (options.builtins !== false) {
    registry.register(cborCodec);
    registry.register(jsonCodec);
    registry.register(lazyArrowCodec);
  }
  return registry;
}

function checkName(name: string): void {
  const bytes = new TextEncoder().encode(name).byteLength;
  if (bytes === 0 || bytes > 255) throw new InvalidArgumentError('codec.name', 'must be 1..255 UTF-8 bytes');
}

/** The registry shared by every runtime that is given none. */
export const defaultCodecRegistry: CodecRegistry = createCodecRegistry();
