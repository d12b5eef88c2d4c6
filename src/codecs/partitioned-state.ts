/**
 * `PartitionedState`: a string-keyed map split into a fixed number of partitions, with version
 * tracking for incremental snapshots and partition-granularity moves.
 *
 * - A key lives in partition `partitionOfKey(key, partitionCount)` (FNV-1a of the key, modulo the
 *   count; default 64 partitions). The count is fixed for the life of the state and its copies.
 * - Every `set`/`delete` advances a global version (starting at 0) and stamps the entry (or its
 *   tombstone) and its partition with it. `deltaSince(v)` lists only partitions changed after
 *   `v`: their upserts and deletions since `v`. Each partition keeps at most
 *   `maxTombstonesPerPartition` deletions (default 1024); when older ones are forgotten, a delta
 *   since before them carries that partition whole (`replace`), which is still exact.
 * - A state may hold a subset of the partitions: `extract(ids)` snapshots some partitions,
 *   `merge(snapshot)` adopts them elsewhere, `release(ids)` drops them after they moved. Reading or
 *   writing a key of a partition this state does not hold throws `InvalidArgumentError`.
 * - Values are stored by reference: treat them as immutable and `set` again after a change, or
 *   the change is not tracked. Snapshots share value references with the state until encoded.
 *
 * Snapshots and deltas are plain data the cbor codec encodes as they are (values must be
 * cbor-encodable too). Applying one read from bytes validates its shape first (`CodecError`).
 */
import { InvalidArgumentError } from '../errors.js';
import { CodecError, CodecOperations } from './errors.js';
import {
  checkDelta,
  checkSnapshot,
  emptyPartition,
  MAX_PARTITIONS,
  type Partition,
  partitionData,
  toPartition,
  PARTITIONED_DELTA_FORMAT,
  PARTITIONED_SNAPSHOT_FORMAT,
  partitionOfKey,
  type PartitionedDelta,
  type PartitionedSnapshot,
  type PartitionPatch,
} from './partitioned-format.js';

export interface PartitionedStateOptions {
  /** Number of partitions, 1..65536 (default 64). */
  partitionCount?: number;
  /** Deletions remembered per partition for exact deltas (default 1024). */
  maxTombstonesPerPartition?: number;
  /** Start holding no partition, as a receiver that will `merge` some (default false: hold all). */
  empty?: boolean;
}

export const DEFAULT_PARTITION_COUNT = 64;
const DEFAULT_MAX_TOMBSTONES = 1024;

export class PartitionedState<V = unknown> {
  readonly partitionCount: number;
  private readonly maxTombstones: number;
  private readonly partitions = new Map<number, Partition<V>>();
  private currentVersion = 0;

  constructor(options: PartitionedStateOptions = {}) {
    const count = options.partitionCount ?? DEFAULT_PARTITION_COUNT;
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) throw new InvalidArgumentError('partitionCount', `must be an integer in 1..${MAX_PARTITIONS}`);
    const maxTombstones = options.maxTombstonesPerPartition ?? DEFAULT_MAX_TOMBSTONES;
    if (!(maxTombstones >= 0)) throw new InvalidArgumentError('maxTombstonesPerPartition', 'must be a non-negative number');
    this.partitionCount = count;
    this.maxTombstones = maxTombstones;
    if (options.empty !== true) for (let id = 0; id < count; id++) this.partitions.set(id, emptyPartition());
  }

  /** A state holding exactly the partitions in `snapshot` (a full snapshot or an `extract`). */
  static fromSnapshot<V = unknown>(snapshot: unknown, options: Pick<PartitionedStateOptions, 'maxTombstonesPerPartition'> = {}): PartitionedState<V> {
    const snap = checkSnapshot(snapshot);
    const state = new PartitionedState<V>({ ...options, partitionCount: snap.partitionCount, empty: true });
    state.adopt(snap);
    return state;
  }

  /** The global version: the number of changes made (or adopted) so far. */
  get version(): number {
    return this.currentVersion;
  }

  get size(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.entries.size;
    return n;
  }

  partitionOf(key: string): number {
    return partitionOfKey(key, this.partitionCount);
  }

  owns(partition: number): boolean {
    return this.partitions.has(partition);
  }

  /** Ids of the partitions this state holds, ascending. */
  ownedPartitions(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  /** Version of a held partition's last change (0 when never changed). */
  partitionVersion(partition: number): number {
    return this.held(partition).version;
  }

  /** Held partitions changed after `version`. */
  changedSince(version: number): number[] {
    return this.ownedPartitions().filter((id) => this.partitions.get(id)!.version > version);
  }

  get(key: string): V | undefined {
    return this.home(key).entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.home(key).entries.has(key);
  }

  set(key: string, value: V): this {
    const p = this.home(key);
    const version = ++this.currentVersion;
    p.entries.set(key, { value, version });
    p.tombstones.delete(key);
    p.version = version;
    return this;
  }

  delete(key: string): boolean {
    const p = this.home(key);
    if (!p.entries.delete(key)) return false;
    const version = ++this.currentVersion;
    p.tombstones.set(key, version);
    p.version = version;
    this.trimTombstones(p);
    return true;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const id of this.ownedPartitions()) for (const [k, e] of this.partitions.get(id)!.entries) yield [k, e.value];
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Every held partition, whole. */
  fullSnapshot(): PartitionedSnapshot {
    return this.extract(this.ownedPartitions());
  }

  /** The given held partitions, whole (non-destructive; see `release`). */
  extract(partitionIds: readonly number[]): PartitionedSnapshot {
    const partitions = [...new Set(partitionIds)].map((id) => partitionData(id, this.held(id)));
    return { format: PARTITIONED_SNAPSHOT_FORMAT, partitionCount: this.partitionCount, version: this.currentVersion, partitions };
  }

  /** Changes after `version` to the held partitions (all, or those in `partitionIds`). */
  deltaSince(version: number, partitionIds?: readonly number[]): PartitionedDelta {
    if (!Number.isSafeInteger(version) || version < 0 || version > this.currentVersion) {
      throw new InvalidArgumentError('version', `must be an integer in 0..${this.currentVersion}`);
    }
    const ids = partitionIds === undefined ? this.ownedPartitions() : [...new Set(partitionIds)];
    const partitions: PartitionPatch[] = [];
    for (const id of ids) {
      const p = this.held(id);
      if (p.version <= version) continue;
      if (version < p.floor) {
        partitions.push({ ...partitionData(id, p), replace: true });
        continue;
      }
      const patch: PartitionPatch = { id, version: p.version, floor: p.floor, keys: [], values: [], versions: [], deleted: [], deletedVersions: [], replace: false };
      for (const [k, e] of p.entries) {
        if (e.version <= version) continue;
        patch.keys.push(k);
        patch.values.push(e.value);
        patch.versions.push(e.version);
      }
      for (const [k, v] of p.tombstones) {
        if (v <= version) continue;
        patch.deleted.push(k);
        patch.deletedVersions.push(v);
      }
      partitions.push(patch);
    }
    return { format: PARTITIONED_DELTA_FORMAT, partitionCount: this.partitionCount, fromVersion: version, toVersion: this.currentVersion, partitions };
  }

  /**
   * Applies a delta from the state this one copies. The delta must start at or before this
   * state's version (`fromVersion <= version`), else a change would be missing; applying a
   * delta that overlaps what is already here is harmless. Touches only held partitions.
   */
  applyDelta(delta: unknown): void {
    const d = checkDelta(delta);
    this.checkCount(d.partitionCount);
    if (d.fromVersion > this.currentVersion) {
      throw new CodecError({ codec: 'partitioned', operation: CodecOperations.DECODE, reason: `delta starts after version ${d.fromVersion} but this state is at version ${this.currentVersion}: a delta is missing` });
    }
    for (const patch of d.partitions) {
      if (!this.partitions.has(patch.id)) {
        throw new CodecError({ codec: 'partitioned', operation: CodecOperations.DECODE, reason: `delta changes partition ${patch.id}, which this state does not hold` });
      }
    }
    for (const patch of d.partitions) {
      const p = this.partitions.get(patch.id)!;
      if (patch.replace) {
        this.partitions.set(patch.id, toPartition<V>(patch));
        continue;
      }
      patch.keys.forEach((k, i) => {
        p.entries.set(k, { value: patch.values[i] as V, version: patch.versions[i]! });
        p.tombstones.delete(k);
      });
      patch.deleted.forEach((k, i) => {
        p.entries.delete(k);
        p.tombstones.set(k, patch.deletedVersions[i]!);
      });
      p.version = Math.max(p.version, patch.version);
      this.trimTombstones(p);
    }
    this.currentVersion = Math.max(this.currentVersion, d.toVersion);
  }

  /** Adopts the partitions of `snapshot` (from `extract`); they must not be held here already. */
  merge(snapshot: unknown): void {
    const snap = checkSnapshot(snapshot);
    this.checkCount(snap.partitionCount);
    const clash = snap.partitions.find((p) => this.partitions.has(p.id));
    if (clash !== undefined) {
      throw new CodecError({ codec: 'partitioned', operation: CodecOperations.DECODE, reason: `partition ${clash.id} is already held by this state` });
    }
    this.adopt(snap);
  }

  /** Drops held partitions (after they moved elsewhere). */
  release(partitionIds: readonly number[]): void {
    for (const id of partitionIds) this.held(id);
    for (const id of partitionIds) this.partitions.delete(id);
  }

  private adopt(snap: PartitionedSnapshot): void {
    for (const data of snap.partitions) this.partitions.set(data.id, toPartition<V>(data));
    this.currentVersion = Math.max(this.currentVersion, snap.version);
  }

  private checkCount(count: number): void {
    if (count !== this.partitionCount) {
      throw new CodecError({ codec: 'partitioned', operation: CodecOperations.DECODE, reason: `data has ${count} partitions but this state has ${this.partitionCount}` });
    }
  }

  private held(id: number): Partition<V> {
    const p = this.partitions.get(id);
    if (p === undefined) throw new InvalidArgumentError('partition', `partition ${id} is not held by this state`);
    return p;
  }

  private home(key: string): Partition<V> {
    if (typeof key !== 'string') throw new InvalidArgumentError('key', 'must be a string');
    const id = partitionOfKey(key, this.partitionCount);
    const p = this.partitions.get(id);
    if (p === undefined) throw new InvalidArgumentError('key', `key ${key} belongs to partition ${id}, which this state does not hold`);
    return p;
  }

  private trimTombstones(p: Partition<V>): void {
    if (p.tombstones.size <= this.maxTombstones) return;
    const drop = p.tombstones.size - Math.floor(this.maxTombstones / 2);
    let n = 0;
    for (const [k, v] of p.tombstones) {
      if (n++ >= drop) break;
      p.tombstones.delete(k);
      p.floor = Math.max(p.floor, v);
    }
  }
}
