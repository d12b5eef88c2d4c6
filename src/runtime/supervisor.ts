/**
 * What happens when a task fails: its directive (restart, resume, stop, escalate, replace),
 * the supervisor's strategy (one-for-one, all-for-one) and restart budget, backoff, escalation
 * to the parent, and re-placement from the last snapshot when a resource fails.
 *
 * The supervisor of a top-level task is its resource actor; of a child task, its parent task.
 * Escalation from a top-level task stops it (reason `failed`): a task's failure never takes a
 * resource, or any other task, down.
 */
import { TaskCrashedError, NoResourceError } from '../errors.js';
import { decide, type RestartTracker } from '../actors/supervision.js';
import type { Directive } from './event-types.js';
import type { ResourceActor } from '../actors/resource.js';
import type { TaskCell } from '../actors/task-cell.js';
import type { DeviceKind } from '../devices/device.js';
import { place } from './placement.js';
import type { RuntimeImpl } from './runtime.js';

export class Supervisor {
  constructor(private readonly rt: RuntimeImpl) {}

  crashed(cell: TaskCell, err: unknown): void {
    if (cell.status === 'stopped') return;
    const directive = decide(cell.supervision, err);
    this.rt.emit({ type: 'task.crashed', timeMs: this.rt.clock.now(), taskId: cell.id, task: cell.def.name, resource: cell.resource.id, err, directive });
    if (cell.remoteParent && this.rt.cluster) this.rt.remoteSupervision.childCrashed(cell, err, directive);
    else this.apply(cell, directive, err);
  }

  /** Carries out `directive` for a crashed task supervised on this node. */
  apply(cell: TaskCell, directive: Directive, err: unknown): void {
    switch (directive) {
      case 'resume':
        cell.resumeAfterCrash();
        return;
      case 'stop':
        this.rt.stopCell(cell, 'directive', err);
        return;
      case 'escalate':
        this.escalate(cell, err);
        return;
      case 'restart':
      case 'replace':
        this.restart(cell, err, directive === 'replace');
    }
  }

  private strategyOf(cell: TaskCell): { allForOne: boolean; tracker: RestartTracker; siblings: () => TaskCell[] } {
    const parent = cell.parent;
    if (parent) {
      return { allForOne: parent.supervision.strategy === 'all-for-one', tracker: parent.groupRestarts, siblings: () => [...parent.children.values()] };
    }
    const r = cell.resource;
    return { allForOne: this.rt.options.supervision.strategy === 'all-for-one', tracker: r.groupRestarts, siblings: () => r.topLevelCells() };
  }

  private restart(cell: TaskCell, err: unknown, replace: boolean): void {
    const { allForOne, tracker, siblings } = this.strategyOf(cell);
    const decision = (allForOne ? tracker : cell.restarts).next(cell.supervision, this.rt.clock.now());
    if (!decision.allowed) {
      this.escalate(cell, err);
      return;
    }
    const group = allForOne ? siblings() : [cell];
    for (const c of group) {
      if (c !== cell) c.fence('restarted');
      if (replace && c === cell) this.replace(c, 'directive', decision.delayMs);
      else this.scheduleRestart(c, decision.restarts, decision.delayMs);
    }
    // Siblings that moved to other nodes alone restart there.
    if (allForOne && cell.parent) this.rt.remoteSupervision.restartChildren(cell.parent, decision.restarts, decision.delayMs);
  }

  /** A crashed child with a remote parent restarts here, as its parent's side decided. */
  restartAlone(cell: TaskCell, restarts: number, delayMs: number): void {
    this.scheduleRestart(cell, restarts, delayMs);
  }

  /** All-for-one from a remote child's crash: a local sibling restarts too. */
  restartSibling(cell: TaskCell, restarts: number, delayMs: number): void {
    if (cell.status === 'stopped') return;
    cell.fence('restarted');
    this.scheduleRestart(cell, restarts, delayMs);
  }

  private scheduleRestart(cell: TaskCell, restarts: number, delayMs: number): void {
    for (const child of [...cell.children.values()]) this.rt.stopCell(child, 'parent-stopped');
    this.rt.remoteSupervision.stopChildren(cell, 'parent-stopped');
    cell.status = 'backoff';
    cell.backoffTimer?.cancel();
    cell.backoffTimer = this.rt.clock.setTimer(() => {
      cell.backoffTimer = undefined;
      if (cell.status !== 'backoff') return;
      cell.restartCount++;
      cell.reset();
      this.rt.emit({ type: 'task.restarted', timeMs: this.rt.clock.now(), taskId: cell.id, task: cell.def.name, resource: cell.resource.id, restarts, delayMs });
      cell.kick();
    }, delayMs);
  }

  private escalate(cell: TaskCell, err: unknown): void {
    const parent = cell.parent;
    this.rt.emit({ type: 'task.escalated', timeMs: this.rt.clock.now(), taskId: cell.id, task: cell.def.name, resource: cell.resource.id, to: parent ? parent.id : cell.resource.id, err });
    this.rt.stopCell(cell, 'failed', err);
    if (parent && parent.status !== 'stopped') {
      parent.fence('escalated');
      this.crashed(parent, new TaskCrashedError(cell.id, err));
    }
  }

  /**
   * Moves a task (with its children) to another resource and restores each from its last
   * snapshot; tasks without a snapshot run `init` again. With the `replace` directive and no
   * other resource able to host it, the task is restored where it is.
   */
  replace(cell: TaskCell, reason: 'directive' | 'resource-failed', delayMs = 0): boolean {
    const from = cell.resource;
    let to: ResourceActor;
    try {
      to = place(this.rt.resourceActors.values(), {
        task: cell.def.name,
        affinity: this.rt.affinities.get(cell),
        kernelKinds: cell.def.kernels ? (Object.keys(cell.def.kernels) as DeviceKind[]) : undefined,
        computeUnits: subtreeDemand(cell, 'computeUnits'),
        memoryBytes: subtreeDemand(cell, 'memoryBytes'),
        exclude: new Set([from.id]),
      });
    } catch (err) {
      if (!(err instanceof NoResourceError) || reason === 'resource-failed') {
        this.rt.stopCell(cell, 'resource-failed', err);
        return false;
      }
      to = from;
    }
    const fromSnapshot = cell.snapshot !== undefined;
    this.rehome(cell, to, cell.parent && cell.parent.resource === from ? cell.parent.handle : to.handle);
    cell.status = 'backoff';
    cell.backoffTimer?.cancel();
    cell.backoffTimer = this.rt.clock.setTimer(() => {
      cell.backoffTimer = undefined;
      if (cell.status !== 'backoff') return;
      this.restartSubtree(cell);
      this.rt.placementChanged(cell);
      this.rt.emit({ type: 'task.replaced', timeMs: this.rt.clock.now(), taskId: cell.id, task: cell.def.name, from: from.id, to: to.id, reason, fromSnapshot });
    }, delayMs);
    return true;
  }

  /** Moves the cell and its descendants' accounting and actors to `to`, under `parentHandle`, to be restored there. */
  private rehome(cell: TaskCell, to: ResourceActor, parentHandle: TaskCell['handle']): void {
    const from = cell.resource;
    cell.fence('re-placed');
    this.moveActor(cell, to, parentHandle);
    for (const child of cell.children.values()) {
      if (child.resource !== from) continue; // a child migrated elsewhere stays where it is
      child.status = 'backoff';
      this.rehome(child, to, cell.handle);
    }
  }

  /** Moves a frozen task (and its children on the same resource) to `to` with its live state: the in-memory path of migration. */
  moveLive(cell: TaskCell, to: ResourceActor): void {
    const from = cell.resource;
    const move = (c: TaskCell, handle: TaskCell['handle']) => {
      this.moveActor(c, to, handle);
      for (const child of c.children.values()) if (child.resource === from) move(child, c.handle);
    };
    move(cell, cell.parent && cell.parent.resource === to ? cell.parent.handle : to.handle);
    this.rt.placementChanged(cell);
  }

  /** One cell: its reservation, its placement epoch, and a new actor under `parentHandle` (the old one can never run again). */
  private moveActor(cell: TaskCell, to: ResourceActor, parentHandle: TaskCell['handle']): void {
    cell.resource.detach(cell);
    to.attach(cell);
    cell.resource = to;
    cell.epoch++;
    this.rt.system.stop(cell.handle);
    const name = cell.handle.path.slice(cell.handle.path.lastIndexOf('/') + 1);
    cell.rehomed(this.rt.system.spawn(parentHandle, name, () => cell.onTurn()));
  }

  private restartSubtree(cell: TaskCell): void {
    cell.pendingRestore = cell.snapshot;
    cell.reset();
    for (const child of cell.children.values()) if (child.resource === cell.resource) this.restartSubtree(child);
    cell.kick();
  }

  resourceFailed(resource: ResourceActor): void {
    resource.markDown(this.rt.clock.now());
    const cells = resource.topLevelCells();
    this.rt.emit({ type: 'resource.failed', timeMs: this.rt.clock.now(), resource: resource.id, kind: resource.device.kind, tasks: resource.cells.size });
    for (const cell of cells) this.replace(cell, 'resource-failed');
  }
}

function subtreeDemand(cell: TaskCell, key: 'computeUnits' | 'memoryBytes'): number {
  let sum = cell.demand[key];
  for (const c of cell.children.values()) sum += subtreeDemand(c, key);
  return sum;
}
