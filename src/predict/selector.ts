/**
 * Online model selection for one series: every model runs side by side, each one's recent MASE
 * per horizon is kept (rolling origin: each forecast is scored when its target arrives), and a
 * forecast comes from the best model at that horizon or from an inverse-MASE weighted combination.
 *
 * MASE = rolling MAE of the model's h-step forecasts / mean |y[t] - y[t-1]| over all values seen
 * (the in-sample one-step naive error).
 *
 * Cost: every model takes every value and, by default, records (and so is scored on) its forecast
 * at every horizon from every value. With `scoreEvery` k > 1 only the model selected at a horizon
 * does; the others, and the combination, record theirs from every k-th value (cheaper, but it
 * costs accuracy: docs/forecasting.md).
 */
import { InvalidArgumentError } from '../errors.js';
import { ForecastErrors, checkHorizon, type Band, type Forecaster } from './forecaster.js';
import { createBaselineModels } from './models.js';

export interface SelectorOptions {
  /** Horizons in steps that are scored (default [1, 3, 12]). */
  horizons?: readonly number[];
  /** The competing models (default `createBaselineModels()`). */
  models?: readonly Forecaster[];
  /** Recent scored forecasts per model and horizon behind MASE and the bands (default 200). */
  windowSize?: number;
  /**
   * The models not selected at a horizon, and the combination, record their forecasts only from
   * every `scoreEvery`-th value (default 1: every model from every value). The selected one
   * records from every value.
   */
  scoreEvery?: number;
  /**
   * Which values are the every-`scoreEvery`-th: value i (0 = the first) when (i + scorePhase) is
   * a multiple of `scoreEvery` (default 0). Give series that step together different phases so
   * their full steps do not all fall in the same interval.
   */
  scorePhase?: number;
}

/** A `SelectedForecast` that `forecastInto` writes (the per-interval hot path allocates none). */
export interface SelectedForecastSlot {
  point: number;
  p50: number;
  p90: number;
  model: string;
  mase: number;
}

export interface SelectedForecast extends Band {
  /** The chosen model's name, or `combined`. */
  readonly model: string;
  /** The chosen model's recent MASE at this horizon (NaN until scored). */
  readonly mase: number;
}

export const COMBINED = 'combined';

export class ForecastSelector {
  readonly horizons: readonly number[];
  private readonly models: Forecaster[];
  /** Source 0 is the combination, model i is source i + 1. */
  private readonly errors: ForecastErrors;
  /** Per horizon index, the model with the lowest MASE as found by the last `issue`; -1 when unknown (reset by each new value). */
  private readonly best: Int32Array;
  /**
   * Per horizon index, the selected model's answer as `issue` found it (point, P50, P90, MASE),
   * valid while `best` is set: a caller asking later touches one small array, not every structure
   * of the series again. Not kept for a model with `settle` (its forecast can change between
   * values: the LSTM's inference arrives later).
   */
  private readonly served: Float64Array;
  private readonly servedOk: Uint8Array;
  private readonly scoreEvery: number;
  /** Values until the next full step (every model records): 0 on a full step. */
  private untilFull: number;
  private last = Number.NaN;
  private naiveAbsSum = 0;
  private naiveCount = 0;

  constructor(options: SelectorOptions = {}) {
    this.horizons = options.horizons ?? [1, 3, 12];
    this.models = [...(options.models ?? createBaselineModels())];
    if (this.models.length === 0) throw new InvalidArgumentError('models', 'needs at least one model');
    if (this.horizons.length === 0) throw new InvalidArgumentError('horizons', 'needs at least one horizon');
    this.errors = new ForecastErrors(this.horizons, options.windowSize ?? 200, this.models.length + 1);
    this.best = new Int32Array(this.horizons.length).fill(-1);
    this.served = new Float64Array(this.horizons.length * 4);
    this.servedOk = new Uint8Array(this.horizons.length);
    this.scoreEvery = options.scoreEvery ?? 1;
    if (!Number.isInteger(this.scoreEvery) || this.scoreEvery < 1) throw new InvalidArgumentError('scoreEvery', `must be an integer >= 1, got ${this.scoreEvery}`);
    const phase = options.scorePhase ?? 0;
    if (!Number.isInteger(phase) || phase < 0) throw new InvalidArgumentError('scorePhase', `must be an integer >= 0, got ${phase}`);
    // Value i is full when (i + phase) % scoreEvery === 0; observe() counts down before each issue().
    this.untilFull = (this.scoreEvery - (phase % this.scoreEvery)) % this.scoreEvery + 1;
  }

  /**
   * Adds a competitor mid-stream (a seasonal model once a period is detected). It is scored from
   * its next forecasts on and selected only once it has a MASE; warm it up before adding it.
   */
  addModel(model: Forecaster): void {
    if (this.models.some((m) => m.name === model.name)) throw new InvalidArgumentError('model', `a model named ${model.name} is already selected from`);
    this.errors.addSource();
    this.models.push(model);
    this.best.fill(-1);
  }

  get modelNames(): string[] {
    return this.models.map((m) => m.name);
  }

  update(value: number): void {
    this.observe(value);
    this.issue();
  }

  /**
   * As `update`, but asynchronous models finish the work the value started (the LSTM's inference)
   * before the new forecasts are recorded, so they are scored on what they forecast from this value.
   */
  async updateAsync(value: number): Promise<void> {
    this.observe(value);
    await Promise.all(this.models.map((m) => m.settle?.()));
    this.issue();
  }

  /** Closes every model that holds something (the LSTM's worker). */
  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.close?.()));
  }

  private observe(value: number): void {
    if (!Number.isNaN(this.last)) {
      this.naiveAbsSum += Math.abs(value - this.last);
      this.naiveCount++;
    }
    this.last = value;
    this.untilFull = this.untilFull === 0 ? this.scoreEvery - 1 : this.untilFull - 1;
    this.best.fill(-1);
    this.errors.observe(value);
    for (let i = 0; i < this.models.length; i++) (this.models[i] as Forecaster).update(value);
  }

  /**
   * Records the forecasts that will be scored: on a full step every model's and the combination's
   * at each horizon (each model asked once per horizon), otherwise only the selected model's.
   */
  private issue(): void {
    if (this.untilFull !== 0) {
      for (let hi = 0; hi < this.horizons.length; hi++) {
        const best = this.select(hi);
        const f = (this.models[best] as Forecaster).forecast(this.horizons[hi] as number);
        this.errors.issueAt(best + 1, hi, f);
        this.serve(hi, best, f);
      }
      return;
    }
    for (let hi = 0; hi < this.horizons.length; hi++) {
      const h = this.horizons[hi] as number;
      let sum = 0;
      let weights = 0;
      let plain = 0;
      let best = 0;
      let bestMase = Infinity;
      let bestPoint = Number.NaN;
      for (let i = 0; i < this.models.length; i++) {
        const f = (this.models[i] as Forecaster).forecast(h);
        this.errors.issueAt(i + 1, hi, f);
        plain += f;
        const v = this.toMase(this.errors.maeAt(i + 1, hi));
        if (v < bestMase || i === 0) {
          if (v < bestMase) bestMase = v;
          best = i;
          bestPoint = f;
        }
        if (Number.isFinite(v)) {
          const w = 1 / Math.max(v, 1e-9);
          sum += w * f;
          weights += w;
        }
      }
      // The same choice `select` makes: the MAEs and the scale stay as they are until the next value.
      this.serve(hi, best, bestPoint);
      this.errors.issueAt(0, hi, weights > 0 ? sum / weights : plain / this.models.length);
    }
  }

  /** Records model `i` as selected at horizon index `hi`, with its answer from `point`. */
  private serve(hi: number, i: number, point: number): void {
    this.best[hi] = i;
    const m = this.models[i] as Forecaster;
    if (m.settle !== undefined) {
      this.servedOk[hi] = 0;
      return;
    }
    const band = this.errors.residualBand(i + 1, hi);
    const at = hi * 4;
    this.served[at] = point;
    this.served[at + 1] = point + band.p50;
    this.served[at + 2] = point + band.p90;
    this.served[at + 3] = this.toMase(this.errors.maeAt(i + 1, hi));
    this.servedOk[hi] = 1;
  }

  /** The model with the lowest recent MASE at a horizon index (the first model until any is scored). */
  private select(hi: number): number {
    let best = 0;
    let bestMase = Infinity;
    for (let i = 0; i < this.models.length; i++) {
      const v = this.toMase(this.errors.maeAt(i + 1, hi));
      if (v < bestMase) {
        bestMase = v;
        best = i;
      }
    }
    return best;
  }

  /** The combination's weight for a model's MAE: 1 / MASE, 0 while the MASE is not finite. */
  private inverseMase(mae: number): number {
    const v = this.toMase(mae);
    return Number.isFinite(v) ? 1 / Math.max(v, 1e-9) : 0;
  }

  /** The in-sample one-step naive MAE (MASE denominator); NaN before two values. */
  get scale(): number {
    return this.naiveCount === 0 ? Number.NaN : this.naiveAbsSum / this.naiveCount;
  }

  private toMase(mae: number): number {
    const s = this.scale;
    if (Number.isNaN(mae) || Number.isNaN(s)) return Number.NaN;
    if (s === 0) return mae === 0 ? 0 : Infinity;
    return mae / s;
  }

  /** A model's recent MASE at a horizon. */
  mase(model: string, horizonSteps: number): number {
    const hi = this.horizons.indexOf(horizonSteps);
    if (hi < 0) return Number.NaN;
    return this.toMase(this.errors.maeAt(model === COMBINED ? 0 : this.index(model) + 1, hi));
  }

  private index(model: string): number {
    const i = this.models.findIndex((m) => m.name === model);
    if (i < 0) throw new InvalidArgumentError('model', `no model named ${model} (${this.modelNames.join(', ')})`);
    return i;
  }

  /** One model's forecast with its residual bands. */
  forecastOf(model: string, horizonSteps: number): SelectedForecast {
    this.checkTracked(horizonSteps);
    if (model === COMBINED) return this.forecastCombined(horizonSteps);
    return this.forecastAt(this.index(model), horizonSteps);
  }

  private forecastAt(i: number, horizonSteps: number): SelectedForecast {
    const out: SelectedForecastSlot = { point: 0, p50: 0, p90: 0, model: '', mase: 0 };
    this.writeForecast(i, this.horizons.indexOf(horizonSteps), horizonSteps, out);
    return out;
  }

  private writeForecast(i: number, hi: number, horizonSteps: number, out: SelectedForecastSlot): void {
    const m = this.models[i] as Forecaster;
    const point = m.forecast(horizonSteps);
    const band = this.errors.residualBand(i + 1, hi);
    out.point = point;
    out.p50 = point + band.p50;
    out.p90 = point + band.p90;
    out.model = m.name;
    out.mase = this.toMase(this.errors.maeAt(i + 1, hi));
  }

  /** The forecast of the model with the lowest recent MASE at this horizon (the first model until any is scored). */
  forecast(horizonSteps: number): SelectedForecast {
    const out: SelectedForecastSlot = { point: 0, p50: 0, p90: 0, model: '', mase: 0 };
    this.forecastInto(horizonSteps, out);
    return out;
  }

  /** As `forecast`, written into `out` (reused by the caller: no allocation per forecast). */
  forecastInto(horizonSteps: number, out: SelectedForecastSlot): void {
    this.checkTracked(horizonSteps);
    const hi = this.horizons.indexOf(horizonSteps);
    let best = this.best[hi] as number;
    if (best >= 0 && this.servedOk[hi] === 1) {
      const at = hi * 4;
      out.point = this.served[at] as number;
      out.p50 = this.served[at + 1] as number;
      out.p90 = this.served[at + 2] as number;
      out.model = (this.models[best] as Forecaster).name;
      out.mase = this.served[at + 3] as number;
      return;
    }
    if (best < 0) best = this.select(hi);
    this.writeForecast(best, hi, horizonSteps, out);
  }

  /** Inverse-MASE weighted mean of the models' forecasts, with bands from its own residuals. */
  forecastCombined(horizonSteps: number): SelectedForecast {
    this.checkTracked(horizonSteps);
    const point = this.combinedPoint(horizonSteps);
    return { ...this.errors.bandAt(0, this.horizons.indexOf(horizonSteps), point), model: COMBINED, mase: this.mase(COMBINED, horizonSteps) };
  }

  private combinedPoint(horizonSteps: number): number {
    const hi = this.horizons.indexOf(horizonSteps);
    let sum = 0;
    let weights = 0;
    let plain = 0;
    for (let i = 0; i < this.models.length; i++) {
      const f = (this.models[i] as Forecaster).forecast(horizonSteps);
      plain += f;
      const w = this.inverseMase(this.errors.maeAt(i + 1, hi));
      if (w > 0) {
        sum += w * f;
        weights += w;
      }
    }
    return weights > 0 ? sum / weights : plain / this.models.length;
  }

  private checkTracked(horizonSteps: number): void {
    checkHorizon(horizonSteps);
    if (!this.horizons.includes(horizonSteps)) {
      throw new InvalidArgumentError('horizonSteps', `${horizonSteps} is not a tracked horizon (${this.horizons.join(', ')})`);
    }
  }
}
