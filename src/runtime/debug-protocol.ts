/**
 * The debug socket's wire protocol, shared by the server (debug-socket.ts) and the client
 * (debug-client.ts): JSON over text frames.
 *   request   { "id": 1, "op": "tree", "args": { ... } }
 *   response  { "id": 1, "ok": true, "result": { ... } }
 *             { "id": 1, "ok": false, "error": { "code": "GODWIT_ERR_...", "message": "..." } }
 *   push      { "event": { "type": "task.spawned", ... } }      (after `subscribe`)
 * See docs/debug-socket.md.
 */
import { type ErrorCode, ErrorCodes, GodwitError, isGodwitError } from '../errors.js';
import type { RuntimeEvent } from './event-types.js';

/** Close codes the server uses. 1003 and 1009 are the standard ones; 4401 is ours. */
export const DebugCloseCodes = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** A binary frame. */
  UNSUPPORTED_DATA: 1003,
  /** A frame over `maxPayloadBytes` (sent by ws itself). */
  TOO_BIG: 1009,
  /** Missing, wrong or late token. */
  UNAUTHORIZED: 4401,
} as const;

/** Codes in error responses (all listed in docs/errors.md). */
export const DebugErrorCodes = {
  /** The frame is not JSON, or not a request object. */
  BAD_REQUEST: ErrorCodes.BAD_REQUEST,
  UNKNOWN_OP: ErrorCodes.UNKNOWN_OP,
  /** An admin op (or `includeState`) on a read-only socket. */
  FORBIDDEN: ErrorCodes.FORBIDDEN,
  /** The op exists but this node (its debug source) cannot do it (yet). */
  NOT_SUPPORTED: ErrorCodes.NOT_SUPPORTED,
  /** The source failed with something that is not a GodwitError. */
  INTERNAL: ErrorCodes.INTERNAL,
  /** Client side only: no answer within the client's `timeoutMs`. */
  TIMEOUT: ErrorCodes.DEBUG_TIMEOUT,
  INVALID_ARGUMENT: ErrorCodes.INVALID_ARGUMENT,
  UNKNOWN_RESOURCE: ErrorCodes.UNKNOWN_RESOURCE,
  AUTH: ErrorCodes.AUTH,
} as const;

export type DebugErrorCode = (typeof DebugErrorCodes)[keyof typeof DebugErrorCodes];

export const ReadOps = ['auth', 'tree', 'resources', 'tasks', 'migrations', 'controller', 'forecasts', 'performance', 'dead-letters', 'subscribe', 'unsubscribe'] as const;
export const AdminOps = ['migrate', 'drain', 'controller.suspend', 'controller.resume', 'controller.mode'] as const;
export type DebugOp = (typeof ReadOps)[number] | (typeof AdminOps)[number];

export type RequestId = string | number | null;

export interface WireError {
  code: string;
  message: string;
}

export type DebugResponse = { id: RequestId; ok: true; result: unknown } | { id: RequestId; ok: false; error: WireError };

/** An error as it crosses the wire: never a stack, never a cause. */
export interface WireErr {
  name: string;
  code?: string;
  message: string;
}

/** A runtime event as pushed to subscribers: `err` as `{ name, code, message }`, message bodies left out. */
export type WireEvent = Record<string, unknown> & { type: string; timeMs: number; node: string };

/** The op exists but the debug source has no hook for it. */
export class NotSupportedError extends GodwitError {
  readonly debugCode = DebugErrorCodes.NOT_SUPPORTED;
  constructor(
    readonly op: string,
    reason: string,
  ) {
    super(ErrorCodes.NOT_SUPPORTED, `debug op ${op} is not supported: ${reason}`);
  }
}

/** An admin op, or `includeState`, on a read-only socket. Wire code `GODWIT_ERR_FORBIDDEN`. */
export class ForbiddenError extends GodwitError {
  readonly debugCode = DebugErrorCodes.FORBIDDEN;
  constructor(
    readonly op: string,
    reason: string,
  ) {
    super(ErrorCodes.FORBIDDEN, `debug op ${op} is refused: ${reason}`);
  }
}

/** An op the server does not know. Wire code `GODWIT_ERR_UNKNOWN_OP`. */
export class UnknownOpError extends GodwitError {
  readonly debugCode = DebugErrorCodes.UNKNOWN_OP;
  constructor(readonly op: string) {
    super(ErrorCodes.UNKNOWN_OP, `debug op ${op} is unknown (known: ${[...ReadOps, ...AdminOps].join(', ')})`);
  }
}

/** An error response a debug client received. `code` is the wire code (see DebugErrorCodes). */
export class DebugRequestError extends GodwitError {
  readonly debugCode: string;
  constructor(
    readonly op: string,
    error: WireError,
  ) {
    super(knownCode(error.code), `debug op ${op} failed: ${error.message}`);
    this.debugCode = error.code;
  }
}

const codes = new Set<string>(Object.values(ErrorCodes));
function knownCode(code: string): ErrorCode {
  return codes.has(code) ? (code as ErrorCode) : ErrorCodes.INTERNAL;
}

/** The code an error thrown by a debug source is answered with. */
export function wireCodeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as { debugCode?: unknown }).debugCode === 'string') {
    return (err as { debugCode: string }).debugCode;
  }
  if (isGodwitError(err)) return err.code;
  return DebugErrorCodes.INTERNAL;
}

export function toWireErr(err: unknown): WireErr {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { name: err.name, code, message: err.message } : { name: err.name, message: err.message };
  }
  return { name: 'Error', message: typeof err === 'string' ? err : String(err) };
}

/** What kind of message a dead letter held, without its contents: its `type` field or its JS type. */
export function messageTypeOf(message: unknown): string {
  if (message === null) return 'null';
  if (Array.isArray(message)) return 'array';
  if (typeof message === 'object') {
    const t = (message as { type?: unknown }).type;
    return typeof t === 'string' ? t.slice(0, 64) : 'object';
  }
  return typeof message;
}

/** Serializes a runtime event for the wire. */
export function toWireEvent(event: RuntimeEvent & { node?: string }, node: string): WireEvent {
  const out: Record<string, unknown> = { node };
  for (const [key, value] of Object.entries(event)) {
    if (key === 'err') out['err'] = toWireErr(value);
    else if (key === 'message' && event.type === 'message.dead-lettered') out['messageType'] = messageTypeOf(value);
    else out[key] = value;
  }
  return out as WireEvent;
}

/** JSON.stringify that survives bigints and cycles (a debug view must not throw on odd data); shared, non-cyclic objects are written in full. */
export function safeStringify(value: unknown): string {
  const path: object[] = [];
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    // `this` is the object holding `v`: trim the path back to it, so only ancestors count as cycles.
    if (typeof this === 'object' && this !== null) {
      const at = path.lastIndexOf(this as object);
      path.length = at + 1;
    }
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'object' && v !== null) {
      if (path.includes(v)) return '[circular]';
      path.push(v);
    }
    return v;
  });
}

export interface ParsedRequest {
  id: RequestId;
  op: string;
  args: Record<string, unknown>;
}

/** Parses one text frame; a string is the error message of a BAD_REQUEST response. */
export function parseRequest(text: string): ParsedRequest | { id: RequestId; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { id: null, error: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { id: null, error: 'request must be a JSON object' };
  const r = value as Record<string, unknown>;
  const id = typeof r['id'] === 'string' || typeof r['id'] === 'number' ? r['id'] : null;
  if (r['id'] !== undefined && r['id'] !== null && id === null) return { id: null, error: 'request id must be a string or a number' };
  if (typeof r['op'] !== 'string' || r['op'].length === 0) return { id, error: 'request op must be a non-empty string' };
  const args = r['args'];
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) return { id, error: 'request args must be an object' };
  return { id, op: r['op'], args: (args ?? {}) as Record<string, unknown> };
}
