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
  /** Fresh models for this series (default `createBaselineModels()`). */
  createModels?: () => Forecaster[];
  windowSize?: number;
}

interface Accumulator {
  absSum: number;
  smapeSum: number;
  covered: number;
  n: number;
}

export function evaluateSeries(values: readonly number[], options: EvaluateOptions = {}): SeriesEvaluation {
  const horizons = options.horizons ?? [1, 3, 12];
  const n = values.length;
  const warmup = Math.floor(n / 2);
  const maxH = Math.max(...horizons);
  if (n < 8 || warmup + maxH >= n) throw new InvalidArgumentError('values', `${n} values are too few for horizon ${maxH}`);
  const selector = new ForecastSelector({
    horizons,
    models: (options.createModels ?? createBaselineModels)(),
    ...(options.windowSize === undefined ? {} : { windowSize: options.windowSize }),
  });
  const names = [...selector.modelNames, SELECTED, COMBINED];
  // pending[source][hIndex] = { point, p90 } by target index
  const pending = names.map(() => horizons.map(() => ({ point: new Float64Array(n).fill(Number.NaN), p90: new Float64Array(n).fill(Number.NaN) })));
  const acc = names.map(() => horizons.map((): Accumulator => ({ absSum: 0, smapeSum: 0, covered: 0, n: 0 })));

  let scaleSum = 0;
  for (let t = 1; t < warmup; t++) scaleSum += Math.abs((values[t] ?? 0) - (values[t - 1] ?? 0));
  const scale = warmup > 1 ? scaleSum / (warmup - 1) : Number.NaN;

  for (let t = 0; t < n; t++) {
    const y = values[t] ?? Number.NaN;
    if (t >= warmup) {
      names.forEach((_, s) => {
        horizons.forEach((_h, hi) => {
          const p = pending[s]?.[hi];
          const a = acc[s]?.[hi];
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
    selector.update(y);
    if (t < warmup - 1) continue;
    horizons.forEach((h, hi) => {
      if (t + h >= n) return;
      names.forEach((name, s) => {
        const f = name === SELECTED ? selector.forecast(h) : selector.forecastOf(name, h);
        const p = pending[s]?.[hi];
        if (!p) return;
        p.point[t + h] = f.point;
        p.p90[t + h] = f.p90;
      });
    });
  }

  const sources: SourceMetrics = {};
  names.forEach((name, s) => {
    const byH: Record<string, HorizonMetrics> = {};
    horizons.forEach((h, hi) => {
      const a = acc[s]?.[hi] ?? { absSum: 0, smapeSum: 0, covered: 0, n: 0 };
      const mae = a.n === 0 ? Number.NaN : a.absSum / a.n;
      const mase = scale === 0 ? (mae === 0 ? 0 : Infinity) : mae / scale;
      byH[String(h)] = { mase, mae, smape: a.n === 0 ? Number.NaN : a.smapeSum / a.n, coverageP90: a.n === 0 ? Number.NaN : a.covered / a.n, scored: a.n };
    });
    sources[name] = byH;
  });
  return { points: n, horizons, scale, sources };
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
  for (const name of Object.keys(first.sources)) {
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
