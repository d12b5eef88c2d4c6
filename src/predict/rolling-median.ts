/** The rolling median forecaster (a model of the selector's default set, see models.ts). */
import { InvalidArgumentError } from '../errors.js';
import { checkHorizon, type Forecaster } from './forecaster.js';

/**
 * The median of the last `window` values; the forecast is flat at it. A level that ignores
 * spikes shorter than half the window and follows a shift once it has lasted that long: on the
 * public CPU traces (short bursts on a steady base) it has the lowest median MASE of the single
 * models at every horizon. O(window) per update: the window is kept sorted beside its ring.
 */
export class RollingMedianForecaster implements Forecaster {
  readonly name: string;
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private count = 0;

  constructor(readonly window = 49) {
    if (!Number.isInteger(window) || window < 1) throw new InvalidArgumentError('window', `must be an integer >= 1, got ${window}`);
    this.ring = new Float64Array(window);
    this.sorted = new Float64Array(window);
    this.name = `median${window}`;
  }

  update(value: number): void {
    const n = Math.min(this.count, this.window);
    const sorted = this.sorted;
    let size = n;
    if (this.count >= this.window) {
      // Drop the oldest value from the sorted window.
      const at = lowerBound(sorted, size, this.ring[this.count % this.window] as number);
      sorted.copyWithin(at, at + 1, size);
      size--;
    }
    const at = lowerBound(sorted, size, value);
    sorted.copyWithin(at + 1, at, size);
    sorted[at] = value;
    this.ring[this.count % this.window] = value;
    this.count++;
  }

  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    const n = Math.min(this.count, this.window);
    if (n === 0) return Number.NaN;
    const mid = n >> 1;
    return n % 2 === 1 ? (this.sorted[mid] as number) : ((this.sorted[mid - 1] as number) + (this.sorted[mid] as number)) / 2;
  }
}

/** The first index in `sorted[0, size)` whose value is not below `value`. */
function lowerBound(sorted: Float64Array, size: number, value: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
