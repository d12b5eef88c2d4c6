/**
 * The RMS role: the authoritative directory TaskId -> (node, resource, epoch), the last snapshot
 * of every task, membership, and failure detection. A node silent for `failureTimeoutMs` is
 * declared dead: a supervision event that re-places its tasks from their snapshots on live
 * resources. The RMS is not on the data path: nodes cache locations and talk to each other.
 * If the RMS restarts, nodes rejoin and report their tasks, which rebuilds the directory.
 */
import { NoResourceError } from '../../errors.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { Env } from '../transport/frames.js';
import type { Link } from '../transport/link.js';
import { place } from '../placement.js';
import { candidatesOf, type NodeCandidate } from './candidates.js';
import type { ClusterHost } from './host.js';
import type { ClusterNode } from './cluster-node.js';
import { Control, type DirEntry, type MemberInfo, type Replaced, type ShippedSnapshot } from './types.js';
import { coverageOf, onReplayControl, replaced } from './sender-replay.js';

export class Rms {
  readonly directory = new Map<string, DirEntry>();
  readonly snapshots = new Map<string, ShippedSnapshot>();
  private readonly lastHeard = new Map<string, number>();
  private readonly waitingForEntry = new Map<string, Array<(entry: DirEntry | undefined) => void>>();
  private readonly graceTimers = new Map<string, TimerHandle>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly node: ClusterNode,
    private readonly host: ClusterHost,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = () => {
      this.checkFailures();
      this.timer = this.clock.setTimer(tick, this.node.options.heartbeatIntervalMs);
    };
    this.timer = this.clock.setTimer(tick, this.node.options.heartbeatIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    for (const id of [...this.waitingForEntry.keys()]) this.answerWaiting(id, undefined);
  }

  heard(node: string): void {
    if (this.node.members.has(node)) this.lastHeard.set(node, this.clock.now());
  }

  linkUp(_link: Link): void {}

  linkDown(peer: string): void {
    this.log.warn({ peer }, 'link to a member closed; waiting for heartbeats to decide');
  }

  onControl(link: Link, kind: string, p: Record<string, unknown>): void {
    switch (kind) {
      case Control.join: {
        const member = p['member'] as MemberInfo;
        const rejoin = this.node.members.has(member.node);
        this.node.members.set(member.node, member);
        this.lastHeard.set(member.node, this.clock.now());
        for (const e of (p['tasks'] as DirEntry[]) ?? []) this.applyDir('add', e);
        if (!rejoin) this.host.nodeEvent('node.joined', member.node);
        this.broadcastMembers();
        return;
      }
      case Control.heartbeat: {
        const m = this.node.members.get(link.peer);
        if (m && Array.isArray(p['resources'])) m.resources = p['resources'] as MemberInfo['resources'];
        link.send([Env.control, Control.heartbeatAck, { sentAtMs: p['sentAtMs'] ?? null }]);
        return;
      }
      case Control.metrics:
        this.host.samplesArrived(p);
        return;
      case Control.dir:
        this.applyDir(p['op'] as 'add' | 'remove', p['entry'] as DirEntry);
        return;
      case Control.locate:
        this.lookup(String(p['id']), (e) => {
          if (link.isOpen) link.send([Env.control, Control.located, { id: p['id'], node: e?.node ?? null, epoch: e?.epoch ?? 0 }]);
        });
        return;
      case Control.snapshots:
        this.storeSnapshots(p as unknown as ShippedSnapshot[]);
        return;
      default:
        this.log.warn({ peer: link.peer, kind }, 'unknown control message');
    }
  }

  /**
   * Where a task is. Reports travel apart from messages, so a task spawned a moment ago on
   * another node may not be listed yet: a miss waits up to `locateGraceMs` for its report.
   */
  lookup(id: string, answer: (entry: DirEntry | undefined) => void): void {
    const known = this.directory.get(id);
    if (known) {
      answer(known);
      return;
    }
    const waiting = this.waitingForEntry.get(id);
    if (waiting) {
      waiting.push(answer);
      return;
    }
    this.waitingForEntry.set(id, [answer]);
    const timer = this.clock.setTimer(() => this.answerWaiting(id, undefined), this.node.options.locateGraceMs);
    this.graceTimers.set(id, timer);
  }

  private answerWaiting(id: string, entry: DirEntry | undefined): void {
    const waiting = this.waitingForEntry.get(id);
    if (!waiting) return;
    this.waitingForEntry.delete(id);
    this.graceTimers.get(id)?.cancel();
    this.graceTimers.delete(id);
    for (const answer of waiting) answer(entry);
  }

  applyDir(op: 'add' | 'remove', e: DirEntry): void {
    const known = this.directory.get(e.id);
    if (op === 'add') {
      const { spawn, ...entry } = e;
      if (!known || known.epoch <= e.epoch) this.directory.set(e.id, entry);
      this.answerWaiting(e.id, this.directory.get(e.id));
      if (spawn && !this.snapshots.has(e.id)) this.snapshots.set(e.id, { ...entry, bytes: null, input: spawn.input, affinity: spawn.affinity });
      return;
    }
    if (known && known.node === e.node && known.epoch <= e.epoch) {
      this.directory.delete(e.id);
      this.snapshots.delete(e.id);
      this.forget([e.id], false);
    }
  }

  storeSnapshots(snaps: ShippedSnapshot[]): void {
    const stored: Array<{ now: ShippedSnapshot; before: ShippedSnapshot | undefined }> = [];
    for (const s of snaps) {
      const known = this.snapshots.get(s.id);
      if (known && known.epoch > s.epoch) continue;
      const now = { ...s, input: s.input ?? known?.input ?? null };
      this.snapshots.set(s.id, now);
      stored.push({ now, before: known });
    }
    // The senders named in their applied maps may trim what these snapshots cover.
    for (const [origin, tasks] of coverageOf(stored)) {
      if (origin === this.node.id) onReplayControl(this.node, Control.covered, { tasks });
      else if (this.node.members.has(origin)) this.node.trySend(origin, [Env.control, Control.covered, { tasks }]);
    }
  }

  /** Tells every node (this one too) that tasks are stopped, or lost for want of a resource. */
  private forget(ids: string[], lost: boolean): void {
    const payload = { tasks: ids, lost };
    onReplayControl(this.node, Control.forget, payload);
    for (const m of this.node.members.values()) if (m.node !== this.node.id) this.node.trySend(m.node, [Env.control, Control.forget, payload]);
  }

  private broadcastMembers(): void {
    this.node.members.set(this.node.id, this.node.selfInfo());
    const members = [...this.node.members.values()];
    for (const m of members) if (m.node !== this.node.id) this.node.trySend(m.node, [Env.control, Control.members, { members }]);
  }

  private checkFailures(): void {
    const now = this.clock.now();
    for (const [node, at] of this.lastHeard) {
      if (now - at > this.node.options.failureTimeoutMs) this.declareDead(node, now - at);
    }
  }

  declareDead(node: string, silentMs: number): void {
    this.lastHeard.delete(node);
    this.log.error({ peer: node, durationMs: silentMs }, 'node declared dead');
    this.node.nodeDown(node);
    for (const m of this.node.members.values()) if (m.node !== this.node.id) this.node.trySend(m.node, [Env.control, Control.nodeDown, { node }]);
    this.broadcastMembers();
    this.replaceTasksOf(node);
  }

  /** Re-places every task of a dead node, each top-level task with its children, from snapshots. */
  private replaceTasksOf(dead: string): void {
    const lost = [...this.directory.values()].filter((e) => e.node === dead);
    const lostIds = new Set(lost.map((e) => e.id));
    const roots = lost.filter((e) => e.parent === null || !lostIds.has(e.parent));
    const candidates = this.candidates();
    const moved: Replaced[] = [];
    for (const root of roots) {
      const subtree = lost.filter((e) => e.id === root.id || e.id.startsWith(`${root.id}/`)).sort((a, b) => depth(a.id) - depth(b.id));
      const type = [...this.node.members.values()].flatMap((m) => m.taskTypes).find((t) => t.name === root.task);
      let target: NodeCandidate;
      try {
        const eligible = candidates.filter((c) => this.node.members.get(c.node)?.taskTypes.some((t) => t.name === root.task));
        target = place(eligible, {
          task: root.task,
          affinity: this.snapshots.get(root.id)?.affinity ?? type?.affinity ?? undefined,
          kernelKinds: type?.kernelKinds ?? undefined,
          computeUnits: type?.computeUnits ?? 1,
          memoryBytes: type?.memoryBytes ?? 0,
        });
      } catch (err) {
        this.log.error({ err, task: root.id, peer: dead }, err instanceof NoResourceError ? 'cannot re-place a task of a dead node' : 're-placement failed');
        for (const e of subtree) this.directory.delete(e.id);
        this.forget(subtree.map((e) => e.id), true);
        continue;
      }
      target.usedComputeUnits += type?.computeUnits ?? 1;
      const restores: ShippedSnapshot[] = subtree.map((e) => {
        const snap = this.snapshots.get(e.id);
        const entry: DirEntry = { ...e, node: target.node, resource: target.device.id, epoch: Math.max(e.epoch, snap?.epoch ?? 0) + 1 };
        this.directory.set(e.id, entry);
        const applied = snap?.bytes ? (snap.applied ?? {}) : {};
        moved.push([e.id, entry.node, entry.epoch, applied]);
        // Its children that had moved alone to live nodes stay its children.
        const remoteChildren = [...this.directory.values()].filter((c) => c.remoteParent?.id === e.id && c.node !== dead).map((c) => ({ id: c.id, task: c.task, node: c.node, resource: c.resource }));
        return { ...entry, bytes: snap?.bytes ?? null, input: snap?.input ?? null, affinity: snap?.affinity ?? null, applied, ...(remoteChildren.length > 0 ? { remoteChildren } : {}) };
      });
      this.log.warn({ task: root.id, from: dead, to: target.node, resource: target.device.id }, 're-placing a task of a dead node');
      if (target.node === this.node.id) this.host.restoreRequested(restores);
      else this.node.trySend(target.node, [Env.control, Control.restore, { tasks: restores }]);
    }
    if (moved.length === 0) return;
    // Every sender resends what the restored snapshots lack (the target heard of its tasks first).
    replaced(this.node, moved);
    for (const m of this.node.members.values()) if (m.node !== this.node.id) this.node.trySend(m.node, [Env.control, Control.replaced, { tasks: moved }]);
  }

  private candidates(): NodeCandidate[] {
    return [...this.node.members.values()].flatMap((m) => candidatesOf(m.node, m.node === this.node.id ? this.host.localResources() : m.resources));
  }
}

const depth = (id: string) => id.split('/').length;
