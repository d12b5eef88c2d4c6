/**
 * Predicted performance of a task on a resource: its measured service time on that kind of
 * device, stretched by queueing at the resource's forecast utilization (M/M/1-like
 * `1 / (1 - u)`, capped), at P50 and P90 of the utilization forecast. Pure; for the controller.
 */
import { InvalidArgumentError } from '../errors.js';

export interface TaskCostProfile {
  /** Measured handler time per message, in ms, per device kind (`cpu`, `gpu`, `fpga`, `asic`, ...). */
  readonly msPerMessageByKind: Readonly<Record<string, number>>;
}

export interface UtilizationForecast {
  /** Forecast utilization of the resource (0..1) from other load, median and 90th percentile. */
  readonly p50: number;
  readonly p90: number;
}

export interface PerformanceOptions {
  /** Largest queueing stretch applied, so a saturated resource gives a finite, very bad figure (default 20). */
  maxStretch?: number;
}

export interface PredictedPerformance {
  readonly kind: string;
  readonly serviceMs: number;
  /** Expected latency per message at the P50 and P90 utilization, in ms. */
  readonly latencyMsP50: number;
  readonly latencyMsP90: number;
  /** Messages per second the task can be served at, at P50 and P90 utilization. */
  readonly throughputPerSecP50: number;
  readonly throughputPerSecP90: number;
}

/** undefined when the task has no cost measured for the resource's kind (it cannot run there, or nothing is known). */
export function predictTaskPerformance(profile: TaskCostProfile, kind: string, utilization: UtilizationForecast, options: PerformanceOptions = {}): PredictedPerformance | undefined {
  const serviceMs = profile.msPerMessageByKind[kind];
  if (serviceMs === undefined) return undefined;
  if (!(serviceMs > 0) || !Number.isFinite(serviceMs)) throw new InvalidArgumentError('msPerMessageByKind', `${kind} must be a finite number > 0, got ${serviceMs}`);
  const maxStretch = options.maxStretch ?? 20;
  if (!(maxStretch >= 1)) throw new InvalidArgumentError('maxStretch', `must be >= 1, got ${maxStretch}`);
  const stretch = (u: number): number => {
    const clamped = Number.isFinite(u) ? Math.min(Math.max(u, 0), 1) : 1;
    return clamped >= 1 ? maxStretch : Math.min(1 / (1 - clamped), maxStretch);
  };
  const s50 = stretch(utilization.p50);
  const s90 = Math.max(stretch(utilization.p90), s50);
  return {
    kind,
    serviceMs,
    latencyMsP50: serviceMs * s50,
    latencyMsP90: serviceMs * s90,
    throughputPerSecP50: 1000 / (serviceMs * s50),
    throughputPerSecP90: 1000 / (serviceMs * s90),
  };
}

/** A task as the table needs it: where it runs and its cost per device kind. */
export interface TaskCost {
  readonly id: string;
  readonly resource: string;
  readonly costMsByKind?: Readonly<Record<string, number>> | undefined;
}

/** A resource as the table needs it: its kind and its utilization forecast (or its utilization now). */
export interface ResourceLoad {
  readonly id: string;
  readonly kind: string;
  readonly utilization: UtilizationForecast;
}

export interface TaskPerformanceRow extends PredictedPerformance {
  readonly task: string;
  readonly resource: string;
  /** The resource the task runs on now. */
  readonly current: boolean;
  readonly utilizationP50: number;
  readonly utilizationP90: number;
}

/**
 * Every task's predicted performance on every resource of a kind it has a cost for, its current
 * resource first, then by P90 latency. The utilization is the resource's whole (the task's own
 * load included where it runs now).
 */
export function taskPerformanceRows(tasks: readonly TaskCost[], resources: readonly ResourceLoad[], options: PerformanceOptions = {}): TaskPerformanceRow[] {
  const out: TaskPerformanceRow[] = [];
  for (const t of tasks) {
    if (!t.costMsByKind) continue;
    const rows: TaskPerformanceRow[] = [];
    for (const r of resources) {
      const p = predictTaskPerformance({ msPerMessageByKind: t.costMsByKind }, r.kind, r.utilization, options);
      if (p) rows.push({ ...p, task: t.id, resource: r.id, current: r.id === t.resource, utilizationP50: r.utilization.p50, utilizationP90: r.utilization.p90 });
    }
    rows.sort((a, b) => Number(b.current) - Number(a.current) || a.latencyMsP90 - b.latencyMsP90);
    out.push(...rows);
  }
  return out;
}
