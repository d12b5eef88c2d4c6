/**
 * The `ctx` a task's `init` and `receive` get: its ref and resource, replies, sends and asks,
 * children, custom metrics, and its kernel for the hosting device kind (timed for the resource).
 */
import { InvalidArgumentError } from '../errors.js';
import type { TaskRef } from './ref.js';
import type { AskOptions, TaskContext } from './task.js';
import type { CellHost, TaskCell } from './task-cell.js';

/** Whether `x` is a promise or another thenable (an async `receive` or kernel result). */
export const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';

/** The context object of `cell`, whose effects go through `host`. */
export function createContext(cell: TaskCell, host: CellHost): TaskContext {
  const noop = { resolve: () => {}, reject: () => {} };
  return {
    get self() {
      return cell.ref;
    },
    get resource() {
      return { id: cell.resource.id, kind: cell.resource.device.kind };
    },
    clock: host.clock,
    log: cell.log,
    get canReply() {
      return cell.canReply;
    },
    reply: (value) => cell.replyToCurrent(value),
    deferReply() {
      const slot = cell.takeReply();
      return slot ? { resolve: (v: unknown) => void slot.resolve(v), reject: (e: unknown) => void slot.reject(e) } : noop;
    },
    forward: (to, msg) => host.send(to, msg, cell.takeReply()),
    send: (to, msg) => host.send(to, msg),
    ask: <R>(to: TaskRef, msg: unknown, options?: AskOptions) => host.ask(to, msg, options) as Promise<R>,
    spawnChild: (task, options = {}) => host.spawnChild(cell, task as never, options),
    stopChild: (child) => host.stopChild(cell, child),
    children: () => [...[...cell.children.values()].map((c) => c.ref), ...[...cell.remoteChildren.values()].map((c) => c.ref)],
    metrics: {
      add(name: string, delta = 1) {
        cell.custom.set(name, (cell.custom.get(name) ?? 0) + delta);
      },
      set(name: string, value: number) {
        cell.custom.set(name, value);
      },
    },
    kernel<In, Out>(input: In): Out {
      const kind = cell.resource.device.kind;
      const fn = cell.def.kernels?.[kind] as ((input: In, ctx: TaskContext) => Out) | undefined;
      if (!fn) throw new InvalidArgumentError('kernel', `task ${cell.def.name} has no kernel for kind ${kind}`);
      const resource = cell.resource;
      const t0 = performance.now();
      const out = fn(input, cell.ctx);
      if (isThenable(out)) {
        return Promise.resolve(out).finally(() => resource.account(cell.def.name, performance.now() - t0)) as Out;
      }
      resource.account(cell.def.name, performance.now() - t0);
      return out;
    },
  };
}
