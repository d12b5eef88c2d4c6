/**
 * The task contract: a task's logic (init, a pure-ish transition, snapshot/restore of its state)
 * is separate from the running actor, as in xstate. That separation is what lets the runtime
 * restart, re-place and migrate a task without the task's cooperation.
 */
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { Directive } from '../runtime/event-types.js';
import type { DeviceKind } from '../devices/device.js';
import type { Affinity } from '../runtime/placement.js';
import type { MailboxOptions } from './mailbox.js';
import { InvalidArgumentError } from '../errors.js';
import type { TaskRef } from './ref.js';

export const Strategy = { oneForOne: 'one-for-one', allForOne: 'all-for-one' } as const;
export type Strategy = (typeof Strategy)[keyof typeof Strategy];

export interface BackoffOptions {
  /** Delay before the first restart in a period (default 10 ms). */
  initialMs?: number;
  /** Largest delay (default 1000 ms). */
  maxMs?: number;
  /** Growth per restart in the same period (default 2). */
  factor?: number;
}

export interface SupervisionOptions {
  /** What to do when the task crashes (default `restart`); a function may decide per error. */
  directive?: Directive | ((err: unknown) => Directive);
  /** Restart intensity: at most this many restarts ... (default 3). */
  maxRestarts?: number;
  /** ... within this period; one more escalates (default 5000 ms). */
  withinMs?: number;
  backoff?: BackoffOptions;
  /** How this task supervises its own children (default `one-for-one`). */
  strategy?: Strategy;
}

export interface Demand {
  /** Compute units reserved on the hosting resource (default 1). */
  computeUnits?: number;
  /** Memory reserved on the hosting resource in bytes (default 0). */
  memoryBytes?: number;
  /**
   * Expected handler time per message, ms, per device kind (its kernels' profile): the task's
   * predicted performance uses it until the runtime has measured the task on that kind.
   */
  msPerMessage?: Partial<Record<DeviceKind, number>>;
}

/** What the hosting resource tells its task about where it runs. */
export interface ResourceInfoForTask {
  readonly id: string;
  readonly kind: DeviceKind;
}

export interface AskOptions {
  /** Reject with `AskTimeoutError` after this long (default: the runtime's `askTimeoutMs`). */
  timeoutMs?: number;
}

export interface SpawnChildOptions<Input = unknown> {
  /** Child id, unique among the parent's children; the child's TaskId is `<parentId>/<id>`. */
  id?: string;
  input?: Input;
}

export interface TaskContext<Reply = unknown> {
  /** This task's ref. */
  readonly self: TaskRef;
  /** The resource the task runs on now (changes after a re-placement or migration). */
  readonly resource: ResourceInfoForTask;
  readonly clock: Clock;
  /** A child logger with `task` and `resource` fields. */
  readonly log: Logger;
  /** True while the current message was sent with `ask` and is not answered yet. */
  readonly canReply: boolean;
  /** Answers the `ask` being handled (a no-op for a plain `send`). */
  reply(value: Reply): void;
  /** Takes over the answer of the current `ask`, to give it after this turn. */
  deferReply(): { resolve(value: Reply): void; reject(err: unknown): void };
  /** Passes the current message's reply duty on to another task along with `msg`. */
  forward(to: TaskRef, msg: unknown): void;
  send(to: TaskRef, msg: unknown): void;
  ask<R = unknown>(to: TaskRef, msg: unknown, options?: AskOptions): Promise<R>;
  spawnChild<S, M, I>(task: TaskDefinition<S, M, unknown, I>, options?: SpawnChildOptions<I>): TaskRef;
  stopChild(child: TaskRef): void;
  children(): TaskRef[];
  /** Counters (`add`) and gauges (`set`) the resource's monitor reports, summed over its tasks as `custom.<name>`. */
  readonly metrics: { add(name: string, delta?: number): void; set(name: string, value: number): void };
  /** Runs this task's kernel for the current resource's kind; the resource accounts its compute. */
  kernel<In, Out>(input: In): Out;
}

export type Kernel<In = never, Out = unknown> = (input: In, ctx: TaskContext) => Out;

export interface TaskDefinition<State = unknown, Msg = unknown, Reply = unknown, Input = unknown> {
  /** Name of the task kind, e.g. `counter`. */
  readonly name: string;
  /** Version of the state's shape; snapshots record it (default 1). */
  readonly version: number;
  /** Builds the first state; runs in the task's first turn. Throwing is a crash. */
  init(input: Input, ctx: TaskContext<Reply>): State | Promise<State>;
  /** Handles one message and returns the next state. Throwing (or rejecting) is a crash. */
  receive(state: State, msg: Msg, ctx: TaskContext<Reply>): State | Promise<State>;
  /**
   * For a task whose state is a `PartitionedState`: the key a message belongs to (undefined: the
   * task as a whole handles it). Lets `migrate(ref, { partitions })` move some partitions to
   * another resource, after which messages go to the group holding their key's partition.
   */
  partitionKey?(msg: Msg): string | undefined;
  /** A serializable picture of the state (default: the state itself). */
  snapshot?(state: State): unknown;
  /** Rebuilds the state from `snapshot`'s output (default: the snapshot itself). */
  restore?(snapshot: unknown): State;
  /** Upgrades a snapshot taken by an older `version`. */
  migrate?(oldVersion: number, snapshot: unknown): unknown;
  /** Codec for state and snapshots, by name (`cbor` default) or an object. */
  readonly codec?: string | { readonly name: string };
  readonly affinity?: Affinity;
  readonly demand?: Demand;
  /** Extra cost the controller adds to moving this task (abstract units, default 0). */
  readonly moveCost?: number;
  /** Never moved by policy (supervision may still re-place it when its resource dies). */
  readonly immovable?: boolean;
  /** Per-device-kind kernels; a task with kernels is placed only on kinds it has one for. */
  readonly kernels?: Partial<Record<DeviceKind, Kernel<never>>>;
  readonly supervision?: SupervisionOptions;
  readonly mailbox?: MailboxOptions;
}

/** Any task definition, whatever its state, message, reply and input types (for registries). */
export type AnyTaskDefinition = TaskDefinition<unknown, never, unknown, never>;

export type TaskDefinitionInput<State, Msg, Reply, Input> = Omit<TaskDefinition<State, Msg, Reply, Input>, 'version'> & {
  version?: number;
};

/** Validates and freezes a task definition. */
export function defineTask<State, Msg = unknown, Reply = unknown, Input = undefined>(
  definition: TaskDefinitionInput<State, Msg, Reply, Input>,
): TaskDefinition<State, Msg, Reply, Input> {
  if (typeof definition !== 'object' || definition === null) throw new InvalidArgumentError('definition', 'must be an object');
  if (typeof definition.name !== 'string' || definition.name.length === 0) {
    throw new InvalidArgumentError('definition.name', 'must be a non-empty string');
  }
  const version = definition.version ?? 1;
  if (!Number.isInteger(version) || version < 0) throw new InvalidArgumentError('definition.version', 'must be a non-negative integer');
  if (typeof definition.init !== 'function') throw new InvalidArgumentError('definition.init', 'must be a function');
  if (typeof definition.receive !== 'function') throw new InvalidArgumentError('definition.receive', 'must be a function');
  for (const hook of ['snapshot', 'restore', 'migrate'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function') {
      throw new InvalidArgumentError(`definition.${hook}`, 'must be a function when given');
    }
  }
  if (definition.kernels) {
    for (const [kind, fn] of Object.entries(definition.kernels)) {
      if (typeof fn !== 'function') throw new InvalidArgumentError(`definition.kernels.${kind}`, 'must be a function');
    }
  }
  const demand = definition.demand;
  if (demand?.computeUnits !== undefined && !(demand.computeUnits >= 0)) {
    throw new InvalidArgumentError('definition.demand.computeUnits', 'must be a non-negative number');
  }
  if (demand?.memoryBytes !== undefined && !(demand.memoryBytes >= 0)) {
    throw new InvalidArgumentError('definition.demand.memoryBytes', 'must be a non-negative number');
  }
  for (const [kind, ms] of Object.entries(demand?.msPerMessage ?? {})) {
    if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidArgumentError(`definition.demand.msPerMessage.${kind}`, 'must be a finite number > 0');
  }
  return Object.freeze({ ...definition, version });
}
