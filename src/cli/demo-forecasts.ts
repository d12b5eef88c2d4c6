/**
 * The demo's `ForecastSource` for the controller on the RMS: utilization forecasts from godwit's
 * forecasters over the samples the nodes ship (as the runtime's default does), and the failure
 * probability of the runtime's own predictors (`predictors` option: a `FailurePredictor` per
 * resource over its temperature, with the demo's critical temperature as its threshold).
 *
 * Only the predictive policy gets the failure probability: a reactive controller acts on what it
 * sees now, and nothing says a device is failing before it has failed.
 */
import { createSampleForecasts, type ForecastSource, type Runtime } from '../index.js';
import type { RuntimeImpl } from '../runtime/runtime.js';

export type DemoForecasts = ForecastSource;

export function createDemoForecasts(rt: () => Runtime, o: { resources: readonly string[]; stepMs: number; horizonMs: number; failurePredictor: boolean }): DemoForecasts {
  const raw = (resource: string, metric: string, sinceMs: number) => rt().metrics(resource, { metric, resolution: 'raw', ...(Number.isFinite(sinceMs) ? { sinceMs: sinceMs + 1e-6 } : {}) });
  const utilization = createSampleForecasts(
    { resources: () => [...o.resources], utilization: (resource, sinceMs) => raw(resource, 'utilization', sinceMs) },
    { stepMs: o.stepMs, horizonMs: o.horizonMs },
  );
  return {
    refresh: (nowMs) => utilization.refresh?.(nowMs),
    utilization: (resource, horizonMs) => utilization.utilization(resource, horizonMs),
    failureProbability(resource, horizonMs) {
      if (!o.failurePredictor) return 0;
      return (rt() as RuntimeImpl).predictors?.failureProbability(resource, horizonMs) ?? 0;
    },
  };
}
