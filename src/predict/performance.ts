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
