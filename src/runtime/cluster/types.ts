/** Shapes exchanged between nodes in control envelopes, and the options of a clustered runtime. */
import type { ResourceInfo } from '../../actors/resource.js';
import type { Affinity } from '../placement.js';
import type { DeviceKind } from '../../devices/device.js';

export interface ClusterOptions {
  /** Accept links on this address (default host 127.0.0.1, port 0: any free port). */
  listen?: { host?: string; port?: number } | boolean;
  /** Join the cluster whose RMS listens at this URL (`ws://HOST:PORT`). */
  join?: string;
  /** This node holds the RMS role: the authoritative directory and failure detection (default: true when not joining). */
  rms?: boolean;
  /** Shared secret of the cluster; links authenticate with an HMAC challenge, the secret never travels. */
  auth?: { secret: string };
  /** Serve and trust TLS (wss): PEM certificate and key of this node, and the CA to trust when dialing. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** How often an agent tells the RMS it is alive, ms (default 500). */
  heartbeatIntervalMs?: number;
  /** Silence after which the RMS declares a node dead, ms (default 3000). */
  failureTimeoutMs?: number;
  /** Largest frame on a link, bytes (default 16 MiB). */
  maxFrameBytes?: number;
  /** Most bytes queued on one link before sends fail with LinkOverloadedError (default 64 MiB). */
  maxPendingBytes?: number;
  /** How often changed task snapshots are shipped to the RMS, ms (default 1000). */
  snapshotShipIntervalMs?: number;
  /** Entries in the node's cache of task locations (default 100,000). */
  directoryCacheSize?: number;
  /** How long the RMS waits for the report of a task it does not list yet before answering "unknown", ms (default 1000). */
  locateGraceMs?: number;
  /**
   * Keep every send to a task on another node until a shipped snapshot covers it, and send it
   * again if that node dies, so no accepted send is lost (default true). See docs/cluster.md.
   */
  sendReplay?: boolean;
  /** Most bytes of sends this node keeps for replay, in all; past it `send` throws ReplayBufferFullError (default 64 MiB). */
  replayBufferBytes?: number;
}

/** What a node registered: enough for the RMS to place a task of this type elsewhere. */
export interface TaskTypeInfo {
  name: string;
  kernelKinds: DeviceKind[] | null;
  affinity: Affinity | null;
  computeUnits: number;
  memoryBytes: number;
}

export interface MemberInfo {
  node: string;
  url: string | null;
  rms: boolean;
  resources: ResourceInfo[];
  taskTypes: TaskTypeInfo[];
}

/** One row of the directory: TaskId -> (node, resource, epoch). */
export interface DirEntry {
  id: string;
  task: string;
  node: string;
  resource: string;
  epoch: number;
  parent: string | null;
  /** A child that moved alone to another node than its parent's: where its parent is (re-placement keeps the link). */
  remoteParent?: { node: string; id: string };
  /** Sent with the first report of a task, so the RMS can re-place it before its first snapshot arrives. */
  spawn?: { input: Uint8Array | null; affinity: Affinity | null };
}

/** A task's last snapshot, kept by the RMS so it survives its node. */
export interface ShippedSnapshot extends Omit<DirEntry, 'spawn'> {
  /** cbor bytes of the task's snapshot value; null when the state could not be snapshotted. */
  bytes: Uint8Array | null;
  /** cbor bytes of the task's spawn input, for `init` when there is no snapshot. */
  input: Uint8Array | null;
  affinity: Affinity | null;
  /** The task's applied map (origin node -> highest seq applied) that goes with `bytes`. */
  applied?: Record<string, number> | null;
  /** In a restore: the task's children that run on other (live) nodes, which it keeps supervising. */
  remoteChildren?: Array<{ id: string; task: string; node: string; resource: string }>;
}

/** [task id, node, epoch, applied map]: where the RMS re-placed a task of a dead node, and from what. */
export type Replaced = [string, string, number, Record<string, number>];

export const Control = {
  join: 'join',
  members: 'members',
  heartbeat: 'hb',
  nodeDown: 'node-down',
  dir: 'dir',
  locate: 'locate',
  located: 'located',
  spawn: 'spawn',
  spawnFailed: 'spawn-failed',
  snapshots: 'snapshots',
  restore: 'restore',
  /** Monitor samples for the RMS's metric store (packed: see metrics/batch.ts). */
  metrics: 'metrics',
  heartbeatAck: 'hb-ack',
  /** A sender told `moved` asks the old owner to pass a marker behind its stragglers... */
  flush: 'flush',
  /** ... which the old owner sends on to the new owner... */
  flushArrive: 'flush-arrive',
  /** ... which tells the sender its stragglers are in: it may now send to the new owner. */
  flushAck: 'flush-ack',
  /** A migration's source forwards the task's queued messages ([msg, askId | null] items). */
  migForward: 'mig.fwd',
  /** ... and then says the target may take the messages it held. */
  migRedirected: 'mig.redirected',
  /** RMS -> an origin node: { tasks: [[taskId, seq]] }, stored snapshots cover its streams up to seq. */
  covered: 'covered',
  /** RMS -> every node: { tasks: Replaced[] }, tasks of a dead node re-placed; senders resend past `applied`. */
  replaced: 'replaced',
  /** RMS -> every node: { tasks: [taskId] }, tasks stopped or lost: their replay streams are emptied. */
  forget: 'forget',
  /** [CONTROL, 'req', { id, kind, payload }]: a question to another node (debug views). */
  request: 'req',
  /** [CONTROL, 'res', { id, ok, value | error }] */
  response: 'res',
} as const;
