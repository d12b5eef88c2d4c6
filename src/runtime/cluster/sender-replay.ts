/**
 * The control side of sender-side replay (see replay-log.ts for the buffer):
 *   covered   RMS -> origin: a stored snapshot applied your stream to a task up to seq; trim
 *   replaced  RMS -> all: a dead node's task runs elsewhere now, restored with this applied map;
 *             each sender resends, in order, what it kept past its own entry, before anything newer
 *   forget    RMS -> all: tasks stopped (or lost: nowhere to re-place them); drop what was kept
 * and the RMS's part: which origins to tell, batched per snapshot shipment.
 */
import type { Reply } from '../../actors/reply.js';
import type { Stamp } from '../../actors/mailbox.js';
import { Env, encodeEnvelope } from '../transport/frames.js';
import type { ClusterNode } from './cluster-node.js';
import { Control, type Replaced, type ShippedSnapshot } from './types.js';

/** A message on its way to a task of another node; a stamped one may carry its encoded SEQ envelope. */
export interface Outgoing {
  msg: unknown;
  reply: Reply | undefined;
  stamp?: Stamp | undefined;
  bytes?: Uint8Array;
}

/** The SEQ envelope of a stamped send; `origin` is left out when the receiving link's peer is it. */
export function seqEnvelope(taskId: string, msg: unknown, stamp: Stamp, origin: string | undefined): Uint8Array {
  return encodeEnvelope(origin === undefined ? [Env.seq, taskId, msg, stamp.seq] : [Env.seq, taskId, msg, stamp.seq, origin]);
}

/** A node's handling of the replay control messages. */
export function onReplayControl(node: ClusterNode, kind: string, p: Record<string, unknown>): void {
  const replay = node.replay;
  switch (kind) {
    case Control.covered:
      for (const [task, seq] of (p['tasks'] as Array<[string, number]>) ?? []) replay?.cover(String(task), Number(seq));
      return;
    case Control.replaced:
      replaced(node, (p['tasks'] as Replaced[]) ?? []);
      return;
    case Control.forget:
      for (const task of (p['tasks'] as string[]) ?? []) {
        const kept = replay?.forget(String(task)) ?? [];
        if (p['lost'] === true) for (const e of kept) node.host.deadLetter(String(task), e.msg, 'node-down');
      }
      return;
    default:
      return;
  }
}

/** Tasks of a dead node run elsewhere now: learn where, and resend what their snapshots lack. */
export function replaced(node: ClusterNode, tasks: readonly Replaced[]): void {
  for (const [id, target, epoch, applied] of tasks) {
    node.learn(id, target, epoch);
    // A wait for stragglers of an earlier move is moot: the task starts over from its snapshot.
    const waiting = node.takeSwitching(id);
    node.resendStream(id, target, applied[node.id] ?? 0);
    for (const out of waiting) {
      if (out.stamp?.origin === node.id) continue; // kept, and just resent
      try {
        node.routeOut(id, out);
      } catch (err) {
        node.host.deadLetter(id, out.msg, 'node-down');
        out.reply?.reject(err);
      }
    }
  }
}

/**
 * RMS: the origins named in newly stored snapshots' applied maps, with the seqs now covered for
 * each (only those that went up since the snapshot it replaces). Origin -> [[task, seq]].
 */
export function coverageOf(stored: ReadonlyArray<{ now: ShippedSnapshot; before: ShippedSnapshot | undefined }>): Map<string, Array<[string, number]>> {
  const out = new Map<string, Array<[string, number]>>();
  for (const { now, before } of stored) {
    for (const [origin, seq] of Object.entries(now.applied ?? {})) {
      if (seq <= (before?.applied?.[origin] ?? 0)) continue;
      let list = out.get(origin);
      if (!list) out.set(origin, (list = []));
      list.push([now.id, seq]);
    }
  }
  return out;
}
