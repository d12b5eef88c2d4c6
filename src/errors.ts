/**
 * Every error godwit raises is a `GodwitError` with a stable `code` (`GODWIT_ERR_*`) and data
 * fields naming the thing involved. Codes are listed in docs/errors.md.
 *
 * `isGodwitError` works across copies of the package (a brand on the prototype chain, not only
 * `instanceof`), as undici does.
 */

const BRAND = Symbol.for('godwit.error');

export const ErrorCodes = {
  INVALID_ARGUMENT: 'GODWIT_ERR_INVALID_ARGUMENT',
  UNKNOWN_TASK: 'GODWIT_ERR_UNKNOWN_TASK',
  DUPLICATE_TASK: 'GODWIT_ERR_DUPLICATE_TASK',
  ASK_TIMEOUT: 'GODWIT_ERR_ASK_TIMEOUT',
  NO_REPLY: 'GODWIT_ERR_NO_REPLY',
  MAILBOX_FULL: 'GODWIT_ERR_MAILBOX_FULL',
  TASK_CRASHED: 'GODWIT_ERR_TASK_CRASHED',
  TASK_STOPPED: 'GODWIT_ERR_TASK_STOPPED',
  NO_RESOURCE: 'GODWIT_ERR_NO_RESOURCE',
  UNKNOWN_RESOURCE: 'GODWIT_ERR_UNKNOWN_RESOURCE',
  RUNTIME_SHUT_DOWN: 'GODWIT_ERR_RUNTIME_SHUT_DOWN',
  CODEC: 'GODWIT_ERR_CODEC',
  SNAPSHOT_VERSION: 'GODWIT_ERR_SNAPSHOT_VERSION',
  UNKNOWN_CODEC: 'GODWIT_ERR_UNKNOWN_CODEC',
  TRANSPORT: 'GODWIT_ERR_TRANSPORT',
  AUTH: 'GODWIT_ERR_AUTH',
  NODE_DOWN: 'GODWIT_ERR_NODE_DOWN',
  LINK_OVERLOADED: 'GODWIT_ERR_LINK_OVERLOADED',
  REPLAY_BUFFER_FULL: 'GODWIT_ERR_REPLAY_BUFFER_FULL',
  UNKNOWN_TASK_TYPE: 'GODWIT_ERR_UNKNOWN_TASK_TYPE',
  MIGRATION_IN_PROGRESS: 'GODWIT_ERR_MIGRATION_IN_PROGRESS',
  MIGRATION_TIMEOUT: 'GODWIT_ERR_MIGRATION_TIMEOUT',
  PARENT_UNREACHABLE: 'GODWIT_ERR_PARENT_UNREACHABLE',
  DEVICE_SOURCE: 'GODWIT_ERR_DEVICE_SOURCE',
  DEVICE_COMMAND: 'GODWIT_ERR_DEVICE_COMMAND',
  TRACE_FORMAT: 'GODWIT_ERR_TRACE_FORMAT',
  BAD_REQUEST: 'GODWIT_ERR_BAD_REQUEST',
  UNKNOWN_OP: 'GODWIT_ERR_UNKNOWN_OP',
  FORBIDDEN: 'GODWIT_ERR_FORBIDDEN',
  NOT_SUPPORTED: 'GODWIT_ERR_NOT_SUPPORTED',
  INTERNAL: 'GODWIT_ERR_INTERNAL',
  DEBUG_TIMEOUT: 'GODWIT_ERR_DEBUG_TIMEOUT',
  FORECAST_MODEL: 'GODWIT_ERR_FORECAST_MODEL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class GodwitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }

  get [BRAND](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === GodwitError) return isGodwitError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

export function isGodwitError(value: unknown): value is GodwitError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** A caller passed a value the API does not accept (a programmer error: thrown, never rejected later). */
export class InvalidArgumentError extends GodwitError {
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(ErrorCodes.INVALID_ARGUMENT, `invalid argument ${argument}: ${reason}`);
  }
}

export class UnknownTaskError extends GodwitError {
  constructor(readonly taskId: string) {
    super(ErrorCodes.UNKNOWN_TASK, `task ${taskId} is not known to this runtime`);
  }
}

export class DuplicateTaskError extends GodwitError {
  constructor(readonly taskId: string) {
    super(ErrorCodes.DUPLICATE_TASK, `task ${taskId} already exists`);
  }
}

export class AskTimeoutError extends GodwitError {
  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
  ) {
    super(ErrorCodes.ASK_TIMEOUT, `ask to task ${taskId} got no reply within ${timeoutMs} ms`);
  }
}

export class NoReplyError extends GodwitError {
  constructor(readonly taskId: string) {
    super(ErrorCodes.NO_REPLY, `task ${taskId} finished the turn without replying to an ask`);
  }
}

export class MailboxFullError extends GodwitError {
  constructor(
    readonly taskId: string,
    readonly capacity: number,
  ) {
    super(ErrorCodes.MAILBOX_FULL, `mailbox of task ${taskId} is full (${capacity} messages)`);
  }
}

export class TaskCrashedError extends GodwitError {
  constructor(
    readonly taskId: string,
    cause: unknown,
  ) {
    super(ErrorCodes.TASK_CRASHED, `task ${taskId} crashed: ${describeCause(cause)}`, { cause });
  }
}

export class TaskStoppedError extends GodwitError {
  constructor(
    readonly taskId: string,
    readonly reason: string,
  ) {
    super(ErrorCodes.TASK_STOPPED, `task ${taskId} stopped before handling the message (${reason})`);
  }
}

export interface UnmetConstraint {
  resource: string;
  constraint: string;
  detail: string;
}

export class NoResourceError extends GodwitError {
  constructor(
    readonly task: string,
    /** The constraint that stopped the resource that came closest, e.g. `require.kinds`, `kernels`, `capacity`. */
    readonly constraint: string,
    readonly unmet: readonly UnmetConstraint[],
  ) {
    super(
      ErrorCodes.NO_RESOURCE,
      `no resource satisfies task ${task}: ${constraint} unmet` +
        (unmet.length > 0 ? ` (${unmet.map((u) => `${u.resource}: ${u.detail}`).join('; ')})` : ' (no resources)'),
    );
  }
}

export class UnknownResourceError extends GodwitError {
  constructor(readonly resource: string) {
    super(ErrorCodes.UNKNOWN_RESOURCE, `resource ${resource} is not known to this runtime`);
  }
}

export class RuntimeShutDownError extends GodwitError {
  constructor(readonly runtime: string) {
    super(ErrorCodes.RUNTIME_SHUT_DOWN, `runtime ${runtime} is shut down`);
  }
}

/** A link broke the protocol: an oversized or malformed frame, an unknown envelope, a decode failure. */
export class TransportError extends GodwitError {
  constructor(
    readonly peer: string,
    readonly reason: string,
    /** The WebSocket close code the link was closed with. */
    readonly closeCode: number,
    cause?: unknown,
  ) {
    super(ErrorCodes.TRANSPORT, `link with ${peer} closed (${closeCode}): ${reason}`, cause === undefined ? undefined : { cause });
  }
}

export class AuthError extends GodwitError {
  constructor(
    readonly peer: string,
    reason: string,
  ) {
    super(ErrorCodes.AUTH, `authentication with ${peer} failed: ${reason}`);
  }
}

/** The node a message or ask was for is dead, or its link is gone. */
export class NodeDownError extends GodwitError {
  constructor(
    readonly node: string,
    readonly taskId: string | undefined,
    reason: string,
  ) {
    super(ErrorCodes.NODE_DOWN, `node ${node} is unreachable${taskId ? ` for task ${taskId}` : ''}: ${reason}`);
  }
}

export class LinkOverloadedError extends GodwitError {
  constructor(
    readonly node: string,
    readonly pendingBytes: number,
    readonly maxPendingBytes: number,
  ) {
    super(ErrorCodes.LINK_OVERLOADED, `link to node ${node} has ${pendingBytes} bytes pending (limit ${maxPendingBytes})`);
  }
}

/**
 * A `send` to a task on another node found this node's replay buffer full: the messages it keeps
 * until a shipped snapshot of their task covers them (see docs/cluster.md). The message was not
 * accepted; retry once the buffer drains.
 */
export class ReplayBufferFullError extends GodwitError {
  constructor(
    readonly node: string,
    readonly taskId: string,
    readonly bufferedBytes: number,
    readonly maxBytes: number,
  ) {
    super(ErrorCodes.REPLAY_BUFFER_FULL, `replay buffer of node ${node} holds ${bufferedBytes} bytes (limit ${maxBytes}); a message for task ${taskId} was refused`);
  }
}

/** A node was asked to run a task definition it does not have registered. */
export class UnknownTaskTypeError extends GodwitError {
  constructor(
    readonly task: string,
    readonly node: string,
  ) {
    super(ErrorCodes.UNKNOWN_TASK_TYPE, `node ${node} has no task definition named ${task} (register it with createRuntime({ tasks }))`);
  }
}

/** A second migration of a task that is already moving. */
export class MigrationInProgressError extends GodwitError {
  constructor(readonly taskId: string) {
    super(ErrorCodes.MIGRATION_IN_PROGRESS, `task ${taskId} is already migrating`);
  }
}

/** A forecasting model could not be trained, run or imported (the LSTM's worker failed, a saved model is malformed). */
export class ForecastModelError extends GodwitError {
  constructor(
    readonly model: string,
    readonly operation: 'train' | 'infer' | 'import' | 'worker',
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.FORECAST_MODEL, `forecast model ${model} failed to ${operation}: ${reason}`, options);
  }
}

/** One phase of a migration got no answer (or did not finish) within `phaseTimeoutMs`: the migration aborts. */
export class MigrationTimeoutError extends GodwitError {
  constructor(
    readonly taskId: string,
    readonly phase: string,
    readonly timeoutMs: number,
    /** What was waited for: the request sent to the target (`mig.chunk`), or the local step. */
    readonly step: string,
  ) {
    super(ErrorCodes.MIGRATION_TIMEOUT, `migration of task ${taskId} timed out in phase ${phase}: ${step} took longer than ${timeoutMs} ms`);
  }
}

/**
 * A child task that migrated alone to another node crashed, and its parent's node did not answer
 * for its directive: the child is supervised where it runs, as a top-level task, from then on.
 */
export class ParentUnreachableError extends GodwitError {
  constructor(
    readonly taskId: string,
    readonly parentId: string,
    readonly node: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.PARENT_UNREACHABLE, `parent ${parentId} of task ${taskId} on node ${node} is unreachable; the task is supervised where it runs`, options);
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
