/**
 * Baseline forecasters. Each keeps O(1) state per update (AR refits a bounded window every
 * `refitEvery` updates). All return NaN before their first value.
 */
import { InvalidArgumentError } from '../errors.js';
import { ArHorizons } from './ar-horizons.js';
import { checkHorizon, type Forecaster } from './forecaster.js';
import { HoltWintersForecaster } from './seasonal.js';
import { RollingMedianForecaster } from './rolling-median.js';

export { RollingMedianForecaster } from './rolling-median.js';

function checkUnit(name: string, value: number, allowZero = false): void {
  if (!(allowZero ? value >= 0 : value > 0) || !(value <= 1)) {
    throw new InvalidArgumentError(name, `must be in ${allowZero ? '[0' : '(0'}, 1], got ${value}`);
  }
}

/** The last value. */
export class NaiveForecaster implements Forecaster {
  readonly name = 'naive';
  private last = Number.NaN;

  update(value: number): void {
    this.last = value;
  }

  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    return this.last;
  }
}

/** A level moved towards each value by a gain; the forecast is flat at the level. */
abstract class SmoothedLevel implements Forecaster {
  abstract readonly name: string;
  private level = Number.NaN;

  /** How far the level moves towards `value` (0..1). */
  protected abstract gain(value: number, level: number): number;

  update(value: number): void {
    this.level = Number.isNaN(this.level) ? value : this.level + this.gain(value, this.level) * (value - this.level);
  }

  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    return this.level;
  }
}

/** Exponentially weighted moving average: level += alpha * (value - level). */
export class EwmaForecaster extends SmoothedLevel {
  readonly name = 'ewma';

  constructor(readonly alpha = 0.3) {
    super();
    checkUnit('alpha', alpha);
  }

  protected gain(): number {
    return this.alpha;
  }
}

/**
 * Dual-mode Kalman-style smoother: a fast gain when the value rises above the estimate (react to
 * load spikes at once) and a slow gain when it decays (do not drop the estimate on one quiet
 * sample). The forecast is flat at the estimate.
 */
export class DualGainForecaster extends SmoothedLevel {
  readonly name = 'kalman';

  constructor(
    readonly riseGain = 0.7,
    readonly decayGain = 0.2,
  ) {
    super();
    checkUnit('riseGain', riseGain);
    checkUnit('decayGain', decayGain);
  }

  protected gain(value: number, level: number): number {
    return value > level ? this.riseGain : this.decayGain;
  }
}

/** Per phi, phi + phi^2 + ... + phi^h at index h, shared by every model with that phi (grown on demand). */
const dampSums = new Map<number, { sums: Float64Array }>();

/** Damped Holt: level + trend, the trend damped by `phi` per step ahead. */
export class DampedHoltForecaster implements Forecaster {
  readonly name = 'damped-holt';
  private readonly damps: { sums: Float64Array };
  private level = Number.NaN;
  private trend = 0;
  private seen = 0;

  constructor(
    readonly alpha = 0.3,
    readonly beta = 0.05,
    readonly phi = 0.9,
  ) {
    checkUnit('alpha', alpha);
    checkUnit('beta', beta, true);
    checkUnit('phi', phi, true);
    let damps = dampSums.get(phi);
    if (!damps) dampSums.set(phi, (damps = { sums: new Float64Array(0) }));
    this.damps = damps;
  }

  update(value: number): void {
    this.seen++;
    if (this.seen === 1) {
      this.level = value;
      return;
    }
    if (this.seen === 2) {
      this.trend = value - this.level;
      this.level = value;
      return;
    }
    const prevLevel = this.level;
    this.level = this.alpha * value + (1 - this.alpha) * (prevLevel + this.phi * this.trend);
    this.trend = this.beta * (this.level - prevLevel) + (1 - this.beta) * this.phi * this.trend;
  }

  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    let sums = this.damps.sums;
    if (horizonSteps >= sums.length) {
      // phi + phi^2 + ... + phi^h
      const phi = this.phi;
      sums = Float64Array.from({ length: Math.max(horizonSteps + 1, 2 * sums.length) }, (_, h) => (phi === 1 ? h : (phi * (1 - phi ** h)) / (1 - phi)));
      this.damps.sums = sums;
    }
    return this.level + (sums[horizonSteps] as number) * this.trend;
  }
}

export interface ArOptions {
  /** Order p (default 3). */
  order?: number;
  /** Values the least-squares fit uses, most recent (default 288 = one day of 5 min steps). */
  windowSize?: number;
  /** Refit after this many updates (default 24). */
  refitEvery?: number;
}

/**
 * AR(p) with intercept, fitted by least squares (small ridge term) on a sliding window; forecasts
 * iterate the recursion (in closed form where no step can be clamped: `ArHorizons`). Until the
 * first fit it forecasts the last value.
 */
export class ArForecaster implements Forecaster {
  private readonly horizons: ArHorizons;
  /** The last p values, latest first. */
  private readonly recent: Float64Array;
  /** Whether `recent` lies in the fitted window's range, as of update `boxCount`. */
  private boxOk = false;
  private boxCount = -1;
  /** Fit scratch: the window oldest first, X'X (row-major) and X'y. */
  private readonly ordered: Float64Array;
  private readonly gram: Float64Array;
  private readonly moment: Float64Array;
  private path = new Float64Array(0);
  private pathLength = 0;
  private pathCount = -1;
  private pathFits = -1;
  private fits = 0;
  readonly name: string;
  readonly order: number;
  readonly windowSize: number;
  readonly refitEvery: number;
  private readonly window: Float64Array;
  private count = 0;
  private sinceFit = 0;
  /** [intercept, a1 (lag 1), ..., ap]; empty until fitted. */
  private coef = new Float64Array(0);
  /** Range of the fitted window widened by its span on each side; iterated forecasts are clamped to it (an unstable fit cannot run away). */
  private low = -Infinity;
  private high = Infinity;

  constructor(options: ArOptions = {}) {
    this.order = options.order ?? 3;
    this.windowSize = options.windowSize ?? 288;
    this.refitEvery = options.refitEvery ?? 24;
    if (!Number.isInteger(this.order) || this.order < 1) throw new InvalidArgumentError('order', `must be an integer >= 1, got ${this.order}`);
    if (!Number.isInteger(this.windowSize) || this.windowSize < 4 * (this.order + 1)) {
      throw new InvalidArgumentError('windowSize', `must be an integer >= ${4 * (this.order + 1)}, got ${this.windowSize}`);
    }
    if (!Number.isInteger(this.refitEvery) || this.refitEvery < 1) throw new InvalidArgumentError('refitEvery', `must be an integer >= 1, got ${this.refitEvery}`);
    this.window = new Float64Array(this.windowSize);
    this.name = `ar${this.order}`;
    this.horizons = new ArHorizons(this.order);
    this.recent = new Float64Array(this.order).fill(Number.NaN);
    this.ordered = new Float64Array(this.windowSize);
    this.gram = new Float64Array((this.order + 1) ** 2);
    this.moment = new Float64Array(this.order + 1);
  }

  /** The value `back` steps before the latest (0 = latest). */
  private at(back: number): number {
    return this.window[(this.count - 1 - back) % this.windowSize] ?? Number.NaN;
  }

  update(value: number): void {
    this.window[this.count % this.windowSize] = value;
    this.count++;
    const recent = this.recent;
    for (let j = recent.length - 1; j > 0; j--) recent[j] = recent[j - 1] as number;
    recent[0] = value;
    this.sinceFit++;
    if (this.sinceFit >= this.refitEvery && this.count >= 4 * (this.order + 1)) {
      this.sinceFit = 0;
      this.fit();
      this.fits++;
    }
  }

  private fit(): void {
    const p = this.order;
    const k = p + 1;
    const n = Math.min(this.count, this.windowSize);
    // The window oldest first: xs[t] is the value n - 1 - t steps back.
    const xs = this.ordered;
    const start = this.count - n;
    for (let t = 0; t < n; t++) xs[t] = this.window[(start + t) % this.windowSize] as number;
    const xtx = this.gram.fill(0);
    const xty = this.moment.fill(0);
    let scale = 0;
    let low = Infinity;
    let high = -Infinity;
    // Rows y = xs[t], x = (1, xs[t - 1], ..., xs[t - p]), latest first; X'X's upper triangle.
    for (let t = n - 1; t >= p; t--) {
      const y = xs[t] as number;
      scale += y * y;
      if (y < low) low = y;
      if (y > high) high = y;
      for (let a = 0; a < k; a++) {
        const ra = a === 0 ? 1 : (xs[t - a] as number);
        xty[a] = (xty[a] as number) + ra * y;
        for (let b = a; b < k; b++) xtx[a * k + b] = (xtx[a * k + b] as number) + ra * (b === 0 ? 1 : (xs[t - b] as number));
      }
    }
    const ridge = 1e-6 * (scale / n + 1);
    const matrix: number[][] = [];
    for (let a = 0; a < k; a++) {
      const row: number[] = [];
      for (let b = 0; b < k; b++) row.push((a <= b ? xtx[a * k + b] : xtx[b * k + a]) as number);
      if (a > 0) row[a] = (row[a] as number) + ridge * n;
      matrix.push(row);
    }
    const solved = solve(matrix, Array.from(xty));
    if (solved && solved.every(Number.isFinite)) {
      this.coef = Float64Array.from(solved);
      this.low = low - (high - low);
      this.high = high + (high - low);
      this.horizons.reset(this.coef, this.low, this.high, low, high);
      this.boxCount = -1;
    }
  }

  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    if (this.count === 0) return Number.NaN;
    if (this.coef.length === 0) return this.at(0);
    if (this.boxCount !== this.count) {
      this.boxCount = this.count;
      this.boxOk = this.count >= this.order && this.horizons.inBox(this.recent);
    }
    if (this.boxOk && this.horizons.safeSteps(horizonSteps) >= horizonSteps) return this.horizons.at(horizonSteps, this.recent);
    // The iterated path is computed once per new value (and per fit) and extended on demand, so
    // every horizon asked after an update costs O(1) beyond the longest one.
    if (this.pathCount !== this.count || this.pathFits !== this.fits) {
      this.pathCount = this.count;
      this.pathFits = this.fits;
      this.pathLength = 0;
    }
    if (this.path.length < horizonSteps) {
      const grown = new Float64Array(Math.max(horizonSteps, this.path.length * 2));
      grown.set(this.path.subarray(0, this.pathLength));
      this.path = grown;
    }
    const p = this.order;
    const coef = this.coef;
    const path = this.path;
    const low = this.low;
    const high = this.high;
    for (let s = this.pathLength; s < horizonSteps; s++) {
      let f = coef[0] as number;
      // Lag j of step s: an earlier forecast on the path, or (in the first p steps) an observed value.
      if (s >= p) for (let j = 1; j <= p; j++) f += (coef[j] as number) * (path[s - j] as number);
      else for (let j = 1; j <= p; j++) f += (coef[j] as number) * (s - j >= 0 ? (path[s - j] as number) : this.at(j - 1 - s));
      path[s] = f < low ? low : f > high ? high : f;
    }
    if (this.pathLength < horizonSteps) this.pathLength = horizonSteps;
    return this.path[horizonSteps - 1] as number;
  }
}

/** Gaussian elimination with partial pivoting; undefined when singular. */
function solve(matrix: number[][], rhs: number[]): number[] | undefined {
  const n = rhs.length;
  const m = matrix.map((r, i) => [...r, rhs[i] ?? 0]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]?.[c] ?? 0) > Math.abs(m[pivot]?.[c] ?? 0)) pivot = r;
    const pr = m[pivot];
    if (!pr || Math.abs(pr[c] ?? 0) < 1e-12) return undefined;
    m[pivot] = m[c] ?? [];
    m[c] = pr;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const rr = m[r] ?? [];
      const factor = (rr[c] ?? 0) / (pr[c] ?? 1);
      for (let j = c; j <= n; j++) rr[j] = (rr[j] ?? 0) - factor * (pr[j] ?? 0);
    }
  }
  return m.map((r, i) => (r[n] ?? 0) / (r[i] ?? 1));
}

/**
 * The selector's competing models, fresh instances each call: `all` (default) every baseline; `lean`
 * naive, EWMA, AR(3) and the rolling median (what the resource predictors run). With a period (in
 * steps), Holt-Winters too.
 */
export function createBaselineModels(options: { period?: number | undefined; set?: 'all' | 'lean' } = {}): Forecaster[] {
  const models: Forecaster[] =
    options.set === 'lean'
      ? [new NaiveForecaster(), new EwmaForecaster(0.3), new ArForecaster(), new RollingMedianForecaster()]
      : [new NaiveForecaster(), new EwmaForecaster(0.3), new DualGainForecaster(0.7, 0.2), new DampedHoltForecaster(0.3, 0.05, 0.9), new ArForecaster(), new RollingMedianForecaster()];
  if (options.period !== undefined) models.push(new HoltWintersForecaster({ period: options.period }));
  return models;
}
