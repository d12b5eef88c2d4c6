/**
 * A node's place in the cluster: its links (one per peer node), membership, the routing of
 * messages and asks to tasks on other nodes, and the node-local cache of the directory.
 *
 * Who dials whom, so each pair of nodes has one link: every agent dials the RMS; between agents,
 * the one with the smaller id dials. Messages for a peer whose link is not up yet wait in a
 * bounded queue. Everything from one node to another crosses one link in order, so per-sender
 * FIFO holds. The RMS-only parts (directory, failure detection, re-placement) are in rms.ts.
 */
import { LRUCache } from 'lru-cache';
import { LinkOverloadedError, NodeDownError, UnknownTaskError } from '../../errors.js';
import type { Reply } from '../../actors/reply.js';
import type { Stamp } from '../../actors/mailbox.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { listen, type SocketServer } from '../ws-adapter.js';
import { Env, type Envelope, decodeFrame, encodeEnvelope, encodeEnvelopeWithTail, frameOf, joined } from '../transport/frames.js';
import { acceptLink, dialLink, type HandshakeOptions } from '../transport/handshake.js';
import { CloseCode, type Link, type LinkLimits } from '../transport/link.js';
import { errorFromWire } from '../transport/wire-errors.js';
import { Control, type DirEntry, type MemberInfo } from './types.js';
import type { ClusterHost } from './host.js';
import { Rms } from './rms.js';
import { PendingRequests, RemoteReply, type RequestExtras } from './requests.js';
import { ReplayLog } from './replay-log.js';
import { type Outgoing, onReplayControl, seqEnvelope } from './sender-replay.js';

export interface ResolvedClusterOptions {
  listen: { host: string; port: number } | undefined;
  join: string | undefined;
  rms: boolean;
  secret: string;
  tls: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer } | undefined;
  heartbeatIntervalMs: number;
  failureTimeoutMs: number;
  limits: LinkLimits;
  snapshotShipIntervalMs: number;
  directoryCacheSize: number;
  locateGraceMs: number;
  /** Bytes kept for sender-side replay; undefined: replay is off. */
  replayBufferBytes: number | undefined;
}

interface PendingAsk {
  reply: Reply;
  node: string;
  taskId: string;
}

/** The request a member sends the RMS for a task's directory entry. */
const DirectoryLookup = 'dir.lookup';

/** Longest a sender holds messages for a moved task while its stragglers drain, ms. */
const SWITCH_WAIT_MS = 2000;

export class ClusterNode {
  readonly id: string;
  url: string | undefined;
  readonly links = new Map<string, Link>();
  readonly members = new Map<string, MemberInfo>();
  readonly rms: Rms | undefined;
  /** The RMS's node id, once joined (our own id when we are the RMS). */
  rmsNode: string | undefined;
  private server: SocketServer | undefined;
  private readonly cache: LRUCache<string, { node: string; epoch: number }>;
  private readonly waitingForLink = new Map<string, Uint8Array[]>();
  private readonly dialing = new Set<string>();
  private readonly locating = new Map<string, Outgoing[]>();
  private readonly pendingAsks = new Map<number, PendingAsk>();
  private askSeq = 0;
  /** Tasks this node handed to another by migration, and to which node (the most recent 10,000). */
  private readonly handedOffTo = new Map<string, string>();
  private readonly switching = new Map<string, { queue: Outgoing[]; timer: TimerHandle }>();
  /** Sends to tasks on other nodes, kept until a stored snapshot covers them (undefined: replay off). */
  readonly replay: ReplayLog | undefined;
  /** Stamped messages of other origins this node could not forward (their origin resends them). */
  forwardsDropped = 0;
  private readonly requests: PendingRequests;
  private timers: TimerHandle[] = [];
  private stopped = false;
  private readonly handshake: HandshakeOptions;

  constructor(
    readonly host: ClusterHost,
    readonly options: ResolvedClusterOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.id = host.nodeId;
    this.cache = new LRUCache({ max: options.directoryCacheSize });
    this.requests = new PendingRequests(clock, (node, env, tail) => this.sendTo(node, env, tail), () => ++this.askSeq);
    this.rms = options.rms ? new Rms(this, host, clock, log) : undefined;
    this.replay = options.replayBufferBytes === undefined ? undefined : new ReplayLog(this.id, options.replayBufferBytes);
    if (this.rms) this.rmsNode = this.id;
    this.handshake = { nodeId: this.id, secret: options.secret, meta: {}, limits: options.limits, clock, log };
    if (options.tls?.ca !== undefined) this.handshake.ca = options.tls.ca;
  }

  // --- lifecycle ---

  async start(): Promise<void> {
    if (this.options.listen) {
      const serverOptions: Parameters<typeof listen>[0] = { ...this.options.listen, maxPayloadBytes: this.options.limits.maxFrameBytes };
      if (this.options.tls) serverOptions.tls = { cert: this.options.tls.cert, key: this.options.tls.key };
      this.server = await listen(serverOptions, (socket) => {
        acceptLink(socket, this.handshake, this.linkEvents).then(
          (link) => this.linkUp(link),
          (err: unknown) => this.log.warn({ err }, 'refused an incoming link'),
        );
      });
      this.url = this.server.url;
    }
    this.handshake.meta = { url: this.url ?? null, rms: this.rms !== undefined };
    if (this.rms) {
      this.members.set(this.id, this.selfInfo());
      this.rms.start();
    }
    if (this.options.join) await this.joinRms(this.options.join);
    this.every(this.options.snapshotShipIntervalMs, () => this.shipSnapshots());
    if (!this.rms) this.every(this.options.heartbeatIntervalMs, () => this.heartbeat());
  }

  private every(ms: number, fn: () => void): void {
    const tick = () => {
      if (this.stopped) return;
      fn();
      this.timers.push(this.clock.setTimer(tick, ms));
    };
    this.timers.push(this.clock.setTimer(tick, ms));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    for (const sw of this.switching.values()) sw.timer.cancel();
    this.rms?.stop();
    for (const link of [...this.links.values()]) link.close(CloseCode.goingAway, 'node shutting down');
    for (const [, p] of this.pendingAsks) p.reply.reject(new NodeDownError(this.id, p.taskId, 'this node is shutting down'));
    this.pendingAsks.clear();
    this.requests.failAll(this.id, 'this node is shutting down');
    await this.server?.close();
  }

  selfInfo(): MemberInfo {
    return { node: this.id, url: this.url ?? null, rms: this.rms !== undefined, resources: this.host.localResources(), taskTypes: this.host.taskTypes() };
  }

  private async joinRms(url: string): Promise<void> {
    const link = await dialLink(url, this.handshake, this.linkEvents);
    this.rmsNode = link.peer;
    this.linkUp(link);
    link.send([Env.control, Control.join, { member: this.selfInfo(), tasks: this.host.localDirectory() }]);
    this.host.nodeEvent('node.joined', link.peer);
  }

  private rejoinLater(url: string, delayMs: number): void {
    if (this.stopped) return;
    this.timers.push(
      this.clock.setTimer(() => {
        this.joinRms(url).catch((err: unknown) => {
          this.log.warn({ err }, 'rejoining the RMS failed; retrying');
          this.rejoinLater(url, Math.min(delayMs * 2, 5000));
        });
      }, delayMs),
    );
  }

  private heartbeat(): void {
    if (this.rmsNode === undefined) return;
    this.trySend(this.rmsNode, [Env.control, Control.heartbeat, { resources: this.host.localResources(), sentAtMs: this.clock.now() }]);
  }

  private shipSnapshots(): void {
    const snaps = this.host.takeSnapshotsToShip();
    if (snaps.length === 0) return;
    if (this.rms) this.rms.storeSnapshots(snaps);
    else if (this.rmsNode !== undefined) this.trySend(this.rmsNode, [Env.control, Control.snapshots, snaps]);
  }

  // --- links ---

  private readonly linkEvents = {
    envelope: (link: Link, env: Envelope) => this.onEnvelope(link, env),
    closed: (link: Link, code: number, _err: unknown, unsent: Uint8Array[]) => {
      this.linkDown(link, code);
      this.undelivered(unsent);
    },
  };

  private linkUp(link: Link): void {
    if (this.stopped) {
      link.close(CloseCode.goingAway, 'node shutting down');
      return;
    }
    const existing = this.links.get(link.peer);
    if (existing?.isOpen) {
      link.close(CloseCode.duplicate, 'a link to this node exists');
      return;
    }
    this.links.set(link.peer, link);
    this.dialing.delete(link.peer);
    // Streams cut off from this peer go first (in order; the task drops what it had applied).
    for (const task of this.replay?.blockedOn(link.peer) ?? []) this.resendStream(task, link.peer, 0);
    const queued = this.waitingForLink.get(link.peer);
    this.waitingForLink.delete(link.peer);
    for (const bytes of queued ?? []) link.sendEncoded(bytes);
    this.rms?.linkUp(link);
  }

  private linkDown(link: Link, code: number): void {
    if (this.links.get(link.peer) !== link) return;
    this.links.delete(link.peer);
    this.replay?.blockNode(link.peer);
    this.failAsksTo(link.peer, code === CloseCode.nodeDead ? 'declared dead' : 'link closed');
    if (this.rms) this.rms.linkDown(link.peer);
    else if (link.peer === this.rmsNode && this.options.join && !this.stopped) {
      this.log.warn({ peer: link.peer }, 'lost the RMS; rejoining');
      this.rejoinLater(this.options.join, 100);
    }
  }

  /** Asks another node a question its host answers (see ClusterHost.answer); see `PendingRequests#ask` for `extra`. */
  request(node: string, kind: string, payload: unknown, timeoutMs = 5000, extra: RequestExtras = {}): Promise<unknown> {
    return this.requests.ask(node, kind, payload, timeoutMs, extra);
  }

  /** Whether `node` is a live member (not declared dead, not gone). */
  isMember(node: string): boolean {
    return this.members.has(node);
  }

  /** The RMS's directory entry for a task (undefined: none), asked over the link from a member. */
  lookupDirectory(taskId: string, timeoutMs = 5000): Promise<DirEntry | undefined> {
    if (this.rms) {
      const rms = this.rms;
      return new Promise((resolve) => rms.lookup(taskId, resolve));
    }
    if (this.rmsNode === undefined) return Promise.reject(new NodeDownError('rms', taskId, 'this node has not joined an RMS'));
    return this.requests.ask(this.rmsNode, DirectoryLookup, { id: taskId }, timeoutMs).then((e) => (e ?? undefined) as DirEntry | undefined);
  }

  /** Fails every ask waiting on `node` at once. */
  failAsksTo(node: string, reason: string): void {
    this.requests.failTo(node, reason);
    for (const [id, p] of this.pendingAsks) {
      if (p.node !== node) continue;
      this.pendingAsks.delete(id);
      p.reply.reject(new NodeDownError(node, p.taskId, reason));
    }
  }

  /** A node is gone for good: forget it, its links, its cached tasks; fail what waited on it. */
  nodeDown(node: string): void {
    if (this.members.delete(node)) this.host.nodeEvent('node.down', node);
    this.replay?.blockNode(node);
    this.links.get(node)?.close(CloseCode.nodeDead, 'declared dead');
    const queued = this.waitingForLink.get(node);
    this.waitingForLink.delete(node);
    this.failAsksTo(node, 'declared dead');
    this.undelivered(queued ?? []);
    for (const [task, loc] of this.cache.entries()) if (loc.node === node) this.cache.delete(task);
  }

  /** Envelopes that never left this node: plain sends go to dead letters (asks already failed). */
  private undelivered(encoded: readonly Uint8Array[]): void {
    for (const bytes of encoded) {
      const frame = decodeFrame(frameOf([bytes], bytes.length));
      const env = frame.ok ? frame.envelopes[0] : undefined;
      if (env && env[0] === Env.send) this.host.deadLetter(env[1], env[2], 'node-down');
      // A stamped send is kept by its origin (this node: its stream is blocked already) and resent.
      else if (env && env[0] === Env.seq && env.length === 5) this.forwardsDropped++;
    }
  }

  private ensureLink(node: string): void {
    if (this.links.has(node) || this.dialing.has(node) || this.stopped) return;
    const m = this.members.get(node);
    if (!m?.url) return;
    if (node === this.rmsNode && !this.rms) return; // the join link is redialed by rejoin
    // One link per pair: the smaller id dials; the larger one waits for it (messages queue meanwhile).
    if (m.rms || this.rms || this.id > node) return;
    this.dialing.add(node);
    dialLink(m.url, this.handshake, this.linkEvents).then(
      (link) => this.linkUp(link),
      (err: unknown) => {
        this.dialing.delete(node);
        this.log.warn({ err, peer: node }, 'dialing a peer failed');
        const queued = this.waitingForLink.get(node);
        this.waitingForLink.delete(node);
        this.failAsksTo(node, 'unreachable');
        this.undelivered(queued ?? []);
      },
    );
  }

  /**
   * Sends an envelope to a node; throws NodeDownError or LinkOverloadedError. With `tail`, the
   * envelope's last encoded value is an empty byte string that `tail` fills, uncopied until the frame.
   */
  sendTo(node: string, env: Envelope, tail?: Uint8Array): void {
    const link = this.links.get(node);
    if (link?.isOpen) {
      if (tail) link.sendEncoded(encodeEnvelopeWithTail(env, tail));
      else link.send(env);
      return;
    }
    this.sendEncodedTo(node, tail ? joined(encodeEnvelopeWithTail(env, tail)) : encodeEnvelope(env));
  }

  /** `sendTo` for an envelope encoded already. */
  sendEncodedTo(node: string, bytes: Uint8Array): void {
    const link = this.links.get(node);
    if (link?.isOpen) {
      link.sendEncoded(bytes);
      return;
    }
    if (!this.members.has(node)) throw new NodeDownError(node, undefined, 'not a member of the cluster');
    const queue = this.waitingForLink.get(node) ?? [];
    const queuedBytes = queue.reduce((n, b) => n + b.length, 0);
    if (queuedBytes + bytes.length > this.options.limits.maxPendingBytes) throw new LinkOverloadedError(node, queuedBytes, this.options.limits.maxPendingBytes);
    queue.push(bytes);
    this.waitingForLink.set(node, queue);
    this.ensureLink(node);
  }

  trySend(node: string, env: Envelope): boolean {
    try {
      this.sendTo(node, env);
      return true;
    } catch (err) {
      this.log.warn({ err, peer: node }, 'control message not sent');
      return false;
    }
  }

  // --- routing ---

  /** Routes a message for a task not hosted here. Throws only for a plain send the link refuses. */
  route(taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp): void {
    let out: Outgoing = { msg, reply, stamp };
    if (reply === undefined && stamp === undefined && this.replay) {
      // A plain send of this node: stamped and kept until a stored snapshot covers it.
      const entry = this.replay.stamp(taskId, msg);
      out = { msg, reply, stamp: { origin: this.id, seq: entry.seq }, bytes: entry.bytes };
      if (this.replay.isBlocked(taskId)) return; // goes out in order when the stream reopens
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
    if (this.rms) this.rms.lookup(taskId, (e) => this.located(taskId, e?.node ?? null, e?.epoch ?? 0));
    else if (this.rmsNode === undefined || !this.trySend(this.rmsNode, [Env.control, Control.locate, { id: taskId }])) this.located(taskId, null, 0);
  }

  private located(taskId: string, node: string | null, epoch: number): void {
    const waiting = this.locating.get(taskId) ?? [];
    this.locating.delete(taskId);
    if (node !== null && node !== this.id) this.cache.set(taskId, { node, epoch });
    // No such task: what this node kept for it will never be delivered.
    if (node === null) this.replay?.forget(taskId);
    for (const out of waiting) {
      const { msg, reply, stamp } = out;
      if (node === null) this.unknownTask(taskId, msg, reply);
      else if (node === this.id) this.host.deliverLocal(taskId, msg, reply, stamp) || this.unknownTask(taskId, msg, reply);
      else {
        try {
          this.sendToTask(node, taskId, out);
        } catch (err) {
          this.host.deadLetter(taskId, msg, 'unknown-task');
          reply?.reject(err);
        }
      }
    }
  }

  private unknownTask(taskId: string, msg: unknown, reply: Reply | undefined): true {
    this.host.deadLetter(taskId, msg, 'unknown-task');
    reply?.reject(new UnknownTaskError(taskId));
    return true;
  }

  /** Registers `reply` to be settled by a REPLY from `node`; the ask id to send with the message. */
  expectReply(node: string, taskId: string, reply: Reply): number {
    const askId = ++this.askSeq;
    this.pendingAsks.set(askId, { reply, node, taskId });
    if ('onSettled' in reply) (reply as { onSettled: (() => void) | undefined }).onSettled = () => this.pendingAsks.delete(askId);
    return askId;
  }

  private sendToTask(node: string, taskId: string, out: Outgoing): void {
    const { msg, reply, stamp } = out;
    if (stamp) {
      this.sendStamped(node, taskId, out, stamp);
      return;
    }
    if (!reply) {
      this.sendTo(node, [Env.send, taskId, msg]);
      return;
    }
    const askId = this.expectReply(node, taskId, reply);
    try {
      this.sendTo(node, [Env.ask, taskId, msg, askId]);
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
    const own = stamp.origin === this.id;
    const replay = this.replay;
    if (own && replay) {
      if (replay.isBlocked(taskId)) return;
      replay.sentTo(taskId, node);
    }
    try {
      this.sendEncodedTo(node, own && out.bytes ? out.bytes : seqEnvelope(taskId, out.msg, stamp, own ? undefined : stamp.origin));
    } catch (err) {
      if (err instanceof NodeDownError) {
        if (own) replay?.block(taskId);
        else this.forwardsDropped++;
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
    const replay = this.replay;
    if (!replay) return;
    for (const e of replay.unblock(taskId, covered)) {
      const out: Outgoing = { msg: e.msg, reply: undefined, stamp: { origin: this.id, seq: e.seq }, bytes: e.bytes };
      if (node === this.id) {
        if (!this.host.deliverLocal(taskId, e.msg, undefined, out.stamp)) this.host.deadLetter(taskId, e.msg, 'unknown-task');
        continue;
      }
      try {
        this.sendToTask(node, taskId, out);
      } catch (err) {
        this.host.deadLetter(taskId, e.msg, 'node-down');
        this.log.warn({ err, task: taskId, peer: node }, 'resending a kept message failed');
      }
      if (replay.isBlocked(taskId)) return; // cut off again: the rest waits
    }
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
    return this.cache.get(taskId)?.node ?? this.rms?.directory.get(taskId)?.node;
  }

  /**
   * A task this node sends to has moved. Messages already on their way to the old owner will be
   * forwarded from there; sending straight to the new owner now could overtake them. So new
   * messages for the task wait here until a marker sent through the old owner reaches the new
   * one (flush -> flush-arrive -> flush-ack), or at worst `SWITCH_WAIT_MS`.
   */
  private moved(link: Link, taskId: string, node: string, epoch: number): void {
    const known = this.cache.get(taskId);
    if (known && known.epoch >= epoch) return;
    this.learn(taskId, node, epoch);
    if (node === this.id || this.switching.has(taskId)) return;
    const timer = this.clock.setTimer(() => this.switched(taskId), SWITCH_WAIT_MS);
    this.switching.set(taskId, { queue: [], timer });
    if (!this.trySend(link.peer, [Env.control, Control.flush, { task: taskId, to: node, from: this.id }])) this.switched(taskId);
  }

  /** The stragglers of a moved task are in (or the wait is over): what waited goes out in order. */
  private switched(taskId: string): void {
    const sw = this.switching.get(taskId);
    if (!sw) return;
    this.switching.delete(taskId);
    sw.timer.cancel();
    for (const out of sw.queue) {
      const { msg, reply } = out;
      try {
        this.routeOut(taskId, out);
      } catch (err) {
        this.host.deadLetter(taskId, msg, 'node-down');
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
    return this.trySend(via, [Env.control, Control.flush, { task: taskId, to: this.id, from: this.id }]);
  }

  /** Records where a task lives now (from a directory update or a `moved` answer). */
  learn(taskId: string, node: string, epoch: number): void {
    const known = this.cache.get(taskId);
    if (known && known.epoch > epoch) return;
    if (node === this.id) this.cache.delete(taskId);
    else this.cache.set(taskId, { node, epoch });
  }

  /** Tells the RMS (or, on the RMS, the directory) about a change of a local task. */
  report(op: 'add' | 'remove', entry: DirEntry): void {
    if (this.rms) this.rms.applyDir(op, entry);
    else if (this.rmsNode !== undefined) this.trySend(this.rmsNode, [Env.control, Control.dir, { op, entry }]);
  }

  // --- inbound ---

  private onEnvelope(link: Link, env: Envelope): void {
    this.rms?.heard(link.peer);
    switch (env[0]) {
      case Env.send:
        this.inbound(link, env[1], env[2], undefined);
        return;
      case Env.ask:
        this.inbound(link, env[1], env[2], new RemoteReply(this, link.peer, env[3]));
        return;
      case Env.reply: {
        const pending = this.pendingAsks.get(env[1]);
        if (!pending) return; // timed out or failed already
        this.pendingAsks.delete(env[1]);
        if (env[2]) pending.reply.resolve(env[3]);
        else pending.reply.reject(errorFromWire(env[3]));
        return;
      }
      case Env.seq:
        this.inbound(link, env[1], env[2], undefined, { origin: env.length === 5 ? env[4] : link.peer, seq: env[3] });
        return;
      case Env.moved:
        this.moved(link, env[1], env[2], env[3]);
        return;
      case Env.control:
        this.onControl(link, env[1], env[2]);
        return;
      default:
        return;
    }
  }

  private inbound(link: Link, taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp): void {
    if (this.host.deliverLocal(taskId, msg, reply, stamp, link.peer)) return;
    // Not here (any more): forward it, and tell the sender's node where the task went.
    const loc = this.cache.get(taskId) ?? (this.rms ? this.rms.directory.get(taskId) : undefined);
    if (loc && loc.node === link.peer && this.handedOffTo.get(taskId) === link.peer) {
      // Sent by the very node this one handed the task to, before it took over: back it goes.
      this.route(taskId, msg, reply, stamp);
      return;
    }
    if (loc && loc.node !== this.id && loc.node !== link.peer) {
      // Forward first: the straggler leaves for the new owner before its sender can learn the
      // new place and send there directly.
      this.route(taskId, msg, reply, stamp);
      link.send([Env.moved, taskId, loc.node, loc.epoch]);
      return;
    }
    if (!this.rms && loc === undefined) {
      this.route(taskId, msg, reply, stamp);
      return;
    }
    this.unknownTask(taskId, msg, reply);
  }

  private onControl(link: Link, kind: string, payload: unknown): void {
    const p = (payload ?? {}) as Record<string, unknown>;
    switch (kind) {
      case Control.members:
        this.setMembers(p['members'] as MemberInfo[]);
        return;
      case Control.nodeDown:
        this.nodeDown(String(p['node']));
        return;
      case Control.located:
        this.located(String(p['id']), (p['node'] as string | null) ?? null, Number(p['epoch'] ?? 0));
        return;
      case Control.spawn:
        this.host.spawnRequested(link.peer, p);
        return;
      case Control.spawnFailed:
        this.log.error({ task: p['id'], peer: link.peer, err: p['error'] }, 'remote spawn failed');
        return;
      case Control.restore:
        this.host.restoreRequested(p['tasks'] as never);
        return;
      case Control.flush:
        // Behind every straggler this node forwarded for that sender: on to the new owner.
        this.trySend(String(p['to']), [Env.control, Control.flushArrive, { task: p['task'], from: p['from'] }]);
        return;
      case Control.flushArrive:
        if (p['from'] === this.id) this.host.migrationFlushed(String(p['task']));
        else this.trySend(String(p['from']), [Env.control, Control.flushAck, { task: p['task'] }]);
        return;
      case Control.flushAck:
        this.switched(String(p['task']));
        return;
      case Control.migForward:
        this.host.migrationForwarded(
          String(p['mid']),
          ((p['items'] as Array<[unknown, number | null, number?, string?]>) ?? []).map(([msg, askId, seq, origin]) => ({
            msg,
            reply: askId === null ? undefined : new RemoteReply(this, link.peer, askId),
            stamp: seq === undefined ? undefined : { origin: String(origin), seq },
          })),
        );
        return;
      case Control.migRedirected:
        this.host.migrationRedirected(String(p['mid']));
        return;
      case Control.heartbeatAck:
        if (typeof p['sentAtMs'] === 'number') this.host.rttMeasured(this.clock.now() - p['sentAtMs']);
        return;
      case Control.request:
        void this.requests.answer(link, p, (kind, payload) => (kind === DirectoryLookup && this.rms ? this.lookupDirectory(String((payload as { id?: unknown } | null)?.id)) : this.host.answer(kind, payload)));
        return;
      case Control.response:
        this.requests.settle(p);
        return;
      case Control.covered:
      case Control.replaced:
      case Control.forget:
        onReplayControl(this, kind, p);
        return;
      default:
        if (this.rms) this.rms.onControl(link, kind, p);
        else this.log.warn({ peer: link.peer, kind }, 'unknown control message');
    }
  }

  private setMembers(members: MemberInfo[]): void {
    const alive = new Set(members.map((m) => m.node));
    for (const node of [...this.members.keys()]) if (!alive.has(node) && node !== this.id) this.nodeDown(node);
    const added = members.filter((m) => !this.members.has(m.node) && m.node !== this.id);
    for (const m of members) this.members.set(m.node, m);
    for (const m of added) this.host.nodeEvent('node.joined', m.node);
    // The smaller id dials, so each pair has one link.
    for (const m of members) if (m.node !== this.id && !m.rms && this.id < m.node) this.ensureLink(m.node);
  }
}
