/**
 * Failure risk of one resource from its temperature (level, robust trend, time to a threshold)
 * and, optionally, a cumulative error counter, plus the warning state machine the controller
 * acts on. Time is the caller's (injected clock or trace time), in ms.
 */
import { InvalidArgumentError } from '../errors.js';

export interface FailurePredictorOptions {
  /** Temperature at or above which the device is taken to fail, in °C (default 90). */
  highC?: number;
  /** Temperature at or below which it is taken to fail, in °C (default -Infinity: none). */
  lowC?: number;
  /** Samples behind the level and the Theil-Sen slope (default 12); until there are this many, only a temperature past a threshold is a risk. */
  windowSize?: number;
  /** Floor of the noise the probability assumes around the trend, in °C (default 0.25). */
  minSigmaC?: number;
  /** Error-counter increase that counts as a failure: the expected increase within the horizon over this is the error risk (default 10). */
  errorsToFailure?: number;
}

export interface FailureRisk {
  /** Probability (0..1) that the device reaches a threshold, or fails by its error counters, within the horizon. */
  readonly probability: number;
  /** Time until the trend reaches a threshold, in ms: 0 when past it, Infinity when the trend does not lead there. */
  readonly expectedTimeToThresholdMs: number;
  /** One lowercase sentence saying why (level, trend, threshold; error rate). */
  readonly reason: string;
}

const MS_PER_HOUR = 3_600_000;

/** Standard normal CDF (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

function medianOf(xs: number[]): number {
  const v = xs.sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] ?? Number.NaN) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

/** Theil-Sen: the median of pairwise slopes (per ms) and the median intercept at time `atMs`. */
export function robustLine(timesMs: readonly number[], values: readonly number[], atMs: number): { slope: number; level: number } {
  const slopes: number[] = [];
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) {
      const dt = (timesMs[j] ?? 0) - (timesMs[i] ?? 0);
      if (dt > 0) slopes.push(((values[j] ?? 0) - (values[i] ?? 0)) / dt);
    }
  }
  const slope = slopes.length === 0 ? 0 : medianOf(slopes);
  const level = medianOf(values.map((y, i) => y - slope * ((timesMs[i] ?? 0) - atMs)));
  return { slope, level };
}

export class FailurePredictor {
  readonly highC: number;
  readonly lowC: number;
  private readonly windowSize: number;
  private readonly minSigmaC: number;
  private readonly errorsToFailure: number;
  private readonly times: number[] = [];
  private readonly temps: number[] = [];
  private readonly errorTimes: number[] = [];
  private readonly errors: number[] = [];

  constructor(options: FailurePredictorOptions = {}) {
    this.highC = options.highC ?? 90;
    this.lowC = options.lowC ?? -Infinity;
    this.windowSize = options.windowSize ?? 12;
    this.minSigmaC = options.minSigmaC ?? 0.25;
    this.errorsToFailure = options.errorsToFailure ?? 10;
    if (!(this.lowC < this.highC)) throw new InvalidArgumentError('lowC', `must be below highC (${this.highC}), got ${this.lowC}`);
    if (!Number.isInteger(this.windowSize) || this.windowSize < 2) throw new InvalidArgumentError('windowSize', `must be an integer >= 2, got ${this.windowSize}`);
    if (!(this.minSigmaC > 0)) throw new InvalidArgumentError('minSigmaC', `must be > 0, got ${this.minSigmaC}`);
    if (!(this.errorsToFailure > 0)) throw new InvalidArgumentError('errorsToFailure', `must be > 0, got ${this.errorsToFailure}`);
  }

  /** A sample; null (or a missing counter) is a gap for that input. Times must not go back. */
  update(timeMs: number, temperatureC: number | null, errorCount?: number | null): void {
    if (temperatureC !== null && Number.isFinite(temperatureC)) push(this.times, this.temps, timeMs, temperatureC, this.windowSize);
    if (errorCount !== undefined && errorCount !== null && Number.isFinite(errorCount)) push(this.errorTimes, this.errors, timeMs, errorCount, this.windowSize);
  }

  risk(horizonMs: number): FailureRisk {
    if (!(horizonMs >= 0)) throw new InvalidArgumentError('horizonMs', `must be >= 0, got ${horizonMs}`);
    const temp = this.temperatureRisk(horizonMs);
    const err = this.errorRisk(horizonMs);
    const probability = 1 - (1 - temp.probability) * (1 - err.probability);
    return { probability, expectedTimeToThresholdMs: temp.expectedTimeToThresholdMs, reason: err.reason ? `${temp.reason}; ${err.reason}` : temp.reason };
  }

  private temperatureRisk(horizonMs: number): FailureRisk {
    const n = this.temps.length;
    const lastMs = this.times[n - 1];
    if (n === 0 || lastMs === undefined) return { probability: 0, expectedTimeToThresholdMs: Infinity, reason: 'no temperature yet' };
    if (n < this.windowSize) {
      // A trend from a few samples, extrapolated far past their span, is mostly noise (a device
      // warming up after start would look as if it ran away): until the window is full, only a
      // temperature past a threshold counts.
      const last = this.temps[n - 1] ?? Number.NaN;
      const past = last >= this.highC || last <= this.lowC;
      return { probability: past ? 1 : 0, expectedTimeToThresholdMs: past ? 0 : Infinity, reason: `temperature ${last.toFixed(1)} °C, ${past ? 'past a threshold' : `warming up (${n} of ${this.windowSize} samples)`}` };
    }
    const { slope, level } = robustLine(this.times, this.temps, lastMs);
    const residuals = this.temps.map((y, i) => Math.abs(y - level - slope * ((this.times[i] ?? 0) - lastMs)));
    const spanMs = Math.max(lastMs - (this.times[0] ?? lastMs), 1);
    // MAD -> sigma, widened for extrapolating past the window.
    const sigma = Math.max(1.4826 * medianOf(residuals), this.minSigmaC) * Math.sqrt(1 + horizonMs / spanMs);
    const ahead = slope * horizonMs;
    const pHigh = 1 - normalCdf((this.highC - (level + Math.max(ahead, 0))) / sigma);
    const pLow = Number.isFinite(this.lowC) ? normalCdf((this.lowC - (level + Math.min(ahead, 0))) / sigma) : 0;
    let ttt = Infinity;
    if (level >= this.highC || level <= this.lowC) ttt = 0;
    else if (slope > 0) ttt = (this.highC - level) / slope;
    else if (slope < 0 && Number.isFinite(this.lowC)) ttt = (this.lowC - level) / slope;
    const perHour = slope * MS_PER_HOUR;
    const trend = Math.abs(perHour) < 0.05 ? 'stable' : `${perHour > 0 ? 'rising' : 'falling'} ${Math.abs(perHour).toFixed(2)} °C/h`;
    const target = slope < 0 && Number.isFinite(this.lowC) ? this.lowC : this.highC;
    const when = ttt === 0 ? `past ${target} °C` : Number.isFinite(ttt) ? `${target} °C in ${Math.round(ttt / 60_000)} min` : `${this.highC} °C not in reach`;
    return { probability: Math.max(pHigh, pLow), expectedTimeToThresholdMs: ttt, reason: `temperature ${level.toFixed(1)} °C ${trend}, ${when}` };
  }

  private errorRisk(horizonMs: number): { probability: number; reason: string } {
    const n = this.errors.length;
    const spanMs = (this.errorTimes[n - 1] ?? 0) - (this.errorTimes[0] ?? 0);
    if (n < 2 || spanMs <= 0) return { probability: 0, reason: '' };
    const ratePerMs = Math.max(((this.errors[n - 1] ?? 0) - (this.errors[0] ?? 0)) / spanMs, 0);
    if (ratePerMs === 0) return { probability: 0, reason: '' };
    return {
      probability: 1 - Math.exp((-ratePerMs * horizonMs) / this.errorsToFailure),
      reason: `error counter rising ${(ratePerMs * MS_PER_HOUR).toFixed(1)}/h`,
    };
  }
}

function push(times: number[], values: number[], timeMs: number, value: number, capacity: number): void {
  times.push(timeMs);
  values.push(value);
  if (times.length > capacity) {
    times.shift();
    values.shift();
  }
}

export interface FailureWarningOptions {
  /** Probability at or above which a warning is raised (default 0.5). */
  warnProbability?: number;
  /** Probability below which a raised warning is cleared and re-armed (default 0.2). */
  rearmProbability?: number;
}

export type WarningTransition = 'warn' | 'clear';

/** Warn once when the probability reaches `warnProbability`; re-arm once it falls below `rearmProbability`. */
export class FailureWarning {
  readonly warnProbability: number;
  readonly rearmProbability: number;
  private active = false;

  constructor(options: FailureWarningOptions = {}) {
    this.warnProbability = options.warnProbability ?? 0.5;
    this.rearmProbability = options.rearmProbability ?? 0.2;
    if (!(this.rearmProbability >= 0 && this.rearmProbability <= this.warnProbability && this.warnProbability <= 1)) {
      throw new InvalidArgumentError('rearmProbability', `needs 0 <= rearmProbability <= warnProbability <= 1, got ${this.rearmProbability} and ${this.warnProbability}`);
    }
  }

  get warning(): boolean {
    return this.active;
  }

  /** Feeds a probability; answers the transition it causes, if any. */
  update(probability: number): WarningTransition | undefined {
    if (!this.active && probability >= this.warnProbability) {
      this.active = true;
      return 'warn';
    }
    if (this.active && probability < this.rearmProbability) {
      this.active = false;
      return 'clear';
    }
    return undefined;
  }
}
