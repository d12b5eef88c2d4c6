/**
 * Supervision across nodes: a child task that migrated alone to another node stays its parent's
 * child. The parent's node keeps a record of it (`TaskCell.remoteChildren`: its ref, node and
 * restart budget); the child's node marks it (`TaskCell.remoteParent`). Requests over the links:
 *   sup.crashed  child's node -> parent's node: the child crashed with this directive (its own
 *                supervision's decision); the parent's side applies its strategy and restart
 *                budget and answers resume | restart (delay) | stop, escalating to the parent when
 *                the budget is spent. The restart happens where the child runs.
 *   sup.stop     parent's node -> child's node: stop the child (its parent stopped, restarted,
 *                or stopped it with `ctx.stopChild`)
 *   sup.gone     child's node -> parent's node: the child stopped there on its own (directive,
 *                `runtime.stop`, shutdown): the parent forgets it
 *   sup.moved    a node handing the child over to a third node -> parent's node: where it is now
 *                (also the node that restored it after its node died)
 *   sup.restart  parent's node -> child's node: restart the child, all-for-one with a sibling's crash
 *   sup.reparent parent's new node -> child's node: its parent was re-placed (its node died) and
 *                runs here now
 * A parent's node that does not answer a crash (`ParentUnreachableError`, logged) leaves the child
 * supervised where it runs, as a top-level task.
 */
import { ParentUnreachableError, TaskCrashedError } from '../errors.js';
import { RestartTracker, resolveSupervision } from '../actors/supervision.js';
import type { TaskCell } from '../actors/task-cell.js';
import { TaskRef } from '../actors/ref.js';
import { errorFromWire, errorToWire } from './transport/wire-errors.js';
import type { RuntimeImpl } from './runtime.js';
import type { Directive, StopReason } from './event-types.js';

export const SupervisionRequests = {
  crashed: 'sup.crashed',
  stop: 'sup.stop',
  gone: 'sup.gone',
  moved: 'sup.moved',
  restart: 'sup.restart',
  reparent: 'sup.reparent',
} as const;

/** How long a crashed remote child waits for its parent's node to answer, ms. */
const ANSWER_TIMEOUT_MS = 5_000;

/** The parent's side of a child running on another node. */
export interface RemoteChild {
  ref: TaskRef;
  node: string;
  resource: string;
  /** The child's one-for-one restart budget, kept where its supervisor is. */
  readonly restarts: RestartTracker;
}

/** The answer to `sup.crashed`. */
type CrashAnswer = { action: 'resume' } | { action: 'restart'; restarts: number; delayMs: number } | { action: 'stop'; reason: 'directive' | 'failed' };

export class RemoteSupervision {
  constructor(private readonly rt: RuntimeImpl) {}

  // --- parent's side ---

  /** `child` left this node alone for `node`: its parent keeps it as a remote child. */
  adopted(parent: TaskCell, child: TaskCell, node: string, resource: string): void {
    parent.remoteChildren.set(child.id, { ref: child.ref, node, resource, restarts: child.restarts });
  }

  /** Stops every remote child of `parent` (it stops or restarts). */
  stopChildren(parent: TaskCell, reason: StopReason): void {
    for (const id of [...parent.remoteChildren.keys()]) this.stopChild(parent, id, reason);
  }

  /**
   * All-for-one: restarts every remote child of `parent` (but `except`) where it runs, with the
   * restart count and delay the group's decision gave.
   */
  restartChildren(parent: TaskCell, restarts: number, delayMs: number, except?: string): void {
    for (const [id, rc] of parent.remoteChildren) {
      if (id === except) continue;
      this.rt.cluster?.request(rc.node, SupervisionRequests.restart, { child: id, parent: parent.id, restarts, delayMs }, ANSWER_TIMEOUT_MS).catch((err: unknown) => {
        this.rt.log.warn({ err, task: id, peer: rc.node }, 'could not restart a remote child (all-for-one)');
      });
    }
  }

  /** Stops one remote child; false when `parent` has none by that id. */
  stopChild(parent: TaskCell, childId: string, reason: StopReason): boolean {
    const rc = parent.remoteChildren.get(childId);
    if (!rc) return false;
    parent.remoteChildren.delete(childId);
    this.rt.cluster?.request(rc.node, SupervisionRequests.stop, { child: childId, parent: parent.id, reason }, ANSWER_TIMEOUT_MS).catch((err: unknown) => {
      this.rt.log.warn({ err, task: childId, peer: rc.node }, 'could not stop a remote child');
    });
    return true;
  }

  private crashReported(p: Record<string, unknown>): CrashAnswer {
    const parent = this.rt.directory.get(String(p['parent']));
    const childId = String(p['child']);
    const rc = parent?.remoteChildren.get(childId);
    if (!parent || !rc || parent.status === 'stopped') return { action: 'stop', reason: 'directive' };
    const err = errorFromWire(p['error']);
    const directive = String(p['directive']) as Directive;
    const now = this.rt.clock.now();
    this.rt.emit({ type: 'task.crashed', timeMs: now, taskId: childId, task: rc.ref.task, resource: rc.resource, err, directive });
    if (directive === 'resume') return { action: 'resume' };
    if (directive === 'stop') {
      parent.remoteChildren.delete(childId);
      return { action: 'stop', reason: 'directive' };
    }
    if (directive === 'restart' || directive === 'replace') {
      const def = this.rt.registry.get(rc.ref.task);
      const supervision = resolveSupervision(this.rt.options.supervision, def?.supervision, `${rc.ref.task}.supervision`);
      const allForOne = parent.supervision.strategy === 'all-for-one';
      const decision = (allForOne ? parent.groupRestarts : rc.restarts).next(supervision, now);
      if (decision.allowed) {
        // All-for-one: the parent's local children restart with it, and its other remote ones where they run.
        if (allForOne) {
          for (const c of [...parent.children.values()]) this.rt.supervisor.restartSibling(c, decision.restarts, decision.delayMs);
          this.restartChildren(parent, decision.restarts, decision.delayMs, childId);
        }
        return { action: 'restart', restarts: decision.restarts, delayMs: decision.delayMs };
      }
    }
    // Escalate (asked for, or the restart budget is spent): the child stops, its parent crashes.
    parent.remoteChildren.delete(childId);
    this.rt.emit({ type: 'task.escalated', timeMs: now, taskId: childId, task: rc.ref.task, resource: rc.resource, to: parent.id, err });
    // After answering: the parent's crash stops its other remote children, not this one twice.
    queueMicrotask(() => {
      if (parent.status === 'stopped') return;
      parent.fence('escalated');
      this.rt.supervisor.crashed(parent, new TaskCrashedError(childId, err));
    });
    return { action: 'stop', reason: 'failed' };
  }

  // --- child's side ---

  /** A crash of a child whose parent is on another node: its parent's node decides. */
  childCrashed(cell: TaskCell, err: unknown, directive: Directive): void {
    const parent = cell.remoteParent!;
    const restartCount = cell.restartCount;
    cell.status = 'backoff'; // no turns until the parent's side answers
    this.rt.cluster!.request(parent.node, SupervisionRequests.crashed, { parent: parent.id, child: cell.id, directive, error: errorToWire(err) }, ANSWER_TIMEOUT_MS).then(
      (answer) => {
        if (cell.status === 'stopped' || cell.restartCount !== restartCount) return;
        const a = answer as CrashAnswer;
        if (a.action === 'resume') cell.resumeAfterCrash();
        else if (a.action === 'restart') this.rt.supervisor.restartAlone(cell, a.restarts, a.delayMs);
        else {
          cell.remoteParent = undefined; // told already
          this.rt.stopCell(cell, a.reason, err);
        }
      },
      (cause: unknown) => {
        if (cell.status === 'stopped') return;
        this.rt.log.warn({ err: new ParentUnreachableError(cell.id, parent.id, parent.node, { cause }), task: cell.id }, 'remote parent unreachable');
        cell.remoteParent = undefined;
        this.rt.placementChanged(cell); // the directory forgets the link too
        this.rt.supervisor.apply(cell, directive, err);
      },
    );
  }

  /** A child with a remote parent stopped here on its own: the parent forgets it. */
  childStopped(cell: TaskCell, reason: StopReason): void {
    const parent = cell.remoteParent;
    if (!parent || reason === 'parent-stopped') return;
    this.rt.cluster?.request(parent.node, SupervisionRequests.gone, { parent: parent.id, child: cell.id }, ANSWER_TIMEOUT_MS).catch(() => {});
  }

  /**
   * A child with a remote parent, restored here after its node died: it stays that parent's child
   * (the directory hears of the link, the parent's record of where it runs).
   */
  readopted(cell: TaskCell, parent: { node: string; id: string }): void {
    cell.remoteParent = parent;
    this.rt.placementChanged(cell);
    this.childMoved(cell, this.rt.name, cell.resource.id);
  }

  /**
   * A parent restored here after its node died takes back its children on other nodes (the RMS
   * lists them from the directory): it keeps a record of each, and each learns where it is.
   */
  reclaim(parent: TaskCell, children: ReadonlyArray<{ id: string; task: string; node: string; resource: string }>): void {
    for (const c of children) {
      if (c.node === this.rt.name) {
        // Runs here already, as a top-level task with a link to the dead node: it keeps running, supervised here.
        const cell = this.rt.directory.get(c.id);
        if (cell) cell.remoteParent = undefined;
        continue;
      }
      parent.remoteChildren.set(c.id, { ref: new TaskRef(c.id, c.task), node: c.node, resource: c.resource, restarts: new RestartTracker() });
      this.rt.cluster?.request(c.node, SupervisionRequests.reparent, { child: c.id, parent: parent.id, node: this.rt.name }, ANSWER_TIMEOUT_MS).catch((err: unknown) => {
        this.rt.log.warn({ err, task: c.id, peer: c.node }, 'could not tell a remote child where its re-placed parent is');
      });
    }
  }

  /** A child with a remote parent is handed over to `node`: the parent's record follows it. */
  childMoved(cell: TaskCell, node: string, resource: string): void {
    const parent = cell.remoteParent;
    if (!parent) return;
    this.rt.cluster?.request(parent.node, SupervisionRequests.moved, { parent: parent.id, child: cell.id, node, resource }, ANSWER_TIMEOUT_MS).catch(() => {});
  }

  answer(kind: string, p: Record<string, unknown>): unknown {
    switch (kind) {
      case SupervisionRequests.crashed:
        return this.crashReported(p);
      case SupervisionRequests.stop: {
        const cell = this.rt.directory.get(String(p['child']));
        if (!cell || cell.remoteParent?.id !== String(p['parent'])) return { stopped: false };
        this.rt.stopCell(cell, 'parent-stopped');
        return { stopped: true };
      }
      case SupervisionRequests.restart: {
        const cell = this.rt.directory.get(String(p['child']));
        if (!cell || cell.remoteParent?.id !== String(p['parent'])) return { restarted: false };
        this.rt.supervisor.restartSibling(cell, Number(p['restarts']), Number(p['delayMs']));
        return { restarted: true };
      }
      case SupervisionRequests.reparent: {
        const cell = this.rt.directory.get(String(p['child']));
        if (!cell || cell.remoteParent?.id !== String(p['parent'])) return { reparented: false };
        cell.remoteParent = { node: String(p['node']), id: cell.remoteParent.id };
        this.rt.placementChanged(cell);
        return { reparented: true };
      }
      case SupervisionRequests.gone:
        return { forgotten: this.rt.directory.get(String(p['parent']))?.remoteChildren.delete(String(p['child'])) ?? false };
      case SupervisionRequests.moved: {
        const rc = this.rt.directory.get(String(p['parent']))?.remoteChildren.get(String(p['child']));
        if (rc) {
          rc.node = String(p['node']);
          rc.resource = String(p['resource']);
        }
        return { moved: rc !== undefined };
      }
      default:
        return { unknown: kind };
    }
  }
}
