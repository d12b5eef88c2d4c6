/**
 * How a runtime's task cells come and go: a definition's checks, placing and creating a cell
 * (spawned here, placed here by another node, a child, a partition group, adopted from a
 * migration, restored from a dead node's snapshot), and stopping one with its descendants.
 */
import { DuplicateTaskError, InvalidArgumentError, MailboxFullError, TaskStoppedError, UnknownResourceError } from '../errors.js';
import { TaskRef } from '../actors/ref.js';
import { ResourceActor } from '../actors/resource.js';
import { resolveSupervision } from '../actors/supervision.js';
import { type Snapshot, TaskCell } from '../actors/task-cell.js';
import type { AnyTaskDefinition, SpawnChildOptions, TaskDefinition } from '../actors/task.js';
import { isCodec } from '../codecs/codec.js';
import { UnknownCodecError } from '../codecs/errors.js';
import type { DeviceKind } from '../devices/device.js';
import type { RuntimeEvent, StopReason } from './event-types.js';
import { type Affinity, mergeAffinity, place, type PlacementRequest, validateAffinity } from './placement.js';
import type { RuntimeImpl } from './runtime.js';
import type { SpawnOptions } from './runtime-api.js';
import type { NodeCandidate } from './cluster/candidates.js';
import { dirEntry } from './cluster/runtime-host.js';
import { remoteCandidates, spawnRemote } from './cluster/task-moves.js';
import type { DirEntry } from './cluster/types.js';

/** What a partition group's id has between its task's id and its number. */
const PARTITION_GROUP = '/partitions-';

export class TaskCells {
  private seq = 0;
  private groups = 0;

  constructor(private readonly rt: RuntimeImpl) {}

  spawn(def: TaskDefinition, options: SpawnOptions<unknown>): TaskRef {
    const rt = this.rt;
    rt.assertUp();
    this.checkDefinition(def);
    validateAffinity(options.affinity, 'options.affinity');
    const id = options.id ?? (rt.cluster ? `${def.name}-${rt.name}-${++this.seq}` : `${def.name}-${++this.seq}`);
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('options.id', 'must be a non-empty string');
    if (rt.directory.has(id)) throw new DuplicateTaskError(id);
    const affinity = mergeAffinity(def.affinity, options.affinity);
    rt.register(def);
    const chosen = place<ResourceActor | NodeCandidate>([...rt.resourceActors.values(), ...remoteCandidates(rt, def.name)], placementRequest(def, affinity));
    if (chosen instanceof ResourceActor) return this.createCell(def, id, chosen, undefined, options.input, affinity).ref;
    return spawnRemote(rt, chosen, def, id, options.input, options.affinity);
  }

  /** Spawns a task another node placed on one of our resources (its affinity kept for later re-placement). */
  spawnPlaced(def: TaskDefinition, id: string, resourceId: string, input: unknown, affinity: Affinity | undefined): TaskRef {
    const rt = this.rt;
    rt.assertUp();
    if (rt.directory.has(id)) throw new DuplicateTaskError(id);
    rt.register(def);
    const resource = rt.resourceActors.get(resourceId);
    if (!resource) throw new UnknownResourceError(resourceId);
    return this.createCell(def, id, resource, undefined, input, mergeAffinity(def.affinity, affinity)).ref;
  }

  /** A partition group of `task` on `resource`, holding `state` (no init): a child task of it. */
  spawnPartitionGroup(task: TaskCell, resource: ResourceActor, state: unknown): TaskCell {
    const id = `${task.id}${PARTITION_GROUP}${++this.groups}`;
    const group = this.createCell(task.def, id, resource, task, undefined, undefined, { epoch: 0, restore: undefined, adopt: { state, snapshot: undefined } });
    task.sequenced = false; // each now sees part of every sender's stream (see TaskCell.sequenced)
    group.takeSnapshot();
    return group;
  }

  /** Takes over a task a migration brought here, with its live state (epoch from the entry), its spawn input (for restarts) and its applied map (replay). */
  adoptTask(def: TaskDefinition, entry: DirEntry, state: unknown, snapshot: Snapshot, affinity: Affinity | undefined, input?: unknown, applied?: Record<string, number>): TaskCell {
    const rt = this.rt;
    const parent = entry.parent ? rt.directory.get(entry.parent) : undefined;
    const resource = rt.resourceActors.get(entry.resource) ?? parent?.resource;
    if (!resource) throw new UnknownResourceError(entry.resource);
    return this.createCell(def, entry.id, resource, parent, input, affinity ?? def.affinity, { epoch: entry.epoch, restore: undefined, adopt: { state, snapshot, applied } });
  }

  /** Re-creates a task of a dead node here, from its snapshot when there is one (used by the RMS). */
  restoreTask(def: TaskDefinition, entry: DirEntry, snapshot: Snapshot | undefined, input?: unknown, affinity?: Affinity): void {
    const rt = this.rt;
    const existing = rt.directory.get(entry.id);
    if (existing && !existing.isFrozen) return;
    // A copy frozen by a migration whose commit is in doubt: its target adopted the task and died,
    // and the RMS re-places it here. The RMS's word wins, as for any re-placement: the copy lets go
    // (what queued at it goes to the restored task, in order) and the migration finds it gone.
    const queued = existing ? existing.drainAll() : [];
    if (existing) rt.letGo(existing, rt.name, entry.epoch);
    const parent = entry.parent ? rt.directory.get(entry.parent) : undefined;
    const local = rt.resourceActors.get(entry.resource);
    const resource = parent?.resource ?? (local?.up ? local : place(rt.resourceActors.values(), placementRequest(def, def.affinity)));
    const cell = this.createCell(def, entry.id, resource, parent, input, affinity ?? def.affinity, { epoch: entry.epoch, restore: snapshot });
    for (const { msg, reply, stamp } of queued) {
      if (cell.mailbox.push(msg, reply, stamp)) continue;
      rt.deadLetter(cell.id, msg, 'mailbox-full');
      reply?.reject(new MailboxFullError(cell.id, cell.mailbox.capacity));
    }
    cell.kick();
  }

  spawnChild(parent: TaskCell, task: AnyTaskDefinition, options: SpawnChildOptions<unknown>): TaskRef {
    const rt = this.rt;
    rt.assertUp();
    const def = task as unknown as TaskDefinition;
    this.checkDefinition(def);
    const local = options.id ?? `${def.name}-${++this.seq}`;
    const id = `${parent.id}/${local}`;
    if (rt.directory.has(id)) throw new DuplicateTaskError(id);
    return this.createCell(def, id, parent.resource, parent, options.input, def.affinity).ref;
  }

  private createCell(
    def: TaskDefinition,
    id: string,
    resource: ResourceActor,
    parent: TaskCell | undefined,
    input: unknown,
    affinity: Affinity | undefined,
    restored?: { epoch: number; restore: Snapshot | undefined; adopt?: { state: unknown; snapshot: Snapshot | undefined; applied?: Record<string, number> | undefined } },
  ): TaskCell {
    const rt = this.rt;
    const supervision = resolveSupervision(rt.options.supervision, def.supervision, `${def.name}.supervision`);
    const capacity = def.mailbox?.capacity ?? rt.options.mailboxCapacity;
    const overflow = def.mailbox?.overflow ?? rt.options.overflow;
    const ref = new TaskRef(id, def.name);
    const log = rt.log.child({ task: id });
    const cell = new TaskCell(ref, def, resource, parent, input, supervision, overflow, capacity, rt, log);
    cell.prepareCodec();
    if (id.includes(PARTITION_GROUP)) cell.sequenced = false; // it sees part of each sender's stream
    rt.affinities.set(cell, affinity);
    // A child on another resource than its parent (a partition group) hangs under that resource's actor.
    cell.handle = rt.system.spawn(parent && parent.resource === resource ? parent.handle : resource.handle, `task:${parent ? id.slice(parent.id.length + 1) : id}`, () => cell.onTurn());
    if (restored) {
      cell.epoch = restored.epoch;
      cell.pendingRestore = restored.restore;
      if (restored.restore) cell.restoreApplied(restored.restore.applied);
      if (restored.adopt) cell.adopt(restored.adopt.state, restored.adopt.snapshot, restored.adopt.applied);
    }
    rt.directory.set(id, cell);
    resource.attach(cell);
    parent?.children.set(id, cell);
    if (rt.cluster) rt.cluster.report('add', rt.clusterHost!.spawnEntry(cell));
    if (rt.observed) {
      const e: RuntimeEvent = { type: 'task.spawned', timeMs: rt.clock.now(), taskId: id, task: def.name, resource: resource.id };
      if (parent) e.parent = parent.id;
      rt.emit(e);
    }
    cell.kick();
    return cell;
  }

  checkDefinition(def: TaskDefinition): void {
    if (typeof def !== 'object' || def === null || typeof def.receive !== 'function' || typeof def.init !== 'function') {
      throw new InvalidArgumentError('task', 'must be a task definition made by defineTask');
    }
    const codec = def.codec;
    if (codec !== undefined && !isCodec(codec)) {
      const name = typeof codec === 'string' ? codec : codec.name;
      if (!this.rt.codecs.has(name)) throw new UnknownCodecError(name);
    }
  }

  /** Stops a cell and its descendants, dead-lettering what they had queued. */
  stopCell(cell: TaskCell, reason: StopReason, err?: unknown): void {
    const rt = this.rt;
    if (cell.status === 'stopped') return;
    for (const child of [...cell.children.values()]) this.stopCell(child, 'parent-stopped');
    rt.remoteSupervision.stopChildren(cell, 'parent-stopped');
    rt.remoteSupervision.childStopped(cell, reason);
    cell.status = 'stopped';
    cell.fence(reason);
    cell.backoffTimer?.cancel();
    rt.directory.delete(cell.id);
    rt.cluster?.report('remove', dirEntry(rt.name, cell));
    cell.parent?.children.delete(cell.id);
    cell.resource.detach(cell);
    rt.system.stop(cell.handle);
    for (const { msg, reply } of cell.drainAll()) {
      rt.deadLetter(cell.id, msg, 'stopped');
      reply?.reject(new TaskStoppedError(cell.id, reason));
    }
    if (rt.observed) {
      const e: RuntimeEvent = { type: 'task.stopped', timeMs: rt.clock.now(), taskId: cell.id, task: cell.def.name, resource: cell.resource.id, reason };
      if (err !== undefined) e.err = err;
      rt.emit(e);
    }
  }
}

/** What placement needs to know of a task of `def` with `affinity`. */
function placementRequest(def: TaskDefinition, affinity: Affinity | undefined): PlacementRequest {
  return {
    task: def.name,
    affinity,
    kernelKinds: def.kernels ? (Object.keys(def.kernels) as DeviceKind[]) : undefined,
    computeUnits: def.demand?.computeUnits ?? 1,
    memoryBytes: def.demand?.memoryBytes ?? 0,
  };
}
