/**
 * `createRuntime`: one node's actor system. It owns the resource actors, the directory of tasks
 * (TaskId -> running cell, with its placement epoch) and the message path: `send`, `ask`, dead
 * letters. Failure handling lives in supervisor.ts; creating and stopping cells in task-cells.ts;
 * monitoring and metrics in runtime-metrics.ts; resource admin in resource-admin.ts; the
 * cluster-facing task moves (remote spawn, hand-off) in cluster/task-moves.ts.
 */
import { InvalidArgumentError, MailboxFullError, RuntimeShutDownError, UnknownTaskError } from '../errors.js';
import { TaskRef, isTaskRef } from '../actors/ref.js';
import { type Reply, ReplySlot } from '../actors/reply.js';
import type { Stamp } from '../actors/mailbox.js';
import { ResourceActor, type ResourceInfo } from '../actors/resource.js';
import type { CellHost, Snapshot, TaskCell } from '../actors/task-cell.js';
import type { AnyTaskDefinition, AskOptions, SpawnChildOptions, TaskDefinition } from '../actors/task.js';
import { type Device, validateDevice } from '../devices/device.js';
import type { Clock } from './clock.js';
import type { DeadLetterReason, RuntimeEvent, RuntimeEventType, StopReason } from './event-types.js';
import { type EventListener, Observer, type Subscription } from './events.js';
import { createLogger, logEvents, type Logger } from './logger.js';
import { type ActorHandle, type ActorSystem, createActorSystem } from './nact-adapter.js';
import { resolveOptions, type ResolvedOptions, type RuntimeOptions } from './options.js';
import type { Affinity } from './placement.js';
import { Supervisor } from './supervisor.js';
import { RemoteSupervision } from './remote-supervision.js';
import { type MigrateOptions, type MigrationReport, Migrator } from './migration.js';
import { MigrationReceiver } from './migration-receiver.js';
import { ownerOf } from './partitions.js';
import { type BucketPoint, type MetricPoint, type MetricQuery, MetricStore } from './metrics/metric-store.js';
import { type DeviceSampler, Monitoring, type ResourceSample } from './metrics/monitor.js';
import type { DevicePlugin } from '../devices/plugin.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { drainResource, failResource, setPowerState, undrainResource } from './resource-admin.js';
import { taskInfo } from './task-info.js';
import { TaskCells } from './task-cells.js';
import type { Runtime, SpawnOptions, TaskInfo } from './runtime-api.js';

export type { Runtime, SpawnOptions, TaskInfo } from './runtime-api.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { RuntimeClusterHost } from './cluster/runtime-host.js';
import { handOff, letGo, placementChanged } from './cluster/task-moves.js';
import type { DirEntry } from './cluster/types.js';
import type { CodecRegistry } from '../codecs/registry.js';
import { cborDecode, cborEncode } from '../codecs/cbor.js';
import { type DebugServer, startDebugServer } from './debug-socket.js';
import { createLocalDebugSource, type DebugSource, type LocalDebugSource } from './debug-source.js';
import { adminSource } from './debug-admin.js';
import { createRuntimeController } from './controller-host.js';
import { PredictorService, type ResourceForecasts } from './predictor-service.js';
import type { MigrationController } from '../actors/migration-controller.js';
import { createClusterDebugSource } from './debug-cluster-source.js';

let systems = 0;

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new RuntimeImpl(resolveOptions(options), createLogger(options.logger));
}

export class RuntimeImpl implements Runtime, CellHost {
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly throughput: number;
  readonly snapshotIntervalMs: number;
  readonly codecs: CodecRegistry;
  readonly simulateSerialization: boolean;
  readonly observer = new Observer();
  readonly directory = new Map<string, TaskCell>();
  readonly resourceActors = new Map<string, ResourceActor>();
  readonly system: ActorSystem;
  readonly supervisor: Supervisor;
  readonly migrator: Migrator;
  readonly migrationReceiver: MigrationReceiver;
  readonly remoteSupervision: RemoteSupervision;
  readonly metricStore: MetricStore;
  readonly monitoring: Monitoring | undefined;
  /** Samples, metric queries, device plugins and the Prometheus endpoint: runtime-metrics.ts. */
  readonly runtimeMetrics = new RuntimeMetrics(this);
  deadLetters = 0;
  /** Task definitions by name: those given in options and every one spawned here. */
  readonly registry = new Map<string, TaskDefinition>();
  readonly cluster: ClusterNode | undefined;
  readonly clusterHost: RuntimeClusterHost | undefined;
  readonly ready: Promise<void>;
  private readonly resourcesHandle: ActorHandle;
  /** `/system/controller`: one child actor per migration in flight hangs under it. */
  readonly controllerHandle: ActorHandle;
  /** Creating and stopping task cells: task-cells.ts. */
  readonly cells = new TaskCells(this);
  private shutDown = false;

  constructor(
    readonly options: ResolvedOptions,
    logger: Logger,
  ) {
    this.name = options.name;
    this.clock = options.clock;
    this.throughput = options.throughput;
    this.snapshotIntervalMs = options.snapshotIntervalMs;
    this.codecs = options.codecs;
    this.simulateSerialization = options.simulateSerialization;
    this.log = logger.child({ node: options.name });
    this.observer.onListenerError = (err) => this.log.error({ err }, 'event listener threw');
    // A silent logger does not subscribe, so events cost nothing when no one else listens.
    if (this.log.level !== 'silent') this.observer.subscribe(logEvents(this.log, this.clock));
    this.system = createActorSystem(`${options.name}-${process.pid}-${++systems}`);
    const systemHandle = this.system.spawn(this.system.root, 'system', () => {});
    this.resourcesHandle = this.system.spawn(systemHandle, 'resources', () => {});
    this.controllerHandle = this.system.spawn(systemHandle, 'controller', () => {});
    this.supervisor = new Supervisor(this);
    this.migrator = new Migrator(this);
    this.migrationReceiver = new MigrationReceiver(this);
    this.remoteSupervision = new RemoteSupervision(this);
    this.metricStore = new MetricStore(options.metrics);
    this.monitoring = options.monitor
      ? new Monitoring(options.monitor, this.clock, () => this.resourceActors.values(), this.metricStore, (resource, err) =>
          this.log.warn({ resource, err }, 'device sampler failed; its metrics are unavailable'),
        )
      : undefined;
    for (const d of options.devices) this.addResource(d);
    for (const def of options.tasks) this.register(def);
    this.clusterHost = options.cluster ? new RuntimeClusterHost(this) : undefined;
    this.cluster = this.clusterHost ? new ClusterNode(this.clusterHost, options.cluster!, this.clock, this.log) : undefined;
    this.debugSource = options.debug || options.cluster ? createLocalDebugSource(this) : undefined;
    if (this.monitoring && this.cluster && !this.cluster.rms) this.monitoring.ship = (batch) => this.runtimeMetrics.shipSamples(batch);
    this.monitoring?.start();
    const decides = !this.cluster || this.cluster.rms;
    if (options.predictors && this.monitoring && decides) {
      this.predictors = new PredictorService(this.metricStore, this.clock, this.log.child({ actor: 'predictors' }), (e) => this.emit(e), options.monitor?.intervalMs ?? 1000, options.predictors, options.controller?.horizonMs ?? (options.controller ? 30_000 : undefined));
    }
    if (options.controller && decides) {
      const made = createRuntimeController(this, options.controller, this.predictors);
      this.controller = made.controller;
      this.closeController = made.close;
    }
    this.ready = this.start();
    // A failed start is reported through `ready`; this keeps it from being an unhandled rejection too.
    this.ready.catch(() => {});
  }

  private debugServer: DebugServer | undefined;
  /** The resources' predictors (on the RMS or a single process, when on). */
  readonly predictors: PredictorService | undefined;

  /** Every resource's forecasts and failure risk, from the predictors (empty when they are off). */
  forecasts(): ResourceForecasts[] {
    return this.predictors?.all() ?? [];
  }

  /** The migration controller (on the RMS or a single process, when configured). */
  readonly controller: MigrationController | undefined;
  private closeController: (() => void) | undefined;

  /** Recent dead letters and task rows for debug views (this node's own, or the RMS's cluster view). */
  readonly debugSource: LocalDebugSource | undefined;

  private async start(): Promise<void> {
    await this.cluster?.start();
    this.predictors?.start();
    this.controller?.start();
    const debug = this.options.debug;
    await this.runtimeMetrics.start();
    if (debug && this.debugSource) {
      const local = this.adminSource(this.debugSource);
      const source = this.cluster?.rms ? createClusterDebugSource(local, this.cluster, this.log) : local;
      this.debugServer = await startDebugServer(source, { ...debug, logger: this.log });
    }
  }

  /** The local debug source with the admin hooks this node can serve: drain, migrate, migrations. */
  adminSource(source: LocalDebugSource): DebugSource {
    return adminSource(this, source);
  }

  /** URL of the Prometheus endpoint once ready (undefined when off). */
  get prometheusUrl(): string | undefined {
    return this.runtimeMetrics.prometheusUrl;
  }

  recordSamples(batch: readonly ResourceSample[]): void {
    this.runtimeMetrics.recordSamples(batch);
  }

  metrics(resourceId: string, query: MetricQuery): Array<MetricPoint | BucketPoint> {
    return this.runtimeMetrics.metrics(resourceId, query);
  }

  latestMetrics(resourceId: string): Record<string, number | null> {
    return this.runtimeMetrics.latestMetrics(resourceId);
  }

  /**
   * Feeds a resource's monitor from a device plugin (its device `deviceId`, default the
   * resource's id), and turns the plugin's `failed` event for that device into `failResource`.
   */
  attachDevicePlugin(resourceId: string, plugin: DevicePlugin, deviceId: string = resourceId): void {
    this.runtimeMetrics.attachDevicePlugin(resourceId, plugin, deviceId);
  }

  /** Attaches a device sampler (a plugin's latest readings) to a resource's monitor. */
  monitorWith(resourceId: string, sampler: DeviceSampler): void {
    this.runtimeMetrics.monitorWith(resourceId, sampler);
  }

  get url(): string | undefined {
    return this.cluster?.url;
  }

  /** URL of the debug socket, once ready (undefined when it is off). */
  get debugUrl(): string | undefined {
    return this.debugServer?.url;
  }

  nodes(): Array<{ node: string; url: string | null; rms: boolean; resources: number }> {
    if (!this.cluster) return [{ node: this.name, url: null, rms: true, resources: this.resourceActors.size }];
    const members = new Map(this.cluster.members);
    members.set(this.name, this.cluster.selfInfo());
    return [...members.values()].map((m) => ({ node: m.node, url: m.url, rms: m.rms, resources: m.resources.length }));
  }

  register(def: AnyTaskDefinition | TaskDefinition): void {
    const d = def as TaskDefinition;
    this.cells.checkDefinition(d);
    const known = this.registry.get(d.name);
    if (known && known !== d && known.version !== d.version) {
      this.log.warn({ task: d.name }, 'a task definition of this name and another version replaces the registered one');
    }
    this.registry.set(d.name, d);
  }

  emit(event: RuntimeEvent): void {
    this.observer.emit(event);
  }

  get observed(): boolean {
    return this.observer.active;
  }

  // --- resources ---

  addResource(device: Device): void {
    this.assertUp();
    validateDevice(device);
    if (this.resourceActors.has(device.id)) throw new InvalidArgumentError('device.id', `resource ${device.id} already exists`);
    const handle = this.system.spawn(this.resourcesHandle, device.id, () => {});
    this.resourceActors.set(device.id, new ResourceActor(device, handle, this.clock.now()));
    this.emit({ type: 'resource.added', timeMs: this.clock.now(), resource: device.id, kind: device.kind });
  }

  failResource(id: string): void {
    failResource(this, id);
  }

  drainResource(id: string): Promise<{ moved: number; stayed: number; migrations: MigrationReport[] }> {
    return drainResource(this, id);
  }

  migrate(ref: TaskRef, options: MigrateOptions = {}): Promise<MigrationReport> {
    this.assertUp();
    return this.migrator.migrate(this.refId(ref), options);
  }

  migrations(): MigrationReport[] {
    return [...this.migrator.history];
  }

  /** Powers a resource of this node down (`idle`: no new task, no idle draw in its energy) or up. */
  setPowerState(id: string, state: 'active' | 'idle'): Promise<void> {
    return setPowerState(this, id, state);
  }

  undrainResource(id: string): void {
    undrainResource(this, id);
  }

  resources(): ResourceInfo[] {
    const now = this.clock.now();
    return [...this.resourceActors.values()].map((r) => r.info(now));
  }

  // --- tasks ---

  spawn<S, M, R, I>(task: TaskDefinition<S, M, R, I>, options: SpawnOptions<I> = {}): TaskRef {
    return this.cells.spawn(task as unknown as TaskDefinition, options);
  }

  /** Spawns a task another node placed on one of our resources (its affinity kept for later re-placement). */
  spawnPlaced(def: TaskDefinition, id: string, resourceId: string, input: unknown, affinity: Affinity | undefined): TaskRef {
    return this.cells.spawnPlaced(def, id, resourceId, input, affinity);
  }

  /** A partition group of `task` on `resource`, holding `state` (no init): a child task of it. */
  spawnPartitionGroup(task: TaskCell, resource: ResourceActor, state: unknown): TaskCell {
    return this.cells.spawnPartitionGroup(task, resource, state);
  }

  /** Takes over a task a migration brought here, with its live state (epoch from the entry), its spawn input (for restarts) and its applied map (replay). */
  adoptTask(def: TaskDefinition, entry: DirEntry, state: unknown, snapshot: Snapshot, affinity: Affinity | undefined, input?: unknown, applied?: Record<string, number>): TaskCell {
    return this.cells.adoptTask(def, entry, state, snapshot, affinity, input, applied);
  }

  /** Re-creates a task of a dead node here, from its snapshot when there is one (used by the RMS). */
  restoreTask(def: TaskDefinition, entry: DirEntry, snapshot: Snapshot | undefined, input?: unknown, affinity?: Affinity): void {
    this.cells.restoreTask(def, entry, snapshot, input, affinity);
  }

  spawnChild(parent: TaskCell, task: AnyTaskDefinition, options: SpawnChildOptions<unknown>): TaskRef {
    return this.cells.spawnChild(parent, task, options);
  }

  /** Affinity each cell was placed with, for re-placement. */
  readonly affinities = new WeakMap<TaskCell, Affinity | undefined>();

  stopChild(parent: TaskCell, child: TaskRef): void {
    const cell = this.directory.get(child.id);
    if (!cell && this.remoteSupervision.stopChild(parent, child.id, 'requested')) return;
    if (!cell || cell.parent !== parent) throw new UnknownTaskError(child.id);
    this.stopCell(cell, 'requested');
  }

  async stop(ref: TaskRef): Promise<void> {
    this.assertUp();
    const cell = this.lookup(ref);
    if (!cell) throw new UnknownTaskError(this.refId(ref));
    this.stopCell(cell, 'requested');
  }

  /** Stops a cell and its descendants, dead-lettering what they had queued. */
  stopCell(cell: TaskCell, reason: StopReason, err?: unknown): void {
    this.cells.stopCell(cell, reason, err);
  }

  tasks(): TaskInfo[] {
    return [...this.directory.values()].map((c) => taskInfo(c, this.affinities.get(c)));
  }

  // --- messages ---

  private refId(ref: unknown): string {
    if (!isTaskRef(ref)) throw new InvalidArgumentError('ref', 'must be a TaskRef');
    return ref.id;
  }

  private lookup(ref: TaskRef): TaskCell | undefined {
    return this.directory.get(this.refId(ref));
  }

  send(to: TaskRef, msg: unknown, reply?: Reply): void {
    this.assertUp();
    const cell = this.lookup(to);
    if (cell) {
      // Behind this node's sends to the task from when it lived elsewhere, if any are still on their way.
      const applied = reply === undefined && this.cluster && cell.sequenced ? cell.applied.get(this.name) : undefined;
      this.deliver(cell, msg, reply, applied === undefined ? undefined : this.cluster!.stampLocal(cell.id, applied, msg));
    } else if (this.cluster) this.cluster.route(to.id, msg, reply);
    else {
      this.deadLetter(to.id, msg, 'unknown-task');
      reply?.reject(new UnknownTaskError(to.id));
    }
  }

  ask<R = unknown>(to: TaskRef, msg: unknown, options: AskOptions = {}): Promise<R> {
    if (this.shutDown) return Promise.reject(new RuntimeShutDownError(this.name));
    const timeoutMs = options.timeoutMs ?? this.options.askTimeoutMs;
    if (!(timeoutMs > 0)) throw new InvalidArgumentError('options.timeoutMs', 'must be a positive number of ms');
    const cell = this.lookup(to);
    if (!cell && !this.cluster) return Promise.reject(new UnknownTaskError(to.id));
    const slot = new ReplySlot(to.id, timeoutMs, this.clock);
    if (cell) this.deliver(cell, msg, slot);
    else this.cluster!.route(to.id, msg, slot);
    return slot.promise as Promise<R>;
  }

  /** `stamp`: the sender's replay stamp; `fromNode`: the node the message came from over a link, if any (a migration's source is not held back). */
  deliver(cell: TaskCell, msg: unknown, reply: Reply | undefined, stamp?: Stamp, fromNode?: string): void {
    // With simulateSerialization a local message crosses the codec as a remote one would: a
    // message that cannot is the sender's error (CodecError), found long before a migration.
    if (this.simulateSerialization) msg = cborDecode(cborEncode(msg));
    if (cell.partitionOwners.size > 0) {
      cell = ownerOf(cell, msg);
      // A partition group on another node (handed off): its keys route there.
      if (cell.status === 'stopped' && this.cluster && this.directory.get(cell.id) !== cell) {
        this.cluster.route(cell.id, msg, reply, stamp);
        return;
      }
    }
    if (cell.held && (fromNode === undefined || fromNode !== cell.heldFrom) && cell.held.length + cell.mailbox.length < cell.mailbox.capacity) {
      cell.held.push({ msg, reply, stamp });
      return;
    }
    if (cell.mailbox.push(msg, reply, stamp)) {
      cell.kick();
      return;
    }
    const err = new MailboxFullError(cell.id, cell.mailbox.capacity);
    if (cell.overflow === 'drop') {
      this.deadLetter(cell.id, msg, 'mailbox-full');
      reply?.reject(err);
      return;
    }
    if (reply) reply.reject(err);
    else throw err;
  }

  deadLetter(taskId: string, message: unknown, reason: DeadLetterReason): void {
    this.deadLetters++;
    if (this.observed) this.emit({ type: 'message.dead-lettered', timeMs: this.clock.now(), taskId, reason, message });
  }

  /** The end of a migration to another node: see task-moves.ts. */
  handOff(cell: TaskCell, node: string, epoch: number, mid: string): void {
    handOff(this, cell, node, epoch, mid);
  }

  /** A cell moved to another resource (re-placement): the directory hears of it. */
  /** A frozen cell whose task already lives on at `node` lets go of it (see task-moves.ts). */
  letGo(cell: TaskCell, node: string, epoch: number): void {
    letGo(this, cell, node, epoch);
  }

  placementChanged(cell: TaskCell): void {
    placementChanged(this, cell);
  }

  // --- CellHost ---

  schedule(handle: ActorHandle): void {
    this.system.schedule(handle);
  }

  crashed(cell: TaskCell, err: unknown): void {
    this.supervisor.crashed(cell, err);
  }

  private snapshotWarned = new WeakSet<TaskDefinition>();

  snapshotFailed(cell: TaskCell, err: unknown): void {
    if (this.snapshotWarned.has(cell.def)) return;
    this.snapshotWarned.add(cell.def);
    this.log.warn({ task: cell.id, err }, 'task state cannot be snapshotted; a re-placement will run init instead');
  }

  // --- events and lifecycle ---

  observe(listener: EventListener, types?: readonly RuntimeEventType[]): Subscription {
    return this.observer.subscribe(listener, types);
  }

  assertUp(): void {
    if (this.shutDown) throw new RuntimeShutDownError(this.name);
  }

  /** Whether `shutdown` has begun. */
  get isShutDown(): boolean {
    return this.shutDown;
  }

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    for (const cell of [...this.directory.values()]) if (!cell.parent) this.stopCell(cell, 'shutdown');
    this.shutDown = true;
    await this.ready.catch(() => {});
    await this.controller?.stop();
    this.closeController?.();
    await this.predictors?.stop();
    this.monitoring?.stop();
    this.migrationReceiver.close();
    await this.runtimeMetrics.close();
    await this.debugServer?.close();
    await this.cluster?.stop();
    this.system.shutdown();
    this.emit({ type: 'runtime.shut-down', timeMs: this.clock.now(), runtime: this.name });
    // nact runs its after-stop callbacks on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
