/**
 * Data-partition granularity (a group on another node: splitToNode, mergeFromNode below). A task whose state is a `PartitionedState` and
 * whose definition says which key a message belongs to (`partitionKey`) can hand some of its
 * partitions to a partition group: a child task on another resource holding just those
 * partitions. Messages for those keys then go to the group; the rest stay with the task. Merging
 * gives the partitions back and stops the group.
 *   split  freeze the task; extract the partitions; start the group with them (same definition,
 *          no init); move the queued messages of those partitions, in order, to the group
 *   merge  freeze both; merge the group's partitions back; queue the group's waiting messages
 *          at the task, in order; stop the group
 */
import { InvalidArgumentError, UnknownResourceError } from '../errors.js';
import { PartitionedState } from '../codecs/partitioned-state.js';
import type { TaskCell } from '../actors/task-cell.js';
import type { MigrateOptions, MigrationReport } from './migration.js';
import type { RuntimeImpl } from './runtime.js';

/** The cell that holds `msg`'s partition: a group, or the task itself. */
export function ownerOf(cell: TaskCell, msg: unknown): TaskCell {
  const key = cell.def.partitionKey?.(msg as never);
  if (key === undefined || !(cell.state instanceof PartitionedState)) return cell;
  return cell.partitionOwners.get(cell.state.partitionOf(key)) ?? cell;
}

function report(id: string, cell: TaskCell, to: string): MigrationReport {
  return { id, task: cell.id, from: cell.resource.id, to, granularity: 'partitions', phases: [], pauseMs: 0, totalMs: 0, bytes: 0, preCopyRounds: 0, outcome: 'aborted' };
}

export async function movePartitions(rt: RuntimeImpl, cell: TaskCell, options: MigrateOptions, id: string): Promise<MigrationReport> {
  const t0 = rt.clock.now();
  if (options.merge) {
    const task = cell.parent;
    if (!task || !task.partitionOwners.size || ![...task.partitionOwners.values()].includes(cell)) {
      throw new InvalidArgumentError('options.merge', `task ${cell.id} is not a partition group`);
    }
    const r = report(id, cell, task.resource.id);
    r.phases.push({ phase: 'freeze', atMs: rt.clock.now() });
    await Promise.all([task.freeze(), cell.freeze()]);
    (task.state as PartitionedState).merge((cell.state as PartitionedState).fullSnapshot());
    for (const [p, owner] of [...task.partitionOwners]) if (owner === cell) task.partitionOwners.delete(p);
    r.phases.push({ phase: 'commit', atMs: rt.clock.now() });
    // Without their stamps: the task applied later seqs of the same streams for its own keys, so
    // it would take these for replays and drop them.
    for (const { msg, reply } of cell.drainAll()) rt.deliver(task, msg, reply);
    rt.stopCell(cell, 'requested');
    task.thaw();
    r.pauseMs = rt.clock.now() - t0;
    r.outcome = 'committed';
    r.totalMs = r.pauseMs;
    return r;
  }
  const ids = options.partitions ?? [];
  if (!cell.def.partitionKey || !(cell.state instanceof PartitionedState)) {
    throw new InvalidArgumentError('options.partitions', `task ${cell.id} is not partitioned (it needs partitionKey and a PartitionedState state)`);
  }
  if (ids.length === 0 || ids.some((p) => !(cell.state as PartitionedState).owns(p))) {
    throw new InvalidArgumentError('options.partitions', `task ${cell.id} does not hold all of partitions ${ids.join(', ')}`);
  }
  if (options.to !== undefined && !rt.resourceActors.has(options.to) && rt.cluster) return splitToNode(rt, cell, ids, options.to, id, options.mode ?? 'pre-copy');
  const target = options.to === undefined ? undefined : rt.resourceActors.get(options.to);
  if (!target) throw new UnknownResourceError(options.to ?? '(none given)');
  const r = report(id, cell, target.id);
  r.phases.push({ phase: 'freeze', atMs: rt.clock.now() });
  await cell.freeze();
  const state = cell.state as PartitionedState;
  const groupState = PartitionedState.fromSnapshot(state.extract(ids));
  state.release(ids);
  r.phases.push({ phase: 'commit', atMs: rt.clock.now() });
  const group = rt.spawnPartitionGroup(cell, target, groupState);
  for (const p of ids) cell.partitionOwners.set(p, group);
  // What was already queued for those partitions goes to the group, in order; the rest stays.
  for (const { msg, reply, stamp } of cell.drainAll()) {
    const owner = ownerOf(cell, msg);
    if (!owner.mailbox.push(msg, reply, stamp)) rt.deadLetter(owner.id, msg, 'mailbox-full');
  }
  group.kick();
  cell.thaw();
  r.pauseMs = rt.clock.now() - t0;
  r.totalMs = r.pauseMs;
  r.outcome = 'committed';
  r.to = `${target.id} (${group.id})`;
  return r;
}

/**
 * Across nodes: the group is split off on the task's own resource, then migrated to `to` as a
 * child moved alone (it stays the task's child, supervised from here; messages for its keys
 * route to it through the cluster). Should that migration abort, the group merges back. By
 * default the group pre-copies (its state is a PartitionedState: by deltas, nothing replayed), so
 * it keeps serving its keys while its partitions stream; the split's own pause is in memory.
 */
async function splitToNode(rt: RuntimeImpl, cell: TaskCell, ids: number[], to: string, id: string, mode: 'pre-copy' | 'stop-and-copy'): Promise<MigrationReport> {
  const t0 = rt.clock.now();
  const local = await movePartitions(rt, cell, { partitions: ids, to: cell.resource.id }, id);
  const group = cell.partitionOwners.get(ids[0]!)!;
  const moved = await rt.migrator.migrate(group.id, { to, mode });
  const r: MigrationReport = { ...moved, id, task: cell.id, from: cell.resource.id, granularity: 'partitions', pauseMs: local.pauseMs + moved.pauseMs, totalMs: rt.clock.now() - t0 };
  if (moved.outcome === 'committed') r.to = `${to} (${group.id})`;
  else if (rt.directory.get(group.id) === group) await movePartitions(rt, group, { merge: true }, id);
  return r;
}

/**
 * Merging a group that runs on another node: it migrates back to the task's resource first (a
 * child moved back to its parent's node is a local child again), then merges as within a node.
 */
export async function mergeFromNode(rt: RuntimeImpl, task: TaskCell, groupId: string, id: string): Promise<MigrationReport> {
  const t0 = rt.clock.now();
  const back = await rt.migrator.migrate(groupId, { to: task.resource.id, mode: 'pre-copy' });
  const group = rt.directory.get(groupId);
  if (back.outcome !== 'committed' || !group) return { ...back, id, granularity: 'partitions' };
  const r = await movePartitions(rt, group, { merge: true }, id);
  return { ...r, from: back.from, node: rt.name, bytes: back.bytes, pauseMs: back.pauseMs + r.pauseMs, totalMs: rt.clock.now() - t0 };
}

/** The local task `groupId` is a partition group of, when that group runs on another node. */
export function remoteGroupOwner(rt: RuntimeImpl, groupId: string): TaskCell | undefined {
  const task = rt.directory.get(groupId.slice(0, groupId.lastIndexOf('/')));
  if (!task || !task.remoteChildren.has(groupId)) return undefined;
  return [...task.partitionOwners.values()].some((g) => g.id === groupId) ? task : undefined;
}
