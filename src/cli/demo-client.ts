/**
 * The demo's client: a steady request load spread over the tasks (round robin, `rate` a second,
 * in 10 ms ticks), every request an `ask` with a deadline. Each request ends in exactly one of:
 * - answered: the task replied (its latency is recorded; above `sloMs` it is an SLO violation);
 * - failed: the ask rejected with a typed godwit error other than a timeout (counted per code);
 * - lost: no answer at all (the deadline passed, or an error that is not a godwit error).
 * Nothing is retried, so a request the runtime drops shows up here.
 */
import { isGodwitError, type Runtime, type TaskRef } from '../index.js';

export interface LoadTarget {
  ref: TaskRef;
  message(seq: number): unknown;
}

export interface LoadOptions {
  /** Requests a second, all targets together. */
  rate: number;
  sloMs: number;
  /** Deadline of one request, ms. */
  timeoutMs: number;
}

export interface LoadStats {
  sent: number;
  answered: number;
  failed: number;
  lost: number;
  inFlight: number;
  failures: Record<string, number>;
  latenciesMs: number[];
  sloViolations: number;
  sloViolationsByTask: Record<string, number>;
  /** SLO violations per second of the run (by when the request was sent). */
  sloViolationsBySecond: number[];
}

export interface Load {
  readonly stats: LoadStats;
  /** Latencies of the requests answered in the last `ms`. */
  recent(ms: number): number[];
  /** Stops sending and resolves once every request sent has ended. */
  stop(): Promise<void>;
}

export function startLoad(rt: Runtime, targets: readonly LoadTarget[], o: LoadOptions): Load {
  const stats: LoadStats = { sent: 0, answered: 0, failed: 0, lost: 0, inFlight: 0, failures: {}, latenciesMs: [], sloViolations: 0, sloViolationsByTask: {}, sloViolationsBySecond: [] };
  const recentTimes: number[] = [];
  const recentLatencies: number[] = [];
  const pending = new Set<Promise<void>>();
  let running = true;
  const started = performance.now();

  const request = async (target: LoadTarget, seq: number): Promise<void> => {
    const t0 = performance.now();
    try {
      await rt.ask(target.ref, target.message(seq), { timeoutMs: o.timeoutMs });
      const ms = performance.now() - t0;
      stats.answered++;
      stats.latenciesMs.push(ms);
      recentTimes.push(performance.now());
      recentLatencies.push(ms);
      if (ms > o.sloMs) {
        stats.sloViolations++;
        stats.sloViolationsByTask[target.ref.id] = (stats.sloViolationsByTask[target.ref.id] ?? 0) + 1;
        const second = Math.floor((t0 - started) / 1000);
        while (stats.sloViolationsBySecond.length <= second) stats.sloViolationsBySecond.push(0);
        stats.sloViolationsBySecond[second]!++;
      }
    } catch (err) {
      if (isGodwitError(err) && err.code !== 'GODWIT_ERR_ASK_TIMEOUT') {
        stats.failed++;
        stats.failures[err.code] = (stats.failures[err.code] ?? 0) + 1;
      } else stats.lost++;
    }
  };

  const tickMs = 10;
  let tick = 0;
  let owed = 0;
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    timer = undefined;
    if (!running) return;
    tick++;
    owed += (o.rate * tickMs) / 1000;
    for (; owed >= 1; owed--) {
      const seq = stats.sent++;
      const target = targets[seq % targets.length]!;
      stats.inFlight++;
      const p = request(target, seq).finally(() => {
        stats.inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    timer = setTimeout(loop, Math.max(0, started + tick * tickMs - performance.now()));
  };
  loop();

  return {
    stats,
    recent(ms) {
      const since = performance.now() - ms;
      let drop = 0;
      while (drop < recentTimes.length && recentTimes[drop]! < since - 5000) drop++;
      recentTimes.splice(0, drop);
      recentLatencies.splice(0, drop);
      return recentLatencies.filter((_, i) => recentTimes[i]! >= since);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
