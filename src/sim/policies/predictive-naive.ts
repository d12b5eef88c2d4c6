/**
 * `predictive-naive`: an example policy on godwit's own forecasters, to show the policy
 * interface carries a predictive policy (the migration controller replaces it). Every VM has a
 * `ForecastSelector` fed with its demand each interval; a host is overloaded when the sum of its
 * VMs' P90 forecasts 1..3 intervals ahead passes `threshold`, or its load now passes
 * `currentThreshold`. That detector drives MMT selection, PABFD and the underload step.
 * Its own forecast error (one step ahead, demand as a fraction of VM MIPS) is reported.
 */
import type { OverloadDetector } from '../detectors.js';
import { ForecastSelector } from '../../predict/selector.js';
import { consolidationRound, initialPabfd } from './baselines.js';
import type { SimPolicy, SimView } from '../types.js';

export interface PredictiveNaiveOptions {
  /** Overloaded when the summed P90 forecast / host MIPS exceeds this (default 1.0). */
  threshold?: number;
  /** Overloaded when the load now exceeds this (default 0.9). */
  currentThreshold?: number;
  /** Forecast horizons in intervals (default [1, 2, 3]). */
  horizons?: readonly number[];
  /** Scored forecasts per model and horizon kept for MASE and the P90 band (default 48: four hours). */
  windowSize?: number;
}

export function createPredictiveNaivePolicy(options: PredictiveNaiveOptions = {}): SimPolicy {
  const threshold = options.threshold ?? 1.0;
  const currentThreshold = options.currentThreshold ?? 0.9;
  const horizons = options.horizons ?? [1, 2, 3];
  const windowSize = options.windowSize ?? 48;
  let selectors: ForecastSelector[] = [];
  let predicted = new Float64Array(0);
  let lastOneStep = new Float64Array(0);
  let lastValue = new Float64Array(0);
  let absError = 0;
  let naiveAbsError = 0;
  let scored = 0;

  const observe = (view: SimView): void => {
    if (selectors.length !== view.vmCount) {
      selectors = Array.from({ length: view.vmCount }, () => new ForecastSelector({ horizons, windowSize }));
      predicted = new Float64Array(view.vmCount);
      lastOneStep = new Float64Array(view.vmCount).fill(Number.NaN);
      lastValue = new Float64Array(view.vmCount).fill(Number.NaN);
    }
    for (let v = 0; v < view.vmCount; v++) {
      const actual = view.vmDemandAt(v, 0);
      const prev = lastOneStep[v] ?? Number.NaN;
      if (!Number.isNaN(prev)) {
        absError += Math.abs(actual - prev);
        naiveAbsError += Math.abs(actual - (lastValue[v] ?? actual));
        scored++;
      }
      const s = selectors[v];
      if (!s) continue;
      s.update(actual);
      let worst = actual;
      for (const h of horizons) {
        const f = s.forecast(h);
        if (h === 1) lastOneStep[v] = f.point;
        worst = Math.max(worst, f.p90, f.point);
      }
      lastValue[v] = actual;
      predicted[v] = Math.min(Math.max(worst, 0), 1) * view.vmMips(v);
    }
  };

  const detector: OverloadDetector = {
    name: 'forecast-p90',
    overloaded(plan, h) {
      if (plan.utilisation(h) > currentThreshold) return true;
      let mips = 0;
      for (const v of plan.hostVms[h] ?? []) mips += predicted[v] ?? 0;
      return mips / plan.view.hostMips(h) > threshold;
    },
  };

  return {
    name: 'predictive-naive',
    initialPlacement(view) {
      observe(view);
      return initialPabfd(view, detector);
    },
    decide(view) {
      observe(view);
      return consolidationRound(view, detector).migrations();
    },
    stats: () => ({
      forecastMae: scored > 0 ? absError / scored : Number.NaN,
      forecastMase: naiveAbsError > 0 ? absError / naiveAbsError : Number.NaN,
      forecastsScored: scored,
    }),
  };
}
