/**
 * The demo's `ForecastSource` for the controller on the RMS: utilization forecasts from godwit's
 * forecasters over the samples the nodes ship (as the runtime's default does), plus a simple
 * temperature-trend failure predictor of its own (the runtime's predictors, src/runtime/predictor-service.ts,
 * are not wired into the demo; its figures in docs/demo.md were measured with this one): once a device runs
 * above `WARNING_C`, its temperature extrapolated linearly over the last `trendMs` to the horizon
 * is mapped to a probability that rises from 0 at `CRITICAL_C - 10` to 1 at `CRITICAL_C + 5`.
 * (A busy device that warms up but stays below `WARNING_C` is not at risk.)
 *
 * Only the predictive policy gets the failure predictor: a reactive controller acts on what it
 * sees now, and nothing says a device is failing before it has failed.
 */
import { createSampleForecasts, type ForecastSource, type Runtime } from '../index.js';
import { CRITICAL_C, WARNING_C } from './demo-scenario.js';

export interface DemoForecasts extends ForecastSource {
  /** The last temperature trend seen per resource: now and at the horizon, C. */
  temperature(resource: string): { nowC: number; atHorizonC: number } | undefined;
}

export function createDemoForecasts(rt: () => Runtime, o: { resources: readonly string[]; stepMs: number; horizonMs: number; failurePredictor: boolean; trendMs?: number }): DemoForecasts {
  const trendMs = o.trendMs ?? 2000;
  const raw = (resource: string, metric: string, sinceMs: number) => rt().metrics(resource, { metric, resolution: 'raw', ...(Number.isFinite(sinceMs) ? { sinceMs: sinceMs + 1e-6 } : {}) });
  const utilization = createSampleForecasts(
    { resources: () => [...o.resources], utilization: (resource, sinceMs) => raw(resource, 'utilization', sinceMs) },
    { stepMs: o.stepMs, horizonMs: o.horizonMs },
  );
  const trend = (resource: string, horizonMs: number): { nowC: number; atHorizonC: number } | undefined => {
    const now = rt().clock.now();
    const pts = raw(resource, 'temperatureC', now - trendMs).filter((p): p is { timeMs: number; value: number } => p.value !== null);
    const first = pts[0];
    const last = pts.at(-1);
    if (!first || !last || last.timeMs - first.timeMs < trendMs / 2) return undefined;
    const slope = (last.value - first.value) / (last.timeMs - first.timeMs);
    return { nowC: last.value, atHorizonC: last.value + Math.max(0, slope) * horizonMs };
  };
  return {
    refresh: (nowMs) => utilization.refresh?.(nowMs),
    utilization: (resource, horizonMs) => utilization.utilization(resource, horizonMs),
    failureProbability(resource, horizonMs) {
      if (!o.failurePredictor) return 0;
      const t = trend(resource, horizonMs);
      if (!t || t.nowC < WARNING_C) return 0;
      return Math.min(1, Math.max(0, (t.atHorizonC - (CRITICAL_C - 10)) / 15));
    },
    temperature: (resource) => trend(resource, o.horizonMs),
  };
}
