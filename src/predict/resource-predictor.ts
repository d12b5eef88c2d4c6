/**
 * One resource's predictor: the unit a predictor actor hosts. Takes the resource's metric
 * samples (irregular, with gaps), resamples them to `stepMs`, runs a `ForecastSelector` per
 * metric and answers forecasts per metric and horizon, with reservations and an optional
 * cluster prior applied, and the failure risk from its temperature and error counters.
 *
 * Resampling: step k covers [origin + k stepMs, origin + (k+1) stepMs); the first sample in a
 * step is the step's value, later ones in the same step only update the held value. Steps with
 * no sample take the held (last) value, at most `maxFillSteps` of them in a row. A null value
 * is a gap: that metric is not fed for that step, and the hold starts again at its next value.
 */
import { InvalidArgumentError } from '../errors.js';
import { FailurePredictor, type FailurePredictorOptions, type FailureRisk } from './failure.js';
import { LstmForecaster, type LstmModel, type LstmOptions } from './lstm.js';
import { createBaselineModels } from './models.js';
import { ReservationBook, type Reservation } from './reservations.js';
import { ForecastSelector, type SelectedForecastSlot } from './selector.js';

export interface Forecast {
  readonly resource: string;
  readonly metric: string;
  readonly horizonMs: number;
  /** Time the forecast is for (the last step's time + horizonMs), on the caller's clock. */
  readonly atMs: number;
  readonly p50: number;
  readonly p90: number;
  /** The model chosen at this horizon. */
  readonly model: string;
  /** Its recent MASE at this horizon (NaN until scored). */
  readonly mase: number;
}

/** The cluster's forecast change of a metric over a horizon (mean over resources); undefined = none. */
export type ClusterTrend = (metric: string, horizonMs: number) => number | undefined;

export interface ResourcePredictorOptions {
  resource: string;
  /** Metric names, e.g. `utilization`, `memoryFree`, `powerW`, `temperatureC`. */
  metrics: readonly string[];
  /** Resampling step, in ms. */
  stepMs: number;
  /** Forecast horizons, in ms (default [1000, 5000, 15000, 60000]); each is rounded to whole steps (at least one). */
  horizonsMs?: readonly number[];
  /** Failure risk from `metric` (default `temperatureC`) and the cumulative counter `errorMetric` (default none). */
  failure?: FailurePredictorOptions & { metric?: string; errorMetric?: string };
  /** Season length in steps: adds Holt-Winters to every metric's models (default none). */
  period?: number;
  /**
   * Which baseline models compete (`createBaselineModels`): `lean` (default) leaves out the
   * dual-gain smoother and damped Holt, which never lowered the selected model's MASE on the
   * public traces (docs/forecasting.md) and cost a third of the interval; `all` keeps them.
   */
  models?: 'lean' | 'all';
  /** Adds an LSTM (one worker thread each) to the models of `metrics` (default: the first metric). Default off. */
  lstm?: boolean | (LstmOptions & { metrics?: readonly string[] });
  /** Recent forecasts per model and horizon behind MASE and bands (default 200). */
  windowSize?: number;
  /** Models not selected at a horizon are scored on every `scoreEvery`-th step (`SelectorOptions.scoreEvery`, default 1: every step). */
  scoreEvery?: number;
  /** Share (0..1) of the gap between the cluster's forecast change and this resource's that a forecast moves by (default 0). */
  clusterWeight?: number;
  /** The metric reservations add to when they name none (default `utilization`). */
  reservationMetric?: string;
  /** Most missing steps filled with the held value in a row (default 60). */
  maxFillSteps?: number;
}

export interface ResourcePredictorState {
  readonly version: 1;
  readonly resource: string;
  readonly reservations: Reservation[];
  /** Trained LSTM networks by metric. */
  readonly lstm: Record<string, LstmModel>;
}

interface MetricTrack {
  readonly metric: string;
  readonly selector: ForecastSelector;
  readonly lstm: LstmForecaster | undefined;
  /** Last step fed; -1 before the first. */
  step: number;
  held: number;
  last: number;
}

export const DEFAULT_HORIZONS_MS: readonly number[] = [1000, 5000, 15000, 60000];

export class ResourcePredictor {
  readonly resource: string;
  readonly metrics: readonly string[];
  readonly stepMs: number;
  readonly horizonsMs: readonly number[];
  private readonly horizonSteps: readonly number[];
  private readonly tracks = new Map<string, MetricTrack>();
  /** The same tracks in metric order (the per-step loops). */
  private readonly trackList: MetricTrack[] = [];
  private readonly reservations = new ReservationBook();
  private readonly failure: FailurePredictor | undefined;
  private readonly failureMetric: string;
  private readonly errorMetric: string | undefined;
  private readonly clusterWeight: number;
  private readonly reservationMetric: string;
  private readonly maxFillSteps: number;
  private originMs = Number.NaN;
  private lastStep = -1;
  private readonly slot: SelectedForecastSlot = { point: 0, p50: 0, p90: 0, model: '', mase: 0 };

  constructor(options: ResourcePredictorOptions) {
    this.resource = options.resource;
    this.metrics = [...options.metrics];
    this.stepMs = options.stepMs;
    this.horizonsMs = [...(options.horizonsMs ?? DEFAULT_HORIZONS_MS)];
    if (!(this.stepMs > 0) || !Number.isFinite(this.stepMs)) throw new InvalidArgumentError('stepMs', `must be a finite number > 0, got ${this.stepMs}`);
    if (this.metrics.length === 0 || new Set(this.metrics).size !== this.metrics.length) throw new InvalidArgumentError('metrics', 'needs at least one metric, each named once');
    if (this.horizonsMs.length === 0 || this.horizonsMs.some((h) => !(h > 0))) throw new InvalidArgumentError('horizonsMs', `needs horizons > 0, got ${this.horizonsMs.join(', ')}`);
    this.horizonSteps = this.horizonsMs.map((h) => Math.max(1, Math.round(h / this.stepMs)));
    this.clusterWeight = options.clusterWeight ?? 0;
    if (!(this.clusterWeight >= 0 && this.clusterWeight <= 1)) throw new InvalidArgumentError('clusterWeight', `must be in [0, 1], got ${this.clusterWeight}`);
    this.reservationMetric = options.reservationMetric ?? 'utilization';
    this.maxFillSteps = options.maxFillSteps ?? 60;
    const lstmOpts = options.lstm === true ? {} : options.lstm === false || options.lstm === undefined ? undefined : options.lstm;
    const lstmMetrics = lstmOpts ? (lstmOpts.metrics ?? this.metrics.slice(0, 1)) : [];
    const steps = [...new Set(this.horizonSteps)];
    // Spread the metrics' full scoring steps (every model forecasts) over consecutive steps, and
    // resources over them too, so a control interval's cost stays even.
    const phase = hashOf(this.resource);
    for (const [m, metric] of this.metrics.entries()) {
      const lstm = lstmOpts && lstmMetrics.includes(metric) ? new LstmForecaster({ maxHorizon: Math.max(...steps), ...withoutMetrics(lstmOpts) }) : undefined;
      const models = [...createBaselineModels({ period: options.period, set: options.models ?? 'lean' }), ...(lstm ? [lstm] : [])];
      const selector = new ForecastSelector({
        horizons: steps,
        models,
        scorePhase: phase + m,
        ...(options.windowSize === undefined ? {} : { windowSize: options.windowSize }),
        ...(options.scoreEvery === undefined ? {} : { scoreEvery: options.scoreEvery }),
      });
      const track = { metric, selector, lstm, step: -1, held: Number.NaN, last: Number.NaN };
      this.tracks.set(metric, track);
      this.trackList.push(track);
    }
    this.failureMetric = options.failure?.metric ?? 'temperatureC';
    this.errorMetric = options.failure?.errorMetric;
    this.failure = options.failure ? new FailurePredictor(options.failure) : undefined;
  }

  /** A sample of some or all metrics at `timeMs` (times must not go back; unknown metric names are ignored). */
  update(timeMs: number, values: Readonly<Record<string, number | null>>): void {
    if (!Number.isFinite(timeMs)) throw new InvalidArgumentError('timeMs', `must be finite, got ${timeMs}`);
    if (Number.isNaN(this.originMs)) this.originMs = timeMs;
    const step = Math.floor((timeMs - this.originMs) / this.stepMs);
    if (step < this.lastStep) throw new InvalidArgumentError('timeMs', `went back to ${timeMs} before step ${this.lastStep}`);
    this.lastStep = step;
    for (let t = 0; t < this.trackList.length; t++) {
      const track = this.trackList[t] as MetricTrack;
      const value = values[track.metric];
      if (value === undefined) continue;
      if (value === null || !Number.isFinite(value)) {
        track.held = Number.NaN;
        continue;
      }
      if (step > track.step) {
        if (!Number.isNaN(track.held)) {
          const fill = Math.min(step - track.step - 1, this.maxFillSteps);
          for (let i = 0; i < fill; i++) track.selector.update(track.held);
        }
        track.selector.update(value);
        track.step = step;
        track.last = value;
      }
      track.held = value;
    }
    if (this.failure) {
      const t = values[this.failureMetric];
      const e = this.errorMetric === undefined ? undefined : values[this.errorMetric];
      if (t !== undefined || e !== undefined) this.failure.update(timeMs, t ?? null, e);
    }
    if (step % 64 === 0) this.reservations.prune(this.stepTime(step));
  }

  private stepTime(step: number): number {
    return this.originMs + step * this.stepMs;
  }

  addReservation(reservation: Reservation): void {
    this.reservations.add(reservation);
  }

  /** Every metric at every horizon, appended to `out`; none before a metric's first value. */
  forecasts(clusterTrend?: ClusterTrend, out: Forecast[] = []): Forecast[] {
    const baseMs = this.stepTime(Math.max(this.lastStep, 0));
    for (let t = 0; t < this.trackList.length; t++) {
      const track = this.trackList[t] as MetricTrack;
      const metric = track.metric;
      if (track.step < 0) continue;
      for (let i = 0; i < this.horizonsMs.length; i++) {
        const horizonMs = this.horizonsMs[i] as number;
        const f = this.slot;
        track.selector.forecastInto(this.horizonSteps[i] ?? 1, f);
        let shift = 0;
        const cluster = this.clusterWeight > 0 ? clusterTrend?.(metric, horizonMs) : undefined;
        if (cluster !== undefined && Number.isFinite(cluster)) shift = this.clusterWeight * (cluster - (f.p50 - track.last));
        const atMs = baseMs + horizonMs;
        shift += this.reservations.amountAt(metric, atMs, this.reservationMetric);
        out.push({ resource: this.resource, metric, horizonMs, atMs, p50: f.p50 + shift, p90: f.p90 + shift, model: f.model, mase: f.mase });
      }
    }
    return out;
  }

  /** The last value fed for a metric (NaN before the first). */
  lastValue(metric: string): number {
    return this.tracks.get(metric)?.last ?? Number.NaN;
  }

  failureRisk(horizonMs: number): FailureRisk {
    if (!this.failure) return { probability: 0, expectedTimeToThresholdMs: Infinity, reason: 'no failure model configured' };
    return this.failure.risk(horizonMs);
  }

  /** Resolves once the LSTMs are idle (tests, simulation). */
  async settle(): Promise<void> {
    await Promise.all([...this.tracks.values()].map((t) => t.lstm?.settle()));
  }

  toJSON(): ResourcePredictorState {
    const lstm: Record<string, LstmModel> = {};
    for (const [metric, track] of this.tracks) {
      const model = track.lstm?.exportModel();
      if (model) lstm[metric] = model;
    }
    return { version: 1, resource: this.resource, reservations: this.reservations.list(), lstm };
  }

  /** A predictor with `options` that takes over a saved state: its reservations and trained networks; the other models warm up again. */
  static fromJSON(state: ResourcePredictorState, options: ResourcePredictorOptions): ResourcePredictor {
    if (state?.version !== 1 || !Array.isArray(state.reservations)) throw new InvalidArgumentError('state', 'is not a ResourcePredictor state of version 1');
    const p = new ResourcePredictor(options);
    for (const r of state.reservations) p.addReservation(r);
    for (const [metric, model] of Object.entries(state.lstm ?? {})) p.tracks.get(metric)?.lstm?.importModel(model);
    return p;
  }

  async close(): Promise<void> {
    await Promise.all([...this.tracks.values()].map((t) => t.selector.close()));
  }
}

/** A small non-negative integer from a name (FNV-1a), stable across runs. */
function hashOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % 1024;
}

function withoutMetrics(o: LstmOptions & { metrics?: readonly string[] }): LstmOptions {
  const { metrics: _metrics, ...rest } = o;
  return rest;
}
