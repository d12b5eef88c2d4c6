/**
 * Many `ResourcePredictor`s with shared defaults: what the RMS's predictor supervisor holds.
 * `forecastAll` computes the cluster trend (per metric and horizon, the mean forecast change
 * over resources) and hands it to each predictor, which moves by its `clusterWeight` toward it.
 */
import { InvalidArgumentError, UnknownResourceError } from '../errors.js';
import type { FailureRisk } from './failure.js';
import { ResourcePredictor, type ClusterTrend, type Forecast, type ResourcePredictorOptions, type ResourcePredictorState } from './resource-predictor.js';

export type PredictorDefaults = Omit<ResourcePredictorOptions, 'resource'>;

export interface PredictorBankState {
  readonly version: 1;
  readonly predictors: ResourcePredictorState[];
}

export class PredictorBank {
  private readonly predictors = new Map<string, ResourcePredictor>();

  constructor(readonly defaults: PredictorDefaults) {}

  get size(): number {
    return this.predictors.size;
  }

  resources(): string[] {
    return [...this.predictors.keys()];
  }

  /** Adds a predictor for `resource` with the defaults, overridden by `options`; or from a saved state. */
  add(resource: string, options: Partial<PredictorDefaults> = {}, state?: ResourcePredictorState): ResourcePredictor {
    if (this.predictors.has(resource)) throw new InvalidArgumentError('resource', `${resource} already has a predictor`);
    const full: ResourcePredictorOptions = { ...this.defaults, ...options, resource };
    const p = state ? ResourcePredictor.fromJSON(state, full) : new ResourcePredictor(full);
    this.predictors.set(resource, p);
    return p;
  }

  get(resource: string): ResourcePredictor {
    const p = this.predictors.get(resource);
    if (!p) throw new UnknownResourceError(resource);
    return p;
  }

  async remove(resource: string): Promise<void> {
    const p = this.predictors.get(resource);
    this.predictors.delete(resource);
    await p?.close();
  }

  update(resource: string, timeMs: number, values: Readonly<Record<string, number | null>>): void {
    this.get(resource).update(timeMs, values);
  }

  /** Every resource's forecasts, each moved toward the cluster trend by its `clusterWeight`. */
  forecastAll(): Forecast[] {
    const usesCluster = (this.defaults.clusterWeight ?? 0) > 0;
    if (!usesCluster) {
      const out: Forecast[] = [];
      for (const p of this.predictors.values()) p.forecasts(undefined, out);
      return out;
    }
    const sums = new Map<string, { sum: number; n: number }>();
    for (const p of this.predictors.values()) {
      for (const f of p.forecasts()) {
        const change = f.p50 - p.lastValue(f.metric);
        if (!Number.isFinite(change)) continue;
        const key = `${f.metric}\u0000${f.horizonMs}`;
        const s = sums.get(key) ?? { sum: 0, n: 0 };
        s.sum += change;
        s.n++;
        sums.set(key, s);
      }
    }
    const trend: ClusterTrend = (metric, horizonMs) => {
      const s = sums.get(`${metric}\u0000${horizonMs}`);
      return s ? s.sum / s.n : undefined;
    };
    return [...this.predictors.values()].flatMap((p) => p.forecasts(trend));
  }

  failureRisks(horizonMs: number): Record<string, FailureRisk> {
    const out: Record<string, FailureRisk> = {};
    for (const [resource, p] of this.predictors) out[resource] = p.failureRisk(horizonMs);
    return out;
  }

  toJSON(): PredictorBankState {
    return { version: 1, predictors: [...this.predictors.values()].map((p) => p.toJSON()) };
  }

  static fromJSON(state: PredictorBankState, defaults: PredictorDefaults): PredictorBank {
    if (state?.version !== 1 || !Array.isArray(state.predictors)) throw new InvalidArgumentError('state', 'is not a PredictorBank state of version 1');
    const bank = new PredictorBank(defaults);
    for (const s of state.predictors) bank.add(s.resource, {}, s);
    return bank;
  }

  async close(): Promise<void> {
    await Promise.all([...this.predictors.values()].map((p) => p.close()));
  }
}
