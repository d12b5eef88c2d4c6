/** The runtime seen from the cluster layer: local delivery, the directory rows of local tasks, snapshots to ship, remote spawn and restore. */
import { PowerRequest } from '../controller-host.js';
import { MailboxFullError, UnknownTaskTypeError, isGodwitError } from '../../errors.js';
import type { ResourceInfo } from '../../actors/resource.js';
import type { Reply } from '../../actors/reply.js';
import type { Queued, Stamp } from '../../actors/mailbox.js';
import type { Snapshot } from '../../actors/task-cell.js';
import type { TaskCell } from '../../actors/task-cell.js';
import type { TaskDefinition } from '../../actors/task.js';
import type { Affinity } from '../placement.js';
import type { DeviceKind } from '../../devices/device.js';
import { cborDecode, cborEncode } from '../../codecs/cbor.js';
import type { DeadLetterReason } from '../event-types.js';
import type { RuntimeImpl } from '../runtime.js';
import { Env } from '../transport/frames.js';
import { errorToWire } from '../transport/wire-errors.js';
import type { ClusterHost } from './host.js';
import { answerDebugRequest } from '../debug-cluster-source.js';
import { unpackSamples } from '../metrics/batch.js';
import { MigrationRequests } from '../migration-remote.js';
import type { MigrateOptions } from '../migration.js';
import { Control, type DirEntry, type ShippedSnapshot, type TaskTypeInfo } from './types.js';

export class RuntimeClusterHost implements ClusterHost {
  private readonly shipped = new WeakMap<TaskCell, Snapshot>();

  constructor(private readonly rt: RuntimeImpl) {}

  get nodeId(): string {
    return this.rt.name;
  }

  localResources(): ResourceInfo[] {
    return this.rt.resources();
  }

  taskTypes(): TaskTypeInfo[] {
    return [...this.rt.registry.values()].map((d) => ({
      name: d.name,
      kernelKinds: d.kernels ? (Object.keys(d.kernels) as DeviceKind[]) : null,
      affinity: d.affinity ?? null,
      computeUnits: d.demand?.computeUnits ?? 1,
      memoryBytes: d.demand?.memoryBytes ?? 0,
    }));
  }

  localDirectory(): DirEntry[] {
    return [...this.rt.directory.values()].map((c) => dirEntry(this.rt.name, c));
  }

  deliverLocal(taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp, fromNode?: string): boolean {
    const cell = this.rt.directory.get(taskId);
    if (!cell) return false;
    try {
      this.rt.deliver(cell, msg, reply, stamp, fromNode);
    } catch (err) {
      // A plain send from another node into a full mailbox: the sender is remote, so the
      // message goes to dead letters here rather than an exception into the link.
      if (err instanceof MailboxFullError) this.rt.deadLetter(taskId, msg, 'mailbox-full');
      else throw err;
    }
    return true;
  }

  deadLetter(taskId: string, msg: unknown, reason: DeadLetterReason): void {
    this.rt.deadLetter(taskId, msg, reason);
  }

  takeSnapshotsToShip(): ShippedSnapshot[] {
    const out: ShippedSnapshot[] = [];
    const replay = this.rt.cluster?.replay !== undefined;
    for (const cell of this.rt.directory.values()) {
      // With replay, the last messages of a task gone idle get covered too (senders trim on it).
      if (replay) cell.takeSnapshotIfDirty();
      const snap = cell.snapshot;
      // A snapshot without its applied map (one a migration brought) waits for a fresh one.
      if (!snap || snap.applied === undefined || this.shipped.get(cell) === snap) continue;
      this.shipped.set(cell, snap);
      // The input went with the first directory report.
      out.push({ ...dirEntry(this.rt.name, cell), bytes: snap.bytes, input: null, affinity: this.rt.affinities.get(cell) ?? null, applied: snap.applied });
    }
    return out;
  }

  /** The first report of a new task: its row plus what the RMS needs to re-place it from scratch. */
  spawnEntry(cell: TaskCell): DirEntry {
    return {
      ...dirEntry(this.rt.name, cell),
      spawn: { input: cell.input === undefined ? null : this.encode(cell, cell.input, 'input'), affinity: this.rt.affinities.get(cell) ?? null },
    };
  }

  private encode(cell: TaskCell, value: unknown, what: string): Uint8Array | null {
    try {
      return cborEncode(value);
    } catch (err) {
      this.rt.log.warn({ task: cell.id, err }, `task ${what} cannot be encoded for shipping to the RMS`);
      return null;
    }
  }

  spawnRequested(from: string, req: Record<string, unknown>): void {
    const name = String(req['task']);
    const id = String(req['id']);
    try {
      const def = this.rt.registry.get(name);
      if (!def) throw new UnknownTaskTypeError(name, this.rt.name);
      this.rt.spawnPlaced(def as TaskDefinition, id, String(req['resource']), req['input'], (req['affinity'] as Affinity | null) ?? undefined);
    } catch (err) {
      this.rt.log.error({ err, task: id, peer: from }, 'refused a remote spawn');
      this.rt.cluster?.trySend(from, [Env.control, Control.spawnFailed, { id, error: errorToWire(err) }]);
    }
  }

  restoreRequested(tasks: ShippedSnapshot[]): void {
    for (const t of tasks) {
      const def = this.rt.registry.get(t.task);
      if (!def) {
        this.rt.log.error({ err: new UnknownTaskTypeError(t.task, this.rt.name), task: t.id }, 'cannot restore a task of a dead node');
        continue;
      }
      let input: unknown;
      try {
        if (t.input) input = cborDecode(t.input);
      } catch (err) {
        this.rt.log.error({ err, task: t.id }, 'input of a task of a dead node does not decode');
      }
      try {
        // The envelope is checked (checksum, version, codec) when the task starts; a bad one is a crash, and supervision runs init.
        // A child that had moved alone away from its parent: back on its parent's node it is a local child again.
        const parentHere = t.remoteParent?.node === this.rt.name ? this.rt.directory.get(t.remoteParent.id) : undefined;
        parentHere?.remoteChildren.delete(t.id);
        this.rt.restoreTask(def as TaskDefinition, parentHere ? { ...t, parent: parentHere.id } : t, t.bytes ? { bytes: t.bytes, takenAtMs: this.rt.clock.now(), applied: t.applied ?? {} } : undefined, input);
        const cell = this.rt.directory.get(t.id);
        if (cell && t.remoteParent && !parentHere) this.rt.remoteSupervision.readopted(cell, t.remoteParent);
        if (cell && t.remoteChildren) this.rt.remoteSupervision.reclaim(cell, t.remoteChildren);
      } catch (err) {
        this.rt.log.error({ err, task: t.id, code: isGodwitError(err) ? err.code : undefined }, 'restore failed');
      }
    }
  }

  answer(kind: string, payload: unknown): unknown {
    if (kind === PowerRequest) {
      const p = (payload ?? {}) as Record<string, unknown>;
      return this.rt.setPowerState(String(p['resource']), p['state'] === 'idle' ? 'idle' : 'active');
    }
    if (kind.startsWith('sup.')) return this.rt.remoteSupervision.answer(kind, (payload ?? {}) as Record<string, unknown>);
    if (kind.startsWith('mig.')) {
      const p = (payload ?? {}) as Record<string, unknown>;
      if (kind === MigrationRequests.start) {
        const options: MigrateOptions = {};
        if (typeof p['to'] === 'string') options.to = p['to'];
        if (p['mode'] === 'pre-copy' || p['mode'] === 'stop-and-copy') options.mode = p['mode'];
        for (const k of ['phaseTimeoutMs', 'maxFinalMessages', 'maxRounds'] as const) if (typeof p[k] === 'number') options[k] = p[k];
        return this.rt.migrator.migrate(String(p['task']), options);
      }
      return this.rt.migrationReceiver.answer(kind, p);
    }
    if (!this.rt.debugSource) throw new Error('this node keeps no debug source');
    return answerDebugRequest(this.rt.adminSource(this.rt.debugSource), kind, payload);
  }

  migrationForwarded(mid: string, items: Queued[]): void {
    this.rt.migrationReceiver.forwarded(mid, items);
  }

  migrationFlushed(taskId: string): void {
    this.rt.migrationReceiver.flushed(taskId);
  }

  migrationRedirected(mid: string): void {
    this.rt.migrationReceiver.redirected(mid);
  }

  samplesArrived(packed: unknown): void {
    this.rt.recordSamples(unpackSamples(packed));
  }

  rttMeasured(ms: number): void {
    if (this.rt.monitoring) this.rt.monitoring.rttMs = ms;
  }

  nodeEvent(type: 'node.joined' | 'node.down', node: string): void {
    this.rt.emit({ type, timeMs: this.rt.clock.now(), node });
  }
}

export function dirEntry(node: string, c: TaskCell): DirEntry {
  const entry: DirEntry = { id: c.id, task: c.def.name, node, resource: c.resource.id, epoch: c.epoch, parent: c.parent?.id ?? null };
  if (c.remoteParent) entry.remoteParent = c.remoteParent;
  return entry;
}
