/**
 * The forecasting contract and the bookkeeping every model shares: pending h-step forecasts,
 * their residuals once the actual value arrives, and P50/P90 bands from those residuals.
 *
 * A step is one sample of the series (5 min for the public traces, 10 ms..1 s for the runtime's
 * own monitors); horizons are counted in steps.
 */
import { InvalidArgumentError } from '../errors.js';

export interface Forecaster {
  readonly name: string;
  /** Feeds the next value of the series; O(1) amortized. */
  update(value: number): void;
  /** Point forecast `horizonSteps` (>= 1) steps after the last value; NaN before the first value. */
  forecast(horizonSteps: number): number;
  /** Asynchronous models (the LSTM): resolves once the work the last update started is done. */
  settle?(): Promise<void>;
  /** Releases what the model holds (a worker thread); the model is unusable afterwards. */
  close?(): Promise<void>;
}

export function checkHorizon(horizonSteps: number): void {
  if (!Number.isInteger(horizonSteps) || horizonSteps < 1) {
    throw new InvalidArgumentError('horizonSteps', `must be an integer >= 1, got ${horizonSteps}`);
  }
}

/**
 * The most recent `capacity` signed residuals (actual - forecast), kept in arrival order and in
 * sorted order, so a quantile is O(1) and an insert O(capacity) without sorting.
 */
export class ResidualQuantiles {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private n = 0;
  private next = 0;
  private absSum = 0;

  constructor(readonly capacity = 200) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new InvalidArgumentError('capacity', `must be an integer >= 1, got ${capacity}`);
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  add(residual: number): void {
    if (!Number.isFinite(residual)) return;
    const sorted = this.sorted;
    if (this.n < this.capacity) {
      this.ring[this.n] = residual;
      // Insert: shift the larger values up by one.
      let j = this.n;
      while (j > 0 && (sorted[j - 1] as number) > residual) {
        sorted[j] = sorted[j - 1] as number;
        j--;
      }
      sorted[j] = residual;
      this.n++;
    } else {
      const old = this.ring[this.next] as number;
      this.ring[this.next] = residual;
      this.next = (this.next + 1) % this.capacity;
      this.absSum -= Math.abs(old);
      // Replace `old` by `residual` in place: shift only the values between the two positions.
      let i = lowerBound(sorted, old, this.n);
      if (residual > old) {
        while (i + 1 < this.n && (sorted[i + 1] as number) < residual) {
          sorted[i] = sorted[i + 1] as number;
          i++;
        }
      } else {
        while (i > 0 && (sorted[i - 1] as number) > residual) {
          sorted[i] = sorted[i - 1] as number;
          i--;
        }
      }
      sorted[i] = residual;
    }
    this.absSum += Math.abs(residual);
  }

  /** The q-quantile (0..1) of the kept residuals, linearly interpolated; 0 when empty. */
  quantile(q: number): number {
    const n = this.n;
    if (n === 0) return 0;
    const x = Math.min(Math.max(q, 0), 1) * (n - 1);
    const lo = Math.floor(x);
    const a = this.sorted[lo] as number;
    const b = this.sorted[Math.min(lo + 1, n - 1)] as number;
    return a + (b - a) * (x - lo);
  }

  /** Mean absolute residual of the kept window; NaN when empty. */
  meanAbs(): number {
    return this.n === 0 ? Number.NaN : Math.max(this.absSum, 0) / this.n;
  }
}

function lowerBound(sorted: ArrayLike<number>, x: number, n: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Band {
  readonly point: number;
  readonly p50: number;
  readonly p90: number;
}

/**
 * Tracks the forecasts one source issued for each horizon until their target step arrives, then
 * keeps the residuals (per horizon, the last `windowSize`). Call `observe(value)` with each new
 * value before the model sees it, then `issue(h, point)` with the model's new forecasts.
 */
export class ForecastErrors {
  private readonly pending = new Map<number, Float64Array>();
  private readonly residuals = new Map<number, ResidualQuantiles>();
  /** Index of the last observed value; -1 before the first. */
  private current = -1;

  constructor(
    readonly horizons: readonly number[],
    windowSize = 200,
  ) {
    for (const h of horizons) {
      checkHorizon(h);
      this.pending.set(h, new Float64Array(h + 1).fill(Number.NaN));
      this.residuals.set(h, new ResidualQuantiles(windowSize));
    }
  }

  /** Index of the last observed value; -1 before the first. */
  get step(): number {
    return this.current;
  }

  /** Starts counting at `step` (a tracker added to a running selector); nothing is pending. */
  skipTo(step: number): void {
    this.current = step;
  }

  observe(value: number): void {
    this.current++;
    for (const [h, ring] of this.pending) {
      const slot = this.current % (h + 1);
      const f = ring[slot] ?? Number.NaN;
      if (!Number.isNaN(f)) this.residuals.get(h)?.add(value - f);
      ring[slot] = Number.NaN;
    }
  }

  issue(horizonSteps: number, point: number): void {
    const ring = this.pending.get(horizonSteps);
    if (!ring) throw new InvalidArgumentError('horizonSteps', `${horizonSteps} is not a tracked horizon (${this.horizons.join(', ')})`);
    ring[(this.current + horizonSteps) % (horizonSteps + 1)] = point;
  }

  /** Rolling mean absolute error at a horizon; NaN until a forecast has been scored. */
  mae(horizonSteps: number): number {
    return this.residuals.get(horizonSteps)?.meanAbs() ?? Number.NaN;
  }

  scored(horizonSteps: number): number {
    return this.residuals.get(horizonSteps)?.size ?? 0;
  }

  /** P50 = point + median residual, P90 = point + 90th percentile residual. */
  band(horizonSteps: number, point: number): Band {
    const r = this.residuals.get(horizonSteps);
    if (!r) return { point, p50: point, p90: point };
    return { point, p50: point + r.quantile(0.5), p90: point + r.quantile(0.9) };
  }
}
