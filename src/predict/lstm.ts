/**
 * A recurrent forecaster: an LSTM (brain.js `LSTMTimeStep`) trained on the normalised recent
 * history and run in a worker thread, so neither training nor inference blocks the event loop.
 *
 * `update` is O(1): it stores the value and, when due, posts work to the worker (a training
 * every `retrainEvery` values, an inference after each value while none is in flight).
 * `forecast(h)` answers from the latest inference, shifted by the values that arrived since its
 * window, and is NaN until the first model is trained (the selector then falls back to the
 * other models). `settle()` resolves once the worker is idle; `exportModel()`/`importModel()`
 * carry a trained network over a restart; `close()` terminates the worker.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { ForecastModelError, InvalidArgumentError } from '../errors.js';
import { checkHorizon, type Forecaster } from './forecaster.js';
import type { LstmRequest, LstmResponse } from './lstm-protocol.js';

export interface LstmOptions {
  /** Input steps of an inference window and of a training sequence (default 12). */
  windowSize?: number;
  /** Recent values kept and trained on (default 600). */
  historySize?: number;
  /** Values before the first training (default 8 x windowSize). */
  minHistory?: number;
  /** Values between trainings (default 288). */
  retrainEvery?: number;
  /** LSTM hidden units (default 8). */
  hiddenSize?: number;
  /** Training iterations (default 60) and the error at which training stops early (default 0.002). */
  iterations?: number;
  errorThresh?: number;
  /** Learning rate (default 0.01). */
  learningRate?: number;
  /** Steps each inference forecasts (default 12): `forecast(h)` beyond it is NaN. */
  maxHorizon?: number;
}

/** A trained network with the normalisation it was trained under (JSON-safe). */
export interface LstmModel {
  readonly version: 1;
  readonly windowSize: number;
  readonly min: number;
  readonly max: number;
  readonly net: unknown;
}

export interface LstmTrainedEvent {
  readonly error: number;
  readonly iterations: number;
  readonly durationMs: number;
  readonly trainings: number;
}

/** Extra steps each inference computes, so a forecast one or two values stale still covers the horizon. */
const SLACK_STEPS = 4;

export class LstmForecaster extends EventEmitter implements Forecaster {
  readonly name = 'lstm';
  private readonly opts: Required<LstmOptions>;
  private readonly history: Float64Array;
  private count = 0;
  private sinceTrain = 0;
  private attempted = false;
  private model: LstmModel | undefined;
  private predictions: number[] | undefined;
  private predOrigin = 0;
  private worker: Worker | undefined;
  private inFlight: 'train' | 'infer' | 'import' | undefined;
  private pendingOrigin = 0;
  /** An inference from the latest window is due. */
  private dirty = false;
  private dirtyTrain = false;
  private importPending = false;
  /** Normalisation of the training in flight. */
  private nextScale = { min: 0, max: 1 };
  private nextId = 1;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  trainings = 0;
  lastError: ForecastModelError | undefined;

  constructor(options: LstmOptions = {}) {
    super();
    const windowSize = options.windowSize ?? 12;
    this.opts = {
      windowSize,
      historySize: options.historySize ?? 600,
      minHistory: options.minHistory ?? 8 * windowSize,
      retrainEvery: options.retrainEvery ?? 288,
      hiddenSize: options.hiddenSize ?? 8,
      iterations: options.iterations ?? 60,
      errorThresh: options.errorThresh ?? 0.002,
      learningRate: options.learningRate ?? 0.01,
      maxHorizon: options.maxHorizon ?? 12,
    };
    for (const key of ['windowSize', 'historySize', 'minHistory', 'retrainEvery', 'hiddenSize', 'iterations', 'maxHorizon'] as const) {
      const v = this.opts[key];
      if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(key, `must be an integer >= 1, got ${v}`);
    }
    if (this.opts.minHistory < windowSize + 1 || this.opts.historySize < this.opts.minHistory) {
      throw new InvalidArgumentError('minHistory', `must be in [windowSize + 1, historySize], got ${this.opts.minHistory}`);
    }
    this.history = new Float64Array(this.opts.historySize);
  }

  /** Whether a trained (or imported) network is in use. */
  get trained(): boolean {
    return this.model !== undefined;
  }

  update(value: number): void {
    this.history[this.count % this.opts.historySize] = value;
    this.count++;
    this.sinceTrain++;
    if (this.closed) return;
    if (this.count >= this.opts.minHistory && (this.sinceTrain >= this.opts.retrainEvery || !this.attempted)) this.dirtyTrain = true;
    this.dirty = true;
    this.pump();
  }


  forecast(horizonSteps: number): number {
    checkHorizon(horizonSteps);
    const m = this.model;
    if (!m || !this.predictions) return Number.NaN;
    const v = this.predictions[horizonSteps - 1 + (this.count - this.predOrigin)];
    return v === undefined ? Number.NaN : m.min + v * (m.max - m.min || 1);
  }

  /** Resolves once no training or inference is in flight or due. */
  settle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  exportModel(): LstmModel | undefined {
    return this.model;
  }

  /** Uses a network saved by `exportModel` (of this or another instance with the same window size). */
  importModel(model: unknown): void {
    const m = model as Partial<LstmModel> | null;
    if (typeof m !== 'object' || m === null || m.version !== 1 || m.windowSize !== this.opts.windowSize || !Number.isFinite(m.min) || !Number.isFinite(m.max) || typeof m.net !== 'object' || m.net === null) {
      throw new ForecastModelError(this.name, 'import', `not an LSTM model of window size ${this.opts.windowSize}`);
    }
    if (this.closed) return;
    this.model = m as LstmModel;
    this.predictions = undefined;
    this.attempted = true;
    this.importPending = true;
    this.dirty = true;
    this.pump();
  }


  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.inFlight = undefined;
    this.dirty = false;
    this.dirtyTrain = false;
    if (w) await w.terminate();
    this.wakeIdle();
  }

  private idle(): boolean {
    return this.closed || (this.inFlight === undefined && !this.dirtyTrain && !this.importPending && (!this.dirty || !this.model));
  }

  private wakeIdle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Posts the next due job: an import, then a training, then an inference from the latest window. */
  private pump(): void {
    if (this.inFlight !== undefined || this.closed) return;
    if (this.importPending && this.model) {
      this.importPending = false;
      this.post({ type: 'import', id: this.nextId++, net: this.model.net });
    } else if (this.dirtyTrain) {
      this.dirtyTrain = false;
      this.attempted = true;
      this.sinceTrain = 0;
      this.post(this.trainRequest());
    } else if (this.dirty && this.model) {
      this.dirty = false;
      this.pendingOrigin = this.count;
      const window = this.recent(this.opts.windowSize).map((v) => this.normalise(v));
      this.post({ type: 'infer', id: this.nextId++, window, steps: this.opts.maxHorizon + SLACK_STEPS });
    }
    this.wakeIdle();
  }

  private trainRequest(): LstmRequest {
    const values = this.recent(Math.min(this.count, this.opts.historySize));
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    this.nextScale = { min, max };
    const x = values.map((v) => (v - min) / (max - min || 1));
    const len = this.opts.windowSize + 1;
    const stride = Math.max(1, Math.floor(this.opts.windowSize / 2));
    const sequences: number[][] = [];
    for (let end = x.length; end - len >= 0; end -= stride) sequences.push(x.slice(end - len, end));
    const { hiddenSize, iterations, errorThresh, learningRate } = this.opts;
    return { type: 'train', id: this.nextId++, sequences: sequences.reverse(), hiddenSize, iterations, errorThresh, learningRate };
  }


  private normalise(v: number): number {
    const m = this.model;
    return m ? (v - m.min) / (m.max - m.min || 1) : v;
  }

  /** The last n values, oldest first. */
  private recent(n: number): number[] {
    const out: number[] = [];
    for (let back = n - 1; back >= 0; back--) out.push(this.history[(this.count - 1 - back) % this.opts.historySize] ?? 0);
    return out;
  }

  private post(req: LstmRequest): void {
    this.inFlight = req.type;
    this.ensureWorker().postMessage(req);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./lstm-worker.js', import.meta.url));
    w.on('message', (res: LstmResponse) => this.onResponse(res));
    w.on('error', (err) => this.onWorkerGone(err));
    w.on('exit', (code) => {
      if (!this.closed) this.onWorkerGone(new Error(`worker exited with code ${code}`));
    });
    this.worker = w;
    return w;
  }

  private onWorkerGone(err: Error): void {
    if (this.closed) return;
    this.worker = undefined;
    this.fail(new ForecastModelError(this.name, 'worker', err.message, { cause: err }));
  }

  private fail(err: ForecastModelError): void {
    this.inFlight = undefined;
    this.lastError = err;
    if (err.operation !== 'train') this.model = undefined;
    this.predictions = undefined;
    this.emit('failed', err);
    this.pump();
  }

  private onResponse(res: LstmResponse): void {
    if (this.closed) return;
    const op = this.inFlight ?? 'infer';
    this.inFlight = undefined;
    switch (res.type) {
      case 'trained': {
        this.model = { version: 1, windowSize: this.opts.windowSize, ...this.nextScale, net: res.net };
        this.trainings++;
        this.dirty = true;
        const event: LstmTrainedEvent = { error: res.error, iterations: res.iterations, durationMs: res.durationMs, trainings: this.trainings };
        this.emit('trained', event);
        break;
      }
      case 'inferred':
        this.predictions = res.values;
        this.predOrigin = this.pendingOrigin;
        break;
      case 'imported':
        break;
      case 'failed':
        this.fail(new ForecastModelError(this.name, op, res.reason));
        return;
    }
    this.pump();
  }
}
