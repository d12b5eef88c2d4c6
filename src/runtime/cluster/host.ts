/** What the cluster layer needs from its runtime. */
import type { ResourceInfo } from '../../actors/resource.js';
import type { Reply } from '../../actors/reply.js';
import type { Queued, Stamp } from '../../actors/mailbox.js';
import type { DeadLetterReason } from '../event-types.js';
import type { DirEntry, ShippedSnapshot, TaskTypeInfo } from './types.js';

export interface ClusterHost {
  readonly nodeId: string;
  localResources(): ResourceInfo[];
  taskTypes(): TaskTypeInfo[];
  /** Every task hosted here, for the directory (on join, and when the RMS rebuilds it). */
  localDirectory(): DirEntry[];
  /** Hands a message to a local task; false when no such task runs here. */
  /** `stamp`: the sender's replay stamp; `fromNode`: the peer it came from, when it came over a link. */
  deliverLocal(taskId: string, msg: unknown, reply: Reply | undefined, stamp?: Stamp, fromNode?: string): boolean;
  deadLetter(taskId: string, msg: unknown, reason: DeadLetterReason): void;
  /** Snapshots taken since the last call, encoded for the RMS. */
  takeSnapshotsToShip(): ShippedSnapshot[];
  /** Another node placed a task on one of our resources. */
  spawnRequested(from: string, request: Record<string, unknown>): void;
  /** The RMS re-places tasks of a dead node here: parents first, then their children. */
  restoreRequested(tasks: ShippedSnapshot[]): void;
  /** Answers a question another node asked (`ClusterNode.request`). */
  answer(kind: string, payload: unknown): unknown;
  /** Monitor samples another node shipped (RMS). */
  samplesArrived(packed: unknown): void;
  /** The round trip of a heartbeat to the RMS. */
  rttMeasured(ms: number): void;
  /** A migration's source forwarded the queued messages of a task that moved here. */
  migrationForwarded(mid: string, items: Queued[]): void;
  /** A migration's source is done forwarding: the task may take what it held. */
  migrationRedirected(mid: string): void;
  /** A marker this node sent through a migration's source came back: its own earlier sends to the task are in. */
  migrationFlushed(taskId: string): void;
  /** Emits a cluster event. */
  nodeEvent(type: 'node.joined' | 'node.down', node: string): void;
}
