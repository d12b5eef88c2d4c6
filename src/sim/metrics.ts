/**
 * The benchmark's metrics (Beloglazov & Buyya 2012), computed the way CloudSim's Helper does:
 * pooled ratios. `slatahMean` / `pdmMean` are the paper's per-host / per-VM means, for reference.
 *
 * - energy: trapezoid per frame per host, 0 for a frame that starts with the host at zero load;
 * - SLATAH = sum over hosts of time active with allocated < requested MIPS / sum of active time;
 * - PDM = MIPS x s a migrating VM asked for and did not get / MIPS x s asked for by all VMs;
 * - SLAV = SLATAH x PDM; ESV = energy (kWh) x SLAV.
 */

export interface SimMetrics {
  readonly energyKWh: number;
  readonly slatah: number;
  readonly pdm: number;
  readonly slav: number;
  readonly esv: number;
  readonly migrations: number;
  /** Paper's definition: mean over hosts of (violation time / active time). */
  readonly slatahMean: number;
  /** Paper's definition: mean over VMs of (degradation due to migration / requested). */
  readonly pdmMean: number;
}

export class MetricsAccumulator {
  energyJ = 0;
  migrations = 0;
  readonly hostActiveS: Float64Array;
  readonly hostViolationS: Float64Array;
  readonly vmRequested: Float64Array;
  readonly vmLostToMigration: Float64Array;

  constructor(hosts: number, vms: number) {
    this.hostActiveS = new Float64Array(hosts);
    this.hostViolationS = new Float64Array(hosts);
    this.vmRequested = new Float64Array(vms);
    this.vmLostToMigration = new Float64Array(vms);
  }

  finish(): SimMetrics {
    const sum = (a: Float64Array) => a.reduce((s, x) => s + x, 0);
    const active = sum(this.hostActiveS);
    const requested = sum(this.vmRequested);
    const slatah = active > 0 ? sum(this.hostViolationS) / active : 0;
    const pdm = requested > 0 ? sum(this.vmLostToMigration) / requested : 0;
    const energyKWh = this.energyJ / 3.6e6;
    const slav = slatah * pdm;
    return {
      energyKWh,
      slatah,
      pdm,
      slav,
      esv: energyKWh * slav,
      migrations: this.migrations,
      slatahMean: meanRatio(this.hostViolationS, this.hostActiveS),
      pdmMean: meanRatio(this.vmLostToMigration, this.vmRequested),
    };
  }
}

function meanRatio(num: Float64Array, den: Float64Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < den.length; i++) {
    const d = den[i] ?? 0;
    if (d > 0) {
      s += (num[i] ?? 0) / d;
      n++;
    }
  }
  return n > 0 ? s / n : 0;
}

/** Median of a list of numbers (NaN when empty). */
export function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? (s[n >> 1] ?? 0) : ((s[n / 2 - 1] ?? 0) + (s[n / 2] ?? 0)) / 2;
}
