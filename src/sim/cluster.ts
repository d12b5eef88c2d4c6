/** The simulated cluster's mutable state (typed arrays), seen by policies as a read-only `SimView`. */
import type { PowerTable } from './power.js';
import type { SimSetup, SimView } from './types.js';

export class SimCluster implements SimView {
  step = 0;
  nowMs = 0;
  readonly intervalMs: number;
  readonly hostCount: number;
  readonly vmCount: number;
  readonly enforceRam: boolean;
  readonly hostTotalMips: Float64Array;
  readonly hostUsedRam: Float64Array;
  readonly vmsOn: number[][];
  readonly vmHostIdx: Int32Array;
  readonly vmTargetIdx: Int32Array;
  /** Absolute end time of the VM's migration in progress, ms (NaN: none). */
  readonly vmMigrationEndMs: Float64Array;
  private readonly stride: number;

  constructor(readonly setup: SimSetup) {
    const { hosts, workload } = setup;
    this.intervalMs = workload.intervalMs;
    this.hostCount = hosts.length;
    this.vmCount = workload.vmIds.length;
    this.enforceRam = setup.enforceRam;
    this.hostTotalMips = Float64Array.from(hosts, (h) => h.coreMips * h.cores);
    this.hostUsedRam = new Float64Array(this.hostCount);
    this.vmsOn = hosts.map(() => []);
    this.vmHostIdx = new Int32Array(this.vmCount).fill(-1);
    this.vmTargetIdx = new Int32Array(this.vmCount).fill(-1);
    this.vmMigrationEndMs = new Float64Array(this.vmCount).fill(Number.NaN);
    this.stride = workload.steps + 1;
  }

  hostId(h: number): string {
    return this.setup.hosts[h]?.id ?? '';
  }
  hostMips(h: number): number {
    return this.hostTotalMips[h] ?? 0;
  }
  hostCoreMips(h: number): number {
    return this.setup.hosts[h]?.coreMips ?? 0;
  }
  hostCores(h: number): number {
    return this.setup.hosts[h]?.cores ?? 0;
  }
  hostRamMb(h: number): number {
    return this.setup.hosts[h]?.ramMb ?? 0;
  }
  hostPower(h: number): PowerTable {
    return this.setup.hosts[h]?.power ?? [];
  }
  hostVms(h: number): readonly number[] {
    return this.vmsOn[h] ?? [];
  }
  hostUtilisation(h: number): number {
    let mips = 0;
    for (const v of this.vmsOn[h] ?? []) mips += this.vmDemandMips(v);
    return mips / (this.hostTotalMips[h] ?? 1);
  }
  hostActive(h: number): boolean {
    return this.hostUtilisation(h) > 0;
  }
  hostUtilisationHistory(h: number, out: Float64Array): number {
    const n = Math.min(out.length, this.step + 1);
    out.fill(0, 0, n);
    const cap = this.hostTotalMips[h] ?? 1;
    for (const v of this.vmsOn[h] ?? []) {
      const scale = this.vmMips(v) / cap;
      const base = v * this.stride + this.step;
      for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) + (this.setup.workload.demand[base - i] ?? 0) * scale;
    }
    return n;
  }
  vmId(v: number): string {
    return this.setup.workload.vmIds[v] ?? '';
  }
  vmMips(v: number): number {
    return this.setup.workload.vmMips[v] ?? 0;
  }
  vmRamMb(v: number): number {
    return this.setup.workload.vmRamMb[v] ?? 0;
  }
  vmHost(v: number): number {
    return this.vmHostIdx[v] ?? -1;
  }
  vmTarget(v: number): number {
    return this.vmTargetIdx[v] ?? -1;
  }
  vmMigrating(v: number): boolean {
    return (this.vmTargetIdx[v] ?? -1) >= 0;
  }
  vmDemandMips(v: number): number {
    return (this.setup.workload.demand[v * this.stride + this.step] ?? 0) * this.vmMips(v);
  }
  vmDemandAt(v: number, ago: number): number {
    const k = this.step - ago;
    return k < 0 || k >= this.stride ? Number.NaN : (this.setup.workload.demand[v * this.stride + k] ?? 0);
  }
  /** Demand fraction at sample k + f (0 <= f <= 1), linear between samples. */
  demandFraction(v: number, k: number, f: number): number {
    const d = this.setup.workload.demand;
    const i = v * this.stride + Math.min(k, this.stride - 1);
    const a = d[i] ?? 0;
    if (f <= 0 || k + 1 >= this.stride) return a;
    return a + ((d[i + 1] ?? a) - a) * f;
  }
  migrationSeconds(v: number): number {
    return this.vmRamMb(v) / this.setup.migrationMBps;
  }

  place(v: number, h: number): void {
    this.vmHostIdx[v] = h;
    this.vmsOn[h]?.push(v);
    this.hostUsedRam[h] = (this.hostUsedRam[h] ?? 0) + this.vmRamMb(v);
  }

  /** Starts a migration: the target reserves the VM's RAM now. */
  startMigration(v: number, target: number, nowMs: number): void {
    this.vmTargetIdx[v] = target;
    this.vmMigrationEndMs[v] = nowMs + this.migrationSeconds(v) * 1000;
    this.hostUsedRam[target] = (this.hostUsedRam[target] ?? 0) + this.vmRamMb(v);
  }

  /** Ends a migration: the VM moves to its target, the source frees its RAM. */
  finishMigration(v: number): void {
    const from = this.vmHostIdx[v] ?? -1;
    const to = this.vmTargetIdx[v] ?? -1;
    const list = this.vmsOn[from];
    if (list) list.splice(list.indexOf(v), 1);
    this.hostUsedRam[from] = (this.hostUsedRam[from] ?? 0) - this.vmRamMb(v);
    this.vmHostIdx[v] = to;
    this.vmsOn[to]?.push(v);
    this.vmTargetIdx[v] = -1;
    this.vmMigrationEndMs[v] = Number.NaN;
  }
}
