/**
 * Wire shapes of `PartitionedState` snapshots and deltas: plain objects of arrays, strings and
 * numbers (plus the user's values), so the cbor codec carries them as they are. Anything read
 * back from bytes is validated here before it touches a state: a malformed shape is a
 * `CodecError` with codec `partitioned`. Also the in-memory partition shape and its conversions.
 */
import { CodecError, CodecOperations } from './errors.js';

export const PARTITIONED_SNAPSHOT_FORMAT = 'godwit.partitioned/1';
export const PARTITIONED_DELTA_FORMAT = 'godwit.partitioned-delta/1';

/** One partition's contents: parallel arrays of live entries and of tombstones (deleted keys). */
export interface PartitionData {
  id: number;
  /** The global version of the partition's last change. */
  version: number;
  /** Deletions older than this version were forgotten: deltas since an older version replace the partition. */
  floor: number;
  keys: string[];
  values: unknown[];
  /** Version of each entry's last write. */
  versions: number[];
  deleted: string[];
  deletedVersions: number[];
}

export interface PartitionedSnapshot {
  format: typeof PARTITIONED_SNAPSHOT_FORMAT;
  partitionCount: number;
  version: number;
  partitions: PartitionData[];
}

/** Changes to one partition: upserts and deletions since the delta's base, or its whole contents when `replace`. */
export interface PartitionPatch extends PartitionData {
  replace: boolean;
}

export interface PartitionedDelta {
  format: typeof PARTITIONED_DELTA_FORMAT;
  partitionCount: number;
  /** The delta holds every change after this version... */
  fromVersion: number;
  /** ...up to and including this one. */
  toVersion: number;
  partitions: PartitionPatch[];
}

function bad(reason: string): CodecError {
  return new CodecError({ codec: 'partitioned', operation: CodecOperations.DECODE, reason });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function checkStrings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((k) => typeof k === 'string')) throw bad(`${what} must be an array of strings`);
  return value as string[];
}

function checkVersions(value: unknown, length: number, what: string): number[] {
  if (!Array.isArray(value) || value.length !== length || !value.every(isVersion)) throw bad(`${what} must be ${length} versions`);
  return value as number[];
}

function checkPartition(value: unknown, partitionCount: number, where: string, patch: boolean): PartitionPatch {
  if (!isRecord(value)) throw bad(`${where} is not an object`);
  const { id, version, floor } = value;
  if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= partitionCount) throw bad(`${where} has partition id ${String(id)} outside 0..${partitionCount - 1}`);
  if (!isVersion(version) || !isVersion(floor)) throw bad(`${where} has a malformed version`);
  const keys = checkStrings(value.keys, `${where}.keys`);
  if (!Array.isArray(value.values) || value.values.length !== keys.length) throw bad(`${where}.values must match its keys`);
  const versions = checkVersions(value.versions, keys.length, `${where}.versions`);
  const deleted = checkStrings(value.deleted, `${where}.deleted`);
  const deletedVersions = checkVersions(value.deletedVersions, deleted.length, `${where}.deletedVersions`);
  if (versions.some((v) => v > version) || deletedVersions.some((v) => v > version)) throw bad(`${where} has entries newer than the partition`);
  const live = new Set(keys);
  if (live.size !== keys.length || new Set(deleted).size !== deleted.length) throw bad(`${where} repeats a key`);
  if (deleted.some((k) => live.has(k))) throw bad(`${where} lists a key as both live and deleted`);
  const home = (k: string) => partitionOfKey(k, partitionCount) === id;
  if (!keys.every(home) || !deleted.every(home)) throw bad(`${where} holds a key that belongs to another partition`);
  const replace = patch ? value.replace : true;
  if (typeof replace !== 'boolean') throw bad(`${where}.replace must be a boolean`);
  return { id: id as number, version, floor, keys, values: value.values as unknown[], versions, deleted, deletedVersions, replace };
}

function checkPartitions(value: unknown, partitionCount: number, maxVersion: number, patch: boolean): PartitionPatch[] {
  if (!Array.isArray(value)) throw bad('partitions must be an array');
  const seen = new Set<number>();
  return value.map((p, i) => {
    const checked = checkPartition(p, partitionCount, `partitions[${i}]`, patch);
    if (seen.has(checked.id)) throw bad(`partition ${checked.id} appears twice`);
    if (checked.version > maxVersion) throw bad(`partition ${checked.id} is newer than the whole`);
    seen.add(checked.id);
    return checked;
  });
}

function checkCount(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_PARTITIONS) throw bad(`partition count ${String(value)} is out of range`);
  return value as number;
}

export const MAX_PARTITIONS = 65_536;

export function checkSnapshot(value: unknown): PartitionedSnapshot {
  if (!isRecord(value) || value.format !== PARTITIONED_SNAPSHOT_FORMAT) throw bad('value is not a partitioned-state snapshot');
  const partitionCount = checkCount(value.partitionCount);
  if (!isVersion(value.version)) throw bad('snapshot version is malformed');
  const partitions = checkPartitions(value.partitions, partitionCount, value.version, false);
  return { format: PARTITIONED_SNAPSHOT_FORMAT, partitionCount, version: value.version, partitions };
}

export function checkDelta(value: unknown): PartitionedDelta {
  if (!isRecord(value) || value.format !== PARTITIONED_DELTA_FORMAT) throw bad('value is not a partitioned-state delta');
  const partitionCount = checkCount(value.partitionCount);
  const { fromVersion, toVersion } = value;
  if (!isVersion(fromVersion) || !isVersion(toVersion) || fromVersion > toVersion) throw bad('delta versions are malformed');
  const partitions = checkPartitions(value.partitions, partitionCount, toVersion, true);
  return { format: PARTITIONED_DELTA_FORMAT, partitionCount, fromVersion, toVersion, partitions };
}

/** FNV-1a (32-bit) over the key's UTF-16 code units, modulo the partition count: stable across processes. */
export function partitionOfKey(key: string, partitionCount: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitionCount;
}

/** One live entry of an in-memory partition. */
export interface Entry<V> {
  value: V;
  version: number;
}

/** In-memory partition of a `PartitionedState` (its wire form is `PartitionData`). */
export interface Partition<V> {
  version: number;
  floor: number;
  entries: Map<string, Entry<V>>;
  tombstones: Map<string, number>;
}

export function emptyPartition<V>(): Partition<V> {
  return { version: 0, floor: 0, entries: new Map(), tombstones: new Map() };
}

export function partitionData<V>(id: number, p: Partition<V>): PartitionData {
  const data: PartitionData = { id, version: p.version, floor: p.floor, keys: [], values: [], versions: [], deleted: [], deletedVersions: [] };
  for (const [k, e] of p.entries) {
    data.keys.push(k);
    data.values.push(e.value);
    data.versions.push(e.version);
  }
  for (const [k, v] of p.tombstones) {
    data.deleted.push(k);
    data.deletedVersions.push(v);
  }
  return data;
}

export function toPartition<V>(data: PartitionData): Partition<V> {
  const entries = new Map<string, Entry<V>>();
  data.keys.forEach((k, i) => entries.set(k, { value: data.values[i] as V, version: data.versions[i]! }));
  const tombstones = new Map<string, number>();
  data.deleted.forEach((k, i) => tombstones.set(k, data.deletedVersions[i]!));
  return { version: data.version, floor: data.floor, entries, tombstones };
}
