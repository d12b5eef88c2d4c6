/**
 * The one file that imports pino. The runtime takes a pino logger (or pino options) and logs
 * as a subscriber of its own events, so logging and inspection share one path.
 */
import { pino } from 'pino';
import type { RuntimeEvent } from './event-types.js';
import type { Clock } from './clock.js';

/** The part of pino's logger godwit uses; a pino logger is one. */
export interface Logger {
  level: string;
  child(bindings: Record<string, unknown>): Logger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface LoggerOptions {
  /** pino level (default `warn`). */
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

function isLogger(value: unknown): value is Logger {
  return typeof value === 'object' && value !== null && typeof (value as Logger).child === 'function' && typeof (value as Logger).warn === 'function';
}

/** A pino logger writing JSON lines to stderr, or the logger given. */
export function createLogger(option: Logger | LoggerOptions | undefined): Logger {
  if (isLogger(option)) return option;
  return pino({ level: option?.level ?? 'warn' }, pino.destination({ dest: 2, sync: true }));
}

/**
 * Logs runtime events. Dead letters are rate limited: at most `deadLetterLogsPerSecond` lines
 * a second, then one line with how many were not logged.
 */
export function logEvents(log: Logger, clock: Clock, deadLetterLogsPerSecond = 10): (event: RuntimeEvent) => void {
  let windowStart = -Infinity;
  let inWindow = 0;
  let suppressed = 0;
  return (e) => {
    switch (e.type) {
      case 'task.crashed':
        log.warn({ task: e.taskId, resource: e.resource, err: e.err, directive: e.directive }, 'task crashed');
        break;
      case 'task.escalated':
        log.error({ task: e.taskId, resource: e.resource, err: e.err, to: e.to }, 'task failure escalated');
        break;
      case 'task.stopped':
        if (e.reason === 'failed' || e.reason === 'resource-failed') {
          log.error({ task: e.taskId, resource: e.resource, err: e.err, reason: e.reason }, 'task stopped');
        } else log.debug({ task: e.taskId, resource: e.resource, reason: e.reason }, 'task stopped');
        break;
      case 'task.restarted':
        log.info({ task: e.taskId, resource: e.resource, restarts: e.restarts, durationMs: e.delayMs }, 'task restarted');
        break;
      case 'task.replaced':
        log.warn({ task: e.taskId, from: e.from, to: e.to, reason: e.reason }, 'task re-placed');
        break;
      case 'resource.failed':
        log.error({ resource: e.resource, tasks: e.tasks }, 'resource failed');
        break;
      case 'message.dead-lettered': {
        const now = clock.now();
        if (now - windowStart >= 1000) {
          if (suppressed > 0) log.warn({ count: suppressed }, 'dead letters not logged (rate limit)');
          windowStart = now;
          inWindow = 0;
          suppressed = 0;
        }
        if (inWindow++ < deadLetterLogsPerSecond) log.warn({ task: e.taskId, reason: e.reason }, 'message dead-lettered');
        else suppressed++;
        break;
      }
      default:
        log.debug(e, e.type);
    }
  };
}
