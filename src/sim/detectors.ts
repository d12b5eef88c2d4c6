/**
 * Host overload detectors of Beloglazov & Buyya (2012), with CloudSim 3.0.3's details:
 * THR compares requested MIPS / host MIPS with a fixed threshold; IQR and MAD lower the threshold
 * to 1 - s x spread of the host's load history (at least 12 leading non-zero values, else THR-0.7);
 * LR fits a least-squares line to the last 10 load values (x = 1..10; CloudSim's "loess" weights
 * are never applied) and predicts one migration-time step ahead (fewer than 10 values: THR-0.7).
 */
import { linearFit } from '../predict/linear-fit.js';
import type { SimPlan } from './plan.js';

export interface OverloadDetector {
  readonly name: string;
  /** Is host `h` overloaded with the VMs the plan has on it now? */
  overloaded(plan: SimPlan, h: number): boolean;
}

export function thresholdDetector(threshold: number): OverloadDetector {
  return { name: `thr-${threshold}`, overloaded: (plan, h) => plan.utilisation(h) > threshold };
}

const FALLBACK = thresholdDetector(0.7);

function countNonZeroBeginning(values: Float64Array, length: number): number {
  let i = 0;
  while (i < length && values[i] !== 0) i++;
  return i;
}

function sortedCopy(values: Float64Array, length: number): Float64Array {
  return values.slice(0, length).sort();
}

export function median(values: Float64Array, length = values.length): number {
  const s = sortedCopy(values, length);
  if (length === 0) return Number.NaN;
  const m = length >> 1;
  return length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** Median absolute deviation (CloudSim MathUtil.mad). */
export function mad(values: Float64Array, length = values.length): number {
  const med = median(values, length);
  const dev = new Float64Array(length);
  for (let i = 0; i < length; i++) dev[i] = Math.abs((values[i] ?? 0) - med);
  return median(dev, length);
}

/** Interquartile range (CloudSim MathUtil.iqr: quartile positions round(0.25 (n+1)) and round(0.75 (n+1))). */
export function iqr(values: Float64Array, length = values.length): number {
  const s = sortedCopy(values, length);
  const q1 = Math.round(0.25 * (length + 1)) - 1;
  const q3 = Math.round(0.75 * (length + 1)) - 1;
  return (s[q3] ?? 0) - (s[q1] ?? 0);
}

function spreadDetector(name: string, safety: number, spread: (v: Float64Array, n: number) => number): OverloadDetector {
  return {
    name: `${name}-${safety}`,
    overloaded(plan, h) {
      const { values, length } = plan.history(h);
      if (countNonZeroBeginning(values, length) < 12) return FALLBACK.overloaded(plan, h);
      return plan.utilisation(h) > 1 - safety * spread(values, length);
    },
  };
}

export function madDetector(safety: number): OverloadDetector {
  return spreadDetector('mad', safety, mad);
}

export function iqrDetector(safety: number): OverloadDetector {
  return spreadDetector('iqr', safety, iqr);
}

export { linearFit };

export function lrDetector(safety: number, window = 10): OverloadDetector {
  const oldestFirst = new Float64Array(window);
  return {
    name: `lr-${safety}`,
    overloaded(plan, h) {
      const { values, length } = plan.history(h);
      if (length < window) return FALLBACK.overloaded(plan, h);
      for (let i = 0; i < window; i++) oldestFirst[i] = values[window - 1 - i] ?? 0;
      let maxSeconds = 0;
      for (const v of plan.hostVms[h] ?? []) maxSeconds = Math.max(maxSeconds, plan.view.migrationSeconds(v));
      const ahead = Math.ceil((maxSeconds * 1000) / plan.view.intervalMs);
      const [a, b] = linearFit(oldestFirst, window);
      return safety * (a + b * (window + ahead)) >= 1;
    },
  };
}
