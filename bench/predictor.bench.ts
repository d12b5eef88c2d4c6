/**
 * What prediction costs per control interval: 1000 resources with 4 metrics each, one sample
 * per metric per interval (stepMs 1000), then every forecast at the four default horizons
 * (16 000 forecasts). Baseline, same run and same samples: the naive model alone per series
 * (the floor of any selector: resampling, residual bands, bookkeeping). Medians over intervals.
 */
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LstmForecaster, type LstmTrainedEvent } from '../src/predict/lstm.js';
import { NaiveForecaster } from '../src/predict/models.js';
import { PredictorBank } from '../src/predict/predictor-bank.js';
import { DEFAULT_HORIZONS_MS } from '../src/predict/resource-predictor.js';
import { ForecastSelector } from '../src/predict/selector.js';
import { type Bench, benchResult, median } from './report.js';

const METRICS = ['utilization', 'memoryFree', 'powerW', 'temperatureC'] as const;
const STEP_MS = 1000;

/** Deterministic AR(1)-like samples: a cheap LCG, so both sides see the same numbers. */
function createSamples(resources: number, seed = 7): () => number[] {
  let s = seed >>> 0;
  const state = new Float64Array(resources * METRICS.length).fill(50);
  return () => {
    const out: number[] = [];
    for (let i = 0; i < state.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const v = 50 + 0.8 * ((state[i] ?? 50) - 50) + (s / 4294967296 - 0.5) * 10;
      state[i] = v;
      out.push(v);
    }
    return out;
  };
}

function timeIntervals(intervals: number, warmup: number, resources: number, tick: (values: number[], timeMs: number) => void): number[] {
  const next = createSamples(resources);
  const times: number[] = [];
  for (let k = 0; k < warmup + intervals; k++) {
    const values = next();
    const t0 = performance.now();
    tick(values, k * STEP_MS);
    if (k >= warmup) times.push(performance.now() - t0);
  }
  return times;
}

export const bench: Bench = {
  name: 'predictor',
  description: 'one control interval: 1000 resources x 4 metrics, update + forecasts at 4 horizons vs the naive model alone',
  async run({ quick }) {
    const resources = quick ? 50 : 1000;
    const warmup = quick ? 80 : 150;
    const intervals = quick ? 20 : 50;
    const bank = new PredictorBank({ metrics: METRICS, stepMs: STEP_MS });
    for (let r = 0; r < resources; r++) bank.add(`r${r}`);
    const ids = bank.resources();
    const godwit = timeIntervals(intervals, warmup, resources, (values, timeMs) => {
      ids.forEach((id, r) => {
        const o = r * 4;
        bank.update(id, timeMs, { utilization: values[o] ?? 0, memoryFree: values[o + 1] ?? 0, powerW: values[o + 2] ?? 0, temperatureC: values[o + 3] ?? 0 });
      });
      bank.forecastAll();
    });
    await bank.close();

    const steps = DEFAULT_HORIZONS_MS.map((h) => Math.max(1, Math.round(h / STEP_MS)));
    const naive = Array.from({ length: resources * METRICS.length }, () => new ForecastSelector({ horizons: steps, models: [new NaiveForecaster()] }));
    const baseline = timeIntervals(intervals, warmup, resources, (values) => {
      const out: number[] = [];
      naive.forEach((s, i) => {
        s.update(values[i] ?? 0);
        for (const h of steps) out.push(s.forecast(h).p90);
      });
    });
    const scale = `${resources} resources x 4 metrics`;
    const stall = await lstmStall(quick);
    return [
      benchResult({ case: 'LSTM training in its worker', metric: 'event-loop delay p99', value: stall.training, unit: 'ms', baseline: 'idle loop, same run', baselineValue: stall.idle, better: 'lower' }),
      benchResult({ case: 'LSTM training in its worker', metric: 'event-loop delay p99', value: stall.training, unit: 'ms', baseline: 'target 5 ms', baselineValue: 5, better: 'lower' }),
      benchResult({ case: scale, metric: 'interval time (median)', value: median(godwit), unit: 'ms', baseline: 'naive model only', baselineValue: median(baseline), better: 'lower' }),
      benchResult({ case: scale, metric: 'interval time (median)', value: median(godwit), unit: 'ms', baseline: 'target 20 ms', baselineValue: 20, better: 'lower' }),
      benchResult({ case: scale, metric: 'interval time (max)', value: Math.max(...godwit), unit: 'ms', baseline: 'naive model only', baselineValue: Math.max(...baseline), better: 'lower' }),
    ];
  },
};

/** Event-loop delay p99 (ms) while an LSTM trains in its worker, and over the same time with nothing running. */
async function lstmStall(quick: boolean): Promise<{ training: number; idle: number }> {
  const m = new LstmForecaster({ historySize: 200, minHistory: 200, retrainEvery: 100_000, iterations: quick ? 40 : 200, hiddenSize: 8 });
  const sine = (t: number) => 50 + 30 * Math.sin(t / 5);
  for (let t = 0; t < 199; t++) m.update(sine(t));
  const trained = once(m, 'trained');
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  m.update(sine(199));
  const [event] = (await trained) as [LstmTrainedEvent];
  delay.disable();
  await m.close();
  const training = delay.percentile(99) / 1e6;
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, Math.max(50, event.durationMs)));
  idle.disable();
  return { training, idle: idle.percentile(99) / 1e6 };
}
