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
 * The most recent `capacity` signed residuals (actual - forecast) in arrival order, with their
 * mean absolute value kept as a running sum: an add is O(1).
 *
 * Quantiles need the window in sorted order. That copy is built (one typed-array sort) on the
 * first quantile asked for and then kept up to date on each add (a new residual replaces the
 * oldest in place, shifting only the values between their two positions), until `capacity / 8`
 * adds pass with no quantile asked for; then it is dropped until the next one. So a window that
 * is served every step (the selected model's) answers in O(1), and one that is only scored
 * (every other model's) costs O(1) per step. Answers are the same either way.
 */
export class ResidualQuantiles {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private n = 0;
  private next = 0;
  private absSum = 0;
  /** Whether `sorted` holds the kept residuals in order. */
  private inOrder = true;
  /** Adds since the last quantile while `sorted` is kept. */
  private unread = 0;
  private readonly maxUnread: number;

  constructor(readonly capacity = 200) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new InvalidArgumentError('capacity', `must be an integer >= 1, got ${capacity}`);
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
    this.maxUnread = Math.max(4, capacity >> 3);
  }

  get size(): number {
    return this.n;
  }

  add(residual: number): void {
    if (!Number.isFinite(residual)) return;
    if (this.n < this.capacity) {
      this.ring[this.n] = residual;
      if (this.inOrder) this.insertSorted(residual);
      this.n++;
    } else {
      const old = this.ring[this.next] as number;
      this.ring[this.next] = residual;
      this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
      this.absSum -= Math.abs(old);
      if (this.inOrder) this.replaceSorted(old, residual);
    }
    this.absSum += Math.abs(residual);
    if (this.inOrder && ++this.unread > this.maxUnread) this.inOrder = false;
  }

  /** Inserts into the first `n` sorted values: shifts the larger ones up by one. */
  private insertSorted(residual: number): void {
    const sorted = this.sorted;
    let j = this.n;
    while (j > 0 && (sorted[j - 1] as number) > residual) {
      sorted[j] = sorted[j - 1] as number;
      j--;
    }
    sorted[j] = residual;
  }

  /** Replaces `old` by `residual` in the full sorted window: shifts only the values between the two positions. */
  private replaceSorted(old: number, residual: number): void {
    const sorted = this.sorted;
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

  /** The q-quantile (0..1) of the kept residuals, linearly interpolated; 0 when empty. */
  quantile(q: number): number {
    const n = this.n;
    if (n === 0) return 0;
    if (!this.inOrder) {
      const kept = this.sorted.subarray(0, n);
      kept.set(this.ring.subarray(0, n));
      kept.sort();
      this.inOrder = true;
    }
    this.unread = 0;
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
 * The `...At(index)` forms take the horizon's index in `horizons` (the selector's hot path).
 */
export class ForecastErrors {
  /** Per horizon index, a ring of h + 1 pending forecasts. */
  private readonly pending: Float64Array[];
  /** Per horizon index, the slot of the last observed value in its ring (the step modulo h + 1). */
  private readonly slots: Int32Array;
  private readonly residuals: ResidualQuantiles[];
  /** Index of the last observed value; -1 before the first. */
  private current = -1;

  constructor(
    readonly horizons: readonly number[],
    windowSize = 200,
  ) {
    for (const h of horizons) checkHorizon(h);
    this.pending = horizons.map((h) => new Float64Array(h + 1).fill(Number.NaN));
    this.slots = Int32Array.from(horizons, (h) => h);
    this.residuals = horizons.map(() => new ResidualQuantiles(windowSize));
  }

  /** Index of the last observed value; -1 before the first. */
  get step(): number {
    return this.current;
  }

  /** Starts counting at `step` (a tracker added to a running selector); nothing is pending. */
  skipTo(step: number): void {
    this.current = step;
    this.horizons.forEach((h, i) => (this.slots[i] = (((step % (h + 1)) + h + 1) % (h + 1))));
  }

  observe(value: number): void {
    this.current++;
    const slots = this.slots;
    for (let i = 0; i < this.pending.length; i++) {
      const ring = this.pending[i] as Float64Array;
      let slot = (slots[i] as number) + 1;
      if (slot === ring.length) slot = 0;
      slots[i] = slot;
      const f = ring[slot] as number;
      if (f === f) (this.residuals[i] as ResidualQuantiles).add(value - f);
      ring[slot] = Number.NaN;
    }
  }

  issue(horizonSteps: number, point: number): void {
    this.issueAt(this.indexOf(horizonSteps), point);
  }

  issueAt(index: number, point: number): void {
    // Target step current + h, i.e. the slot before the current one in a ring of h + 1.
    const ring = this.pending[index] as Float64Array;
    const slot = this.slots[index] as number;
    ring[slot === 0 ? ring.length - 1 : slot - 1] = point;
  }

  /** Rolling mean absolute error at a horizon; NaN until a forecast has been scored. */
  mae(horizonSteps: number): number {
    return this.maeAt(this.horizons.indexOf(horizonSteps));
  }

  maeAt(index: number): number {
    return this.residuals[index]?.meanAbs() ?? Number.NaN;
  }

  scored(horizonSteps: number): number {
    return this.residuals[this.horizons.indexOf(horizonSteps)]?.size ?? 0;
  }

  /** P50 = point + median residual, P90 = point + 90th percentile residual. */
  band(horizonSteps: number, point: number): Band {
    return this.bandAt(this.horizons.indexOf(horizonSteps), point);
  }

  bandAt(index: number, point: number): Band {
    const r = this.residuals[index];
    if (!r) return { point, p50: point, p90: point };
    return { point, p50: point + r.quantile(0.5), p90: point + r.quantile(0.9) };
  }

  private indexOf(horizonSteps: number): number {
    const i = this.horizons.indexOf(horizonSteps);
    if (i < 0) throw new InvalidArgumentError('horizonSteps', `${horizonSteps} is not a tracked horizon (${this.horizons.join(', ')})`);
    return i;
  }
}
