/**
 * What the debug socket reads: a `DebugSource`. `createLocalDebugSource` builds one over a local
 * Runtime; a cluster-wide source (the RMS view) implements the same interface later, which is
 * why every read may return a promise and every row names its node.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ResourceInfo } from '../actors/resource.js';
import type { Affinity } from './placement.js';
import type { RuntimeEvent } from './event-types.js';
import type { Subscription } from './events.js';
import { messageTypeOf } from './debug-protocol.js';
import type { Runtime } from './runtime.js';

export type Awaitable<T> = T | Promise<T>;

/** One task as the debug socket shows it: placement and counters, never state. */
export interface DebugTask {
  id: string;
  /** Task definition name. */
  task: string;
  /** Parent TaskId, or null for a top-level task. */
  parent: string | null;
  /** Actor path in the supervision tree. */
  path: string;
  node: string;
  resource: string;
  /** Device kind of the resource (cpu, gpu, fpga, asic). */
  kind: string;
  status: string;
  epoch: number;
  mailboxDepth: number;
  restarts: number;
  processed: number;
  /** Bytes of the task's last snapshot, null before the first (never its contents). */
  stateBytes: number | null;
  /** Its affinity (definition merged with spawn options), when it has one. */
  affinity?: Affinity;
  /** Handler ms per message per device kind (measured or declared), when known. */
  costMsByKind?: Record<string, number>;
}

/** A resource with its latest monitor readings (`metrics`, null where unavailable). */
export type DebugResource = ResourceInfo & { node: string; path: string; metrics?: Record<string, number | null> };

export interface DebugDeadLetter {
  timeMs: number;
  node: string;
  taskId: string;
  reason: string;
  /** The message's `type` field, or its JS type; the message itself is never kept. */
  messageType: string;
}

export interface DebugDeadLetters {
  /** Dead letters since the node started (may exceed what the history holds). */
  total: number;
  /** Most recent last, at most the `limit` asked for. */
  recent: DebugDeadLetter[];
}

export interface DebugMigration {
  id: string;
  task: string;
  from: string;
  to: string;
  phase: string;
  startedAtMs: number;
  [more: string]: unknown;
}

export type DebugEventListener = (event: RuntimeEvent & { node?: string }) => void;

export interface DebugSource {
  /** This node's name (for a cluster source: the RMS node). */
  readonly node: string;
  tasks(): Awaitable<readonly DebugTask[]>;
  resources(): Awaitable<readonly DebugResource[]>;
  /** The `limit` most recent dead letters, from a bounded history. */
  deadLetters(limit: number): Awaitable<DebugDeadLetters>;
  /** Events as they happen; a cluster source sets `node` on each. */
  observe(listener: DebugEventListener): Subscription;
  /** Migrations in flight and recent ones. Absent: the socket answers `{ supported: false }`. */
  migrations?(): Awaitable<readonly DebugMigration[]>;
  /** A task's state (admin + `includeState` only). Absent: state is reported as unsupported. */
  taskState?(taskId: string): Awaitable<unknown>;
  /** Starts a live migration. Absent: `migrate` answers not supported. */
  migrate?(request: { task: string; to?: string }): Promise<unknown>;
  /** Re-places every task off `resource` (without marking it failed). */
  drain?(resource: string): Promise<unknown>;
  suspendController?(): Awaitable<unknown>;
  resumeController?(): Awaitable<unknown>;
  /** The migration controller's status and its `limit` most recent decisions. Absent: no controller here. */
  controller?(limit: number): Awaitable<unknown>;
  /** Every resource's forecasts and failure risk (the RMS's predictors). Absent: none here. */
  forecasts?(): Awaitable<unknown>;
  /** Sets the controller's mode (`off`, `recommend`, `auto`). */
  setControllerMode?(mode: 'off' | 'recommend' | 'auto'): Awaitable<unknown>;
}

export interface LocalDebugSourceOptions {
  /** Dead letters kept for `dead-letters` (default 1000; oldest dropped first). */
  deadLetterHistory?: number;
}

export interface LocalDebugSource extends DebugSource {
  /** Stops recording dead letters. Also happens by itself when the runtime shuts down. */
  close(): void;
}

/** A fixed-size ring: pushing past capacity drops the oldest entry. */
class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;
  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The `n` most recent, oldest first. */
  last(n: number): T[] {
    const ordered = [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
    return n >= ordered.length ? ordered : ordered.slice(ordered.length - n);
  }
}

export function createLocalDebugSource(runtime: Runtime, options: LocalDebugSourceOptions = {}): LocalDebugSource {
  const history = options.deadLetterHistory ?? 1000;
  if (!Number.isInteger(history) || history < 1) {
    throw new InvalidArgumentError('options.deadLetterHistory', `must be a positive integer, got ${String(history)}`);
  }
  const node = runtime.name;
  const ring = new Ring<DebugDeadLetter>(history);
  let closed = false;
  const sub = runtime.observe(
    (e) => {
      if (e.type === 'message.dead-lettered') {
        ring.push({ timeMs: e.timeMs, node, taskId: e.taskId, reason: e.reason, messageType: messageTypeOf(e.message) });
      } else if (e.type === 'runtime.shut-down') close();
    },
    ['message.dead-lettered', 'runtime.shut-down'],
  );
  function close(): void {
    if (closed) return;
    closed = true;
    sub.unsubscribe();
  }
  return {
    node,
    tasks: () =>
      runtime.tasks().map((t) => ({
        id: t.id,
        task: t.task,
        parent: t.parent ?? null,
        path: t.path,
        node,
        resource: t.resource,
        kind: t.kind,
        status: t.status,
        epoch: t.epoch,
        mailboxDepth: t.mailboxDepth,
        restarts: t.restarts,
        processed: t.processed,
        stateBytes: t.stateBytes,
        ...(t.affinity ? { affinity: t.affinity } : {}),
        ...(t.costMsByKind ? { costMsByKind: t.costMsByKind } : {}),
      })),
    resources: () => runtime.resources().map((r) => ({ ...r, node, path: `/system/resources/${r.id}`, metrics: runtime.latestMetrics(r.id) })),
    deadLetters: (limit) => ({ total: runtime.deadLetters, recent: ring.last(limit) }),
    observe: (listener) => runtime.observe(listener),
    close,
  };
}

export interface TreeTask extends DebugTask {
  children: TreeTask[];
  /** Only with `includeState` on an admin socket whose source can read state. */
  state?: unknown;
}

export interface TreeResource {
  id: string;
  kind: string;
  status: string;
  path: string;
  tasks: TreeTask[];
}

export interface TreeNode {
  node: string;
  resources: TreeResource[];
}

/**
 * Nests tasks by parent under their node and resource. A child hosted elsewhere than its parent
 * still nests under the parent (its `resource` says where it runs); a task whose parent is not
 * in the list is a root of its resource.
 */
export function buildTree(tasks: readonly DebugTask[], resources: readonly DebugResource[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  const resourceOf = new Map<string, TreeResource>();
  const nodeOf = (name: string): TreeNode => {
    let n = nodes.get(name);
    if (!n) nodes.set(name, (n = { node: name, resources: [] }));
    return n;
  };
  const key = (node: string, id: string) => `${node}\u0000${id}`;
  const resourceEntry = (node: string, id: string, kind: string): TreeResource => {
    let r = resourceOf.get(key(node, id));
    if (!r) {
      r = { id, kind, status: 'unknown', path: `/system/resources/${id}`, tasks: [] };
      resourceOf.set(key(node, id), r);
      nodeOf(node).resources.push(r);
    }
    return r;
  };
  for (const r of resources) Object.assign(resourceEntry(r.node, r.id, r.kind), { status: r.status, path: r.path });
  const entries = new Map<string, TreeTask>();
  for (const t of tasks) entries.set(key(t.node, t.id), { ...t, children: [] });
  for (const t of entries.values()) {
    const parent = t.parent === null ? undefined : entries.get(key(t.node, t.parent));
    if (parent) parent.children.push(t);
    else resourceEntry(t.node, t.resource, t.kind).tasks.push(t);
  }
  return [...nodes.values()];
}

/** Sets `state` on every task of the tree (an `{ error }` where reading one fails). */
export async function addTaskState(nodes: readonly TreeNode[], readState: (taskId: string) => Awaitable<unknown>): Promise<void> {
  const visit = async (t: TreeTask): Promise<void> => {
    try {
      t.state = await readState(t.id);
    } catch (err) {
      t.state = { error: err instanceof Error ? err.message : String(err) };
    }
    for (const c of t.children) await visit(c);
  };
  for (const n of nodes) for (const r of n.resources) for (const t of r.tasks) await visit(t);
}
