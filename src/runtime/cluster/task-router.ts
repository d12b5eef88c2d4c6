/**
 * The routing of messages and asks to tasks on other nodes, for one ClusterNode: the node-local
 * cache of the directory, locating a task the cache does not know (by asking the RMS), the asks
 * waiting for a REPLY, stamped sends (sender-side replay), what arrives for a task that is not
 * here (forwarded on), and the switch to a moved task's new node once its stragglers are in.
 */
import { LRUCache } from 'lru-cache';
import { NodeDownError, UnknownTaskError } from '../../errors.js';
import type { Reply } from '../../actors/reply.js';
import type { Stamp } from '../../actors/mailbox.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { Env } from '../transport/frames.js';
import type { Link } from '../transport/link.js';
import { errorFromWire } from '../transport/wire-errors.js';
import type { ClusterNode } from './cluster-node.js';
import { type Outgoing, seqEnvelope } from './sender-replay.js';
import { Control } from './types.js';

interface PendingAsk {
  reply: Reply;
  node: string;
  taskId: string;
}

/** Longest a sender holds messages for a moved task while its stragglers drain, ms. */
const SWITCH_WAIT_MS = 2000;

export class TaskRouter {
  private readonly cache: LRUCache<string, { node: string; epoch: number }>;
  private readonly locating = new Map<string, Outgoing[]>();
  private readonly pendingAsks = new Map<number, PendingAsk>();
  /** Tasks this node handed to another by migration, and to which node (the most recent 10,000). */
  private readonly handedOffTo = new Map<string, string>();
  private readonly switching = new Map<string, { queue: Outgoing[]; timer: TimerHandle }>();

  /** `nextAskId`: the node's ask ids (shared with its requests). */
  constructor(
    private readonly node: ClusterNode,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly nextAskId: () => number,
  ) {
    this.cache = new LRUCache({ max: node.options.directoryCacheSize });
  }

  /** Cancels every wait for a moved task's stragglers (the node is stopping). */
  cancelSwitches(): void {
    for (const sw of this.switching.values()) sw.timer.cancel();
  }

  /** Fails every ask still waiting for a REPLY (the node is stopping). */
  failAllAsks(reason: string): void {
    for (const [, p] of this.pendingAsks) p.reply.reject(new NodeDownError(this.node.id, p.taskId, reason));
    this.pendingAsks.clear();
  }

  /** Fails every ask waiting on `node` for a REPLY. */
  failAsksTo(node: string, reason: string): void {
    for (const [id, p] of this.pendingAsks) {
      if (p.node !== node) continue;
      this.pendingAsks.delete(id);
      p.reply.reject(new NodeDownError(node, p.taskId, reason));
    }
  }

  /** A node is gone for good: the cache forgets the tasks it had there. */
  forgetNode(node: string): void {
    for (const [task, loc] of this.cache.entries()) if (loc.node === node) this.cache.delete(task);
  }

  /** Routes a message for a task not hosted here. Throws only for a plain send the link refuses. */
  route(taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp): void {
    const replay = this.node.replay;
    let out: Outgoing = { msg, reply, stamp };
    if (reply === undefined && stamp === undefined && replay) {
      // A plain send of this node: stamped and kept until a stored snapshot covers it.
      const entry = replay.stamp(taskId, msg);
      out = { msg, reply, stamp: { origin: this.node.id, seq: entry.seq }, bytes: entry.bytes };
      if (replay.isBlocked(taskId)) return; // goes out in order when the stream reopens
    }
    this.routeOut(taskId, out);
  }

  /** Routes a message that needs no stamp (any more): by cache, by asking the RMS, or held while a move settles. */
  routeOut(taskId: string, out: Outgoing): void {
    const sw = this.switching.get(taskId);
    if (sw) {
      sw.queue.push(out);
      return;
    }
    const loc = this.cache.get(taskId);
    if (loc) {
      this.sendToTask(loc.node, taskId, out);
      return;
    }
    const waiting = this.locating.get(taskId);
    if (waiting) {
      waiting.push(out);
      return;
    }
    this.locating.set(taskId, [out]);
    const { rms, rmsNode } = this.node;
    if (rms) rms.lookup(taskId, (e) => this.located(taskId, e?.node ?? null, e?.epoch ?? 0));
    else if (rmsNode === undefined || !this.node.trySend(rmsNode, [Env.control, Control.locate, { id: taskId }])) this.located(taskId, null, 0);
  }

  located(taskId: string, node: string | null, epoch: number): void {
    const waiting = this.locating.get(taskId) ?? [];
    this.locating.delete(taskId);
    if (node !== null && node !== this.node.id) this.cache.set(taskId, { node, epoch });
    // No such task: what this node kept for it will never be delivered.
    if (node === null) this.node.replay?.forget(taskId);
    for (const out of waiting) {
      const { msg, reply, stamp } = out;
      if (node === null) this.unknownTask(taskId, msg, reply);
      else if (node === this.node.id) this.node.host.deliverLocal(taskId, msg, reply, stamp) || this.unknownTask(taskId, msg, reply);
      else {
        try {
          this.sendToTask(node, taskId, out);
        } catch (err) {
          this.node.host.deadLetter(taskId, msg, 'unknown-task');
          reply?.reject(err);
        }
      }
    }
  }

  private unknownTask(taskId: string, msg: unknown, reply: Reply | undefined): true {
    this.node.host.deadLetter(taskId, msg, 'unknown-task');
    reply?.reject(new UnknownTaskError(taskId));
    return true;
  }

  /** Registers `reply` to be settled by a REPLY from `node`; the ask id to send with the message. */
  expectReply(node: string, taskId: string, reply: Reply): number {
    const askId = this.nextAskId();
    this.pendingAsks.set(askId, { reply, node, taskId });
    if ('onSettled' in reply) (reply as { onSettled: (() => void) | undefined }).onSettled = () => this.pendingAsks.delete(askId);
    return askId;
  }

  /** A REPLY came: settles its ask, unless that timed out or failed already. */
  replied(askId: number, ok: boolean, value: unknown): void {
    const pending = this.pendingAsks.get(askId);
    if (!pending) return; // timed out or failed already
    this.pendingAsks.delete(askId);
    if (ok) pending.reply.resolve(value);
    else pending.reply.reject(errorFromWire(value));
  }

  private sendToTask(node: string, taskId: string, out: Outgoing): void {
    const { msg, reply, stamp } = out;
    if (stamp) {
      this.sendStamped(node, taskId, out, stamp);
      return;
    }
    if (!reply) {
      this.node.sendTo(node, [Env.send, taskId, msg]);
      return;
    }
    const askId = this.expectReply(node, taskId, reply);
    try {
      this.node.sendTo(node, [Env.ask, taskId, msg, askId]);
    } catch (err) {
      this.pendingAsks.delete(askId);
      reply.reject(err);
    }
  }

  /**
   * A stamped send on its way. One of this node's own: its stream is blocked while its node cannot
   * be reached (kept, resent later); a full link refuses it for good. One forwarded for another
   * origin carries that origin, and if it cannot go on, its origin resends it.
   */
  private sendStamped(node: string, taskId: string, out: Outgoing, stamp: Stamp): void {
    const own = stamp.origin === this.node.id;
    const replay = this.node.replay;
    if (own && replay) {
      if (replay.isBlocked(taskId)) return;
      replay.sentTo(taskId, node);
    }
    try {
      this.node.sendEncodedTo(node, own && out.bytes ? out.bytes : seqEnvelope(taskId, out.msg, stamp, own ? undefined : stamp.origin));
    } catch (err) {
      if (err instanceof NodeDownError) {
        if (own) replay?.block(taskId);
        else this.node.forwardsDropped++;
        return;
      }
      if (own) replay?.discard(taskId, stamp.seq);
      throw err;
    }
  }

  /**
   * Sends a stream's kept messages again, in order, to `node` (or hands them to the task here):
   * its task was re-placed there, or the link to it came back. `covered` is what the task's state
   * holds already (from its restored snapshot); the task drops any other repeat itself.
   */
  resendStream(taskId: string, node: string, covered: number): void {
    const replay = this.node.replay;
    if (!replay) return;
    for (const e of replay.unblock(taskId, covered)) {
      const out: Outgoing = { msg: e.msg, reply: undefined, stamp: { origin: this.node.id, seq: e.seq }, bytes: e.bytes };
      if (node === this.node.id) {
        if (!this.node.host.deliverLocal(taskId, e.msg, undefined, out.stamp)) this.node.host.deadLetter(taskId, e.msg, 'unknown-task');
        continue;
      }
      try {
        this.sendToTask(node, taskId, out);
      } catch (err) {
        this.node.host.deadLetter(taskId, e.msg, 'node-down');
        this.log.warn({ err, task: taskId, peer: node }, 'resending a kept message failed');
      }
      if (replay.isBlocked(taskId)) return; // cut off again: the rest waits
    }
  }

  /**
   * The stamp of a plain send to a task that lives here now, while sends this node made to it
   * when it lived elsewhere (stamped; `applied` of them applied so far) are not all applied:
   * stamped and kept as they were, the send waits in the task for them (TaskCell.sequenced)
   * instead of overtaking them. Undefined when none is outstanding.
   */
  stampLocal(taskId: string, applied: number, msg: unknown): Stamp | undefined {
    const replay = this.node.replay;
    if (!replay || replay.lastSeq(taskId) <= applied) return undefined;
    // Kept ones that could not be sent (their link was down) are due here now, before this one.
    if (replay.isBlocked(taskId)) this.resendStream(taskId, this.node.id, applied);
    return { origin: this.node.id, seq: replay.stamp(taskId, msg).seq };
  }

  /** Cancels a sender's wait for a moved task's stragglers; returns what waited (re-placement). */
  takeSwitching(taskId: string): Outgoing[] {
    const sw = this.switching.get(taskId);
    if (!sw) return [];
    this.switching.delete(taskId);
    sw.timer.cancel();
    return sw.queue;
  }

  /** The node a task lives on as far as this node knows (its cache, or the RMS's directory). */
  ownerOf(taskId: string): string | undefined {
    return this.cache.get(taskId)?.node ?? this.node.rms?.directory.get(taskId)?.node;
  }

  /**
   * A task this node sends to has moved. Messages already on their way to the old owner will be
   * forwarded from there; sending straight to the new owner now could overtake them. So new
   * messages for the task wait here until a marker sent through the old owner reaches the new
   * one (flush -> flush-arrive -> flush-ack), or at worst `SWITCH_WAIT_MS`.
   */
  moved(link: Link, taskId: string, node: string, epoch: number): void {
    const known = this.cache.get(taskId);
    if (known && known.epoch >= epoch) return;
    this.learn(taskId, node, epoch);
    if (node === this.node.id || this.switching.has(taskId)) return;
    const timer = this.clock.setTimer(() => this.switched(taskId), SWITCH_WAIT_MS);
    this.switching.set(taskId, { queue: [], timer });
    if (!this.node.trySend(link.peer, [Env.control, Control.flush, { task: taskId, to: node, from: this.node.id }])) this.switched(taskId);
  }

  /** The stragglers of a moved task are in (or the wait is over): what waited goes out in order. */
  switched(taskId: string): void {
    const sw = this.switching.get(taskId);
    if (!sw) return;
    this.switching.delete(taskId);
    sw.timer.cancel();
    for (const out of sw.queue) {
      const { msg, reply } = out;
      try {
        this.routeOut(taskId, out);
      } catch (err) {
        this.node.host.deadLetter(taskId, msg, 'node-down');
        reply?.reject(err);
      }
    }
  }

  /** A migration moved a local task to `node`: its stragglers from `node` itself go back there. */
  handedOff(taskId: string, node: string): void {
    this.handedOffTo.delete(taskId);
    this.handedOffTo.set(taskId, node);
    if (this.handedOffTo.size > 10_000) this.handedOffTo.delete(this.handedOffTo.keys().next().value!);
  }

  /**
   * This node just took `taskId` over: what it had queued for the task while locating it or while
   * waiting out an earlier move's stragglers is handed back, in order, to be delivered here.
   */
  takeQueued(taskId: string): Array<{ msg: unknown; reply: Reply | undefined }> {
    const out = this.locating.get(taskId) ?? [];
    this.locating.delete(taskId);
    const sw = this.switching.get(taskId);
    if (sw) {
      sw.timer.cancel();
      this.switching.delete(taskId);
      out.push(...sw.queue);
    }
    return out;
  }

  /**
   * Sends a marker for `taskId` through `via` (a migration's source) that comes back here once
   * everything this node sent to the task through `via` before it has been forwarded back.
   */
  flushThrough(via: string, taskId: string): boolean {
    return this.node.trySend(via, [Env.control, Control.flush, { task: taskId, to: this.node.id, from: this.node.id }]);
  }

  /** Records where a task lives now (from a directory update or a `moved` answer). */
  learn(taskId: string, node: string, epoch: number): void {
    const known = this.cache.get(taskId);
    if (known && known.epoch > epoch) return;
    if (node === this.node.id) this.cache.delete(taskId);
    else this.cache.set(taskId, { node, epoch });
  }

  /** A message for `taskId` came over `link`: delivered here, or sent on to where the task went. */
  inbound(link: Link, taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp): void {
    if (this.node.host.deliverLocal(taskId, msg, reply, stamp, link.peer)) return;
    // Not here (any more): forward it, and tell the sender's node where the task went.
    const rms = this.node.rms;
    const loc = this.cache.get(taskId) ?? (rms ? rms.directory.get(taskId) : undefined);
    if (loc && loc.node === link.peer && this.handedOffTo.get(taskId) === link.peer) {
      // Sent by the very node this one handed the task to, before it took over: back it goes.
      this.route(taskId, msg, reply, stamp);
      return;
    }
    if (loc && loc.node !== this.node.id && loc.node !== link.peer) {
      // Forward first: the straggler leaves for the new owner before its sender can learn the
      // new place and send there directly.
      this.route(taskId, msg, reply, stamp);
      link.send([Env.moved, taskId, loc.node, loc.epoch]);
      return;
    }
    if (!rms && loc === undefined) {
      this.route(taskId, msg, reply, stamp);
      return;
    }
    this.unknownTask(taskId, msg, reply);
  }
}
