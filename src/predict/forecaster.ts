/**
 * The forecasting contract and the bookkeeping every model shares: pending h-step forecasts,
 * their residuals once the actual value arrives, and P50/P90 bands from those residuals.
 *
 * A step is one sample of the series (5 min for the public traces, 10 ms..1 s for the runtime's
 * own monitors); horizons are counted in steps.
 */
import { InvalidArgumentError } from '../errors.js';
import { ResidualWindows } from './residual-windows.js';

export { ResidualQuantiles } from './residual-windows.js';

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

export interface Band {
  readonly point: number;
  readonly p50: number;
  readonly p90: number;
}

/**
 * Tracks the forecasts of one or more sources (a selector's models and their combination) for
 * each horizon until their target step arrives, then keeps the residuals (per source and horizon,
 * the last `windowSize`, in `ResidualWindows`). Call `observe(value)` with each new value before
 * the models see it, then `issue(h, point)` with their new forecasts. The `...At(source, index)`
 * forms take a source and the horizon's index in `horizons` (the selector's hot path); the others
 * are for source 0.
 */
export class ForecastErrors {
  /**
   * Pending forecasts: per horizon a ring of h + 1 slots starting at `offsets`, each slot holding
   * one value per source: (offsets[i] + slot) * sources + source.
   */
  private pending: Float64Array;
  private readonly offsets: Int32Array;
  private readonly block: number;
  /** Per horizon index, the slot of the last observed value in its ring (the step modulo h + 1). */
  private readonly slots: Int32Array;
  private readonly residuals: ResidualWindows;
  private sourceCount: number;
  /** Index of the last observed value; -1 before the first. */
  private current = -1;
  private readonly scratchBand = { p50: 0, p90: 0 };

  constructor(
    readonly horizons: readonly number[],
    windowSize = 200,
    sources = 1,
  ) {
    for (const h of horizons) checkHorizon(h);
    if (!Number.isInteger(sources) || sources < 1) throw new InvalidArgumentError('sources', `must be an integer >= 1, got ${sources}`);
    this.offsets = new Int32Array(horizons.length);
    let block = 0;
    horizons.forEach((h, i) => {
      this.offsets[i] = block;
      block += h + 1;
    });
    this.block = block;
    this.pending = new Float64Array(sources * block).fill(Number.NaN);
    this.slots = Int32Array.from(horizons, (h) => h);
    this.residuals = new ResidualWindows(horizons.length, sources, windowSize);
    this.sourceCount = sources;
  }

  /** Index of the last observed value; -1 before the first. */
  get step(): number {
    return this.current;
  }

  get sources(): number {
    return this.sourceCount;
  }

  /** Adds a source (a model added to a running selector) with nothing pending; returns its index. */
  addSource(): number {
    const old = this.sourceCount;
    const pending = new Float64Array((old + 1) * this.block).fill(Number.NaN);
    for (let k = 0; k < this.block; k++) pending.set(this.pending.subarray(k * old, (k + 1) * old), k * (old + 1));
    this.pending = pending;
    this.residuals.addMember();
    return this.sourceCount++;
  }

  observe(value: number): void {
    this.current++;
    const slots = this.slots;
    const pending = this.pending;
    for (let i = 0; i < slots.length; i++) {
      let slot = (slots[i] as number) + 1;
      if (slot === (this.horizons[i] as number) + 1) slot = 0;
      slots[i] = slot;
      const sources = this.sourceCount;
      const at = ((this.offsets[i] as number) + slot) * sources;
      for (let s = 0; s < sources; s++) {
        const f = pending[at + s] as number;
        if (f === f) {
          this.residuals.add(i * sources + s, value - f);
          pending[at + s] = Number.NaN;
        }
      }
    }
  }

  issue(horizonSteps: number, point: number): void {
    this.issueAt(0, this.indexOf(horizonSteps), point);
  }

  issueAt(source: number, index: number, point: number): void {
    // Target step current + h: the slot before the current one in its ring of h + 1.
    const slot = this.slots[index] as number;
    this.pending[((this.offsets[index] as number) + (slot === 0 ? (this.horizons[index] as number) : slot - 1)) * this.sourceCount + source] = point;
  }

  /** Rolling mean absolute error at a horizon; NaN until a forecast has been scored. */
  mae(horizonSteps: number): number {
    const i = this.horizons.indexOf(horizonSteps);
    return i < 0 ? Number.NaN : this.maeAt(0, i);
  }

  maeAt(source: number, index: number): number {
    return this.residuals.meanAbs(index * this.sourceCount + source);
  }

  scored(horizonSteps: number): number {
    const i = this.horizons.indexOf(horizonSteps);
    return i < 0 ? 0 : this.residuals.size(i * this.sourceCount);
  }

  /** P50 = point + median residual, P90 = point + 90th percentile residual (see `ResidualWindows.band`). */
  band(horizonSteps: number, point: number): Band {
    const i = this.horizons.indexOf(horizonSteps);
    return i < 0 ? { point, p50: point, p90: point } : this.bandAt(0, i, point);
  }

  bandAt(source: number, index: number, point: number): Band {
    const b = this.residualBand(source, index);
    return { point, p50: point + b.p50, p90: point + b.p90 };
  }

  /** The median and 90th percentile residual of a source at a horizon index; the object is reused by the next call. */
  residualBand(source: number, index: number): Readonly<{ p50: number; p90: number }> {
    this.residuals.band(index * this.sourceCount + source, this.scratchBand);
    return this.scratchBand;
  }

  private indexOf(horizonSteps: number): number {
    const i = this.horizons.indexOf(horizonSteps);
    if (i < 0) throw new InvalidArgumentError('horizonSteps', `${horizonSteps} is not a tracked horizon (${this.horizons.join(', ')})`);
    return i;
  }
}
