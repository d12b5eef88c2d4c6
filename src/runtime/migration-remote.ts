/**
 * Live migration to a resource of another node (source side; migration-receiver.ts is the target).
 *   propose       the target node checks it has the task's definition and the resource can take it
 *   prepare       the state is encoded in its codec and streamed in checksummed chunks (see
 *                 migration-stream.ts): at most 16 MiB unacknowledged, the event loop free between
 *                 chunks. With `pre-copy` the task keeps serving meanwhile and the messages it
 *                 handles are logged; the log goes over in rounds until it is short
 *   freeze        the source stops the task's turns (an async turn in flight finishes first);
 *                 stop-and-copy sends the snapshot now
 *   commit        (pre-copy: with the last piece of log, replayed first) the target restores the
 *                 task (epoch + 1) and reports it to the directory
 *   redirect      the source forwards what had queued in the mailbox, in order, and from then on
 *                 forwards stragglers and answers their senders' nodes with moved(epoch)
 *   decommission  the source drops its instance; its epoch is stale, it can never run a turn
 * A failure before commit aborts: the task goes on at the source, untouched. So does a phase that
 * takes longer than `phaseTimeoutMs` (`MigrationTimeoutError`, naming the phase).
 * Commit in doubt: when the commit's answer does not come (timeout, link lost), the target may
 * have taken the task over or not. The family stays frozen and the source asks the target for the
 * outcome (`mig.outcome`), which is final there: a migration the target has not committed is
 * marked aborted and a commit arriving later is refused. While the target cannot be reached the
 * source keeps asking; once the RMS declares the target dead, the directory decides (the target
 * reported the task at the new epoch: committed, and re-placement takes it from there; otherwise
 * aborted). The task never runs at both ends. Pre-copy replays
 * the log on the target with `receive`'s effects (replies, sends, spawns) switched off, so it
 * needs a `receive` that is deterministic given the state and the message and does not `ask`.
 */
import { MigrationTimeoutError, NodeDownError, NoResourceError } from '../errors.js';
import type { TaskCell } from '../actors/task-cell.js';
import { encodeStatePayloadPieces, snapshotState } from '../codecs/snapshot.js';
import { cborEncode } from '../codecs/cbor.js';
import { unmetConstraint } from './placement.js';
import type { RuntimeImpl } from './runtime.js';
import type { MigrationReport } from './migration.js';
import type { NodeCandidate } from './cluster/candidates.js';
import { streamChunks } from './migration-stream.js';
import { PartitionedState } from '../codecs/partitioned-state.js';
import { withTimeout } from './timeout.js';
import { bumpCopier, warmBuffer, withSpare } from './warm-buffer.js';

export const MigrationRequests = {
  propose: 'mig.propose',
  chunk: 'mig.chunk',
  log: 'mig.log',
  commit: 'mig.commit',
  abort: 'mig.abort',
  outcome: 'mig.outcome',
  delta: 'mig.delta',
  start: 'mig.start',
} as const;

const NO_BYTES = new Uint8Array(0);

/** Pre-copy warms a buffer for the snapshot's copy of a state whose last snapshot is at least this big (4 MiB). */
const WARM_MIN_BYTES = 4 * 2 ** 20;

export interface RemoteMigrationOptions {
  /** `stop-and-copy` (default) freezes the task for the whole copy; `pre-copy` streams while it serves, then replays its log. */
  mode: 'stop-and-copy' | 'pre-copy';
  /** Pre-copy: freeze once the log since the last round is at most this many messages (default 64). */
  maxFinalMessages: number;
  /** Pre-copy: rounds of log before freezing regardless (default 8). */
  maxRounds: number;
  /** Longest wait for the target's answer to any one step (propose, a chunk, a log round, commit), or for the freeze, ms (default 10,000); past it the migration aborts. */
  phaseTimeoutMs: number;
}

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
  const phase = () => report.phases.at(-1)?.phase ?? 'propose';
  const timeout = (step: string) => () => new MigrationTimeoutError(cell.id, phase(), options.phaseTimeoutMs, step);
  const ask = (kind: string, payload: unknown, tail?: Uint8Array) =>
    cluster.request(target.node, kind, payload, options.phaseTimeoutMs, { timeoutError: timeout(`the answer of node ${target.node} to ${kind}`), ...(tail ? { tail } : {}) });
  let committed = false;
  let frozenAt = 0;
  const restarts = cell.restartCount;
  // A task whose state is a PartitionedState pre-copies by deltas of its changed partitions: no
  // log to replay, so its `receive` need not be deterministic.
  const partitioned = family.length === 1 && cell.state instanceof PartitionedState ? cell.state : undefined;
  let version = 0;
  const checkPartitioned = () => {
    if (cell.restartCount !== restarts || cell.status === 'stopped') throw new Error('the task crashed during pre-copy');
    if (cell.state !== partitioned) throw new Error('the task replaced its PartitionedState during pre-copy: its deltas no longer follow');
  };
  /**
   * `frozen`: the family takes no turn until commit or abort, so its large byte arrays can be
   * streamed in place. Otherwise (pre-copy) they are copied, at this turn, into `scratch`.
   */
  const sendSnapshot = async (frozen: boolean, scratch?: Uint8Array) => {
    // One task: the codec's bytes go over bare and the target seals the envelope around them
    // from the chunks' checksums. A family: one bundle of sealed envelopes.
    let bytes: Uint8Array | Uint8Array[];
    let meta: { task: string; codec: string; stateVersion: number } | null = null;
    if (family.length === 1) {
      const single = encodeStatePayloadPieces(cell.def, cell.state, frozen ? { registry: rt.codecs } : { registry: rt.codecs, copyLarge: bumpCopier(scratch) });
      bytes = single.pieces;
      meta = { task: single.task, codec: single.codec, stateVersion: single.stateVersion };
    } else bytes = cborEncode(family.map((c) => [c.id, snapshotState(c.def, c.state, { registry: rt.codecs })]));
    // The chunk's payload is the request's last field: it goes into the link's frame uncopied till then.
    report.bytes += await streamChunks(bytes, ({ head, payload }, index) => ask(MigrationRequests.chunk, index === 0 ? { mid, head, meta, body: NO_BYTES } : { mid, head, body: NO_BYTES }, payload));
  };
  const sendDelta = async (delta: unknown) => {
    const encoded = cborEncode(delta);
    await ask(MigrationRequests.delta, { mid, delta: encoded });
    report.bytes += encoded.byteLength;
  };
  const sendLog = async (log: unknown[]) => {
    const encoded = cborEncode(log);
    await ask(MigrationRequests.log, { mid, log: encoded });
    report.bytes += encoded.byteLength;
  };
  try {
    await ask(MigrationRequests.propose, {
      mid,
      id: cell.id,
      task: cell.def.name,
      resource: target.device.id,
      computeUnits: family.reduce((n, c) => n + c.demand.computeUnits, 0),
      memoryBytes: family.reduce((n, c) => n + c.demand.memoryBytes, 0),
      family: family.length > 1 ? family.map((c) => ({ id: c.id, task: c.def.name, parent: c.parent?.id ?? null, epoch: c.epoch + 1 })) : null,
      // The size of the last snapshot: the target makes its buffer ready before the stream starts.
      stateBytes: family.length === 1 ? (cell.snapshot?.bytes.byteLength ?? null) : null,
    });
    report.phases.push({ phase: 'prepare', atMs: clock.now() });
    if (options.mode === 'pre-copy') {
      // The snapshot copies the state's large byte arrays (one copy, no encode of them) into a
      // buffer warmed beforehand, a slice per turn: the copy is the only stall the task sees.
      const last = cell.snapshot?.bytes.byteLength ?? 0;
      const scratch = last >= WARM_MIN_BYTES ? await warmBuffer(withSpare(last), () => cell.status === 'stopped') : undefined;
      // The snapshot and the deltas (or the log) start at the same turn boundary: the task serves on meanwhile.
      if (partitioned) {
        report.preCopy = 'partitions';
        version = partitioned.version;
      } else {
        report.preCopy = 'log';
        cell.migrationLog = [];
      }
      await sendSnapshot(false, scratch);
      if (partitioned) {
        // Deltas: the partitions changed since the last round, until few changes are left.
        while (report.preCopyRounds < options.maxRounds && partitioned.version - version > options.maxFinalMessages) {
          const delta = partitioned.deltaSince(version);
          version = partitioned.version;
          await sendDelta(delta);
          report.preCopyRounds++;
          checkPartitioned();
        }
      } else {
        while (report.preCopyRounds < options.maxRounds && (cell.migrationLog?.length ?? 0) > options.maxFinalMessages) {
          const log = cell.migrationLog ?? [];
          cell.migrationLog = [];
          await sendLog(log);
          report.preCopyRounds++;
          if (cell.restartCount !== restarts || cell.status === 'stopped') throw new Error('the task crashed during pre-copy');
        }
      }
    }
    report.phases.push({ phase: 'freeze', atMs: clock.now() });
    frozenAt = clock.now();
    await withTimeout(rt.clock, Promise.all(family.map((c) => c.freeze())), options.phaseTimeoutMs, timeout('the turn in flight, or messages held back since the move that brought the task here'));
    if (family.some((c) => c.status === 'stopped')) throw new Error('the task (or one of its children) stopped while freezing');
    if (cell.restartCount !== restarts) throw new Error('the task crashed during the migration');
    // Pre-copy: the last delta (or piece of log) rides with the commit (one round trip in the pause, not two).
    let finalLog: Uint8Array | null = null;
    let finalDelta: Uint8Array | null = null;
    if (options.mode === 'pre-copy' && partitioned) {
      checkPartitioned();
      finalDelta = cborEncode(partitioned.deltaSince(version));
      report.bytes += finalDelta.byteLength;
    } else if (options.mode === 'pre-copy') {
      finalLog = cborEncode(cell.migrationLog ?? []);
      cell.migrationLog = undefined;
      report.bytes += finalLog.byteLength;
    } else {
      await sendSnapshot(true);
    }
    report.phases.push({ phase: 'commit', atMs: clock.now() });
    const epoch = cell.epoch + 1;
    // Frozen: each member's applied map agrees with the state the target holds now; spawn inputs go
    // along so that a restart at the target runs `init` as it would have here.
    const applied = Object.fromEntries(family.map((c) => [c.id, Object.fromEntries(c.applied)]));
    const inputs = family.map((c) => [c.id, portable(c.input)]);
    // A child moving alone stays its parent's child: the target learns where its parent is.
    const parent = cell.parent ? { node: rt.name, id: cell.parent.id } : (cell.remoteParent ?? null);
    // Each member's measured cost per device kind goes along (its predicted performance elsewhere).
    const cost = Object.fromEntries(family.map((c) => [c.id, Object.fromEntries(c.cost)]));
    try {
      // Members that see only part of each sender's stream (a split partitioned task) stay unsequenced.
      const unsequenced = family.filter((c) => !c.sequenced).map((c) => c.id);
      await ask(MigrationRequests.commit, { mid, epoch, affinity: rt.affinities.get(cell) ?? null, inputs, applied, unsequenced, parent, cost, log: finalLog, delta: finalDelta });
    } catch (err) {
      // No answer is not a no: the target may have committed. A refusal it sent is final.
      if (!(err instanceof MigrationTimeoutError || err instanceof NodeDownError)) throw err;
      report.phases.push({ phase: 'in-doubt', atMs: clock.now() });
      const resolved = await resolveInDoubt(rt, target.node, mid, cell.id, epoch, options.phaseTimeoutMs);
      if (resolved.outcome === 'committed' && resolved.node !== undefined) {
        // Adopted, then its node died (the RMS re-places the task, or has): this copy lets go,
        // and what it had queued goes to where the task is now.
        committed = true;
        for (const c of family) rt.letGo(c, resolved.node, resolved.epoch ?? epoch);
        report.phases.push({ phase: 'decommission', atMs: clock.now() });
        report.pauseMs = clock.now() - frozenAt;
        return;
      }
      if (resolved.outcome === 'aborted') {
        // The target may have reported (and dropped) the task meanwhile: the directory hears where it is.
        rt.placementChanged(cell); // and its children
        throw new Error(`${err instanceof Error ? err.message : String(err)}; the target did not commit`);
      }
    }
    committed = true;
    report.phases.push({ phase: 'redirect', atMs: clock.now() });
    const parentCell = cell.parent;
    for (const c of family) rt.handOff(c, target.node, c === cell ? epoch : c.epoch + 1, `${mid}|${c.id}`);
    if (parentCell) rt.remoteSupervision.adopted(parentCell, cell, target.node, target.device.id);
    else if (cell.remoteParent && cell.remoteParent.node !== target.node) rt.remoteSupervision.childMoved(cell, target.node, target.device.id);
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

/** How long the source waits between questions to a target it cannot reach while a commit is in doubt. */
const IN_DOUBT_RETRY_MS = 250;

/**
 * The outcome of a commit whose answer never came: the target's word (final: asking makes an
 * uncommitted migration aborted there), or, once the target is declared dead, the directory's
 * (the target reports a task it adopted before it answers the commit).
 */
async function resolveInDoubt(rt: RuntimeImpl, node: string, mid: string, taskId: string, epoch: number, timeoutMs: number): Promise<{ outcome: 'committed' | 'aborted'; node?: string; epoch?: number }> {
  const cluster = rt.cluster!;
  for (;;) {
    if (!cluster.isMember(node)) {
      // The target adopted the task if the directory has it at the new epoch or later: there, or
      // wherever the RMS re-placed it since. No entry: it went down with its node (or was never
      // adopted), and the frozen copy here is the only one.
      const entry = await cluster.lookupDirectory(taskId, timeoutMs);
      return entry && entry.epoch >= epoch ? { outcome: 'committed', node: entry.node, epoch: entry.epoch } : { outcome: 'aborted' };
    }
    try {
      const answer = (await cluster.request(node, MigrationRequests.outcome, { mid }, timeoutMs)) as { outcome?: unknown } | null;
      return { outcome: answer?.outcome === 'committed' ? 'committed' : 'aborted' };
    } catch (err) {
      rt.log.warn({ err, task: taskId, peer: node, mid }, 'a migration commit is in doubt: the target does not answer; asking again');
      await new Promise<void>((resolve) => rt.clock.setTimer(resolve, IN_DOUBT_RETRY_MS));
    }
  }
}

/** `value` if it can cross a link, else undefined (an input no codec carries is dropped, not fatal). */
function portable(value: unknown): unknown {
  try {
    cborEncode(value);
    return value;
  } catch {
    return undefined;
  }
}

/** The task and its descendants on the same resource, parents before children. */
function familyOf(cell: TaskCell): TaskCell[] {
  const out = [cell];
  for (const c of cell.children.values()) if (c.resource === cell.resource) out.push(...familyOf(c));
  return out;
}

