/**
 * The target side of a migration across nodes: the requests a migrating source sends (propose,
 * chunk, log, commit, abort), the shadow task they build (restored as soon as its last chunk is
 * in, brought up to date by each log round), and, after commit, holding direct arrivals until
 * the source has forwarded its queue. See migration-remote.ts for the source side.
 */
import { LRUCache } from 'lru-cache';
import { InvalidArgumentError, UnknownTaskTypeError } from '../errors.js';
import type { TaskDefinition } from '../actors/task.js';
import type { TaskCell } from '../actors/task-cell.js';
import { ChunkAssembler } from '../codecs/chunk-assembler.js';
import { restoreState } from '../codecs/snapshot.js';
import { snapshotHeaderBytes, writeSnapshotHeader } from '../codecs/envelope.js';
import type { Queued } from '../actors/mailbox.js';
import type { TimerHandle } from './clock.js';
import { cborDecode } from '../codecs/cbor.js';
import { unmetConstraint } from './placement.js';
import type { RuntimeImpl } from './runtime.js';
import { MigrationRequests } from './migration-remote.js';
import { replay } from './migration-replay.js';
import { warmBuffer, withSpare } from './warm-buffer.js';
import { PartitionedState } from '../codecs/partitioned-state.js';

/** Largest state a migration moves across nodes (2 GiB, the snapshot envelope's own limit). */
const MAX_STATE_BYTES = 2 ** 31;

/** A migration arriving here that hears nothing from its source for this long is dropped, ms. */
const INCOMING_IDLE_MS = 30_000;

/** Decided migrations remembered for sources asking about a commit in doubt. */
const OUTCOMES_KEPT = 4096;

/** A state of at least this many bytes (by its last snapshot) gets its buffer made at propose (4 MiB). */
const PREPARE_MIN_BYTES = 4 * 2 ** 20;

/** Longest a migrated task holds direct arrivals waiting for its source's forwarded queue, ms. */
const REDIRECT_WAIT_MS = 10_000;

interface FamilyMember {
  id: string;
  def: TaskDefinition;
  parent: string | null;
  /** Its placement epoch here (its own epoch at the source + 1). */
  epoch?: number;
  state?: unknown;
  bytes?: Uint8Array;
}

interface Incoming {
  def: TaskDefinition;
  id: string;
  resource: string;
  /** Made by the first chunk (whose `meta` says how much room the envelope header needs in front). */
  assembler: ChunkAssembler | undefined;
  /** Made at propose from the size of the task's last snapshot, for the assembler to fill if the size still fits. */
  buffer: Uint8Array | undefined;
  /** A single task's stream is its codec's bytes; these are the envelope fields to seal them with. */
  meta: { task: string; codec: string; stateVersion: number } | undefined;
  /** The shadow state: restored as soon as the last chunk arrives, then brought up to date by each log round. */
  state: unknown;
  restored: boolean;
  /** The streamed snapshot, kept as the task's first snapshot here. */
  bytes: Uint8Array | undefined;
  /** Log rounds are replayed one after the other, in arrival order. */
  chain: Promise<void>;
  /** Drops the half-built task if its source goes quiet (died, or lost the link) before commit. */
  expiry: TimerHandle;
  /** A task moving with its children: every member, parents first. */
  family: FamilyMember[] | undefined;
}

/** Target side: the requests a migrating source sends. */
export class MigrationReceiver {
  private readonly incoming = new Map<string, Incoming>();
  /** Adopted tasks waiting for their source's forwarded mailbox, by migration id. */
  private readonly holding = new Map<string, { taskId: string; cell: TaskCell; timer: TimerHandle; redirected: boolean; flushed: boolean }>();
  /**
   * Decided migrations, by id: `committed` here, or `aborted` (by the source, or by its question
   * about the outcome of a commit whose answer it did not get). Final: a commit for an aborted
   * migration is refused, a repeated commit of a committed one answered again.
   */
  private readonly outcomes = new LRUCache<string, 'committed' | 'aborted'>({ max: OUTCOMES_KEPT });

  constructor(private readonly rt: RuntimeImpl) {}

  answer(kind: string, p: Record<string, unknown>): unknown {
    const mid = String(p['mid']);
    switch (kind) {
      case MigrationRequests.propose: {
        const name = String(p['task']);
        const def = this.rt.registry.get(name);
        if (!def) throw new UnknownTaskTypeError(name, this.rt.name);
        const id = String(p['id']);
        if (this.rt.directory.has(id)) throw new InvalidArgumentError('task', `task ${id} already runs on node ${this.rt.name}`);
        const resource = this.rt.resourceActors.get(String(p['resource']));
        if (!resource) throw new InvalidArgumentError('resource', `resource ${String(p['resource'])} is not on node ${this.rt.name}`);
        const why = unmetConstraint(resource, {
          task: name,
          affinity: undefined,
          kernelKinds: def.kernels ? (Object.keys(def.kernels) as never) : undefined,
          computeUnits: Number(p['computeUnits'] ?? 1),
          memoryBytes: Number(p['memoryBytes'] ?? 0),
        });
        if (why) throw new InvalidArgumentError('resource', `${resource.id} refuses the task: ${why.detail}`);
        const family = Array.isArray(p['family'])
          ? (p['family'] as Array<{ id: string; task: string; parent: string | null; epoch: number }>).map((f) => {
              const d = this.rt.registry.get(String(f.task));
              if (!d) throw new UnknownTaskTypeError(String(f.task), this.rt.name);
              if (this.rt.directory.has(f.id)) throw new InvalidArgumentError('task', `task ${f.id} already runs on node ${this.rt.name}`);
              return { id: String(f.id), def: d, parent: f.parent === null ? null : String(f.parent), epoch: Number(f.epoch) };
            })
          : undefined;
        this.incoming.set(mid, {
          family,
          def,
          id,
          resource: resource.id,
          assembler: undefined,
          buffer: undefined,
          meta: undefined,
          state: undefined,
          restored: false,
          bytes: undefined,
          chain: Promise.resolve(),
          expiry: this.rt.clock.setTimer(() => this.drop(mid), INCOMING_IDLE_MS),
        });
        const stateBytes = Number(p['stateBytes'] ?? 0);
        if (!family && Number.isInteger(stateBytes) && stateBytes >= PREPARE_MIN_BYTES && stateBytes <= MAX_STATE_BYTES) return this.prepareBuffer(mid, stateBytes).then(() => ({ accepted: true }));
        return { accepted: true };
      }
      case MigrationRequests.chunk: {
        const m = this.expect(mid);
        const assembler = (m.assembler ??= this.assemblerFor(m, p['meta']));
        m.buffer = undefined;
        assembler.pushParts(p['head'] as Uint8Array, p['body'] as Uint8Array);
        if (assembler.progress.done) {
          // Restore now, off the pause: with pre-copy the source is still serving.
          const payload = assembler.finish();
          if (m.meta) {
            // Seal the envelope in the room left in front: its checksum combines the chunks' own.
            m.bytes = assembler.framed();
            writeSnapshotHeader(m.bytes, { ...m.meta, payloadBytes: payload.byteLength, payloadChecksum: assembler.checksum, checksum: assembler.checksumKind ?? 'crc32c' });
          } else m.bytes = payload;
          if (m.family) this.restoreFamily(m, m.family, m.bytes);
          else m.state = restoreState(m.def, m.bytes, { registry: this.rt.codecs, payloadVerified: m.meta !== undefined });
          m.restored = true;
        }
        return { received: assembler.progress.received };
      }
      case MigrationRequests.delta: {
        const m = this.expect(mid);
        this.enqueueDelta(m, p['delta']);
        return m.chain.then(() => ({ applied: true }));
      }
      case MigrationRequests.log: {
        const m = this.expect(mid);
        const replayed = this.enqueueLog(m, p['log']);
        return m.chain.then(() => ({ replayed }));
      }
      case MigrationRequests.commit:
        return this.commit(mid, p);
      case MigrationRequests.abort:
        if (this.outcomes.get(mid) !== 'committed') this.outcomes.set(mid, 'aborted');
        this.drop(mid);
        return { aborted: true };
      case MigrationRequests.outcome: {
        // Asked by a source whose commit went unanswered: what is not committed now never will be.
        if (this.outcomes.get(mid) === 'committed') return { outcome: 'committed' };
        this.outcomes.set(mid, 'aborted');
        this.drop(mid);
        return { outcome: 'aborted' };
      }
      default:
        throw new InvalidArgumentError('request', `unknown migration request ${kind}`);
    }
  }

  private async commit(mid: string, p: Record<string, unknown>): Promise<unknown> {
    const decided = this.outcomes.get(mid);
    if (decided === 'committed') return { committed: true };
    if (decided === 'aborted') throw new InvalidArgumentError('commit', `migration ${mid} was aborted`);
    const m = this.expect(mid);
    // Pre-copy's last piece of log comes with the commit: replayed after the rounds before it.
    if (p['log'] instanceof Uint8Array) this.enqueueLog(m, p['log']);
    if (p['delta'] instanceof Uint8Array) this.enqueueDelta(m, p['delta']);
    await m.chain;
    if (this.outcomes.get(mid) === 'aborted') throw new InvalidArgumentError('commit', `migration ${mid} was aborted while its log was replayed`);
    if (!m.restored || !m.bytes) throw new InvalidArgumentError('commit', 'the snapshot is not complete');
    const source = mid.slice(0, mid.lastIndexOf(':'));
    this.drop(mid);
    const now = this.rt.clock.now();
    const inputs = new Map(Array.isArray(p['inputs']) ? (p['inputs'] as Array<[string, unknown]>).map(([id, input]) => [String(id), input] as const) : []);
    const members: FamilyMember[] = m.family ?? [{ id: m.id, def: m.def, parent: null, state: m.state, bytes: m.bytes }];
    // A child moved alone: back on its parent's node it is a local child again, elsewhere a remote one.
    const remoteParent = remoteParentOf(p['parent']);
    const parentHere = remoteParent?.node === this.rt.name ? this.rt.directory.get(remoteParent.id) : undefined;
    parentHere?.remoteChildren.delete(m.id);
    for (const f of members) {
      const root = f.id === m.id;
      const entry = { id: f.id, task: f.def.name, node: this.rt.name, resource: m.resource, epoch: root ? Number(p['epoch']) : (f.epoch ?? Number(p['epoch'])), parent: root ? (parentHere?.id ?? null) : f.parent };
      const applied = (p['applied'] as Record<string, Record<string, number>> | undefined)?.[f.id];
      const cell = this.rt.adoptTask(f.def, entry, f.state, { bytes: f.bytes!, takenAtMs: now }, root ? ((p['affinity'] as never) ?? undefined) : undefined, inputs.get(f.id), applied);
      // The task has applied none of this node's stream yet: what this node sent it is all still
      // on its way, and the task waits for it from the first such seq (TaskCell.sequenced).
      const own = this.rt.cluster?.replay;
      if (own && !cell.applied.has(this.rt.name) && own.lastSeq(f.id) > 0) cell.applied.set(this.rt.name, own.beforePending(f.id));
      if (Array.isArray(p['unsequenced']) && p['unsequenced'].includes(f.id)) cell.sequenced = false;
      const cost = (p['cost'] as Record<string, Record<string, { ms: number; messages: number }>> | undefined)?.[f.id];
      for (const [kind, c] of Object.entries(cost ?? {})) if (Number.isFinite(c?.ms) && Number.isFinite(c?.messages)) cell.cost.set(kind, { ms: Number(c.ms), messages: Number(c.messages) });
      if (root && remoteParent && !parentHere) {
        cell.remoteParent = remoteParent;
        this.rt.placementChanged(cell); // the directory keeps the link, for a re-placement
      }
      // A partition group back on its task's node: the task's partitions point at it again.
      if (root && parentHere) for (const [part, owner] of parentHere.partitionOwners) if (owner.id === cell.id) parentHere.partitionOwners.set(part, cell);
      // Until the source has forwarded its queue, messages arriving here wait behind it. Should
      // the source never say so (it died), they are let through after a while.
      // Held: first what this node had queued for the task before taking it over, in order.
      cell.held = this.rt.cluster?.takeQueued(f.id) ?? [];
      cell.heldFrom = source;
      const key = `${mid}|${f.id}`;
      const timer = this.rt.clock.setTimer(() => this.release(key), REDIRECT_WAIT_MS);
      // This node's own sends to the task, made before it took over, went to the source: a marker
      // behind them through the source says when they are all back (so local sends keep their order).
      const flushed = !this.rt.cluster?.flushThrough(source, f.id);
      this.holding.set(key, { taskId: f.id, cell, timer, redirected: false, flushed });
      // What this node kept for the task and could not send (its link was down) is due here now.
      if (own?.isBlocked(f.id)) this.rt.cluster!.resendStream(f.id, this.rt.name, cell.applied.get(this.rt.name) ?? 0);
    }
    this.outcomes.set(mid, 'committed');
    return { committed: true };
  }

  /** Queues a delta of a PartitionedState's changed partitions for the shadow state, after the rounds before. */
  private enqueueDelta(m: Incoming, bytes: unknown): void {
    if (!m.restored) throw new InvalidArgumentError('delta', 'a delta before the snapshot is complete');
    const delta = cborDecode(bytes as Uint8Array);
    m.chain = m.chain.then(() => {
      if (!(m.state instanceof PartitionedState)) throw new InvalidArgumentError('delta', `task ${m.id}'s restored state is not a PartitionedState`);
      m.state.applyDelta(delta);
    });
  }

  /** Queues a round of logged messages for replay on the shadow state, after the rounds before; their count. */
  private enqueueLog(m: Incoming, bytes: unknown): number {
    const log = cborDecode(bytes as Uint8Array);
    if (!Array.isArray(log)) throw new InvalidArgumentError('log', 'must be an array of messages');
    if (!m.restored) throw new InvalidArgumentError('log', 'a log round before the snapshot is complete');
    m.chain = m.chain.then(async () => {
      m.state = await replay(this.rt, m, log);
    });
    return log.length;
  }

  private assemblerFor(m: Incoming, meta: unknown): ChunkAssembler {
    if (meta !== undefined && meta !== null) {
      const f = meta as Record<string, unknown>;
      m.meta = { task: String(f['task']), codec: String(f['codec']), stateVersion: Number(f['stateVersion']) };
    }
    const headroomBytes = m.meta ? snapshotHeaderBytes(m.meta.codec, m.meta.task) : 0;
    return new ChunkAssembler({ maxTotalBytes: MAX_STATE_BYTES, headroomBytes, ...(m.buffer ? { buffer: m.buffer } : {}) });
  }

  /**
   * Makes the buffer a stream of about `bytes` will be assembled into and touches its pages a
   * slice per turn, before the source starts (and, with stop-and-copy, before the task freezes):
   * copying into fresh memory otherwise runs at page-fault speed, several times below a copy.
   */
  private async prepareBuffer(mid: string, bytes: number): Promise<void> {
    const m = this.incoming.get(mid);
    if (!m) return;
    // Its pages touched a slice per turn, while the source has not started (see warm-buffer.ts).
    const buffer = await warmBuffer(withSpare(bytes), () => this.incoming.get(mid) !== m);
    if (buffer && !m.assembler) m.buffer = buffer;
  }

  /** A family's bundle: one snapshot envelope per member, restored each with its own definition. */
  private restoreFamily(m: Incoming, family: FamilyMember[], bundle: Uint8Array): void {
    const entries = cborDecode(bundle);
    if (!Array.isArray(entries)) throw new InvalidArgumentError('snapshot', 'a family bundle must be an array');
    const byId = new Map(entries.map((e) => [String((e as unknown[])[0]), (e as unknown[])[1] as Uint8Array]));
    for (const f of family) {
      const bytes = byId.get(f.id);
      if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('snapshot', `the family bundle lacks task ${f.id}`);
      f.bytes = bytes;
      f.state = restoreState(f.def, bytes, { registry: this.rt.codecs });
    }
    m.bytes = family[0]?.bytes;
  }

  /** The source's queued messages, in order: they go first. */
  forwarded(mid: string, items: Queued[]): void {
    const h = this.holding.get(mid);
    const cell = h ? this.rt.directory.get(h.taskId) : undefined;
    for (const { msg, reply, stamp } of items) {
      if (cell && cell.mailbox.push(msg, reply, stamp)) continue;
      this.rt.deadLetter(h?.taskId ?? mid, msg, cell ? 'mailbox-full' : 'unknown-task');
      reply?.reject(new InvalidArgumentError('migration', `no task for migration ${mid} here`));
    }
    cell?.kick();
  }

  /** The source is done forwarding its queue. */
  redirected(key: string): void {
    const h = this.holding.get(key);
    if (!h) return;
    h.redirected = true;
    if (h.flushed) this.release(key);
  }

  /** This node's own earlier sends to `taskId` are back from the source. */
  flushed(taskId: string): void {
    for (const [key, h] of this.holding) {
      if (h.taskId !== taskId) continue;
      h.flushed = true;
      if (h.redirected) this.release(key);
    }
  }

  /** Both are in (or the wait is over): what arrived here meanwhile follows, in arrival order. */
  private release(key: string): void {
    const h = this.holding.get(key);
    if (!h) return;
    this.holding.delete(key);
    h.timer.cancel();
    // The cell that holds them (a task that came back here since holds for its own migration).
    const cell = h.cell;
    if (!cell.held) return;
    const held = cell.takeHeld();
    const here = this.rt.directory.get(h.taskId) === cell;
    for (const { msg, reply, stamp } of held) {
      try {
        // Gone since (let go after a commit in doubt): to wherever the task is now.
        if (here) this.rt.deliver(cell, msg, reply, stamp);
        else if (this.rt.cluster) this.rt.cluster.route(h.taskId, msg, reply, stamp);
        else this.rt.deadLetter(h.taskId, msg, 'unknown-task');
      } catch {
        this.rt.deadLetter(h.taskId, msg, 'mailbox-full');
      }
    }
    cell.kick();
  }

  /** Migrations building a shadow task here (proposed, not yet committed or aborted), by id. */
  shadows(): string[] {
    return [...this.incoming.keys()];
  }

  /** Stops the waiting timers (shutdown). */
  close(): void {
    for (const h of this.holding.values()) h.timer.cancel();
    this.holding.clear();
    for (const mid of [...this.incoming.keys()]) this.drop(mid);
  }

  private expect(mid: string): Incoming {
    const m = this.incoming.get(mid);
    if (!m) throw new InvalidArgumentError('migration', `no migration ${mid} in progress here`);
    m.expiry.cancel();
    m.expiry = this.rt.clock.setTimer(() => this.drop(mid), INCOMING_IDLE_MS);
    return m;
  }

  private drop(mid: string): void {
    const m = this.incoming.get(mid);
    if (!m) return;
    m.expiry.cancel();
    this.incoming.delete(mid);
  }
}

function remoteParentOf(value: unknown): { node: string; id: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return typeof v['node'] === 'string' && typeof v['id'] === 'string' ? { node: v['node'], id: v['id'] } : undefined;
}
