/**
 * The runtime's cluster-facing task moves: placing a new task on another node's resource (remote
 * spawn), handing a migrated cell over to its new node, and telling the directory when a cell
 * changed resource.
 */
import { TaskRef } from '../../actors/ref.js';
import type { TaskCell } from '../../actors/task-cell.js';
import type { TaskDefinition } from '../../actors/task.js';
import type { Affinity } from '../placement.js';
import type { RuntimeImpl } from '../runtime.js';
import { Env } from '../transport/frames.js';
import { candidatesOf, type NodeCandidate } from './candidates.js';
import { dirEntry } from './runtime-host.js';
import { Control } from './types.js';

/** Resources of other nodes that registered this task type. */
export function remoteCandidates(rt: RuntimeImpl, task: string): NodeCandidate[] {
  if (!rt.cluster) return [];
  return [...rt.cluster.members.values()]
    .filter((m) => m.node !== rt.name && m.taskTypes.some((t) => t.name === task))
    .flatMap((m) => candidatesOf(m.node, m.resources));
}

export function spawnRemote(rt: RuntimeImpl, target: NodeCandidate, def: TaskDefinition, id: string, input: unknown, affinity: Affinity | undefined): TaskRef {
  const cluster = rt.cluster!;
  cluster.sendTo(target.node, [Env.control, Control.spawn, { task: def.name, id, input, resource: target.device.id, affinity: affinity ?? null }]);
  target.usedComputeUnits += def.demand?.computeUnits ?? 1;
  cluster.learn(id, target.node, 0);
  return new TaskRef(id, def.name);
}

/**
 * The end of a migration to another node: the cell leaves this node without dead letters.
 * Its queued messages are forwarded to the new owner in order, and so is anything that
 * arrives for it later (with moved(epoch) to the sender's node).
 */
export function handOff(rt: RuntimeImpl, cell: TaskCell, node: string, epoch: number, mid: string): void {
  const cluster = rt.cluster!;
  leave(rt, cell, node, epoch);
  cluster.handedOff(cell.id, node);
  // What was queued here goes ahead of anything that reached the target directly: one
  // envelope, then the marker that lets the target take its held messages.
  // Stamped sends keep their (origin, seq): [msg, askId | null, seq?, origin?].
  const items = cell.drainAll().map(({ msg, reply, stamp }) => {
    const askId = reply ? cluster.expectReply(node, cell.id, reply) : null;
    return stamp ? [msg, askId, stamp.seq, stamp.origin] : [msg, askId];
  });
  try {
    cluster.sendTo(node, [Env.control, Control.migForward, { mid, items }]);
    cluster.sendTo(node, [Env.control, Control.migRedirected, { mid }]);
  } catch (err) {
    for (const [msg] of items) rt.deadLetter(cell.id, msg, 'node-down');
    cluster.failAsksTo(node, 'unreachable during a migration');
    rt.log.error({ err, task: cell.id, peer: node }, 'forwarding a migrated task\'s mailbox failed');
  }
}

/**
 * A frozen cell whose task lives on elsewhere already (a commit in doubt that the directory
 * settled after the target died and the RMS re-placed the task): it leaves this node, and what it
 * had queued is routed to where the task is now, in order.
 */
export function letGo(rt: RuntimeImpl, cell: TaskCell, node: string, epoch: number): void {
  if (cell.status === 'stopped') return; // let go already (a re-placement here superseded it)
  leave(rt, cell, node, epoch);
  for (const { msg, reply, stamp } of cell.drainAll()) rt.cluster!.route(cell.id, msg, reply, stamp);
}

/** The cell stops here for good (its epoch is stale) and this node learns where the task is now. */
function leave(rt: RuntimeImpl, cell: TaskCell, node: string, epoch: number): void {
  cell.status = 'stopped';
  cell.fence('migrated');
  rt.directory.delete(cell.id);
  cell.parent?.children.delete(cell.id);
  cell.resource.detach(cell);
  rt.system.stop(cell.handle);
  rt.cluster!.learn(cell.id, node, epoch);
}

/** A cell moved to another resource (re-placement): the directory hears of it. */
export function placementChanged(rt: RuntimeImpl, cell: TaskCell): void {
  const report = (c: TaskCell) => {
    rt.cluster?.report('add', dirEntry(rt.name, c));
    for (const child of c.children.values()) report(child);
  };
  report(cell);
}
