/**
 * The debug socket's `performance` op: each task's predicted latency and throughput on the
 * resources it could run on, from its cost per device kind (measured handler time, or what its
 * definition declares) and each resource's utilization forecast at one horizon (the predictors'
 * closest to the one asked; without predictors, the utilization now).
 */
import type { Forecast } from '../predict/resource-predictor.js';
import { type ResourceLoad, type TaskPerformanceRow, taskPerformanceRows } from '../predict/performance.js';
import type { DebugSource } from './debug-source.js';

/** Horizon used when none is asked for, ms. */
const DEFAULT_HORIZON_MS = 15_000;

export interface PerformanceView {
  /** `forecast` (the predictors' utilization at `horizonMs`) or `now` (the latest utilization reading). */
  basis: 'forecast' | 'now';
  horizonMs: number | null;
  rows: TaskPerformanceRow[];
}

type ForecastRows = Array<{ resource: string; forecasts: Forecast[] }>;

export async function performanceView(source: DebugSource, horizonMs = DEFAULT_HORIZON_MS): Promise<PerformanceView> {
  const [tasks, resources, forecasts] = await Promise.all([source.tasks(), source.resources(), source.forecasts ? (source.forecasts() as Promise<ForecastRows> | ForecastRows) : []]);
  const byResource = new Map(forecasts.map((f) => [f.resource, f.forecasts.filter((x) => x.metric === 'utilization')] as const));
  // The horizon the predictors have that is closest to the one asked.
  const horizons = [...new Set([...byResource.values()].flatMap((fs) => fs.map((f) => f.horizonMs)))];
  const horizon = horizons.length === 0 ? null : horizons.reduce((best, h) => (Math.abs(h - horizonMs) < Math.abs(best - horizonMs) ? h : best));
  const loads: ResourceLoad[] = resources
    .filter((r) => r.status !== 'failed')
    .map((r) => {
      const f = byResource.get(r.id)?.find((x) => x.horizonMs === horizon);
      const now = r.metrics?.['utilization'] ?? 0;
      return { id: r.id, kind: r.kind, utilization: f ? { p50: f.p50, p90: f.p90 } : { p50: now ?? 0, p90: now ?? 0 } };
    });
  return { basis: horizon === null ? 'now' : 'forecast', horizonMs: horizon, rows: taskPerformanceRows(tasks, loads) };
}
