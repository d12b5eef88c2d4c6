/** Runs a set of policies on one or more days of a set-up and summarises them (per day and median). */
import { medianOf, type SimMetrics } from './metrics.js';
import { runSimulation, type SimResult } from './engine.js';
import { createBaselinePolicy } from './policies/baselines.js';
import { createPredictiveNaivePolicy } from './policies/predictive-naive.js';
import { createGodwitPolicy } from './policies/godwit.js';
import type { SimPolicy, SimSetup } from './types.js';

/** The policies `godwit simulate --setup planetlab` runs by default. */
export const PLANETLAB_POLICIES = ['npa', 'dvfs', 'thr-mmt-0.8', 'thr-mmt-1.0', 'iqr-mmt-1.5', 'mad-mmt-2.5', 'lr-mmt-1.2', 'predictive-naive', 'godwit'] as const;

/** A policy by name: the baselines (`createBaselinePolicy`), `predictive-naive`, or `godwit` (the runtime's migration controller). */
export function createPolicy(name: string): SimPolicy {
  if (name === 'godwit') return createGodwitPolicy();
  return name === 'predictive-naive' ? createPredictiveNaivePolicy() : createBaselinePolicy(name);
}

export interface PolicyReport extends SimMetrics {
  /** Wall time of this policy's run, ms. */
  readonly runMs: number;
  readonly [extra: string]: number;
}

export interface BenchmarkDay {
  readonly day: string;
  readonly reports: Record<string, PolicyReport>;
  readonly results: SimResult[];
}

export function reportOf(r: SimResult, runMs: number): PolicyReport {
  return {
    energyKWh: r.energyKWh,
    slatah: r.slatah,
    pdm: r.pdm,
    slav: r.slav,
    esv: r.esv,
    migrations: r.migrations,
    slatahMean: r.slatahMean,
    pdmMean: r.pdmMean,
    runMs,
    ...r.stats,
  };
}

/** Runs every policy on the set-up (the parsed traces are shared); `now` is the wall clock for run times. */
export function runDay(setup: SimSetup, policies: readonly string[], now: () => number = performance.now.bind(performance)): BenchmarkDay {
  const reports: Record<string, PolicyReport> = {};
  const results: SimResult[] = [];
  for (const name of policies) {
    const t0 = now();
    const r = runSimulation(setup, createPolicy(name));
    reports[name] = reportOf(r, now() - t0);
    results.push(r);
  }
  return { day: setup.name, reports, results };
}

/** Per policy, the median over days of every numeric field. */
export function medianReports(days: readonly BenchmarkDay[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const policies = [...new Set(days.flatMap((d) => Object.keys(d.reports)))];
  for (const p of policies) {
    const fields = [...new Set(days.flatMap((d) => Object.keys(d.reports[p] ?? {})))];
    const m: Record<string, number> = {};
    for (const f of fields) m[f] = medianOf(days.map((d) => d.reports[p]?.[f]).filter((x): x is number => typeof x === 'number' && !Number.isNaN(x)));
    out[p] = m;
  }
  return out;
}
