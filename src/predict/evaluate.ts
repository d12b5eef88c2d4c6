/**
 * Rolling-origin evaluation of one series: the first half warms the models up, then every
 * forecast issued from an origin in the second half is scored when its target arrives. MASE is
 * scaled by the one-step naive MAE of the warm-up half. Summaries over many series are the
 * per-horizon medians of each metric.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Forecaster } from './forecaster.js';
import { createBaselineModels } from './models.js';
import { COMBINED, ForecastSelector } from './selector.js';
import { detectPeriod } from './seasonal.js';

export const SELECTED = 'selected';

export interface HorizonMetrics {
  readonly mase: number;
  readonly mae: number;
  /** Symmetric MAPE in percent (0..200); pairs where actual and forecast are both 0 count 0. */
  readonly smape: number;
  /** Share (0..1) of actuals at or below the P90 forecast. */
  readonly coverageP90: number;
  readonly scored: number;
}

/** Per source (each model, `selected`, `combined`), per horizon (as a string key). */
export type SourceMetrics = Record<string, Record<string, HorizonMetrics>>;

export interface SeriesEvaluation {
  readonly points: number;
  readonly horizons: readonly number[];
  readonly scale: number;
  readonly sources: SourceMetrics;
}

export interface EvaluateOptions {
  horizons?: readonly number[];
  /** Fresh models for this series (default `createBaselineModels({ period })`). */
  createModels?: () => Forecaster[];
  windowSize?: number;
  /**
   * Season length in steps for Holt-Winters: a number, `auto` (default: detected on the warm-up
   * half with `detectPeriod`, no seasonal model when none is found) or `none`.
   */
  period?: number | 'auto' | 'none';
  /** Which baseline models compete (`createBaselineModels`' `set`, default `all`; `lean` is what resource predictors run). */
  modelSet?: 'all' | 'lean';
  /** Extra models for this series, e.g. an `LstmForecaster` (then use `evaluateSeriesAsync`). */
  extraModels?: () => Forecaster[];
}

interface Accumulator {
  absSum: number;
  smapeSum: number;
  covered: number;
  n: number;
}

/** The rolling-origin bookkeeping shared by the synchronous and asynchronous evaluations. */
class RollingEvaluation {
  readonly selector: ForecastSelector;
  readonly horizons: readonly number[];
  private readonly names: string[];
  private readonly pending: Array<Array<{ point: Float64Array; p90: Float64Array }>>;
  private readonly acc: Accumulator[][];
  private readonly warmup: number;
  private readonly scale: number;

  constructor(
    private readonly values: readonly number[],
    options: EvaluateOptions,
  ) {
    const horizons = options.horizons ?? [1, 3, 12];
    this.horizons = horizons;
    const n = values.length;
    this.warmup = Math.floor(n / 2);
    const maxH = Math.max(...horizons);
    if (n < 8 || this.warmup + maxH >= n) throw new InvalidArgumentError('values', `${n} values are too few for horizon ${maxH}`);
    const period = options.period === 'none' ? undefined : options.period === undefined || options.period === 'auto' ? detectPeriod(values.slice(0, this.warmup)) : options.period;
    const models = options.createModels ? options.createModels() : createBaselineModels({ period, set: options.modelSet ?? 'all' });
    this.selector = new ForecastSelector({
      horizons,
      models: [...models, ...(options.extraModels?.() ?? [])],
      ...(options.windowSize === undefined ? {} : { windowSize: options.windowSize }),
    });
    this.names = [...this.selector.modelNames, SELECTED, COMBINED];
    this.pending = this.names.map(() => horizons.map(() => ({ point: new Float64Array(n).fill(Number.NaN), p90: new Float64Array(n).fill(Number.NaN) })));
    this.acc = this.names.map(() => horizons.map((): Accumulator => ({ absSum: 0, smapeSum: 0, covered: 0, n: 0 })));
    let scaleSum = 0;
    for (let t = 1; t < this.warmup; t++) scaleSum += Math.abs((values[t] ?? 0) - (values[t - 1] ?? 0));
    this.scale = this.warmup > 1 ? scaleSum / (this.warmup - 1) : Number.NaN;
  }

  /** Scores the forecasts whose target is value t (call before the selector sees it). */
  score(t: number): void {
    if (t < this.warmup) return;
    const y = this.values[t] ?? Number.NaN;
    this.names.forEach((_, s) => {
      this.horizons.forEach((_h, hi) => {
        const p = this.pending[s]?.[hi];
        const a = this.acc[s]?.[hi];
        const f = p?.point[t] ?? Number.NaN;
        if (!p || !a || Number.isNaN(f)) return;
        const err = Math.abs(y - f);
        a.absSum += err;
        const denom = Math.abs(y) + Math.abs(f);
        a.smapeSum += denom === 0 ? 0 : (200 * err) / denom;
        if (y <= (p.p90[t] ?? Number.NaN)) a.covered++;
        a.n++;
      });
    });
  }

  /** Records the forecasts issued from origin t (call after the selector saw value t). */
  record(t: number): void {
    if (t < this.warmup - 1) return;
    const n = this.values.length;
    this.horizons.forEach((h, hi) => {
      if (t + h >= n) return;
      this.names.forEach((name, s) => {
        const f = name === SELECTED ? this.selector.forecast(h) : this.selector.forecastOf(name, h);
        const p = this.pending[s]?.[hi];
        if (!p) return;
        p.point[t + h] = f.point;
        p.p90[t + h] = f.p90;
      });
    });
  }

  result(): SeriesEvaluation {
    const sources: SourceMetrics = {};
    this.names.forEach((name, s) => {
      const byH: Record<string, HorizonMetrics> = {};
      this.horizons.forEach((h, hi) => {
        const a = this.acc[s]?.[hi] ?? { absSum: 0, smapeSum: 0, covered: 0, n: 0 };
        const mae = a.n === 0 ? Number.NaN : a.absSum / a.n;
        const mase = this.scale === 0 ? (mae === 0 ? 0 : Infinity) : mae / this.scale;
        byH[String(h)] = { mase, mae, smape: a.n === 0 ? Number.NaN : a.smapeSum / a.n, coverageP90: a.n === 0 ? Number.NaN : a.covered / a.n, scored: a.n };
      });
      sources[name] = byH;
    });
    return { points: this.values.length, horizons: this.horizons, scale: this.scale, sources };
  }
}

export function evaluateSeries(values: readonly number[], options: EvaluateOptions = {}): SeriesEvaluation {
  const ev = new RollingEvaluation(values, options);
  for (let t = 0; t < values.length; t++) {
    ev.score(t);
    ev.selector.update(values[t] ?? Number.NaN);
    ev.record(t);
  }
  return ev.result();
}

/**
 * As `evaluateSeries`, for asynchronous models (the LSTM): after each value their inference is
 * awaited before the forecasts are recorded. Closes the models at the end.
 */
export async function evaluateSeriesAsync(values: readonly number[], options: EvaluateOptions = {}): Promise<SeriesEvaluation> {
  const ev = new RollingEvaluation(values, options);
  try {
    for (let t = 0; t < values.length; t++) {
      ev.score(t);
      await ev.selector.updateAsync(values[t] ?? Number.NaN);
      ev.record(t);
    }
    return ev.result();
  } finally {
    await ev.selector.close();
  }
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] ?? Number.NaN) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

export type MetricSummary = Omit<HorizonMetrics, 'scored'>;

export interface EvaluationSummary {
  readonly series: number;
  readonly horizons: readonly number[];
  /** Per source, per horizon: the median of each metric over the series. */
  readonly sources: Record<string, Record<string, MetricSummary>>;
}

export function summarize(evaluations: readonly SeriesEvaluation[]): EvaluationSummary {
  const first = evaluations[0];
  if (!first) throw new InvalidArgumentError('evaluations', 'needs at least one series');
  const sources: Record<string, Record<string, MetricSummary>> = {};
  // A seasonal model runs only on series with a period: the union of sources, medians over the series that have one.
  const names = [...new Set(evaluations.flatMap((e) => Object.keys(e.sources)))].sort((a, b) => Number(a === SELECTED || a === COMBINED) - Number(b === SELECTED || b === COMBINED));
  for (const name of names) {
    const byH: Record<string, MetricSummary> = {};
    for (const h of first.horizons) {
      const key = String(h);
      const pick = (f: (m: HorizonMetrics) => number) => median(evaluations.map((e) => {
        const m = e.sources[name]?.[key];
        return m ? f(m) : Number.NaN;
      }));
      byH[key] = { mase: pick((m) => m.mase), mae: pick((m) => m.mae), smape: pick((m) => m.smape), coverageP90: pick((m) => m.coverageP90) };
    }
    sources[name] = byH;
  }
  return { series: evaluations.length, horizons: first.horizons, sources };
}
