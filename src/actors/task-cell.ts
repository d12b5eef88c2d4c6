/**
 * A running task: its mailbox, its state, and the turn loop. One nact message runs one turn,
 * and a turn handles up to `throughput` messages, so a busy task costs one macrotask per batch.
 * Async `receive` results hold the turn until they settle; a generation number fences their
 * continuations, so a task that was restarted, re-placed or stopped meanwhile never applies them.
 */
import { NoReplyError, TaskCrashedError, TaskStoppedError } from '../errors.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { ActorHandle } from '../runtime/nact-adapter.js';
import { Mailbox, type OverflowPolicy, type Queued, type Stamp } from './mailbox.js';
import type { TaskRef } from './ref.js';
import type { Reply } from './reply.js';
import type { ResourceActor } from './resource.js';
import { RestartTracker, type ResolvedSupervision } from './supervision.js';
import type { CodecRegistry } from '../codecs/registry.js';
import { restoreState, roundTripState, snapshotState } from '../codecs/snapshot.js';
import { cborDecode, cborEncode } from '../codecs/cbor.js';
import type { RemoteChild } from '../runtime/remote-supervision.js';
import type { AskOptions, SpawnChildOptions, TaskContext, TaskDefinition } from './task.js';
import { createContext, isThenable } from './task-context.js';
import { StreamOrder } from './stream-order.js';

export type CellStatus = 'starting' | 'running' | 'backoff' | 'stopped';

/** What a cell needs from its runtime. */
export interface CellHost {
  readonly clock: Clock;
  readonly throughput: number;
  readonly snapshotIntervalMs: number;
  /** Codecs for snapshots; `simulateSerialization` also pushes every state and reply through them. */
  readonly codecs: CodecRegistry;
  readonly simulateSerialization: boolean;
  schedule(handle: ActorHandle): void;
  send(to: TaskRef, msg: unknown, reply?: Reply): void;
  ask(to: TaskRef, msg: unknown, options?: AskOptions): Promise<unknown>;
  spawnChild(parent: TaskCell, task: TaskDefinition<never, never, unknown, never>, options: SpawnChildOptions<unknown>): TaskRef;
  stopChild(parent: TaskCell, child: TaskRef): void;
  /** A turn threw or rejected: supervision takes it from here. */
  crashed(cell: TaskCell, err: unknown): void;
  snapshotFailed(cell: TaskCell, err: unknown): void;
}

/** A task's state as a versioned, checksummed snapshot envelope in its codec (see src/codecs). */
export interface Snapshot {
  bytes: Uint8Array;
  takenAtMs: number;
  /**
   * The task's `applied` map when the state was taken (origin node -> highest seq applied), so a
   * restore knows which replayed messages it holds already. Absent on a snapshot a migration
   * brought, which may be older than the applied map it came with: such a snapshot is not shipped.
   */
  applied?: Record<string, number>;
}

type AnyTask = TaskDefinition<unknown, unknown, unknown, unknown>;

const isCodecObject = (c: unknown): boolean => typeof c === 'object' && c !== null && typeof (c as { encode?: unknown }).encode === 'function';


/** Messages handled on a kind of device before its measured cost replaces the declared one. */
const COST_MIN_MESSAGES = 10;

/**
 * A periodic snapshot of at least `SPACED_SNAPSHOT_BYTES` that took d ms is not taken again for
 * `SNAPSHOT_SPACING` x d ms: a task with a large state spends at most about a tenth of the time
 * snapshotting (each one is a synchronous stall of its node), whatever `snapshotIntervalMs` and
 * the ship interval ask. Smaller snapshots follow `snapshotIntervalMs` exactly.
 */
export const SNAPSHOT_SPACING = 10;
/** 1 MiB. */
export const SPACED_SNAPSHOT_BYTES = 2 ** 20;

export class TaskCell {
  status: CellStatus = 'starting';
  state: unknown = undefined;
  initialized = false;
  handle!: ActorHandle;
  epoch = 0;
  processed = 0;
  /** Restarts over the task's life (the budget uses `restarts`, which forgets old ones). */
  restartCount = 0;
  readonly restarts = new RestartTracker();
  /** Restart budget of the all-for-one strategy over this task's children. */
  readonly groupRestarts = new RestartTracker();
  readonly children = new Map<string, TaskCell>();
  readonly mailbox: Mailbox;
  readonly ctx: TaskContext;
  snapshot: Snapshot | undefined;
  /** Set by a re-placement: the next start restores this snapshot instead of running `init`. */
  pendingRestore: Snapshot | undefined;
  backoffTimer: TimerHandle | undefined;
  readonly demand: { computeUnits: number; memoryBytes: number };
  /** Time spent in the synchronous part of `receive`, ms (measured per turn, not per message). */
  handlerMs = 0;
  /**
   * Handler time and messages per device kind the task ran on (the synchronous part of `receive`,
   * measured per turn): its cost profile, which moves with it (`costProfile`).
   */
  readonly cost = new Map<string, { ms: number; messages: number }>();
  /**
   * Origin node -> highest seq of its stream applied to the state (stamped sends from other
   * nodes, see src/runtime/cluster/replay-log.ts). Travels with snapshots and migrations.
   */
  applied = new Map<string, number>();
  /** Stamped messages dropped because their seq was applied already (replays). */
  duplicates = 0;
  /**
   * Whether stamped messages are applied in their stream's order: one that comes ahead of an
   * earlier seq of its origin waits (at most `GAP_WAIT_MS`, stream-order.ts) for it. A message can reach a task
   * that moves by several paths (forwarded along a chain of earlier owners, or straight), so
   * arrival order alone does not keep a sender's order. Off for a partitioned task that split
   * and for its partition groups: each sees only part of a stream.
   */
  sequenced = true;
  /** Stamped messages that came ahead of their stream, waiting (see stream-order.ts). */
  private readonly order: StreamOrder;
  /** `processed` when the last snapshot was taken: a cell with more is dirty. */
  private processedAtSnapshot = -1;
  /** Least time between two periodic snapshots: `SNAPSHOT_SPACING` times what the last one took, ms. */
  private snapshotSpacingMs = 0;
  /** Counters and gauges the task reports through `ctx.metrics`. */
  readonly custom = new Map<string, number>();

  private scheduled = false;
  private busy = false;
  /**
   * While a pre-copy migration streams the state, the messages handled since its snapshot, in
   * order: replayed on the target to catch up. Undefined when no migration records.
   */
  migrationLog: unknown[] | undefined;
  /**
   * On a migration's target until the source has forwarded what was queued there: messages that
   * arrive here directly wait in this queue so they cannot overtake the forwarded ones.
   */
  held: Queued[] | undefined;
  /** While `held`: the migration's source node; what it forwards (queue, stragglers) is not held. */
  heldFrom: string | undefined;
  /** A partitioned task: which partition groups (child cells on other resources) hold which partitions. */
  readonly partitionOwners = new Map<number, TaskCell>();
  /** Children that migrated alone to other nodes and are still supervised from here (see remote-supervision.ts). */
  readonly remoteChildren = new Map<string, RemoteChild>();
  /** A child that migrated alone from its parent's node: where its parent (and supervisor) is. */
  remoteParent: { node: string; id: string } | undefined;
  /** Frozen by a migration: no turns until thawed; messages keep queueing in order. */
  private frozen = false;
  private idleWaiters: Array<() => void> = [];
  /** Freezes waiting for `held` to be let go (see `freeze`). */
  private heldWaiters: Array<() => void> = [];
  private generation = 0;
  private currentReply: Reply | undefined;
  private replyTaken = false;

  constructor(
    readonly ref: TaskRef,
    readonly def: AnyTask,
    public resource: ResourceActor,
    readonly parent: TaskCell | undefined,
    readonly input: unknown,
    readonly supervision: ResolvedSupervision,
    readonly overflow: OverflowPolicy,
    mailboxCapacity: number,
    private readonly host: CellHost,
    readonly log: Logger,
  ) {
    this.mailbox = new Mailbox(mailboxCapacity);
    this.order = new StreamOrder(this);
    this.demand = { computeUnits: def.demand?.computeUnits ?? 1, memoryBytes: def.demand?.memoryBytes ?? 0 };
    this.ctx = createContext(this, host);
  }

  get id(): string {
    return this.ref.id;
  }

  private setIdle(): void {
    this.busy = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Stops taking turns; resolves once no turn is in flight (an async one finishes first) and the
   * task holds nothing back from an earlier migration here (`held`, let go into the mailbox once
   * that migration's source has forwarded its queue): a move away takes its whole queue along.
   */
  freeze(): Promise<void> {
    this.frozen = true;
    this.scheduled = false;
    const idle = this.busy ? new Promise<void>((resolve) => this.idleWaiters.push(resolve)) : undefined;
    const released = this.held ? new Promise<void>((resolve) => this.heldWaiters.push(resolve)) : undefined;
    if (!idle && !released) return Promise.resolve();
    return Promise.all([idle, released]).then(() => {});
  }

  /** Lets go of what an earlier migration here held back: returned in order, to be delivered. */
  takeHeld(): Queued[] {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldFrom = undefined;
    this.wakeHeldWaiters();
    return held;
  }

  private wakeHeldWaiters(): void {
    const waiters = this.heldWaiters;
    this.heldWaiters = [];
    for (const w of waiters) w();
  }

  /** Takes turns again (on whatever resource the cell is on now). */
  thaw(): void {
    this.frozen = false;
    this.kick();
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Asks nact for a turn if there is work and none is pending. */
  kick(): void {
    if (this.scheduled || this.busy || this.frozen) return;
    if (this.status !== 'running' && this.status !== 'starting') return;
    if (this.initialized && this.mailbox.length === 0 && this.order.ready.length === 0) return;
    this.scheduled = true;
    this.host.schedule(this.handle);
  }

  /** The nact actor of this cell changed (re-placement): any tick sent to the old one is lost. */
  rehomed(handle: ActorHandle): void {
    this.handle = handle;
    this.scheduled = false;
  }

  /** Fences every in-flight continuation of this cell: they will not touch it. */
  fence(reason: string): void {
    this.generation++;
    this.setIdle();
    this.wakeHeldWaiters();
    this.scheduled = false;
    const reply = this.currentReply;
    this.currentReply = undefined;
    if (reply && !this.replyTaken) reply.reject(new TaskStoppedError(this.id, reason));
  }

  /** One turn: start if needed, then up to `throughput` messages. */
  onTurn(): void {
    this.scheduled = false;
    if (this.busy || this.frozen || (this.status !== 'running' && this.status !== 'starting')) return;
    if (!this.initialized && !this.start()) return;
    const limit = this.host.throughput;
    const t0 = performance.now();
    const before = this.processed;
    try {
      for (let n = 0; n < limit && (this.mailbox.length > 0 || this.order.ready.length > 0) && this.status === 'running' && !this.frozen; n++) {
        if (!this.handleNext()) return;
      }
    } finally {
      const ms = performance.now() - t0;
      this.handlerMs += ms;
      const messages = this.processed - before;
      if (messages > 0) {
        const kind = this.resource.device.kind;
        const c = this.cost.get(kind);
        if (c) {
          c.ms += ms;
          c.messages += messages;
        } else this.cost.set(kind, { ms, messages });
      }
    }
    this.kick();
  }

  /**
   * Mean handler ms per message per device kind: measured where the task has handled at least
   * `COST_MIN_MESSAGES` there, else what its definition declares (`demand.msPerMessage`).
   */
  costProfile(): Record<string, number> {
    const out: Record<string, number> = { ...(this.def.demand?.msPerMessage ?? {}) };
    for (const [kind, c] of this.cost) if (c.messages >= COST_MIN_MESSAGES) out[kind] = c.ms / c.messages;
    return out;
  }

  /** Runs init (or restores a snapshot); false when the turn must end here. */
  private start(): boolean {
    const gen = this.generation;
    if (!this.codecReady) return this.loadCodec(gen);
    let result: unknown;
    try {
      if (this.pendingRestore) {
        const snap = this.pendingRestore;
        this.pendingRestore = undefined;
        // Version check (and `migrate`), checksum, codec and the task's `restore`, in one place.
        result = restoreState(this.def, snap.bytes, { registry: this.host.codecs });
      } else {
        result = this.def.init(this.input, this.ctx);
      }
    } catch (err) {
      this.crash(err, undefined);
      return false;
    }
    if (!isThenable(result)) {
      this.started(result);
      return true;
    }
    this.busy = true;
    result.then(
      (s) => {
        if (gen !== this.generation) return;
        this.setIdle();
        this.started(s);
        this.kick();
      },
      (err: unknown) => gen === this.generation && this.crash(err, undefined),
    );
    return false;
  }

  /** A lazy codec (arrow) is loaded once before the task's first turn. */
  private codecReady = false;

  private loadCodec(gen: number): false {
    this.busy = true;
    this.host.codecs.resolveAsync(this.def.codec).then(
      () => {
        if (gen !== this.generation) return;
        this.setIdle();
        this.codecReady = true;
        this.kick();
      },
      (err: unknown) => gen === this.generation && this.crash(err, undefined),
    );
    return false;
  }

  /** Checks the codec is usable now; true when the first turn can go on. */
  prepareCodec(): void {
    this.codecReady = this.host.codecs.isLoaded(typeof this.def.codec === 'string' ? this.def.codec : (this.def.codec?.name ?? 'cbor')) || isCodecObject(this.def.codec);
  }

  /**
   * Takes a live state a migration brought (no init, no restore): the task is running. Its
   * snapshot is the one the migration streamed (older by the replayed log, as any periodic
   * snapshot is older than the state): encoding a large state again here would lengthen the pause.
   */
  adopt(state: unknown, snapshot: Snapshot | undefined, applied?: Record<string, number>): void {
    this.codecReady = true;
    this.state = state;
    this.initialized = true;
    this.status = 'running';
    // The applied map is the live state's; the streamed snapshot may be older (pre-copy), so it
    // is kept without one (never shipped) and the next ship tick takes a fresh snapshot.
    this.snapshot = snapshot && { bytes: snapshot.bytes, takenAtMs: snapshot.takenAtMs };
    if (applied) this.restoreApplied(applied);
  }

  /** Sets the applied map from a snapshot or a migration (before the first turn here). */
  restoreApplied(applied: Record<string, number> | undefined): void {
    this.applied = new Map(Object.entries(applied ?? {}));
  }

  private markApplied(stamp: Stamp | undefined): void {
    if (stamp === undefined) return;
    this.applied.set(stamp.origin, stamp.seq);
    this.order.applied(stamp);
  }

  /** Messages waiting to be handled here: the mailbox, plus those that came ahead of their stream. */
  get queued(): number {
    return this.mailbox.length + this.order.ready.length + this.order.waiting;
  }

  /**
   * Empties the mailbox and what waits beside it, in the order they would have been handled (the
   * messages that came ahead of their stream last, by seq): a hand-off, a stop or a split.
   */
  drainAll(): Queued[] {
    const out = this.order.takeReady();
    for (const q of this.mailbox.drain()) out.push(q);
    if (this.held) for (const q of this.takeHeld()) out.push(q);
    for (const q of this.order.takeEarly()) out.push(q);
    return out;
  }

  /** Seqs given up on: gaps in stamped streams that stayed open for `GAP_WAIT_MS` (stream-order.ts). */
  get gapsSkipped(): number {
    return this.order.gapsSkipped;
  }

  /** For the stream order: its clock and the mailbox's bound. */
  get clock(): Clock {
    return this.host.clock;
  }

  get capacity(): number {
    return this.mailbox.capacity;
  }

  private started(state: unknown): void {
    if (this.host.simulateSerialization && !this.simulate(state)) return;
    this.state = state;
    this.initialized = true;
    this.status = 'running';
    this.takeSnapshot();
  }

  /** Handles one message; false when the turn must end (async result or crash). */
  private handleNext(): boolean {
    let msg: unknown;
    let reply: Reply | undefined;
    let stamp: Stamp | undefined;
    if (this.order.ready.length > 0) ({ msg, reply, stamp } = this.order.ready.shift()!);
    else {
      stamp = this.mailbox.peekStamp();
      reply = this.mailbox.peekReply();
      msg = this.mailbox.shift();
    }
    if (stamp !== undefined) {
      const last = this.applied.get(stamp.origin);
      if (last !== undefined && stamp.seq <= last) {
        // A replay of a message the state holds already: dropped, counted, not dead-lettered.
        this.duplicates++;
        return true;
      }
      if (last !== undefined && stamp.seq > last + 1 && this.sequenced) {
        if (!this.order.park(msg, reply, stamp)) this.duplicates++; // a resend of one that waits
        return true;
      }
    }
    this.currentReply = reply;
    this.replyTaken = false;
    let result: unknown;
    try {
      result = this.def.receive(this.state, msg, this.ctx);
    } catch (err) {
      this.markApplied(stamp);
      this.crash(err, reply);
      return false;
    }
    if (!isThenable(result)) {
      this.markApplied(stamp);
      this.endTurn(result, reply);
      this.migrationLog?.push(msg);
      return true;
    }
    const gen = this.generation;
    this.busy = true;
    result.then(
      (s) => {
        if (gen !== this.generation) return;
        this.setIdle();
        this.markApplied(stamp);
        this.endTurn(s, reply);
        this.migrationLog?.push(msg);
        this.kick();
      },
      (err: unknown) => {
        if (gen !== this.generation) return;
        this.markApplied(stamp);
        this.crash(err, reply);
      },
    );
    return false;
  }

  /** With `simulateSerialization`, the state must survive its codec; a state that does not is a crash. */
  private simulate(state: unknown): boolean {
    try {
      roundTripState(this.def, state, { registry: this.host.codecs });
      return true;
    } catch (err) {
      this.crash(err, undefined);
      return false;
    }
  }

  private endTurn(next: unknown, reply: Reply | undefined): void {
    if (this.host.simulateSerialization && !this.simulate(next)) {
      reply?.reject(new TaskCrashedError(this.id, 'state did not survive its codec'));
      return;
    }
    this.state = next;
    this.processed++;
    if (reply && !this.replyTaken) reply.reject(new NoReplyError(this.id));
    this.currentReply = undefined;
    const every = this.host.snapshotIntervalMs;
    if (every !== Infinity && (this.snapshot === undefined || this.host.clock.now() - this.snapshot.takenAtMs >= Math.max(every, this.snapshotSpacingMs))) {
      this.takeSnapshot();
    }
  }

  private crash(err: unknown, reply: Reply | undefined): void {
    this.generation++;
    this.setIdle();
    this.currentReply = undefined;
    reply?.reject(new TaskCrashedError(this.id, err));
    this.host.crashed(this, err);
  }

  /** Records the state for re-placement: the task's `snapshot` output in its codec, in an envelope. False when it could not. */
  takeSnapshot(): boolean {
    if (!this.initialized) return false;
    try {
      const t0 = performance.now();
      this.snapshot = { bytes: snapshotState(this.def, this.state, { registry: this.host.codecs }), takenAtMs: this.host.clock.now(), applied: Object.fromEntries(this.applied) };
      this.snapshotSpacingMs = this.snapshot.bytes.byteLength >= SPACED_SNAPSHOT_BYTES ? SNAPSHOT_SPACING * (performance.now() - t0) : 0;
      this.processedAtSnapshot = this.processed;
      return true;
    } catch (err) {
      this.host.snapshotFailed(this, err);
      return false;
    }
  }

  /**
   * Takes a snapshot if messages were handled since the last one and no turn is in flight (so
   * state and applied map agree), unless snapshots are off (`snapshotIntervalMs: Infinity`) or
   * the last one was taken less than `SNAPSHOT_SPACING` times its own duration ago. Called when
   * snapshots are shipped, so an idle task's last messages get covered too.
   */
  takeSnapshotIfDirty(): void {
    if (this.busy || this.status !== 'running' || this.host.snapshotIntervalMs === Infinity) return;
    if (this.snapshot?.applied === undefined) this.takeSnapshot();
    else if (this.processed !== this.processedAtSnapshot && this.host.clock.now() - this.snapshot.takenAtMs >= this.snapshotSpacingMs) this.takeSnapshot();
  }

  /** After a crash with the `resume` directive: keep the state, go on with the next message. */
  resumeAfterCrash(): void {
    this.status = this.initialized ? 'running' : 'starting';
    this.kick();
  }

  /** Forgets the state; the next turn runs `init` (or restores `pendingRestore`). */
  reset(): void {
    this.state = undefined;
    this.initialized = false;
    this.status = 'starting';
    this.scheduled = false;
  }

  // --- context support ---

  replyToCurrent(value: unknown): void {
    const r = this.currentReply;
    if (r && !this.replyTaken) {
      this.replyTaken = true;
      if (!this.host.simulateSerialization) r.resolve(value);
      else {
        try {
          r.resolve(cborDecode(cborEncode(value)));
        } catch (err) {
          r.reject(err);
        }
      }
    }
  }

  takeReply(): Reply | undefined {
    if (this.replyTaken) return undefined;
    this.replyTaken = true;
    return this.currentReply;
  }

  get canReply(): boolean {
    return this.currentReply !== undefined && !this.replyTaken && !this.currentReply.settled;
  }
}
