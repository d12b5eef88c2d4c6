/**
 * Errors crossing a link keep their class, code and data fields: a `TaskCrashedError` raised on
 * another node arrives as a `TaskCrashedError` (its cause as `{ name, message }`).
 */
import * as errors from '../../errors.js';
import { GodwitError, isGodwitError } from '../../errors.js';

export interface WireError {
  name: string;
  code: string;
  message: string;
  data: Record<string, unknown>;
}

const classes = new Map<string, new (...args: never[]) => GodwitError>();
for (const value of Object.values(errors)) {
  if (typeof value === 'function' && value.prototype instanceof GodwitError) classes.set(value.name, value as never);
}

export function errorToWire(err: unknown): WireError {
  if (isGodwitError(err)) {
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err)) if (k !== 'code' && isPlain(v)) data[k] = v;
    if (err.cause !== undefined) data['cause'] = causeToWire(err.cause);
    return { name: err.name, code: err.code, message: err.message, data };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, code: 'GODWIT_ERR_REMOTE', message: e.message, data: {} };
}

export function errorFromWire(value: unknown): Error {
  const w = value as Partial<WireError> | undefined;
  if (!w || typeof w.message !== 'string') return new Error('remote error with no description');
  const cls = typeof w.name === 'string' ? classes.get(w.name) : undefined;
  const err = Object.create(cls ? cls.prototype : Error.prototype) as Error & Record<string, unknown>;
  Object.defineProperty(err, 'message', { value: w.message, enumerable: false, writable: true, configurable: true });
  if (typeof w.code === 'string') err['code'] = w.code;
  for (const [k, v] of Object.entries(w.data ?? {})) {
    if (k === 'cause') Object.defineProperty(err, 'cause', { value: v, enumerable: false, writable: true, configurable: true });
    else err[k] = v;
  }
  Error.captureStackTrace?.(err, errorFromWire);
  return err;
}

function causeToWire(cause: unknown): unknown {
  return cause instanceof Error ? { name: cause.name, message: cause.message } : isPlain(cause) ? cause : String(cause);
}

function isPlain(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every(isPlain)) || (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(isPlain));
}
