/**
 * A node's place in the cluster: its links (one per peer node), membership, the routing of
 * messages and asks to tasks on other nodes, and the node-local cache of the directory.
 *
 * Who dials whom, so each pair of nodes has one link: every agent dials the RMS; between agents,
 * the one with the smaller id dials. Messages for a peer whose link is not up yet wait in a
 * bounded queue. Everything from one node to another crosses one link in order, so per-sender
 * FIFO holds. The routing and the directory cache are in task-router.ts, what the node does with
 * each envelope that arrives in inbound.ts, and the RMS-only parts (directory, failure detection,
 * re-placement) in rms.ts.
 */
import { LinkOverloadedError, NodeDownError } from '../../errors.js';
import type { Reply } from '../../actors/reply.js';
import type { Stamp } from '../../actors/mailbox.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { listen, type SocketServer } from '../ws-adapter.js';
import { Env, type Envelope, decodeFrame, encodeEnvelope, encodeEnvelopeWithTail, frameOf, joined } from '../transport/frames.js';
import { acceptLink, dialLink, type HandshakeOptions } from '../transport/handshake.js';
import { CloseCode, type Link, type LinkLimits } from '../transport/link.js';
import { Control, type DirEntry, type MemberInfo } from './types.js';
import type { ClusterHost } from './host.js';
import { Rms } from './rms.js';
import { PendingRequests, type RequestExtras } from './requests.js';
import { ReplayLog } from './replay-log.js';
import type { Outgoing } from './sender-replay.js';
import { TaskRouter } from './task-router.js';
import { DirectoryLookup, onEnvelope } from './inbound.js';

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

export class ClusterNode {
  readonly id: string;
  url: string | undefined;
  readonly links = new Map<string, Link>();
  readonly members = new Map<string, MemberInfo>();
  readonly rms: Rms | undefined;
  /** The RMS's node id, once joined (our own id when we are the RMS). */
  rmsNode: string | undefined;
  private server: SocketServer | undefined;
  private readonly waitingForLink = new Map<string, Uint8Array[]>();
  private readonly dialing = new Set<string>();
  private askSeq = 0;
  /** The routing of messages and asks to tasks on other nodes, with the directory cache: task-router.ts. */
  readonly router: TaskRouter;
  /** Sends to tasks on other nodes, kept until a stored snapshot covers them (undefined: replay off). */
  readonly replay: ReplayLog | undefined;
  /** Stamped messages of other origins this node could not forward (their origin resends them). */
  forwardsDropped = 0;
  readonly requests: PendingRequests;
  private timers: TimerHandle[] = [];
  private stopped = false;
  private readonly handshake: HandshakeOptions;

  constructor(
    readonly host: ClusterHost,
    readonly options: ResolvedClusterOptions,
    readonly clock: Clock,
    readonly log: Logger,
  ) {
    this.id = host.nodeId;
    this.router = new TaskRouter(this, clock, log, () => ++this.askSeq);
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
    this.router.cancelSwitches();
    this.rms?.stop();
    for (const link of [...this.links.values()]) link.close(CloseCode.goingAway, 'node shutting down');
    this.router.failAllAsks('this node is shutting down');
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
    envelope: (link: Link, env: Envelope) => onEnvelope(this, link, env),
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
    this.router.failAsksTo(node, reason);
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
    this.router.forgetNode(node);
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

  // --- routing (task-router.ts) ---

  /** Routes a message for a task not hosted here. Throws only for a plain send the link refuses. */
  route(taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp): void {
    this.router.route(taskId, msg, reply, stamp);
  }

  /** Routes a message that needs no stamp (any more): by cache, by asking the RMS, or held while a move settles. */
  routeOut(taskId: string, out: Outgoing): void {
    this.router.routeOut(taskId, out);
  }

  /** Registers `reply` to be settled by a REPLY from `node`; the ask id to send with the message. */
  expectReply(node: string, taskId: string, reply: Reply): number {
    return this.router.expectReply(node, taskId, reply);
  }

  /** A plain send to a task here that must wait for this node's earlier sends to it (see TaskRouter.stampLocal). */
  stampLocal(taskId: string, applied: number, msg: unknown): Stamp | undefined {
    return this.router.stampLocal(taskId, applied, msg);
  }

  /** Sends a stream's kept messages again, in order, to `node` (or hands them to the task here). */
  resendStream(taskId: string, node: string, covered: number): void {
    this.router.resendStream(taskId, node, covered);
  }

  /** Cancels a sender's wait for a moved task's stragglers; returns what waited (re-placement). */
  takeSwitching(taskId: string): Outgoing[] {
    return this.router.takeSwitching(taskId);
  }

  /** The node a task lives on as far as this node knows (its cache, or the RMS's directory). */
  ownerOf(taskId: string): string | undefined {
    return this.router.ownerOf(taskId);
  }

  /** A migration moved a local task to `node`: its stragglers from `node` itself go back there. */
  handedOff(taskId: string, node: string): void {
    this.router.handedOff(taskId, node);
  }

  /** This node just took `taskId` over: what it had queued for the task, in order, to be delivered here. */
  takeQueued(taskId: string): Array<{ msg: unknown; reply: Reply | undefined }> {
    return this.router.takeQueued(taskId);
  }

  /** Sends a marker for `taskId` through `via` (a migration's source) that comes back once what this node sent through `via` is in. */
  flushThrough(via: string, taskId: string): boolean {
    return this.router.flushThrough(via, taskId);
  }

  /** Records where a task lives now (from a directory update or a `moved` answer). */
  learn(taskId: string, node: string, epoch: number): void {
    this.router.learn(taskId, node, epoch);
  }

  /** Tells the RMS (or, on the RMS, the directory) about a change of a local task. */
  report(op: 'add' | 'remove', entry: DirEntry): void {
    if (this.rms) this.rms.applyDir(op, entry);
    else if (this.rmsNode !== undefined) this.trySend(this.rmsNode, [Env.control, Control.dir, { op, entry }]);
  }

  /** The RMS's list of live members: the gone ones are down, the new ones joined (and dialed, when ours to dial). */
  setMembers(members: MemberInfo[]): void {
    const alive = new Set(members.map((m) => m.node));
    for (const node of [...this.members.keys()]) if (!alive.has(node) && node !== this.id) this.nodeDown(node);
    const added = members.filter((m) => !this.members.has(m.node) && m.node !== this.id);
    for (const m of members) this.members.set(m.node, m);
    for (const m of added) this.host.nodeEvent('node.joined', m.node);
    // The smaller id dials, so each pair has one link.
    for (const m of members) if (m.node !== this.id && !m.rms && this.id < m.node) this.ensureLink(m.node);
  }
}
