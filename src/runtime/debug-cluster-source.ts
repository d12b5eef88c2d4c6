/**
 * The RMS's debug view of the whole cluster: its own rows plus every live member's, asked over
 * the links (`ClusterNode.request`). A member that does not answer in time is left out of that
 * answer and named in the log. Events are the RMS's own (node.joined and node.down included).
 */
import type { ClusterNode } from './cluster/cluster-node.js';
import type { Logger } from './logger.js';
import type { DebugDeadLetter, DebugDeadLetters, DebugResource, DebugSource, DebugTask } from './debug-source.js';
import { UnknownResourceError } from '../errors.js';

export const DebugRequests = { tasks: 'debug.tasks', resources: 'debug.resources', deadLetters: 'debug.dead-letters', drain: 'debug.drain' } as const;

/** Answers the debug questions another node asks, from this node's local source. */
export function answerDebugRequest(local: DebugSource, kind: string, payload: unknown): unknown {
  switch (kind) {
    case DebugRequests.tasks:
      return local.tasks();
    case DebugRequests.resources:
      return local.resources();
    case DebugRequests.deadLetters:
      return local.deadLetters(Number((payload as { limit?: unknown } | undefined)?.limit ?? 100));
    case DebugRequests.drain:
      if (!local.drain) throw new Error('this node cannot drain');
      return local.drain(String((payload as { resource?: unknown } | undefined)?.resource));
    default:
      throw new Error(`unknown request ${kind}`);
  }
}

export function createClusterDebugSource(local: DebugSource, cluster: ClusterNode, log: Logger, timeoutMs = 2000): DebugSource {
  const others = () => [...cluster.members.keys()].filter((n) => n !== cluster.id);
  async function gather<T>(kind: string, payload: unknown, own: () => T | Promise<T>): Promise<T[]> {
    const answers = await Promise.allSettled([own(), ...others().map((n) => cluster.request(n, kind, payload, timeoutMs) as Promise<T>)]);
    const out: T[] = [];
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') out.push(a.value);
      else log.warn({ err: a.reason, peer: others()[i - 1] }, 'a member did not answer a debug query');
    });
    return out;
  }
  return {
    node: local.node,
    tasks: async () => (await gather<readonly DebugTask[]>(DebugRequests.tasks, null, () => local.tasks())).flat(),
    resources: async () => (await gather<readonly DebugResource[]>(DebugRequests.resources, null, () => local.resources())).flat(),
    async deadLetters(limit): Promise<DebugDeadLetters> {
      const all = await gather<DebugDeadLetters>(DebugRequests.deadLetters, { limit }, () => local.deadLetters(limit));
      const recent: DebugDeadLetter[] = all.flatMap((d) => d.recent);
      return { total: all.reduce((n, d) => n + d.total, 0), recent: recent.slice(Math.max(0, recent.length - limit)) };
    },
    observe: (listener) => local.observe(listener),
    // The controller runs on the RMS itself.
    ...(local.controller ? { controller: local.controller } : {}),
    ...(local.forecasts ? { forecasts: local.forecasts } : {}),
    ...(local.setControllerMode ? { setControllerMode: local.setControllerMode } : {}),
    ...(local.suspendController ? { suspendController: local.suspendController } : {}),
    ...(local.resumeController ? { resumeController: local.resumeController } : {}),
    ...(local.migrate ? { migrate: local.migrate } : {}),
    ...(local.migrations ? { migrations: local.migrations } : {}),
    /** Drains a resource of whichever node owns it. */
    async drain(resource: string) {
      if ((await local.resources()).some((r) => r.id === resource)) return local.drain!(resource);
      const owner = [...cluster.members.values()].find((m) => m.resources.some((r) => r.id === resource));
      if (!owner) throw new UnknownResourceError(resource);
      return cluster.request(owner.node, DebugRequests.drain, { resource }, timeoutMs);
    },
  };
}
