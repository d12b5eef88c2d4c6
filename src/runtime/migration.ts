/**
 * Live migration of a task between resources of this node (the in-memory path: the running
 * state is handed over, nothing is encoded). The phases of the design's protocol, as they apply
 * in one process:
 *   propose       the target must satisfy the task's affinity, kernels and capacity (else abort)
 *   prepare       the task's actor is created under the target resource actor
 *   freeze        the task takes no new turn (an async turn in flight finishes first); arrivals queue in order
 *   commit        placement moves to the target, epoch + 1 (the old actor can never run a turn again)
 *   redirect      nothing to forward: the mailbox, with everything that arrived meanwhile, moves with the task
 *   decommission  the old actor stops, the source's reservation is released
 * The pause is freeze to thaw. Moving a child task moves that child alone (its parent keeps its
 * ref); moving a parent moves its children with it. Across nodes (streamed snapshots, pre-copy
 * rounds) is the next step of the migration issue.
 */
import { InvalidArgumentError, MigrationInProgressError, MigrationTimeoutError, NoResourceError, UnknownTaskError, type UnmetConstraint } from '../errors.js';
import type { ResourceActor } from '../actors/resource.js';
import type { TaskCell } from '../actors/task-cell.js';
import type { DeviceKind } from '../devices/device.js';
import { place, unmetConstraint } from './placement.js';
import type { RuntimeImpl } from './runtime.js';
import { candidatesOf, type NodeCandidate } from './cluster/candidates.js';
import { MigrationRequests, migrateToNode } from './migration-remote.js';
import { mergeFromNode, movePartitions, remoteGroupOwner } from './partitions.js';
import { withTimeout } from './timeout.js';
import type { ActorHandle } from './nact-adapter.js';

export type MigrationPhase = 'propose' | 'prepare' | 'freeze' | 'commit' | 'in-doubt' | 'redirect' | 'decommission';

export interface MigrationReport {
  id: string;
  task: string;
  from: string;
  to: string;
  granularity: 'task' | 'partitions';
  /** In order, with clock times. */
  phases: Array<{ phase: MigrationPhase; atMs: number }>;
  /** Freeze to thaw: how long the task took no turn. */
  pauseMs: number;
  totalMs: number;
  /** Bytes moved: 0 on the in-memory path. */
  bytes: number;
  preCopyRounds: number;
  outcome: 'committed' | 'aborted';
  reason?: string;
  /** The target's node, when it is another node. */
  node?: string;
  /** Across nodes with pre-copy: what followed the snapshot, `partitions` (deltas of a PartitionedState's changed partitions) or `log` (the messages handled, replayed). */
  preCopy?: 'log' | 'partitions';
  /** Time it waited for a free slot (`maxConcurrentMigrations`) before it started, ms; absent when none. */
  queuedMs?: number;
}

export interface MigrateOptions {
  /** Target resource id (default: the best other resource the task's affinity allows). */
  to?: string;
  /**
   * Across nodes: `stop-and-copy` (default) pauses the task for the whole copy; `pre-copy` copies
   * while it serves and replays the messages it handled meanwhile on the target (needs a
   * deterministic `receive` that does not `ask`). Within a node the live state is handed over.
   */
  mode?: 'stop-and-copy' | 'pre-copy';
  /** Pre-copy: freeze once the log since the last round is this short, in messages (default 64). */
  maxFinalMessages?: number;
  /** Pre-copy: most rounds of log before freezing anyway (default 8). */
  maxRounds?: number;
  /**
   * Longest one phase may take, ms (default 10,000): across nodes, the target's answer to one
   * step (propose, a chunk, a log round, commit); on any path, the freeze waiting for a turn in
   * flight. Past it the migration aborts with a `MigrationTimeoutError` reason naming the phase.
   */
  phaseTimeoutMs?: number;
  /**
   * A partitioned task (one with `partitionKey`): move only these partitions to `to`, as a
   * partition group (a child task); its messages then route by key. `to` may be a resource of
   * another node: the group is then a child moved alone there.
   */
  partitions?: number[];
  /** A partition group: give its partitions back to the task and stop it. */
  merge?: boolean;
}

const HISTORY = 100;
const DEFAULT_PHASE_TIMEOUT_MS = 10_000;

export class Migrator {
  private seq = 0;
  private readonly moving = new Set<string>();
  /** Whole-task migrations running now, and those waiting for one of `maxConcurrentMigrations` slots (FIFO). */
  private slotsUsed = 0;
  private readonly waiting: Array<() => void> = [];
  /** Per whole-task migration in flight, its report (filled in as it goes) and its actor under `/system/controller`. */
  private readonly current = new Map<string, { report: MigrationReport; actor: ActorHandle }>();
  /** The most recent reports, oldest first (at most 100). */
  readonly history: MigrationReport[] = [];

  constructor(private readonly rt: RuntimeImpl) {}

  inFlight(): string[] {
    return [...this.moving];
  }

  /** Whole-task migrations in flight: each report so far, with the path of its actor. */
  running(): Array<MigrationReport & { actor: string }> {
    return [...this.current.values()].map(({ report, actor }) => ({ ...report, actor: actor.path }));
  }

  /**
   * Takes a slot: at once (undefined) when one is free, else a promise that resolves when one
   * passes to this caller. The caller must `release` it.
   */
  private acquire(): Promise<void> | undefined {
    if (this.slotsUsed < this.rt.options.maxConcurrentMigrations) {
      this.slotsUsed++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight on
    else this.slotsUsed--;
  }

  async migrate(taskId: string, options: MigrateOptions): Promise<MigrationReport> {
    const cell = this.rt.directory.get(taskId);
    const groupOf = !cell && options.merge ? remoteGroupOwner(this.rt, taskId) : undefined;
    if (groupOf) return this.finish(await mergeFromNode(this.rt, groupOf, taskId, `mig-${++this.seq}`), this.rt.clock.now());
    if (!cell) return this.migrateElsewhere(taskId, options);
    if (options.partitions !== undefined || options.merge) return this.finish(await movePartitions(this.rt, cell, options, `mig-${++this.seq}`), this.rt.clock.now());
    if (this.moving.has(taskId)) throw new MigrationInProgressError(taskId);
    const remote = options.to !== undefined && !this.rt.resourceActors.has(options.to) ? this.remoteTarget(options.to) : undefined;
    if (options.to !== undefined && !remote && !this.rt.resourceActors.has(options.to)) {
      throw new InvalidArgumentError('options.to', `resource ${options.to} is not known to this cluster`);
    }
    if (options.to === cell.resource.id) throw new InvalidArgumentError('options.to', `task ${taskId} already runs on ${options.to}`);
    const clock = this.rt.clock;
    this.moving.add(taskId);
    const queuedAt = clock.now();
    // Without a wait, no await: the migration starts in this same turn.
    const slot = this.acquire();
    if (slot) await slot;
    const t0 = clock.now();
    const report: MigrationReport = {
      id: `mig-${++this.seq}`,
      task: taskId,
      from: cell.resource.id,
      to: options.to ?? '',
      granularity: 'task',
      phases: [{ phase: 'propose', atMs: t0 }],
      pauseMs: 0,
      totalMs: 0,
      bytes: 0,
      preCopyRounds: 0,
      outcome: 'aborted',
    };
    if (t0 > queuedAt) report.queuedMs = t0 - queuedAt;
    this.current.set(report.id, { report, actor: this.rt.system.spawn(this.rt.controllerHandle, report.id, () => {}) });
    this.rt.emit({ type: 'migration.started', timeMs: t0, migration: report.id, taskId, from: report.from, to: report.to });
    try {
      let target: ResourceActor | undefined;
      let elsewhere = remote;
      if (!elsewhere) {
        try {
          target = this.propose(cell, options.to);
        } catch (err) {
          // Nothing on this node fits: with no target named, another node's resource may.
          elsewhere = options.to === undefined ? this.bestRemote(cell) : undefined;
          if (!elsewhere) throw err;
        }
      }
      if (elsewhere) {
        report.to = elsewhere.device.id;
        report.node = elsewhere.node;
        await migrateToNode(this.rt, cell, elsewhere, report, {
          mode: options.mode ?? 'stop-and-copy',
          maxFinalMessages: options.maxFinalMessages ?? 64,
          maxRounds: options.maxRounds ?? 8,
          phaseTimeoutMs: options.phaseTimeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS,
        });
        report.outcome = 'committed';
        return this.finish(report, t0);
      }
      if (!target) throw new Error('no target');
      report.to = target.id;
      report.phases.push({ phase: 'prepare', atMs: clock.now() });
      const frozenAt = clock.now();
      report.phases.push({ phase: 'freeze', atMs: frozenAt });
      const cells = movingWith(cell);
      const timeoutMs = options.phaseTimeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS;
      await withTimeout(clock, Promise.all(cells.map((c) => c.freeze())), timeoutMs, () => new MigrationTimeoutError(taskId, 'freeze', timeoutMs, 'the turn in flight'));
      if (cell.status === 'stopped') throw new Error('the task stopped while freezing');
      if (!target.up || target.draining) throw new Error(`target ${target.id} went away`);
      report.phases.push({ phase: 'commit', atMs: clock.now() });
      this.rt.supervisor.moveLive(cell, target);
      report.phases.push({ phase: 'redirect', atMs: clock.now() });
      for (const c of cells) c.thaw();
      report.pauseMs = clock.now() - frozenAt;
      report.phases.push({ phase: 'decommission', atMs: clock.now() });
      report.outcome = 'committed';
    } catch (err) {
      for (const c of movingWith(cell)) if (c.isFrozen && c.status !== 'stopped') c.thaw();
      report.reason = err instanceof Error ? err.message : String(err);
    } finally {
      this.moving.delete(taskId);
      const actor = this.current.get(report.id)?.actor;
      this.current.delete(report.id);
      if (actor) this.rt.system.stop(actor);
      this.release();
    }
    return this.finish(report, t0);
  }

  private finish(report: MigrationReport, t0: number): MigrationReport {
    const clock = this.rt.clock;
    if (report.totalMs === 0) report.totalMs = clock.now() - t0;
    if (this.history.at(-1) !== report) {
      this.history.push(report);
      if (this.history.length > HISTORY) this.history.shift();
      const taskId = report.task;
      this.rt.emit(
        report.outcome === 'committed'
          ? { type: 'migration.committed', timeMs: clock.now(), migration: report.id, taskId, from: report.from, to: report.to, pauseMs: report.pauseMs }
          : { type: 'migration.aborted', timeMs: clock.now(), migration: report.id, taskId, from: report.from, to: report.to, reason: report.reason ?? '' },
      );
    }
    return report;
  }

  /** A resource of another node, from what the members last reported. */
  private remoteTarget(resource: string): NodeCandidate | undefined {
    const cluster = this.rt.cluster;
    if (!cluster) return undefined;
    for (const m of cluster.members.values()) {
      if (m.node === this.rt.name) continue;
      const found = candidatesOf(m.node, m.resources).find((c) => c.device.id === resource);
      if (found) return found;
    }
    return undefined;
  }

  /** The best resource of another node that registered the task's definition, if any fits. */
  private bestRemote(cell: TaskCell): NodeCandidate | undefined {
    const cluster = this.rt.cluster;
    if (!cluster) return undefined;
    const candidates = [...cluster.members.values()]
      .filter((m) => m.node !== this.rt.name && m.taskTypes.some((t) => t.name === cell.def.name))
      .flatMap((m) => candidatesOf(m.node, m.resources));
    try {
      return place(candidates, {
        task: cell.def.name,
        affinity: this.rt.affinities.get(cell),
        kernelKinds: cell.def.kernels ? (Object.keys(cell.def.kernels) as DeviceKind[]) : undefined,
        computeUnits: cell.demand.computeUnits,
        memoryBytes: cell.demand.memoryBytes,
      });
    } catch {
      return undefined;
    }
  }

  /** A task this node does not host: its owner (as this node knows it) is asked to migrate it. */
  private async migrateElsewhere(taskId: string, options: MigrateOptions): Promise<MigrationReport> {
    const owner = this.rt.cluster?.ownerOf(taskId);
    if (!owner || owner === this.rt.name) throw new UnknownTaskError(taskId);
    // The start request carries whole-task options only: a split or merge is asked of the task's node.
    if (options.partitions !== undefined || options.merge) {
      throw new InvalidArgumentError(options.merge ? 'options.merge' : 'options.partitions', `task ${taskId} runs on node ${owner}: split or merge partitions from the node of the partitioned task`);
    }
    const { phaseTimeoutMs = null, maxFinalMessages = null, maxRounds = null } = options;
    const payload = { task: taskId, to: options.to ?? null, mode: options.mode ?? null, phaseTimeoutMs, maxFinalMessages, maxRounds };
    return (await this.rt.cluster!.request(owner, MigrationRequests.start, payload, 60_000)) as MigrationReport;
  }

  /** The target: the one asked for if it can take the task, else the best other one. */
  private propose(cell: TaskCell, to: string | undefined): ResourceActor {
    const request = {
      task: cell.def.name,
      affinity: this.rt.affinities.get(cell),
      kernelKinds: cell.def.kernels ? (Object.keys(cell.def.kernels) as DeviceKind[]) : undefined,
      computeUnits: subtree(cell, 'computeUnits'),
      memoryBytes: subtree(cell, 'memoryBytes'),
      exclude: new Set([cell.resource.id]),
    };
    if (to === undefined) return place(this.rt.resourceActors.values(), request);
    const target = this.rt.resourceActors.get(to)!;
    const why = unmetConstraint(target, request);
    if (why) {
      const unmet: UnmetConstraint[] = [{ resource: to, ...why }];
      throw new NoResourceError(cell.def.name, why.constraint, unmet);
    }
    return target;
  }
}

/** The cell and its descendants on the same resource: what moves together. */
function movingWith(cell: TaskCell): TaskCell[] {
  const out = [cell];
  for (const c of cell.children.values()) if (c.resource === cell.resource) out.push(...movingWith(c));
  return out;
}

function subtree(cell: TaskCell, key: 'computeUnits' | 'memoryBytes'): number {
  let sum = cell.demand[key];
  for (const c of cell.children.values()) if (c.resource === cell.resource) sum += subtree(c, key);
  return sum;
}
