/**
 * Per-VM demand forecasts for the forecast-driven simulator policies: one `ForecastSelector`
 * (godwit's forecasters with online selection) per VM, fed its demand (a fraction of its MIPS)
 * each interval, and the policy's own one-step forecast error against the naive forecast.
 */
import { ForecastSelector } from '../predict/selector.js';
import type { SimView } from './types.js';

export class VmForecasts {
  private readonly selectors: ForecastSelector[];
  /** Worst P50 over the horizons (and the value now), MIPS. */
  readonly p50: Float64Array;
  /** Worst P90 over the horizons (at least the P50 and the value now), MIPS. */
  readonly p90: Float64Array;
  /** Worst of P90 and point forecast over the horizons (and the value now), MIPS. */
  readonly worst: Float64Array;
  private readonly lastOneStep: Float64Array;
  private readonly lastValue: Float64Array;
  private absError = 0;
  private naiveAbsError = 0;
  private scored = 0;

  constructor(
    vms: number,
    private readonly horizons: readonly number[],
    windowSize: number,
  ) {
    this.selectors = Array.from({ length: vms }, () => new ForecastSelector({ horizons, windowSize }));
    this.p50 = new Float64Array(vms);
    this.p90 = new Float64Array(vms);
    this.worst = new Float64Array(vms);
    this.lastOneStep = new Float64Array(vms).fill(Number.NaN);
    this.lastValue = new Float64Array(vms).fill(Number.NaN);
  }

  /** Feeds every VM's demand now, scores the last one-step forecasts, and forecasts again. */
  observe(view: SimView): void {
    for (let v = 0; v < view.vmCount; v++) {
      const actual = view.vmDemandAt(v, 0);
      const prev = this.lastOneStep[v] ?? Number.NaN;
      if (!Number.isNaN(prev)) {
        this.absError += Math.abs(actual - prev);
        this.naiveAbsError += Math.abs(actual - (this.lastValue[v] ?? actual));
        this.scored++;
      }
      const s = this.selectors[v]!;
      s.update(actual);
      let p50 = actual;
      let p90 = actual;
      let worst = actual;
      for (const h of this.horizons) {
        const f = s.forecast(h);
        if (h === 1) this.lastOneStep[v] = f.point;
        if (Number.isFinite(f.p50)) p50 = Math.max(p50, f.p50);
        if (Number.isFinite(f.p90)) p90 = Math.max(p90, f.p90, f.p50);
        worst = Math.max(worst, f.p90, f.point);
      }
      this.lastValue[v] = actual;
      const mips = view.vmMips(v);
      const clamp = (x: number) => Math.min(Math.max(x, 0), 1) * mips;
      this.p50[v] = clamp(p50);
      this.p90[v] = clamp(p90);
      this.worst[v] = clamp(worst);
    }
  }

  /** One-step forecast error of the demand fraction: MAE, MASE against the naive forecast, count. */
  stats(): { forecastMae: number; forecastMase: number; forecastsScored: number } {
    return {
      forecastMae: this.scored > 0 ? this.absError / this.scored : Number.NaN,
      forecastMase: this.naiveAbsError > 0 ? this.absError / this.naiveAbsError : Number.NaN,
      forecastsScored: this.scored,
    };
  }
}
