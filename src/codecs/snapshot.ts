/**
 * Snapshots of task state: codec + envelope, and the version check on the way back.
 *
 * `snapshotState(task, state)` is `encodeSnapshot(codec.encode(task.snapshot?.(state) ?? state))`;
 * `restoreState(task, bytes)` verifies the envelope, decodes with the codec the envelope names,
 * upgrades an older state version through `task.migrate(oldVersion, snapshot)` (or throws
 * `SnapshotVersionError`), then runs `task.restore`. Both are synchronous once the codec is
 * loaded; the `Async` variants load a lazy codec (arrow) first. `roundTripState` is the three in
 * a row, for the runtime switch that forces local state through the codec.
 *
 * Errors thrown by the task's own hooks (`snapshot`, `restore`, `migrate`) propagate unchanged.
 */
import { type Codec, type CodecChoice, isCodec } from './codec.js';
import { type Compression, type OpenOptions, openSnapshot, readSnapshotHeader, sealSnapshot, sealSnapshotPieces, type SnapshotHeader } from './envelope.js';
import { CodecError, CodecOperations, SnapshotVersionError, wrapCodecError } from './errors.js';
import { type CodecRegistry, defaultCodecRegistry } from './registry.js';
import { cborCodec } from './cbor.js';
import { cborEncodeParts } from './cbor-parts.js';

/** The part of a task definition snapshots need (a `TaskDefinition` is one). */
export interface SnapshotSubject<State = unknown> {
  readonly name: string;
  /** Version of the state's shape, recorded in every snapshot. */
  readonly version: number;
  /** Codec by name, as an object, or `{ name }` to look up (default `cbor`). */
  readonly codec?: CodecChoice;
  snapshot?(state: State): unknown;
  restore?(snapshot: unknown): State;
  /** Upgrades a snapshot taken at `oldVersion` (< `version`) to the current shape. */
  migrate?(oldVersion: number, snapshot: unknown): unknown;
}

export interface EncodeSnapshotOptions {
  task: string;
  stateVersion: number;
  /** The codec, or its name in `registry`. */
  codec: Codec | string;
  state: unknown;
  compress?: Compression;
  /** Where a codec name is looked up (default the shared registry). */
  registry?: CodecRegistry;
}

export interface SnapshotExpectation {
  /** The task the snapshot must belong to; unchecked when omitted. */
  task?: string;
  stateVersion: number;
  migrate?: (oldVersion: number, snapshot: unknown) => unknown;
}

export interface DecodeSnapshotOptions extends OpenOptions {
  expect: SnapshotExpectation;
  /** Codecs by name (default the shared registry). */
  registry?: CodecRegistry;
  /** Used instead of the registry when its name is the one the envelope records. */
  codec?: Codec;
}

export interface DecodedSnapshot {
  header: SnapshotHeader;
  state: unknown;
  /** The older state version `migrate` upgraded from, if it ran. */
  migratedFrom: number | undefined;
}

export interface SnapshotStateOptions {
  registry?: CodecRegistry;
  compress?: Compression;
}

export interface RestoreStateOptions extends OpenOptions {
  registry?: CodecRegistry;
}

function runEncode(codec: Codec, state: unknown): Uint8Array {
  let payload: unknown;
  try {
    payload = codec.encode(state);
  } catch (err) {
    throw wrapCodecError(codec.name, CodecOperations.ENCODE, err);
  }
  if (!(payload instanceof Uint8Array)) throw new CodecError({ codec: codec.name, operation: CodecOperations.ENCODE, reason: 'encode did not return a Uint8Array' });
  return payload;
}

export function encodeSnapshot(options: EncodeSnapshotOptions): Uint8Array {
  const codec = typeof options.codec === 'string' ? (options.registry ?? defaultCodecRegistry).get(options.codec) : options.codec;
  const payload = runEncode(codec, options.state);
  return sealSnapshot({
    task: options.task,
    stateVersion: options.stateVersion,
    codec: codec.name,
    payload,
    ...(options.compress === undefined ? {} : { compress: options.compress }),
  });
}

function checkVersion(header: SnapshotHeader, expect: SnapshotExpectation): void {
  if (expect.task !== undefined && header.task !== expect.task) {
    throw new CodecError({ codec: 'envelope', operation: CodecOperations.DECODE, reason: `snapshot belongs to task ${header.task}, not ${expect.task}` });
  }
  const found = header.stateVersion;
  const expected = expect.stateVersion;
  if (found === expected) return;
  const task = expect.task ?? header.task;
  if (found > expected) throw new SnapshotVersionError(task, expected, found, 'the snapshot is newer than the task');
  if (expect.migrate === undefined) throw new SnapshotVersionError(task, expected, found, 'the task has no migrate hook');
}

/** Verifies, version-checks, decodes and (when needed) migrates a snapshot. */
export function decodeSnapshot(bytes: Uint8Array, options: DecodeSnapshotOptions): DecodedSnapshot {
  const { header, payload } = openSnapshot(bytes, options);
  checkVersion(header, options.expect);
  const codec = options.codec?.name === header.codec ? options.codec : (options.registry ?? defaultCodecRegistry).get(header.codec);
  let state: unknown;
  try {
    state = codec.decode(payload);
  } catch (err) {
    throw wrapCodecError(codec.name, CodecOperations.DECODE, err);
  }
  if (header.stateVersion === options.expect.stateVersion) return { header, state, migratedFrom: undefined };
  return { header, state: options.expect.migrate!(header.stateVersion, state), migratedFrom: header.stateVersion };
}

/** Encodes `state` of `subject` into an envelope (synchronous; the codec must be loaded). */
export function snapshotState<State>(subject: SnapshotSubject<State>, state: State, options: SnapshotStateOptions = {}): Uint8Array {
  if ((options.compress ?? 'none') === 'none' && (options.registry ?? defaultCodecRegistry).resolve(subject.codec) === cborCodec) {
    // The state's large arrays are read in place (views: nothing changes the state during this
    // call) and copied once into the envelope, checksummed with zlib's native CRC-32: for a large
    // binary state several times cheaper than encoding into the encoder's buffer, copying that
    // into the envelope and a CRC-32C pass.
    const { pieces, ...fields } = encodeStatePayloadPieces(subject, state, options);
    return sealSnapshotPieces(fields, pieces);
  }
  const { payload, ...fields } = encodeStatePayload(subject, state, options);
  return sealSnapshot({ ...fields, payload, ...(options.compress === undefined ? {} : { compress: options.compress }) });
}

/**
 * `encodeStatePayload` as pieces whose concatenation is the payload: with the cbor codec, the
 * state's large byte arrays are left in place (views, not copies; see cbor-parts.ts), for a
 * state that does not change until the pieces have been read (a frozen task). With `copyLarge`
 * they are copied by it instead: a consistent snapshot of a state that goes on changing, for one
 * copy of each large array (no encode of them).
 */
export function encodeStatePayloadPieces<State>(
  subject: SnapshotSubject<State>,
  state: State,
  options: SnapshotStateOptions & { copyLarge?: (bytes: Uint8Array) => Uint8Array } = {},
): Omit<StatePayload, 'payload'> & { pieces: Uint8Array[] } {
  const codec = (options.registry ?? defaultCodecRegistry).resolve(subject.codec);
  if (codec !== cborCodec) {
    const { payload, ...fields } = encodeStatePayload(subject, state, options);
    return { ...fields, pieces: [payload] };
  }
  let pieces: Uint8Array[];
  try {
    pieces = cborEncodeParts(subject.snapshot ? subject.snapshot(state) : state, undefined, options.copyLarge);
  } catch (err) {
    throw wrapCodecError(codec.name, CodecOperations.ENCODE, err);
  }
  return { task: subject.name, stateVersion: subject.version, codec: codec.name, pieces };
}

/** What goes into an envelope, not yet sealed: the codec's bytes and the header's fields. */
export interface StatePayload {
  task: string;
  stateVersion: number;
  codec: string;
  payload: Uint8Array;
}

/**
 * `state` of `subject` in its codec, without the envelope: for a stream that checksums the
 * payload in chunks and seals the envelope at the other end (no copy, no second checksum pass).
 */
export function encodeStatePayload<State>(subject: SnapshotSubject<State>, state: State, options: SnapshotStateOptions = {}): StatePayload {
  const codec = (options.registry ?? defaultCodecRegistry).resolve(subject.codec);
  const payload = runEncode(codec, subject.snapshot ? subject.snapshot(state) : state);
  return { task: subject.name, stateVersion: subject.version, codec: codec.name, payload };
}

/** Rebuilds `subject`'s state from an envelope (synchronous; the codec must be loaded). */
export function restoreState<State>(subject: SnapshotSubject<State>, bytes: Uint8Array, options: RestoreStateOptions = {}): State {
  const migrate = subject.migrate;
  const decoded = decodeSnapshot(bytes, {
    expect: {
      task: subject.name,
      stateVersion: subject.version,
      ...(migrate === undefined ? {} : { migrate: (oldVersion: number, snap: unknown) => migrate.call(subject, oldVersion, snap) }),
    },
    ...(isCodec(subject.codec) ? { codec: subject.codec } : {}),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.maxRawBytes === undefined ? {} : { maxRawBytes: options.maxRawBytes }),
    ...(options.payloadVerified === undefined ? {} : { payloadVerified: options.payloadVerified }),
  });
  return subject.restore ? subject.restore(decoded.state) : (decoded.state as State);
}

/** `snapshotState` after loading the subject's codec if it is lazy. */
export async function snapshotStateAsync<State>(subject: SnapshotSubject<State>, state: State, options: SnapshotStateOptions = {}): Promise<Uint8Array> {
  await (options.registry ?? defaultCodecRegistry).resolveAsync(subject.codec);
  return snapshotState(subject, state, options);
}

/** `restoreState` after loading the codec the envelope names if it is lazy. */
export async function restoreStateAsync<State>(subject: SnapshotSubject<State>, bytes: Uint8Array, options: RestoreStateOptions = {}): Promise<State> {
  const header = readSnapshotHeader(bytes);
  if (!(isCodec(subject.codec) && subject.codec.name === header.codec)) await (options.registry ?? defaultCodecRegistry).load(header.codec);
  return restoreState(subject, bytes, options);
}

/** `restore(decode(encode(snapshot(state))))`: what a migration would hand the target. */
export function roundTripState<State>(subject: SnapshotSubject<State>, state: State, options: SnapshotStateOptions = {}): State {
  return restoreState(subject, snapshotState(subject, state, options), options.registry === undefined ? {} : { registry: options.registry });
}
