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
import { ReplySlot } from '../actors/reply.js';
import { ResourceActor, type ResourceInfo } from '../actors/resource.js';
import { resolveSupervision } from '../actors/supervision.js';
import { type CellHost, TaskCell } from '../actors/task-cell.js';
import type { AskOptions, SpawnChildOptions, TaskDefinition } from '../actors/task.js';
import { type Device, validateDevice } from '../devices/device.js';
import type { Clock } from './clock.js';
import type { DeadLetterReason, RuntimeEvent, RuntimeEventType, StopReason } from './event-types.js';
import { type EventListener, Observer, type Subscription } from './events.js';
import { createLogger, logEvents, type Logger } from './logger.js';
import { type ActorHandle, type ActorSystem, createActorSystem } from './nact-adapter.js';
import { resolveOptions, type ResolvedOptions, type RuntimeOptions } from './options.js';
import { type Affinity, mergeAffinity, place, validateAffinity } from './placement.js';
import { Supervisor } from './supervisor.js';
import type { DeviceKind } from '../devices/device.js';

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
  mailboxDepth: number;
  processed: number;
  restarts: number;
  /** Actor path in the supervision tree. */
  path: string;
}

export interface Runtime {
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
  spawn<S, M, R, I>(task: TaskDefinition<S, M, R, I>, options?: SpawnOptions<I>): TaskRef;
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
  /** Subscribes to runtime events (all, or the types given). */
  observe(listener: EventListener, types?: readonly RuntimeEventType[]): Subscription;
  /** Messages sent to dead letters so far. */
  readonly deadLetters: number;
  shutdown(): Promise<void>;
}

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
  readonly observer = new Observer();
  readonly directory = new Map<string, TaskCell>();
  readonly resourceActors = new Map<string, ResourceActor>();
  readonly system: ActorSystem;
  readonly supervisor: Supervisor;
  deadLetters = 0;
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
    this.log = logger.child({ node: options.name });
    this.observer.onListenerError = (err) => this.log.error({ err }, 'event listener threw');
    // A silent logger does not subscribe, so events cost nothing when no one else listens.
    if (this.log.level !== 'silent') this.observer.subscribe(logEvents(this.log, this.clock));
    this.system = createActorSystem(`${options.name}-${process.pid}-${++systems}`);
    const systemHandle = this.system.spawn(this.system.root, 'system', () => {});
    this.resourcesHandle = this.system.spawn(systemHandle, 'resources', () => {});
    this.supervisor = new Supervisor(this);
    for (const d of options.devices) this.addResource(d);
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
    const id = options.id ?? `${def.name}-${++this.seq}`;
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('options.id', 'must be a non-empty string');
    if (this.directory.has(id)) throw new DuplicateTaskError(id);
    const affinity = mergeAffinity(def.affinity, options.affinity);
    const resource = place(this.resourceActors.values(), {
      task: def.name,
      affinity,
      kernelKinds: def.kernels ? (Object.keys(def.kernels) as DeviceKind[]) : undefined,
      computeUnits: def.demand?.computeUnits ?? 1,
      memoryBytes: def.demand?.memoryBytes ?? 0,
    });
    return this.createCell(def, id, resource, undefined, options.input, affinity).ref;
  }

  spawnChild(parent: TaskCell, task: TaskDefinition<never, never, unknown, never>, options: SpawnChildOptions<unknown>): TaskRef {
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

  private createCell(def: TaskDefinition, id: string, resource: ResourceActor, parent: TaskCell | undefined, input: unknown, affinity: Affinity | undefined): TaskCell {
    const supervision = resolveSupervision(this.options.supervision, def.supervision, `${def.name}.supervision`);
    const capacity = def.mailbox?.capacity ?? this.options.mailboxCapacity;
    const overflow = def.mailbox?.overflow ?? this.options.overflow;
    const ref = new TaskRef(id, def.name);
    const log = this.log.child({ task: id });
    const cell = new TaskCell(ref, def, resource, parent, input, supervision, overflow, capacity, this, log);
    this.affinities.set(cell, affinity);
    cell.handle = this.system.spawn(parent ? parent.handle : resource.handle, `task:${parent ? id.slice(parent.id.length + 1) : id}`, () => cell.onTurn());
    this.directory.set(id, cell);
    resource.attach(cell);
    parent?.children.set(id, cell);
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
  }

  stopChild(parent: TaskCell, child: TaskRef): void {
    const cell = this.directory.get(child.id);
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
    cell.status = 'stopped';
    cell.fence(reason);
    cell.backoffTimer?.cancel();
    this.directory.delete(cell.id);
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
    return [...this.directory.values()].map((c) => ({
      ref: c.ref,
      id: c.id,
      task: c.def.name,
      parent: c.parent?.id,
      resource: c.resource.id,
      kind: c.resource.device.kind,
      status: c.status,
      epoch: c.epoch,
      mailboxDepth: c.mailbox.length,
      processed: c.processed,
      restarts: c.restartCount,
      path: c.handle.path,
    }));
  }

  // --- messages ---

  private refId(ref: unknown): string {
    if (!isTaskRef(ref)) throw new InvalidArgumentError('ref', 'must be a TaskRef');
    return ref.id;
  }

  private lookup(ref: TaskRef): TaskCell | undefined {
    return this.directory.get(this.refId(ref));
  }

  send(to: TaskRef, msg: unknown, reply?: ReplySlot): void {
    this.assertUp();
    const cell = this.lookup(to);
    if (!cell) {
      this.deadLetter(to.id, msg, 'unknown-task');
      reply?.reject(new UnknownTaskError(to.id));
      return;
    }
    this.deliver(cell, msg, reply);
  }

  ask<R = unknown>(to: TaskRef, msg: unknown, options: AskOptions = {}): Promise<R> {
    if (this.shutDown) return Promise.reject(new RuntimeShutDownError(this.name));
    const timeoutMs = options.timeoutMs ?? this.options.askTimeoutMs;
    if (!(timeoutMs > 0)) throw new InvalidArgumentError('options.timeoutMs', 'must be a positive number of ms');
    const cell = this.lookup(to);
    if (!cell) return Promise.reject(new UnknownTaskError(to.id));
    const slot = new ReplySlot(cell.id, timeoutMs, this.clock);
    this.deliver(cell, msg, slot);
    return slot.promise as Promise<R>;
  }

  private deliver(cell: TaskCell, msg: unknown, reply: ReplySlot | undefined): void {
    if (cell.mailbox.push(msg, reply)) {
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

  get isShutDown(): boolean {
    return this.shutDown;
  }

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    for (const cell of [...this.directory.values()]) if (!cell.parent) this.stopCell(cell, 'shutdown');
    this.shutDown = true;
    this.system.shutdown();
    this.emit({ type: 'runtime.shut-down', timeMs: this.clock.now(), runtime: this.name });
    // nact runs its after-stop callbacks on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

