/**
 * Live migration to a resource of another node: stop-and-copy over the link between the two.
 *   propose       the target node checks it has the task's definition and the resource can take it
 *   freeze        the source stops the task's turns (an async turn in flight finishes first)
 *   prepare+copy  the state is snapshotted in its codec and streamed in checksummed chunks, each
 *                 acknowledged before the next is sent (back-pressure)
 *   commit        the target restores the task (epoch + 1) and reports it to the directory
 *   redirect      the source forwards what had queued in the mailbox, in order, and from then on
 *                 forwards stragglers and answers their senders' nodes with moved(epoch)
 *   decommission  the source drops its instance; its epoch is stale, it can never run a turn
 * A failure before commit aborts: the task goes on at the source, untouched. Pre-copy rounds (the
 * task serving while its state streams) are not implemented yet: the pause covers the copy.
 */
import { InvalidArgumentError, UnknownTaskTypeError } from '../errors.js';
import type { TaskCell } from '../actors/task-cell.js';
import type { TaskDefinition } from '../actors/task.js';
import { ChunkAssembler } from '../codecs/chunk-assembler.js';
import { ChunkProducer } from '../codecs/chunk-format.js';
import { snapshotState } from '../codecs/snapshot.js';
import { unmetConstraint } from './placement.js';
import type { RuntimeImpl } from './runtime.js';
import type { MigrationReport } from './migration.js';
import type { NodeCandidate } from './cluster/candidates.js';

export const MigrationRequests = {
  propose: 'mig.propose',
  chunk: 'mig.chunk',
  commit: 'mig.commit',
  abort: 'mig.abort',
  start: 'mig.start',
} as const;

/** Chunk size of a migration stream (1 MiB). */
const CHUNK_BYTES = 2 ** 20;

/** Source side: moves a frozen-able cell to `target` on another node. Fills `report`; throws to abort. */
export async function migrateToNode(rt: RuntimeImpl, cell: TaskCell, target: NodeCandidate, report: MigrationReport): Promise<void> {
  const cluster = rt.cluster!;
  const clock = rt.clock;
  if (cell.children.size > 0) throw new InvalidArgumentError('task', `task ${cell.id} has child tasks; moving a family across nodes is not available yet`);
  const mid = `${rt.name}:${report.id}`;
  await cluster.request(target.node, MigrationRequests.propose, {
    mid,
    id: cell.id,
    task: cell.def.name,
    resource: target.device.id,
    computeUnits: cell.demand.computeUnits,
    memoryBytes: cell.demand.memoryBytes,
  });
  report.phases.push({ phase: 'freeze', atMs: clock.now() });
  const frozenAt = clock.now();
  await cell.freeze();
  let committed = false;
  try {
    if (cell.status === 'stopped') throw new Error('the task stopped while freezing');
    report.phases.push({ phase: 'prepare', atMs: clock.now() });
    const bytes = snapshotState(cell.def, cell.state, { registry: rt.codecs });
    const producer = new ChunkProducer(bytes, { chunkBytes: CHUNK_BYTES });
    for (const chunk of producer) await cluster.request(target.node, MigrationRequests.chunk, { mid, chunk });
    report.bytes = bytes.byteLength;
    report.phases.push({ phase: 'commit', atMs: clock.now() });
    const epoch = cell.epoch + 1;
    await cluster.request(target.node, MigrationRequests.commit, { mid, epoch, affinity: rt.affinities.get(cell) ?? null });
    committed = true;
    report.phases.push({ phase: 'redirect', atMs: clock.now() });
    rt.handOff(cell, target.node, epoch);
    report.pauseMs = clock.now() - frozenAt;
    report.phases.push({ phase: 'decommission', atMs: clock.now() });
  } finally {
    if (!committed) {
      cluster.request(target.node, MigrationRequests.abort, { mid }).catch(() => {});
      if (cell.status !== 'stopped') cell.thaw();
    }
  }
}

interface Incoming {
  def: TaskDefinition;
  id: string;
  resource: string;
  assembler: ChunkAssembler;
}

/** Target side: the requests a migrating source sends. */
export class MigrationReceiver {
  private readonly incoming = new Map<string, Incoming>();

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
        this.incoming.set(mid, { def, id, resource: resource.id, assembler: new ChunkAssembler({ maxTotalBytes: 2 ** 32 }) });
        return { accepted: true };
      }
      case MigrationRequests.chunk: {
        const m = this.expect(mid);
        m.assembler.push(p['chunk'] as Uint8Array);
        return { received: m.assembler.progress.received };
      }
      case MigrationRequests.commit: {
        const m = this.expect(mid);
        const bytes = m.assembler.finish();
        this.incoming.delete(mid);
        this.rt.restoreTask(
          m.def,
          { id: m.id, task: m.def.name, node: this.rt.name, resource: m.resource, epoch: Number(p['epoch']), parent: null },
          { bytes, takenAtMs: this.rt.clock.now() },
          undefined,
          (p['affinity'] as never) ?? undefined,
        );
        return { committed: true };
      }
      case MigrationRequests.abort:
        this.incoming.delete(mid);
        return { aborted: true };
      default:
        throw new InvalidArgumentError('request', `unknown migration request ${kind}`);
    }
  }

  private expect(mid: string): Incoming {
    const m = this.incoming.get(mid);
    if (!m) throw new InvalidArgumentError('migration', `no migration ${mid} in progress here`);
    return m;
  }
}
