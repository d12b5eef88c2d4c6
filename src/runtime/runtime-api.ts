/** The public shape of a runtime: what `createRuntime` returns, and the rows it reports. */
import type { ResourceInfo } from '../actors/resource.js';
import type { TaskRef } from '../actors/ref.js';
import type { AnyTaskDefinition, AskOptions, TaskDefinition } from '../actors/task.js';
import type { TaskCell } from '../actors/task-cell.js';
import type { Device, DeviceKind } from '../devices/device.js';
import type { Clock } from './clock.js';
import type { RuntimeEventType } from './event-types.js';
import type { EventListener, Subscription } from './events.js';
import type { Logger } from './logger.js';
import type { Affinity } from './placement.js';
import type { MigrateOptions, MigrationReport } from './migration.js';
import type { BucketPoint, MetricPoint, MetricQuery } from './metrics/metric-store.js';
import type { DeviceSampler } from './metrics/monitor.js';
import type { DevicePlugin } from '../devices/plugin.js';
import type { MigrationController } from '../actors/migration-controller.js';
import type { ResourceForecasts } from './predictor-service.js';

export interface SpawnOptions<Input = unknown> {
  /** TaskId (default `<task name>-<n>`). Must be unique in the runtime. */
  id?: string;
  /** Merged over the task definition's affinity. */
  affinity?: Affinity;
  /** Passed to `init`. */
  input?: Input;
}

export interface TaskInfo {
  ref: TaskRef;
  id: string;
  task: string;
  parent: string | undefined;
  resource: string;
  kind: DeviceKind;
  status: TaskCell['status'];
  /** Placement epoch: +1 on every re-placement or move. */
  epoch: number;
  /** Messages waiting: the mailbox, plus stamped ones that came ahead of their sender's stream. */
  mailboxDepth: number;
  processed: number;
  /** Replayed messages dropped because the task had applied them already (after a node death). */
  duplicates: number;
  /** Stamped messages given up on: gaps in a sender's stream that no message filled within 5 s (lost on the way). */
  gapsSkipped: number;
  /** Size of the task's last snapshot in bytes (its state in its codec, with the envelope); null before the first. */
  stateBytes: number | null;
  restarts: number;
  /** Actor path in the supervision tree. */
  path: string;
  /** Its affinity: the definition's merged with the one given at spawn (absent: none). */
  affinity?: Affinity;
  /** Handler ms per message per device kind: measured (after 10 messages there) or declared (`demand.msPerMessage`); absent: none yet. */
  costMsByKind?: Record<string, number>;
}

export interface Runtime {
  /** This node's name (its id in a cluster). */
  readonly name: string;
  /** Resolves once the node listens and has joined its cluster (at once for a single process). */
  readonly ready: Promise<void>;
  /** The URL other nodes join or dial (`ws://HOST:PORT`), once ready; undefined for a single process. */
  readonly url: string | undefined;
  /** The debug socket's URL once ready, when `debug` is on. */
  readonly debugUrl: string | undefined;
  /** Nodes of the cluster this node knows of, itself included. */
  nodes(): Array<{ node: string; url: string | null; rms: boolean; resources: number }>;
  readonly clock: Clock;
  readonly log: Logger;
  spawn<S, M, R, I>(task: TaskDefinition<S, M, R, I>, options?: SpawnOptions<I>): TaskRef;
  /** Makes a task definition known by name, so other nodes can place (or re-place) tasks of it here. */
  register(task: AnyTaskDefinition): void;
  /** Fire and forget. Throws `MailboxFullError` when the mailbox is full and its policy is `reject`. */
  send(to: TaskRef, msg: unknown): void;
  ask<R = unknown>(to: TaskRef, msg: unknown, options?: AskOptions): Promise<R>;
  /** Stops the task and its children; messages still queued go to dead letters. */
  stop(ref: TaskRef): Promise<void>;
  resources(): ResourceInfo[];
  tasks(): TaskInfo[];
  /** Adds a resource to this node. */
  addResource(device: Device): void;
  /** Marks a resource failed: its tasks are re-placed from their last snapshots (not counted as restarts). */
  failResource(id: string): void;
  /**
   * Stops placing tasks on a resource and live-migrates its tasks elsewhere. Tasks that fit
   * nowhere else stay (their migrations are reported aborted).
   */
  drainResource(id: string): Promise<{ moved: number; stayed: number; migrations: MigrationReport[] }>;
  /** Moves a running task to another resource of this node with its live state (see docs/migration.md). */
  migrate(ref: TaskRef, options?: MigrateOptions): Promise<MigrationReport>;
  /** The most recent migrations (at most 100), oldest first. */
  migrations(): MigrationReport[];
  /** A resource's monitor samples of one metric (raw, or 1 s / 10 s buckets for older data); see docs/monitoring.md. */
  metrics(resourceId: string, query: MetricQuery): Array<MetricPoint | BucketPoint>;
  /** The latest monitor reading of every metric of a resource (null: unavailable). */
  latestMetrics(resourceId: string): Record<string, number | null>;
  /** Feeds a resource's monitor from a device plugin (and fails the resource when the plugin says the device failed). */
  attachDevicePlugin(resourceId: string, plugin: DevicePlugin, deviceId?: string): void;
  /** Feeds a resource's monitor from a device sampler (a plugin's latest readings) instead of its own accounting. */
  monitorWith(resourceId: string, sampler: DeviceSampler): void;
  /** The Prometheus endpoint's URL once ready, when `prometheus` is on. */
  readonly prometheusUrl: string | undefined;
  /** Lets a drained resource take tasks again. */
  undrainResource(id: string): void;
  /** The migration controller, when `controller` was configured and this node runs it (the RMS or a single process). */
  readonly controller: MigrationController | undefined;
  /** Every resource's forecasts (per metric and horizon, P50/P90, model, MASE) and failure risk, from the predictors on the RMS or a single process; empty when they are off. */
  forecasts(): ResourceForecasts[];
  /** Powers a resource of this node down (`idle`: takes no new task, no idle draw in its energy) or up again. */
  setPowerState(id: string, state: 'active' | 'idle'): Promise<void>;
  /** Subscribes to runtime events (all, or the types given). */
  observe(listener: EventListener, types?: readonly RuntimeEventType[]): Subscription;
  /** Messages sent to dead letters so far. */
  readonly deadLetters: number;
  shutdown(): Promise<void>;
}

