/**
 * `predictive-naive`: an example policy on godwit's own forecasters, to show the policy
 * interface carries a predictive policy (the migration controller replaces it). Every VM has a
 * `ForecastSelector` fed with its demand each interval; a host is overloaded when the sum of its
 * VMs' P90 forecasts 1..3 intervals ahead passes `threshold`, or its load now passes
 * `currentThreshold`. That detector drives MMT selection, PABFD and the underload step.
 * Its own forecast error (one step ahead, demand as a fraction of VM MIPS) is reported.
 */
import type { OverloadDetector } from '../detectors.js';
import { VmForecasts } from '../vm-forecasts.js';
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
  let forecasts: VmForecasts | undefined;

  const observe = (view: SimView): void => {
    forecasts ??= new VmForecasts(view.vmCount, horizons, windowSize);
    forecasts.observe(view);
  };

  const detector: OverloadDetector = {
    name: 'forecast-p90',
    overloaded(plan, h) {
      if (plan.utilisation(h) > currentThreshold) return true;
      let mips = 0;
      for (const v of plan.hostVms[h] ?? []) mips += forecasts?.worst[v] ?? 0;
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
    stats: () => forecasts?.stats() ?? { forecastMae: Number.NaN, forecastMase: Number.NaN, forecastsScored: 0 },
  };
}
