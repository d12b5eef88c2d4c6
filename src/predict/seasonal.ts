/**
 * Seasonality: autocorrelation-based period detection and an additive Holt-Winters forecaster.
 * Holt-Winters is only worth running where a period exists; `detectPeriod` answers undefined
 * when the history shows none, and callers then leave the seasonal model out.
 */
import { linearFit } from './linear-fit.js';
import { InvalidArgumentError } from '../errors.js';
import { checkHorizon, type Forecaster } from './forecaster.js';

export interface PeriodDetectionOptions {
  /** Shortest period considered, in steps (default 4). */
  minPeriod?: number;
  /** Longest period considered, in steps (default: a third of the history, at most 400). */
  maxPeriod?: number;
  /** Autocorrelation the period's lag must reach (default 0.3). */
  minAutocorrelation?: number;
}

/**
 * The lag (in steps) of the highest local peak of the sample autocorrelation within
 * [minPeriod, maxPeriod], if it reaches `minAutocorrelation`; undefined otherwise or when the
 * history is shorter than three periods. A slow trend is removed first (least-squares line),
 * which keeps the daily shape of a utilization series intact. O(n * maxPeriod).
 */
export function detectPeriod(values: readonly number[], options: PeriodDetectionOptions = {}): number | undefined {
  const n = values.length;
  const minPeriod = options.minPeriod ?? 4;
  const maxPeriod = Math.min(options.maxPeriod ?? Math.min(400, Math.floor(n / 3)), Math.floor(n / 3));
  const threshold = options.minAutocorrelation ?? 0.3;
  if (!Number.isInteger(minPeriod) || minPeriod < 2) throw new InvalidArgumentError('minPeriod', `must be an integer >= 2, got ${minPeriod}`);
  if (maxPeriod < minPeriod + 1) return undefined;
  const x = detrend(values);
  let variance = 0;
  for (const v of x) variance += v * v;
  if (!(variance > 0)) return undefined;
  const acf = (lag: number): number => {
    let s = 0;
    for (let t = lag; t < n; t++) s += (x[t] ?? 0) * (x[t - lag] ?? 0);
    return s / variance;
  };
  let best: number | undefined;
  let bestValue = threshold;
  let prev = acf(minPeriod - 1);
  let cur = acf(minPeriod);
  for (let lag = minPeriod; lag <= maxPeriod; lag++) {
    const next = acf(lag + 1);
    if (cur >= prev && cur >= next && cur >= bestValue) {
      best = lag;
      bestValue = cur;
    }
    prev = cur;
    cur = next;
  }
  return best;
}

/** Values minus their least-squares line. */
function detrend(values: readonly number[]): number[] {
  const [intercept, slope] = linearFit(values);
  return values.map((y, t) => y - intercept - slope * (t + 1));
}

export interface HoltWintersOptions {
  /** Season length in steps (>= 2), e.g. 288 for a day of 5 min steps. */
  period: number;
  /** Level gain (default 0.3). */
  alpha?: number;
  /** Trend gain (default 0.01). */
  beta?: number;
  /** Seasonal gain (default 0.1). */
  gamma?: number;
  /** Trend damping per step ahead (default 0.95). */
  phi?: number;
}

/**
 * Additive Holt-Winters with a damped trend. The first two seasons initialise level, trend and
 * seasonal indices; until then it forecasts the last value. O(1) per update.
 */
export class HoltWintersForecaster implements Forecaster {
  readonly name = 'holt-winters';
  readonly period: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly gamma: number;
  private readonly phi: number;
  private readonly season: Float64Array;
  private readonly initial: number[] = [];
  private level = Number.NaN;
  private trend = 0;
  private last = Number.NaN;
  /** Values seen. */
  private count = 0;

  constructor(options: HoltWintersOptions) {
    this.period = options.period;
    if (!Number.isInteger(this.period) || this.period < 2) throw new InvalidArgumentError('period', `must be an integer >= 2, got ${this.period}`);
    this.alpha = options.alpha ?? 0.3;
    this.beta = options.beta ?? 0.01;
    this.gamma = options.gamma ?? 0.1;
    this.phi = options.phi ?? 0.95;
    for (const [name, v] of [['alpha', this.alpha], ['beta', this.beta], ['gamma', this.gamma], ['phi', this.phi]] as const) {
      if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(name, `must be in [0, 1], got ${v}`);
    }
    this.season = new Float64Array(this.period);
  }

  update(value: number): void {
    this.last = value;
    const p = this.period;
    if (this.count < 2 * p) {
      this.initial.push(value);
      this.count++;
      if (this.count === 2 * p) this.initialise();
      return;
    }
    const slot = this.count % p;
    const s = this.season[slot] ?? 0;
    const prevLevel = this.level;
    this.level = this.alpha * (value - s) + (1 - this.alpha) * (prevLevel + this.phi * this.trend);
    this.trend = this.beta * (this.level - prevLevel) + (1 - this.beta) * this.phi * this.trend;
    this.season[slot] = this.gamma * (value - this.level) + (1 - this.gamma) * s;
    this.count++;
  }

  private initialise(): void {
    const p = this.period;
    const mean = (from: number): number => this.initial.slice(from, from + p).reduce((a, b) => a + b, 0) / p;
    const m1 = mean(0);
    const m2 = mean(p);
    this.trend = (m2 - m1) / p;
    for (let i = 0; i < p; i++) this.season[i] = ((this.initial[i] ?? 0) - m1 + (this.initial[i + p] ?? 0) - m2) / 2;
    // The level at the last value of the second season.
    this.level = m2 + (this.trend * (p - 1)) / 2;
    this.initial.length = 0;
  }

  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    if (this.count < 2 * this.period) return this.last;
    const damp = this.phi === 1 ? horizonSteps : (this.phi * (1 - this.phi ** horizonSteps)) / (1 - this.phi);
    const slot = (this.count - 1 + horizonSteps) % this.period;
    return this.level + damp * this.trend + (this.season[slot] ?? 0);
  }
}
