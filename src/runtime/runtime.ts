/**
 * `createRuntime`: one node's actor system. It owns the resource actors, the directory of tasks
 * (TaskId -> running cell, with its placement epoch) and the message path: `send`, `ask`, dead
 * letters. Failure handling lives in supervisor.ts.
 */
import {
  DuplicateTaskError,
  InvalidArgumentError,
  MailboxFullError,
  RuntimeShutDownError,
  TaskStoppedError,
  UnknownResourceError,
  UnknownTaskError,
} from '../errors.js';
import { TaskRef, isTaskRef } from '../actors/ref.js';
import { type Reply, ReplySlot } from '../actors/reply.js';
import type { Stamp } from '../actors/mailbox.js';
import { ResourceActor, type ResourceInfo } from '../actors/resource.js';
import { resolveSupervision } from '../actors/supervision.js';
import { type CellHost, TaskCell } from '../actors/task-cell.js';
import type { AnyTaskDefinition, AskOptions, SpawnChildOptions, TaskDefinition } from '../actors/task.js';
import { type Device, validateDevice } from '../devices/device.js';
import type { Clock } from './clock.js';
import type { DeadLetterReason, RuntimeEvent, RuntimeEventType, StopReason } from './event-types.js';
import { type EventListener, Observer, type Subscription } from './events.js';
import { createLogger, logEvents, type Logger } from './logger.js';
import { type ActorHandle, type ActorSystem, createActorSystem } from './nact-adapter.js';
import { resolveOptions, type ResolvedOptions, type RuntimeOptions } from './options.js';
import { type Affinity, mergeAffinity, place, validateAffinity } from './placement.js';
import { Supervisor } from './supervisor.js';
import { RemoteSupervision } from './remote-supervision.js';
import { type MigrateOptions, type MigrationReport, Migrator } from './migration.js';
import { MigrationReceiver } from './migration-receiver.js';
import { ownerOf } from './partitions.js';
import { type BucketPoint, type MetricPoint, type MetricQuery, MetricStore } from './metrics/metric-store.js';
import { type DeviceSampler, Monitoring, type ResourceSample } from './metrics/monitor.js';
import { type PrometheusEndpoint, startPrometheus } from './metrics/prometheus.js';
import { packSamples } from './metrics/batch.js';
import { type DevicePlugin, syncSampler } from '../devices/plugin.js';
import { createCpuPlugin } from '../devices/cpu-plugin.js';
import type { Runtime, SpawnOptions, TaskInfo } from './runtime-api.js';

export type { Runtime, SpawnOptions, TaskInfo } from './runtime-api.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { RuntimeClusterHost, dirEntry } from './cluster/runtime-host.js';
import { candidatesOf, type NodeCandidate } from './cluster/candidates.js';
import type { DirEntry } from './cluster/types.js';
import { Env } from './transport/frames.js';
import { Control } from './cluster/types.js';
import type { Snapshot } from '../actors/task-cell.js';
import type { CodecRegistry } from '../codecs/registry.js';
import { isCodec } from '../codecs/codec.js';
import { UnknownCodecError } from '../codecs/errors.js';
import { cborDecode, cborEncode } from '../codecs/cbor.js';
import { type DebugServer, startDebugServer } from './debug-socket.js';
import { createLocalDebugSource, type DebugSource, type LocalDebugSource } from './debug-source.js';
import { controllerOps, createRuntimeController } from './controller-host.js';
import { PredictorService, type ResourceForecasts } from './predictor-service.js';
import type { MigrationController } from '../actors/migration-controller.js';
import { createClusterDebugSource } from './debug-cluster-source.js';
import type { DeviceKind } from '../devices/device.js';

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
  private prometheusEndpoint: PrometheusEndpoint | undefined;
  deadLetters = 0;
  /** Task definitions by name: those given in options and every one spawned here. */
  readonly registry = new Map<string, TaskDefinition>();
  readonly cluster: ClusterNode | undefined;
  private readonly clusterHost: RuntimeClusterHost | undefined;
  readonly ready: Promise<void>;
  private readonly resourcesHandle: ActorHandle;
  private seq = 0;
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
    if (this.monitoring && this.cluster && !this.cluster.rms) this.monitoring.ship = (batch) => this.shipSamples(batch);
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
    if (this.monitoring) await this.attachHostPlugins();
    if (this.options.prometheus) {
      this.prometheusEndpoint = await startPrometheus(this.metricStore, this.name, () => ({ deadLettersTotal: this.deadLetters, tasks: this.directory.size }), this.options.prometheus);
    }
    if (debug && this.debugSource) {
      const local = this.adminSource(this.debugSource);
      const source = this.cluster?.rms ? createClusterDebugSource(local, this.cluster, this.log) : local;
      this.debugServer = await startDebugServer(source, { ...debug, logger: this.log });
    }
  }

  /** The local debug source with the admin hooks this node can serve: drain, migrate, migrations. */
  adminSource(source: LocalDebugSource): DebugSource {
    return {
      ...source,
      drain: async (resource: string) => {
        const { moved, stayed } = await this.drainResource(resource);
        return { moved, stayed };
      },
      migrate: (request: { task: string; to?: string }) => this.migrator.migrate(request.task, request.to === undefined ? {} : { to: request.to }),
      ...(this.controller ? controllerOps(this.controller) : {}),
      ...(this.predictors ? { forecasts: () => this.forecasts() } : {}),
      migrations: () => this.migrator.history.map((r) => ({ ...r, startedAtMs: r.phases[0]?.atMs ?? 0, phase: r.phases.at(-1)?.phase ?? 'propose' })),
    };
  }

  /** URL of the Prometheus endpoint once ready (undefined when off). */
  get prometheusUrl(): string | undefined {
    return this.prometheusEndpoint?.url;
  }

  /** An agent's monitor samples go to the RMS too. */
  private shipSamples(batch: ResourceSample[]): void {
    const c = this.cluster;
    if (c && c.rmsNode !== undefined) c.trySend(c.rmsNode, [Env.control, Control.metrics, packSamples(batch)]);
  }

  recordSamples(batch: readonly ResourceSample[]): void {
    for (const s of batch) this.metricStore.record(s.resource, s.timeMs, s.metrics);
    if (this.observed && batch.length > 0) {
      this.emit({ type: 'metrics.recorded', timeMs: this.clock.now(), resources: [...new Set(batch.map((s) => s.resource))], samples: batch.length });
    }
  }

  metrics(resourceId: string, query: MetricQuery): Array<MetricPoint | BucketPoint> {
    if (typeof query?.metric !== 'string') throw new InvalidArgumentError('query.metric', 'must name a metric');
    return this.metricStore.query(resourceId, query);
  }

  latestMetrics(resourceId: string): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [name, point] of Object.entries(this.metricStore.latest(resourceId))) out[name] = point.value;
    return out;
  }

  private readonly ownedPlugins: DevicePlugin[] = [];

  /**
   * Feeds a resource's monitor from a device plugin (its device `deviceId`, default the
   * resource's id), and turns the plugin's `failed` event for that device into `failResource`.
   */
  attachDevicePlugin(resourceId: string, plugin: DevicePlugin, deviceId: string = resourceId): void {
    const sample = syncSampler(plugin, deviceId);
    if (plugin.setPowerState) this.powerHooks.set(resourceId, (state) => plugin.setPowerState!(deviceId, state));
    this.monitorWith(resourceId, (now) => sample(now).metrics);
    plugin.subscribe((e) => {
      if (e.type === 'failed' && e.deviceId === deviceId && !this.shutDown && this.resourceActors.get(resourceId)?.up) {
        this.log.error({ resource: resourceId, reason: e.reason }, 'device plugin reports the device failed');
        this.failResource(resourceId);
      }
    });
  }

  /** The host's real CPUs read /proc and /sys (RAPL, thermal zones) for their monitor. */
  private async attachHostPlugins(): Promise<void> {
    for (const r of this.resourceActors.values()) {
      if (r.device.simulated || r.device.kind !== 'cpu') continue;
      const plugin = createCpuPlugin({ id: r.id, clock: this.clock, logger: this.log });
      this.ownedPlugins.push(plugin);
      await plugin.discover();
      this.attachDevicePlugin(r.id, plugin);
    }
  }

  /** Attaches a device sampler (a plugin's latest readings) to a resource's monitor. */
  monitorWith(resourceId: string, sampler: DeviceSampler): void {
    if (!this.resourceActors.has(resourceId)) throw new UnknownResourceError(resourceId);
    if (!this.monitoring) throw new InvalidArgumentError('monitor', 'monitoring is off for this runtime');
    this.monitoring.attach(resourceId, sampler);
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
    this.checkDefinition(d);
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
    this.assertUp();
    const resource = this.resourceActors.get(id);
    if (!resource) throw new UnknownResourceError(id);
    if (!resource.up) return;
    this.supervisor.resourceFailed(resource);
  }

  async drainResource(id: string): Promise<{ moved: number; stayed: number; migrations: MigrationReport[] }> {
    this.assertUp();
    const resource = this.resourceActors.get(id);
    if (!resource) throw new UnknownResourceError(id);
    resource.draining = true;
    const migrations = await Promise.all(resource.topLevelCells().map((c) => this.migrator.migrate(c.id, {})));
    const moved = migrations.filter((m) => m.outcome === 'committed').length;
    this.emit({ type: 'resource.drained', timeMs: this.clock.now(), resource: id, kind: resource.device.kind, moved, stayed: migrations.length - moved });
    return { moved, stayed: migrations.length - moved, migrations };
  }

  migrate(ref: TaskRef, options: MigrateOptions = {}): Promise<MigrationReport> {
    this.assertUp();
    return this.migrator.migrate(this.refId(ref), options);
  }

  migrations(): MigrationReport[] {
    return [...this.migrator.history];
  }

  /** Powers a resource of this node down (`idle`: no new task, no idle draw in its energy) or up. */
  async setPowerState(id: string, state: 'active' | 'idle'): Promise<void> {
    this.assertUp();
    const resource = this.resourceActors.get(id);
    if (!resource) throw new UnknownResourceError(id);
    resource.setPowerState(state, this.clock.now());
    await this.powerHooks.get(id)?.(state);
  }

  /** Device plugin hooks that lower or raise a device's power state, by resource. */
  private readonly powerHooks = new Map<string, (state: 'active' | 'idle') => Promise<void>>();

  undrainResource(id: string): void {
    this.assertUp();
    const resource = this.resourceActors.get(id);
    if (!resource) throw new UnknownResourceError(id);
    resource.draining = false;
  }

  resources(): ResourceInfo[] {
    const now = this.clock.now();
    return [...this.resourceActors.values()].map((r) => r.info(now));
  }

  // --- tasks ---

  spawn<S, M, R, I>(task: TaskDefinition<S, M, R, I>, options: SpawnOptions<I> = {}): TaskRef {
    this.assertUp();
    const def = task as unknown as TaskDefinition;
    this.checkDefinition(def);
    validateAffinity(options.affinity, 'options.affinity');
    const id = options.id ?? (this.cluster ? `${def.name}-${this.name}-${++this.seq}` : `${def.name}-${++this.seq}`);
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('options.id', 'must be a non-empty string');
    if (this.directory.has(id)) throw new DuplicateTaskError(id);
    const affinity = mergeAffinity(def.affinity, options.affinity);
    this.register(def);
    const request = {
      task: def.name,
      affinity,
      kernelKinds: def.kernels ? (Object.keys(def.kernels) as DeviceKind[]) : undefined,
      computeUnits: def.demand?.computeUnits ?? 1,
      memoryBytes: def.demand?.memoryBytes ?? 0,
    };
    const chosen = place<ResourceActor | NodeCandidate>([...this.resourceActors.values(), ...this.remoteCandidates(def.name)], request);
    if (chosen instanceof ResourceActor) return this.createCell(def, id, chosen, undefined, options.input, affinity).ref;
    return this.spawnRemote(chosen, def, id, options.input, options.affinity);
  }

  /** Spawns a task another node placed on one of our resources (its affinity kept for later re-placement). */
  spawnPlaced(def: TaskDefinition, id: string, resourceId: string, input: unknown, affinity: Affinity | undefined): TaskRef {
    this.assertUp();
    if (this.directory.has(id)) throw new DuplicateTaskError(id);
    this.register(def);
    const resource = this.resourceActors.get(resourceId);
    if (!resource) throw new UnknownResourceError(resourceId);
    return this.createCell(def, id, resource, undefined, input, mergeAffinity(def.affinity, affinity)).ref;
  }

  /** Resources of other nodes that registered this task type. */
  private remoteCandidates(task: string): NodeCandidate[] {
    if (!this.cluster) return [];
    return [...this.cluster.members.values()]
      .filter((m) => m.node !== this.name && m.taskTypes.some((t) => t.name === task))
      .flatMap((m) => candidatesOf(m.node, m.resources));
  }

  private spawnRemote(target: NodeCandidate, def: TaskDefinition, id: string, input: unknown, affinity: Affinity | undefined): TaskRef {
    const cluster = this.cluster!;
    cluster.sendTo(target.node, [Env.control, Control.spawn, { task: def.name, id, input, resource: target.device.id, affinity: affinity ?? null }]);
    target.usedComputeUnits += def.demand?.computeUnits ?? 1;
    cluster.learn(id, target.node, 0);
    return new TaskRef(id, def.name);
  }

  /** Re-creates a task of a dead node here, from its snapshot when there is one (used by the RMS). */
  private groups = 0;

  /** A partition group of `task` on `resource`, holding `state` (no init): a child task of it. */
  spawnPartitionGroup(task: TaskCell, resource: ResourceActor, state: unknown): TaskCell {
    const id = `${task.id}/partitions-${++this.groups}`;
    const group = this.createCell(task.def, id, resource, task, undefined, undefined, { epoch: 0, restore: undefined, adopt: { state, snapshot: undefined } });
    group.takeSnapshot();
    return group;
  }

  /** Takes over a task a migration brought here, with its live state (epoch from the entry), its spawn input (for restarts) and its applied map (replay). */
  adoptTask(def: TaskDefinition, entry: DirEntry, state: unknown, snapshot: Snapshot, affinity: Affinity | undefined, input?: unknown, applied?: Record<string, number>): TaskCell {
    const parent = entry.parent ? this.directory.get(entry.parent) : undefined;
    const resource = this.resourceActors.get(entry.resource) ?? parent?.resource;
    if (!resource) throw new UnknownResourceError(entry.resource);
    return this.createCell(def, entry.id, resource, parent, input, affinity ?? def.affinity, { epoch: entry.epoch, restore: undefined, adopt: { state, snapshot, applied } });
  }

  restoreTask(def: TaskDefinition, entry: DirEntry, snapshot: Snapshot | undefined, input?: unknown, affinity?: Affinity): void {
    if (this.directory.has(entry.id)) return;
    const parent = entry.parent ? this.directory.get(entry.parent) : undefined;
    const local = this.resourceActors.get(entry.resource);
    const resource =
      parent?.resource ??
      (local?.up
        ? local
        : place(this.resourceActors.values(), {
            task: def.name,
            affinity: def.affinity,
            kernelKinds: def.kernels ? (Object.keys(def.kernels) as DeviceKind[]) : undefined,
            computeUnits: def.demand?.computeUnits ?? 1,
            memoryBytes: def.demand?.memoryBytes ?? 0,
          }));
    this.createCell(def, entry.id, resource, parent, input, affinity ?? def.affinity, { epoch: entry.epoch, restore: snapshot });
  }

  spawnChild(parent: TaskCell, task: AnyTaskDefinition, options: SpawnChildOptions<unknown>): TaskRef {
    this.assertUp();
    const def = task as unknown as TaskDefinition;
    this.checkDefinition(def);
    const local = options.id ?? `${def.name}-${++this.seq}`;
    const id = `${parent.id}/${local}`;
    if (this.directory.has(id)) throw new DuplicateTaskError(id);
    return this.createCell(def, id, parent.resource, parent, options.input, def.affinity).ref;
  }

  /** Affinity each cell was placed with, for re-placement. */
  readonly affinities = new WeakMap<TaskCell, Affinity | undefined>();

  private createCell(
    def: TaskDefinition,
    id: string,
    resource: ResourceActor,
    parent: TaskCell | undefined,
    input: unknown,
    affinity: Affinity | undefined,
    restored?: { epoch: number; restore: Snapshot | undefined; adopt?: { state: unknown; snapshot: Snapshot | undefined; applied?: Record<string, number> | undefined } },
  ): TaskCell {
    const supervision = resolveSupervision(this.options.supervision, def.supervision, `${def.name}.supervision`);
    const capacity = def.mailbox?.capacity ?? this.options.mailboxCapacity;
    const overflow = def.mailbox?.overflow ?? this.options.overflow;
    const ref = new TaskRef(id, def.name);
    const log = this.log.child({ task: id });
    const cell = new TaskCell(ref, def, resource, parent, input, supervision, overflow, capacity, this, log);
    cell.prepareCodec();
    this.affinities.set(cell, affinity);
    // A child on another resource than its parent (a partition group) hangs under that resource's actor.
    cell.handle = this.system.spawn(parent && parent.resource === resource ? parent.handle : resource.handle, `task:${parent ? id.slice(parent.id.length + 1) : id}`, () => cell.onTurn());
    if (restored) {
      cell.epoch = restored.epoch;
      cell.pendingRestore = restored.restore;
      if (restored.restore) cell.restoreApplied(restored.restore.applied);
      if (restored.adopt) cell.adopt(restored.adopt.state, restored.adopt.snapshot, restored.adopt.applied);
    }
    this.directory.set(id, cell);
    resource.attach(cell);
    parent?.children.set(id, cell);
    if (this.cluster) this.cluster.report('add', this.clusterHost!.spawnEntry(cell));
    if (this.observed) {
      const e: RuntimeEvent = { type: 'task.spawned', timeMs: this.clock.now(), taskId: id, task: def.name, resource: resource.id };
      if (parent) e.parent = parent.id;
      this.emit(e);
    }
    cell.kick();
    return cell;
  }

  private checkDefinition(def: TaskDefinition): void {
    if (typeof def !== 'object' || def === null || typeof def.receive !== 'function' || typeof def.init !== 'function') {
      throw new InvalidArgumentError('task', 'must be a task definition made by defineTask');
    }
    const codec = def.codec;
    if (codec !== undefined && !isCodec(codec)) {
      const name = typeof codec === 'string' ? codec : codec.name;
      if (!this.codecs.has(name)) throw new UnknownCodecError(name);
    }
  }

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
    if (cell.status === 'stopped') return;
    for (const child of [...cell.children.values()]) this.stopCell(child, 'parent-stopped');
    this.remoteSupervision.stopChildren(cell, 'parent-stopped');
    this.remoteSupervision.childStopped(cell, reason);
    cell.status = 'stopped';
    cell.fence(reason);
    cell.backoffTimer?.cancel();
    this.directory.delete(cell.id);
    this.cluster?.report('remove', dirEntry(this.name, cell));
    cell.parent?.children.delete(cell.id);
    cell.resource.detach(cell);
    this.system.stop(cell.handle);
    for (const { msg, reply } of cell.mailbox.drain()) {
      this.deadLetter(cell.id, msg, 'stopped');
      reply?.reject(new TaskStoppedError(cell.id, reason));
    }
    if (this.observed) {
      const e: RuntimeEvent = { type: 'task.stopped', timeMs: this.clock.now(), taskId: cell.id, task: cell.def.name, resource: cell.resource.id, reason };
      if (err !== undefined) e.err = err;
      this.emit(e);
    }
  }

  tasks(): TaskInfo[] {
    return [...this.directory.values()].map((c) => this.taskInfo(c));
  }

  private taskInfo(c: TaskCell): TaskInfo {
    const affinity = this.affinities.get(c);
    return {
      ref: c.ref,
      id: c.id,
      task: c.def.name,
      parent: c.parent?.id ?? c.remoteParent?.id,
      resource: c.resource.id,
      kind: c.resource.device.kind,
      status: c.status,
      epoch: c.epoch,
      mailboxDepth: c.mailbox.length,
      processed: c.processed,
      duplicates: c.duplicates,
      stateBytes: c.snapshot?.bytes.length ?? null,
      restarts: c.restartCount,
      path: c.handle.path,
      ...(affinity ? { affinity } : {}),
      ...costOf(c),
    };
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
    if (cell) this.deliver(cell, msg, reply);
    else if (this.cluster) this.cluster.route(to.id, msg, reply);
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

  /**
   * The end of a migration to another node: the cell leaves this node without dead letters.
   * Its queued messages are forwarded to the new owner in order, and so is anything that
   * arrives for it later (with moved(epoch) to the sender's node).
   */
  handOff(cell: TaskCell, node: string, epoch: number, mid: string): void {
    const cluster = this.cluster!;
    cell.status = 'stopped';
    cell.fence('migrated');
    this.directory.delete(cell.id);
    cell.parent?.children.delete(cell.id);
    cell.resource.detach(cell);
    this.system.stop(cell.handle);
    cluster.learn(cell.id, node, epoch);
    cluster.handedOff(cell.id, node);
    // What was queued here goes ahead of anything that reached the target directly: one
    // envelope, then the marker that lets the target take its held messages.
    // Stamped sends keep their (origin, seq): [msg, askId | null, seq?, origin?].
    const items = cell.mailbox.drain().map(({ msg, reply, stamp }) => {
      const askId = reply ? cluster.expectReply(node, cell.id, reply) : null;
      return stamp ? [msg, askId, stamp.seq, stamp.origin] : [msg, askId];
    });
    try {
      cluster.sendTo(node, [Env.control, Control.migForward, { mid, items }]);
      cluster.sendTo(node, [Env.control, Control.migRedirected, { mid }]);
    } catch (err) {
      for (const [msg] of items) this.deadLetter(cell.id, msg, 'node-down');
      cluster.failAsksTo(node, 'unreachable during a migration');
      this.log.error({ err, task: cell.id, peer: node }, 'forwarding a migrated task\'s mailbox failed');
    }
  }

  /** A cell moved to another resource (re-placement): the directory hears of it. */
  placementChanged(cell: TaskCell): void {
    const report = (c: TaskCell) => {
      this.cluster?.report('add', dirEntry(this.name, c));
      for (const child of c.children.values()) report(child);
    };
    report(cell);
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

  private assertUp(): void {
    if (this.shutDown) throw new RuntimeShutDownError(this.name);
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
    await Promise.all(this.ownedPlugins.map((p) => p.close()));
    await this.prometheusEndpoint?.close();
    await this.debugServer?.close();
    await this.cluster?.stop();
    this.system.shutdown();
    this.emit({ type: 'runtime.shut-down', timeMs: this.clock.now(), runtime: this.name });
    // nact runs its after-stop callbacks on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** `{ costMsByKind }` when the task has a cost profile, else nothing. */
function costOf(c: TaskCell): { costMsByKind?: Record<string, number> } {
  const profile = c.costProfile();
  return Object.keys(profile).length > 0 ? { costMsByKind: profile } : {};
}
