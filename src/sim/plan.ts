/**
 * A tentative placement built from a `SimView` at a decision time: policies move VMs around in
 * it (as CloudSim's allocation policy does with vmCreate / vmDestroy between saveAllocation and
 * restoreAllocation) and turn the differences into migrations at the end.
 */
import type { SimMigration, SimView } from './types.js';

export const HISTORY_LENGTH = 30;

export class SimPlan {
  /** Requested MIPS of the VMs the plan has on each host (a VM migrating in counts on its target). */
  readonly usedMips: Float64Array;
  readonly usedRam: Float64Array;
  readonly hostVms: number[][];
  readonly vmHost: Int32Array;
  readonly demandMips: Float64Array;
  /** Utilisation of each host when the plan was made (CloudSim's stale `getUtilizationOfCpu`). */
  readonly startUtil: Float64Array;
  /** Hosts with a migration in or out in progress. */
  readonly busy: Uint8Array;
  private readonly scratch = new Float64Array(HISTORY_LENGTH);

  constructor(
    readonly view: SimView,
    private readonly enforceRam = view.enforceRam,
  ) {
    const H = view.hostCount;
    const V = view.vmCount;
    this.usedMips = new Float64Array(H);
    this.usedRam = new Float64Array(H);
    this.startUtil = new Float64Array(H);
    this.busy = new Uint8Array(H);
    this.hostVms = [];
    this.vmHost = new Int32Array(V).fill(-1);
    this.demandMips = new Float64Array(V);
    for (let v = 0; v < V; v++) this.demandMips[v] = view.vmDemandMips(v);
    for (let h = 0; h < H; h++) {
      const list = [...view.hostVms(h)];
      this.hostVms.push(list);
      let mips = 0;
      let ram = 0;
      for (const v of list) {
        this.vmHost[v] = h;
        mips += this.demandMips[v] ?? 0;
        ram += view.vmRamMb(v);
        if (view.vmMigrating(v)) this.busy[h] = 1;
      }
      this.usedMips[h] = mips;
      this.usedRam[h] = ram;
      this.startUtil[h] = mips / view.hostMips(h);
    }
    for (let v = 0; v < V; v++) {
      const t = view.vmTarget(v);
      if (t < 0) continue;
      this.busy[t] = 1;
      this.usedMips[t] = (this.usedMips[t] ?? 0) + (this.demandMips[v] ?? 0);
      this.usedRam[t] = (this.usedRam[t] ?? 0) + view.vmRamMb(v);
    }
  }

  utilisation(h: number): number {
    return (this.usedMips[h] ?? 0) / this.view.hostMips(h);
  }

  /** CloudSim's isSuitableForVm: free MIPS, one core big enough, free RAM. */
  fits(v: number, h: number): boolean {
    const d = this.demandMips[v] ?? 0;
    const view = this.view;
    return (
      d <= view.hostCoreMips(h) &&
      (this.usedMips[h] ?? 0) + d <= view.hostMips(h) + 1e-9 &&
      (!this.enforceRam || (this.usedRam[h] ?? 0) + view.vmRamMb(v) <= view.hostRamMb(h) + 1e-9)
    );
  }

  assign(v: number, h: number): void {
    this.unassign(v);
    this.vmHost[v] = h;
    this.hostVms[h]?.push(v);
    this.usedMips[h] = (this.usedMips[h] ?? 0) + (this.demandMips[v] ?? 0);
    this.usedRam[h] = (this.usedRam[h] ?? 0) + this.view.vmRamMb(v);
  }

  unassign(v: number): void {
    const h = this.vmHost[v] ?? -1;
    if (h < 0) return;
    const list = this.hostVms[h];
    if (list) {
      const i = list.lastIndexOf(v);
      if (i >= 0) list.splice(i, 1);
    }
    this.usedMips[h] = (this.usedMips[h] ?? 0) - (this.demandMips[v] ?? 0);
    this.usedRam[h] = (this.usedRam[h] ?? 0) - this.view.vmRamMb(v);
    this.vmHost[v] = -1;
  }

  /**
   * The host's load history if it held the plan's VMs (CloudSim: sum of the VMs' histories),
   * most recent first, zero tail trimmed; returns a shared scratch array and its length.
   */
  history(h: number): { values: Float64Array; length: number } {
    const out = this.scratch;
    const view = this.view;
    let n = Math.min(out.length, view.step + 1);
    out.fill(0);
    const cap = view.hostMips(h);
    for (const v of this.hostVms[h] ?? []) {
      const scale = view.vmMips(v) / cap;
      for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) + (view.vmDemandAt(v, i) || 0) * scale;
    }
    while (n > 0 && out[n - 1] === 0) n--;
    return { values: out, length: n };
  }

  /** VMs whose planned host differs from where they are: the migrations to start. */
  migrations(): SimMigration[] {
    const out: SimMigration[] = [];
    const V = this.view.vmCount;
    for (let v = 0; v < V; v++) {
      const target = this.vmHost[v] ?? -1;
      const from = this.view.vmHost(v);
      if (target >= 0 && from >= 0 && target !== from && !this.view.vmMigrating(v)) out.push({ vm: v, target });
    }
    return out;
  }
}
