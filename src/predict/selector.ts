/**
 * Online model selection for one series: every model runs side by side, each one's recent MASE
 * per horizon is kept (rolling origin: each forecast is scored when its target arrives), and a
 * forecast comes from the best model at that horizon or from an inverse-MASE weighted combination.
 *
 * MASE = rolling MAE of the model's h-step forecasts / mean |y[t] - y[t-1]| over all values seen
 * (the in-sample one-step naive error).
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
    this.best.fill(-1);
    this.errors.observe(value);
    for (let i = 0; i < this.models.length; i++) (this.models[i] as Forecaster).update(value);
  }

  /** Records every model's forecast and the combination's at each horizon (each model asked once). */
  private issue(): void {
    for (let hi = 0; hi < this.horizons.length; hi++) {
      const h = this.horizons[hi] as number;
      let sum = 0;
      let weights = 0;
      let plain = 0;
      let best = 0;
      let bestMase = Infinity;
      for (let i = 0; i < this.models.length; i++) {
        const f = (this.models[i] as Forecaster).forecast(h);
        this.errors.issueAt(i + 1, hi, f);
        plain += f;
        const v = this.toMase(this.errors.maeAt(i + 1, hi));
        if (v < bestMase) {
          bestMase = v;
          best = i;
        }
        if (Number.isFinite(v)) {
          const w = 1 / Math.max(v, 1e-9);
          sum += w * f;
          weights += w;
        }
      }
      // The same choice `forecast` makes: the MAEs and the scale stay as they are until the next value.
      this.best[hi] = best;
      this.errors.issueAt(0, hi, weights > 0 ? sum / weights : plain / this.models.length);
    }
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
    const m = this.models[i] as Forecaster;
    const point = m.forecast(horizonSteps);
    const hi = this.horizons.indexOf(horizonSteps);
    const band = this.errors.residualBand(i + 1, hi);
    return { point, p50: point + band.p50, p90: point + band.p90, model: m.name, mase: this.toMase(this.errors.maeAt(i + 1, hi)) };
  }

  /** The forecast of the model with the lowest recent MASE at this horizon (the first model until any is scored). */
  forecast(horizonSteps: number): SelectedForecast {
    this.checkTracked(horizonSteps);
    const hi = this.horizons.indexOf(horizonSteps);
    let best = this.best[hi] as number;
    if (best < 0) {
      best = 0;
      let bestMase = Infinity;
      for (let i = 0; i < this.models.length; i++) {
        const v = this.toMase(this.errors.maeAt(i + 1, hi));
        if (v < bestMase) {
          bestMase = v;
          best = i;
        }
      }
    }
    return this.forecastAt(best, horizonSteps);
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
