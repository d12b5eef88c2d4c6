/**
 * Where the controller gets its forecasts: a `ForecastSource` answers, per resource, the
 * utilization forecast at the horizon and the probability of failing within it. The default one
 * runs godwit's forecasters (online model selection, P50/P90 from residuals) over each
 * resource's monitor samples; the simulator and tests may give their own.
 */
import { ForecastSelector } from '../predict/selector.js';
import type { Quantiles } from './model.js';

export interface ForecastSource {
  /** Feeds the samples recorded since the last call (the controller calls it once per tick). */
  refresh?(nowMs: number): void;
  /** Utilization at `horizonMs` ahead; undefined until there is enough history (the controller then uses the current load). */
  utilization(resource: string, horizonMs: number): (Quantiles & { model?: string; mase?: number }) | undefined;
  /** Probability the resource fails within `horizonMs` (0 when unknown). */
  failureProbability(resource: string, horizonMs: number): number;
}

export interface SampleReader {
  resources(): string[];
  /** Utilization samples (0..1, null: unavailable) recorded after `sinceMs`. */
  utilization(resource: string, sinceMs: number): Array<{ timeMs: number; value: number | null }>;
}

/**
 * Forecasts over each resource's utilization samples, one `ForecastSelector` per resource with
 * the horizon in samples (`horizonMs / stepMs`). Missing samples (null) hold the last value.
 */
export function createSampleForecasts(reader: SampleReader, options: { stepMs: number; horizonMs: number }): ForecastSource {
  const steps = Math.max(1, Math.round(options.horizonMs / options.stepMs));
  const series = new Map<string, { sel: ForecastSelector; lastMs: number; last: number }>();
  return {
    refresh() {
      for (const id of reader.resources()) {
        let s = series.get(id);
        if (!s) series.set(id, (s = { sel: new ForecastSelector({ horizons: [steps] }), lastMs: -Infinity, last: Number.NaN }));
        for (const pt of reader.utilization(id, s.lastMs)) {
          if (pt.timeMs <= s.lastMs) continue;
          s.lastMs = pt.timeMs;
          const v = pt.value ?? s.last;
          if (Number.isNaN(v)) continue;
          s.last = v;
          s.sel.update(v);
        }
      }
    },
    utilization(resource) {
      const s = series.get(resource);
      if (!s) return undefined;
      const f = s.sel.forecast(steps);
      if (!Number.isFinite(f.p50) || !Number.isFinite(f.p90) || Number.isNaN(f.mase)) return undefined;
      return { p50: Math.max(0, f.p50), p90: Math.max(0, f.p90, f.p50), model: f.model, mase: f.mase };
    },
    failureProbability: () => 0,
  };
}
