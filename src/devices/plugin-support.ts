/**
 * What every device plugin needs: its options' common part (clock, logger), an event emitter
 * that costs nothing without listeners, and a problem log that logs a recurring problem once
 * instead of once per sample.
 */
import { type Clock, systemClock } from '../runtime/clock.js';
import { type Logger, createLogger } from '../runtime/logger.js';
import type { DeviceError } from './device-errors.js';
import type { DevicePluginEvent, DevicePluginListener } from './plugin.js';

export interface PluginCommonOptions {
  /** Time source for sample times, staleness, backoff and timeouts (default the system clock). */
  clock?: Clock;
  /** Where problems are logged (default a pino logger at `warn` on stderr). */
  logger?: Logger;
  /**
   * A problem that keeps occurring is logged once, then again at most once per this many ms
   * with the count of occurrences in between (default 60 000).
   */
  problemRelogMs?: number;
}

export class PluginEmitter {
  private readonly listeners = new Set<DevicePluginListener>();

  subscribe(listener: DevicePluginListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: DevicePluginEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own; the plugin keeps going.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }
}

interface ActiveProblem {
  loggedAtMs: number;
  suppressed: number;
}

/**
 * Problems by key (`stat`, `rapl:intel-rapl:0`, `line`): the first occurrence is logged at warn,
 * repeats within `relogMs` are only counted, the next one after that is logged with the count.
 * `clear(key)` marks the problem solved (logged at info when it had been logged).
 */
export class ProblemLog {
  private readonly active = new Map<string, ActiveProblem>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly emitter: PluginEmitter,
    private readonly relogMs = 60_000,
  ) {}

  report(key: string, err: DeviceError, fields: Record<string, unknown> = {}): void {
    this.emitter.emit({ type: 'error', error: err });
    const now = this.clock.now();
    const a = this.active.get(key);
    if (!a) {
      this.active.set(key, { loggedAtMs: now, suppressed: 0 });
      this.log.warn({ ...fields, err }, err.message);
    } else if (now - a.loggedAtMs >= this.relogMs) {
      this.log.warn({ ...fields, err, suppressed: a.suppressed }, err.message);
      a.loggedAtMs = now;
      a.suppressed = 0;
    } else {
      a.suppressed++;
    }
  }

  clear(key: string): void {
    if (this.active.delete(key)) this.log.info({ problem: key }, 'device source recovered');
  }

  has(key: string): boolean {
    return this.active.has(key);
  }
}

export interface PluginContext {
  clock: Clock;
  log: Logger;
  emitter: PluginEmitter;
  problems: ProblemLog;
}

export function pluginContext(plugin: string, options: PluginCommonOptions): PluginContext {
  const clock = options.clock ?? systemClock();
  const log = createLogger(options.logger).child({ plugin });
  const emitter = new PluginEmitter();
  return { clock, log, emitter, problems: new ProblemLog(log, clock, emitter, options.problemRelogMs ?? 60_000) };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
