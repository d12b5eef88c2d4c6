/**
 * The predictors of the RMS (or of a single-process runtime): one `ResourcePredictor` per
 * resource that reports monitor samples, fed from the metric store every `intervalMs`, answering
 * the controller (`ForecastSource`), `runtime.forecasts()` and the debug socket. They are
 * supervised: a predictor that throws is restarted from its last good state (its trained network
 * and reservations; the forecasters warm up again), counted, logged and reported as an event; it
 * never stops the others.
 */
import type { ForecastSource } from '../controller/forecasts.js';
import { InvalidArgumentError } from '../errors.js';
import type { FailurePredictorOptions, FailureRisk } from '../predict/failure.js';
import { PredictorBank } from '../predict/predictor-bank.js';
import type { Forecast, ResourcePredictorState } from '../predict/resource-predictor.js';
import type { Clock, TimerHandle } from './clock.js';
import type { RuntimeEvent } from './event-types.js';
import type { Logger } from './logger.js';
import type { MetricStore } from './metrics/metric-store.js';

export interface PredictorOptions {
  /** Resampling step of the series, ms (default: the monitor interval, at least 500). */
  stepMs?: number;
  /** Forecast horizons, ms (default 1 s, 5 s, 15 s, 60 s, plus the controller's horizon). */
  horizonsMs?: number[];
  /** How often the predictors take the new samples and forecast, ms (default 1000). */
  intervalMs?: number;
  /** Failure risk from temperature (default: warn towards 90 C). */
  failure?: FailurePredictorOptions;
}

export const PredictedMetrics = ['utilization', 'temperatureC', 'powerW', 'memoryFreeBytes'] as const;

export interface ResourceForecasts {
  resource: string;
  forecasts: Forecast[];
  failure: FailureRisk | null;
  restarts: number;
}

export class PredictorService implements ForecastSource {
  private readonly bank: PredictorBank;
  private readonly lastMs = new Map<string, number>();
  private readonly good = new Map<string, ResourcePredictorState>();
  private readonly restarts = new Map<string, number>();
  /** Resources with a predictor in the bank. */
  private readonly hosted = new Set<string>();
  private cache = new Map<string, Forecast[]>();
  private timer: TimerHandle | undefined;
  readonly horizonsMs: number[];
  readonly intervalMs: number;

  constructor(
    private readonly store: MetricStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly emit: (e: RuntimeEvent) => void,
    monitorIntervalMs: number,
    options: PredictorOptions = {},
    extraHorizonMs?: number,
  ) {
    const stepMs = options.stepMs ?? Math.max(500, monitorIntervalMs);
    this.intervalMs = options.intervalMs ?? 1000;
    if (!(stepMs > 0)) throw new InvalidArgumentError('predictors.stepMs', 'must be positive');
    if (!(this.intervalMs > 0)) throw new InvalidArgumentError('predictors.intervalMs', 'must be positive');
    const horizons = new Set(options.horizonsMs ?? [1000, 5000, 15_000, 60_000]);
    if (extraHorizonMs !== undefined) horizons.add(extraHorizonMs);
    this.horizonsMs = [...horizons].sort((a, b) => a - b);
    this.bank = new PredictorBank({ metrics: PredictedMetrics, stepMs, horizonsMs: this.horizonsMs, failure: { ...options.failure, metric: 'temperatureC' } });
  }

  start(): void {
    const tick = () => {
      this.refresh();
      this.timer = this.clock.setTimer(tick, this.intervalMs);
    };
    this.timer = this.clock.setTimer(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.bank.close();
  }

  /** Feeds every resource's samples recorded since the last call, then forecasts. */
  refresh(): void {
    for (const resource of this.store.resources()) {
      try {
        this.feed(resource);
        this.cache.set(resource, this.bank.get(resource).forecasts());
        this.good.set(resource, this.bank.get(resource).toJSON());
      } catch (err) {
        this.restart(resource, err);
      }
    }
  }

  private feed(resource: string): void {
    if (!this.hosted.has(resource)) {
      this.bank.add(resource);
      this.hosted.add(resource);
    }
    const since = this.lastMs.get(resource);
    const rows = new Map<number, Record<string, number | null>>();
    const take = (metric: string, as: string, f: (v: number | null, t: number) => number | null = (v) => v) => {
      for (const p of this.store.query(resource, { metric, resolution: 'raw', ...(since === undefined ? {} : { sinceMs: since + 1e-6 }) })) {
        let row = rows.get(p.timeMs);
        if (!row) rows.set(p.timeMs, (row = {}));
        row[as] = f(p.value, p.timeMs);
      }
    };
    take('utilization', 'utilization');
    take('temperatureC', 'temperatureC');
    take('powerW', 'powerW');
    const total = new Map<number, number | null>();
    for (const p of this.store.query(resource, { metric: 'memoryTotalBytes', resolution: 'raw', ...(since === undefined ? {} : { sinceMs: since + 1e-6 }) })) total.set(p.timeMs, p.value);
    take('memoryUsedBytes', 'memoryFreeBytes', (used, t) => (used === null || (total.get(t) ?? null) === null ? null : (total.get(t) as number) - used));
    const predictor = this.bank.get(resource);
    for (const t of [...rows.keys()].sort((a, b) => a - b)) {
      predictor.update(t, rows.get(t)!);
      this.lastMs.set(resource, t);
    }
  }

  private restart(resource: string, err: unknown): void {
    const n = (this.restarts.get(resource) ?? 0) + 1;
    this.restarts.set(resource, n);
    this.log.error({ err, resource, restarts: n }, 'predictor failed; restarting it from its last good state');
    this.emit({ type: 'predictor.restarted', timeMs: this.clock.now(), resource, restarts: n, err });
    const state = this.good.get(resource);
    void this.bank.remove(resource).catch(() => undefined);
    try {
      this.bank.add(resource, {}, state);
    } catch (e) {
      this.log.error({ err: e, resource }, 'predictor state does not restore; starting a fresh predictor');
      if (!this.bank.resources().includes(resource)) this.bank.add(resource);
    }
  }

  /** The forecast of `metric` at the tracked horizon closest to `horizonMs` (the next one up). */
  forecastOf(resource: string, metric: string, horizonMs: number): Forecast | undefined {
    const list = (this.cache.get(resource) ?? []).filter((f) => f.metric === metric);
    return list.find((f) => f.horizonMs >= horizonMs) ?? list.at(-1);
  }

  utilization(resource: string, horizonMs: number): { p50: number; p90: number; model: string; mase: number } | undefined {
    const f = this.forecastOf(resource, 'utilization', horizonMs);
    if (!f || !Number.isFinite(f.p50) || !Number.isFinite(f.p90) || Number.isNaN(f.mase)) return undefined;
    return { p50: Math.max(0, f.p50), p90: Math.max(0, f.p90, f.p50), model: f.model, mase: f.mase };
  }

  failureProbability(resource: string, horizonMs: number): number {
    if (!this.hosted.has(resource)) return 0;
    try {
      return this.bank.get(resource).failureRisk(horizonMs).probability;
    } catch {
      return 0;
    }
  }

  /** Every resource's forecasts and failure risk (over the longest horizon). */
  all(): ResourceForecasts[] {
    const horizon = this.horizonsMs.at(-1) ?? 60_000;
    return this.bank.resources().map((resource) => {
      let failure: FailureRisk | null = null;
      try {
        failure = this.bank.get(resource).failureRisk(horizon);
      } catch {
        failure = null;
      }
      return { resource, forecasts: this.cache.get(resource) ?? [], failure, restarts: this.restarts.get(resource) ?? 0 };
    });
  }
}
