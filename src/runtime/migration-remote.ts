/**
 * Live migration to a resource of another node: stop-and-copy over the link between the two.
 *   propose       the target node checks it has the task's definition and the resource can take it
 *   prepare       the state is snapshotted in its codec and streamed in checksummed chunks, at most
 *                 8 unacknowledged at a time (back-pressure). With `pre-copy` the task
 *                 keeps serving meanwhile and the messages it handles are logged; the log goes
 *                 over in rounds until it is short
 *   freeze        the source stops the task's turns (an async turn in flight finishes first);
 *                 stop-and-copy sends the snapshot now, pre-copy the last piece of log
 *   commit        the target restores the task (epoch + 1) and reports it to the directory
 *   redirect      the source forwards what had queued in the mailbox, in order, and from then on
 *                 forwards stragglers and answers their senders' nodes with moved(epoch)
 *   decommission  the source drops its instance; its epoch is stale, it can never run a turn
 * A failure before commit aborts: the task goes on at the source, untouched. Pre-copy replays the
 * log on the target with `receive`'s effects (replies, sends, spawns) switched off, so it needs a
 * `receive` that is deterministic given the state and the message and does not `ask`.
 */
import { InvalidArgumentError, NoResourceError, UnknownTaskTypeError } from '../errors.js';
import type { TaskCell } from '../actors/task-cell.js';
import type { TaskDefinition } from '../actors/task.js';
import { ChunkAssembler } from '../codecs/chunk-assembler.js';
import { ChunkProducer } from '../codecs/chunk-format.js';
import { restoreState, snapshotState } from '../codecs/snapshot.js';
import { TaskRef } from '../actors/ref.js';
import type { TaskContext } from '../actors/task.js';
import type { Queued } from '../actors/mailbox.js';
import type { TimerHandle } from './clock.js';
import { cborDecode, cborEncode } from '../codecs/cbor.js';
import { unmetConstraint } from './placement.js';
import type { RuntimeImpl } from './runtime.js';
import type { MigrationReport } from './migration.js';
import type { NodeCandidate } from './cluster/candidates.js';

export const MigrationRequests = {
  propose: 'mig.propose',
  chunk: 'mig.chunk',
  log: 'mig.log',
  commit: 'mig.commit',
  abort: 'mig.abort',
  start: 'mig.start',
} as const;

/** Largest state a migration moves across nodes (2 GiB, the snapshot envelope's own limit). */
const MAX_STATE_BYTES = 2 ** 31;

/** A migration arriving here that hears nothing from its source for this long is dropped, ms. */
const INCOMING_IDLE_MS = 30_000;

/** Longest a migrated task holds direct arrivals waiting for its source's forwarded queue, ms. */
const REDIRECT_WAIT_MS = 10_000;

/** Chunk size of a migration stream (1 MiB). */
const CHUNK_BYTES = 2 ** 20;
/** Chunks in flight (sent, not yet acknowledged). */
const WINDOW = 8;

export interface RemoteMigrationOptions {
  /** `stop-and-copy` (default) freezes the task for the whole copy; `pre-copy` streams while it serves, then replays its log. */
  mode: 'stop-and-copy' | 'pre-copy';
  /** Pre-copy: freeze once the log since the last round is at most this many messages (default 64). */
  maxFinalMessages: number;
  /** Pre-copy: rounds of log before freezing regardless (default 8). */
  maxRounds: number;
  /** Longest wait for the target's answer to any one step (propose, a chunk, a log round, commit), ms (default 10,000); past it the migration aborts. */
  phaseTimeoutMs: number;
}

/** Source side: moves a frozen-able cell to `target` on another node. Fills `report`; throws to abort. */
export async function migrateToNode(rt: RuntimeImpl, cell: TaskCell, target: NodeCandidate, report: MigrationReport, options: RemoteMigrationOptions): Promise<void> {
  const cluster = rt.cluster!;
  const clock = rt.clock;
  // A task with children on its resource moves with them, as one bundle of snapshots (stop-and-copy).
  const family = familyOf(cell);
  const mid = `${rt.name}:${report.id}`;
  if (family.length > 1) options = { ...options, mode: 'stop-and-copy' };
  const why = unmetConstraint(target, {
    task: cell.def.name,
    affinity: rt.affinities.get(cell),
    kernelKinds: cell.def.kernels ? (Object.keys(cell.def.kernels) as never) : undefined,
    computeUnits: cell.demand.computeUnits,
    memoryBytes: cell.demand.memoryBytes,
  });
  if (why) throw new NoResourceError(cell.def.name, why.constraint, [{ resource: target.device.id, ...why }]);
  const ask = (kind: string, payload: unknown) => cluster.request(target.node, kind, payload, options.phaseTimeoutMs);
  await ask(MigrationRequests.propose, {
    mid,
    id: cell.id,
    task: cell.def.name,
    resource: target.device.id,
    computeUnits: family.reduce((n, c) => n + c.demand.computeUnits, 0),
    memoryBytes: family.reduce((n, c) => n + c.demand.memoryBytes, 0),
    family: family.length > 1 ? family.map((c) => ({ id: c.id, task: c.def.name, parent: c.parent?.id ?? null, epoch: c.epoch + 1 })) : null,
  });
  let committed = false;
  let frozenAt = 0;
  const restarts = cell.restartCount;
  const sendSnapshot = async () => {
    const bytes =
      family.length > 1
        ? cborEncode(family.map((c) => [c.id, snapshotState(c.def, c.state, { registry: rt.codecs })]))
        : snapshotState(cell.def, cell.state, { registry: rt.codecs });
    const producer = new ChunkProducer(bytes, { chunkBytes: CHUNK_BYTES });
    // Up to WINDOW chunks unacknowledged: the link stays busy, and a slow target still slows the source.
    const inflight = new Set<Promise<unknown>>();
    for (const chunk of producer) {
      const p = ask(MigrationRequests.chunk, { mid, chunk });
      inflight.add(p);
      void p.then(
        () => inflight.delete(p),
        () => inflight.delete(p),
      );
      if (inflight.size >= WINDOW) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    report.bytes += bytes.byteLength;
  };
  const sendLog = async (log: unknown[]) => {
    const encoded = cborEncode(log);
    await ask(MigrationRequests.log, { mid, log: encoded });
    report.bytes += encoded.byteLength;
  };
  try {
    report.phases.push({ phase: 'prepare', atMs: clock.now() });
    if (options.mode === 'pre-copy') {
      // The snapshot and the log start at the same turn boundary: the task serves on meanwhile.
      cell.migrationLog = [];
      await sendSnapshot();
      while (report.preCopyRounds < options.maxRounds && cell.migrationLog.length > options.maxFinalMessages) {
        const log = cell.migrationLog;
        cell.migrationLog = [];
        await sendLog(log);
        report.preCopyRounds++;
        if (cell.restartCount !== restarts || cell.status === 'stopped') throw new Error('the task crashed during pre-copy');
      }
    }
    report.phases.push({ phase: 'freeze', atMs: clock.now() });
    frozenAt = clock.now();
    await Promise.all(family.map((c) => c.freeze()));
    if (family.some((c) => c.status === 'stopped')) throw new Error('the task (or one of its children) stopped while freezing');
    if (cell.restartCount !== restarts) throw new Error('the task crashed during the migration');
    if (options.mode === 'pre-copy') {
      const log = cell.migrationLog ?? [];
      cell.migrationLog = undefined;
      await sendLog(log);
    } else {
      await sendSnapshot();
    }
    report.phases.push({ phase: 'commit', atMs: clock.now() });
    const epoch = cell.epoch + 1;
    // Frozen: each member's applied map agrees with the state the target holds now.
    const applied = Object.fromEntries(family.map((c) => [c.id, Object.fromEntries(c.applied)]));
    await ask(MigrationRequests.commit, { mid, epoch, affinity: rt.affinities.get(cell) ?? null, applied });
    committed = true;
    report.phases.push({ phase: 'redirect', atMs: clock.now() });
    for (const c of family) rt.handOff(c, target.node, c === cell ? epoch : c.epoch + 1, `${mid}|${c.id}`);
    report.pauseMs = clock.now() - frozenAt;
    report.phases.push({ phase: 'decommission', atMs: clock.now() });
  } finally {
    cell.migrationLog = undefined;
    if (!committed) {
      cluster.request(target.node, MigrationRequests.abort, { mid }).catch(() => {});
      for (const c of family) if (c.status !== 'stopped') c.thaw();
    }
  }
}

/** The task and its descendants on the same resource, parents before children. */
function familyOf(cell: TaskCell): TaskCell[] {
  const out = [cell];
  for (const c of cell.children.values()) if (c.resource === cell.resource) out.push(...familyOf(c));
  return out;
}

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
  assembler: ChunkAssembler;
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
  private readonly holding = new Map<string, { taskId: string; timer: TimerHandle }>();

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
          assembler: new ChunkAssembler({ maxTotalBytes: MAX_STATE_BYTES }),
          state: undefined,
          restored: false,
          bytes: undefined,
          chain: Promise.resolve(),
          expiry: this.rt.clock.setTimer(() => this.drop(mid), INCOMING_IDLE_MS),
        });
        return { accepted: true };
      }
      case MigrationRequests.chunk: {
        const m = this.expect(mid);
        m.assembler.push(p['chunk'] as Uint8Array);
        if (m.assembler.progress.done) {
          // Restore now, off the pause: with pre-copy the source is still serving.
          m.bytes = m.assembler.finish();
          if (m.family) this.restoreFamily(m, m.family, m.bytes);
          else m.state = restoreState(m.def, m.bytes, { registry: this.rt.codecs });
          m.restored = true;
        }
        return { received: m.assembler.progress.received };
      }
      case MigrationRequests.log: {
        const m = this.expect(mid);
        const log = cborDecode(p['log'] as Uint8Array);
        if (!Array.isArray(log)) throw new InvalidArgumentError('log', 'must be an array of messages');
        if (!m.restored) throw new InvalidArgumentError('log', 'a log round before the snapshot is complete');
        m.chain = m.chain.then(async () => {
          m.state = await replay(this.rt, m, log);
        });
        return m.chain.then(() => ({ replayed: log.length }));
      }
      case MigrationRequests.commit:
        return this.commit(mid, p);
      case MigrationRequests.abort:
        this.drop(mid);
        return { aborted: true };
      default:
        throw new InvalidArgumentError('request', `unknown migration request ${kind}`);
    }
  }

  private async commit(mid: string, p: Record<string, unknown>): Promise<unknown> {
    const m = this.expect(mid);
    await m.chain;
    if (!m.restored || !m.bytes) throw new InvalidArgumentError('commit', 'the snapshot is not complete');
    this.drop(mid);
    const now = this.rt.clock.now();
    const members: FamilyMember[] = m.family ?? [{ id: m.id, def: m.def, parent: null, state: m.state, bytes: m.bytes }];
    for (const f of members) {
      const root = f.id === m.id;
      const entry = { id: f.id, task: f.def.name, node: this.rt.name, resource: m.resource, epoch: root ? Number(p['epoch']) : (f.epoch ?? Number(p['epoch'])), parent: root ? null : f.parent };
      const applied = (p['applied'] as Record<string, Record<string, number>> | undefined)?.[f.id];
      this.rt.adoptTask(f.def, entry, f.state, { bytes: f.bytes!, takenAtMs: now }, root ? ((p['affinity'] as never) ?? undefined) : undefined, applied);
      const cell = this.rt.directory.get(f.id);
      if (!cell) continue;
      // Until the source has forwarded its queue, messages arriving here wait behind it. Should
      // the source never say so (it died), they are let through after a while.
      cell.held = [];
      const key = `${mid}|${f.id}`;
      const timer = this.rt.clock.setTimer(() => this.redirected(key), REDIRECT_WAIT_MS);
      this.holding.set(key, { taskId: f.id, timer });
    }
    return { committed: true };
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

  /** The source is done forwarding: what arrived here meanwhile follows, in arrival order. */
  redirected(mid: string): void {
    const h = this.holding.get(mid);
    if (!h) return;
    this.holding.delete(mid);
    h.timer.cancel();
    const cell = this.rt.directory.get(h.taskId);
    if (!cell?.held) return;
    const held = cell.held;
    cell.held = undefined;
    for (const { msg, reply, stamp } of held) {
      try {
        this.rt.deliver(cell, msg, reply, stamp);
      } catch {
        this.rt.deadLetter(h.taskId, msg, 'mailbox-full');
      }
    }
    cell.kick();
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

/**
 * Runs `receive` over logged messages on the shadow state, with a context whose effects are off:
 * the replies, sends and spawns of those turns already happened at the source.
 */
async function replay(rt: RuntimeImpl, m: Incoming, log: readonly unknown[]): Promise<unknown> {
  const resource = rt.resourceActors.get(m.resource)!;
  const self = new TaskRef(m.id, m.def.name);
  const ctx: TaskContext = {
    self,
    resource: { id: resource.id, kind: resource.device.kind },
    clock: rt.clock,
    log: rt.log,
    canReply: false,
    reply: () => {},
    deferReply: () => ({ resolve: () => {}, reject: () => {} }),
    forward: () => {},
    send: () => {},
    ask: () => Promise.reject(new InvalidArgumentError('ask', 'a task cannot ask while its log is replayed (use stop-and-copy)')),
    spawnChild: (task, options = {}) => new TaskRef(`${m.id}/${options.id ?? task.name}`, task.name),
    stopChild: () => {},
    children: () => [],
    metrics: { add: () => {}, set: () => {} },
    kernel<In, Out>(input: In): Out {
      const fn = m.def.kernels?.[resource.device.kind] as ((input: In, ctx: TaskContext) => Out) | undefined;
      if (!fn) throw new InvalidArgumentError('kernel', `task ${m.def.name} has no kernel for kind ${resource.device.kind}`);
      return fn(input, ctx);
    },
  };
  let state = m.state;
  for (const msg of log) state = await m.def.receive(state, msg, ctx);
  return state;
}
