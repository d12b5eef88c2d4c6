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
  /** Values of history kept (step + 1, at most HISTORY_LENGTH). */
  private readonly historyLength: number;
  /** Per VM, demand MIPS now, one interval ago, ... (historyLength values each). */
  private readonly vmHistoryMips: Float64Array;
  /** Per host, the sum of its planned VMs' `vmHistoryMips`, kept up to date by assign / unassign. */
  private readonly hostHistoryMips: Float64Array;
  /** Hosts with VMs or load in the plan (for scans that only need those plus one empty host per kind). */
  readonly occupied = new Set<number>();
  /** Hosts of each kind (same cores, core MIPS and power table), by index; a cursor at the first that may be empty. */
  private readonly kindHosts: number[][] = [];
  private readonly kindOf: Int32Array;
  private readonly kindPos: Int32Array;
  private readonly kindCursor: number[] = [];

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
    this.kindOf = new Int32Array(H);
    this.kindPos = new Int32Array(H);
    const kinds = new Map<string, number>();
    const tables = new Map<unknown, number>();
    for (let h = 0; h < H; h++) {
      const table = view.hostPower(h);
      if (!tables.has(table)) tables.set(table, tables.size);
      const key = `${view.hostCores(h)}x${view.hostCoreMips(h)}p${tables.get(table)}r${view.hostRamMb(h)}`;
      let k = kinds.get(key);
      if (k === undefined) {
        k = kinds.size;
        kinds.set(key, k);
        this.kindHosts.push([]);
        this.kindCursor.push(0);
      }
      this.kindOf[h] = k;
      this.kindPos[h] = this.kindHosts[k]?.length ?? 0;
      this.kindHosts[k]?.push(h);
    }
    this.demandMips = new Float64Array(V);
    const L = (this.historyLength = Math.min(HISTORY_LENGTH, view.step + 1));
    this.vmHistoryMips = new Float64Array(V * L);
    this.hostHistoryMips = new Float64Array(H * L);
    for (let v = 0; v < V; v++) {
      this.demandMips[v] = view.vmDemandMips(v);
      const mips = view.vmMips(v);
      for (let i = 0; i < L; i++) this.vmHistoryMips[v * L + i] = (view.vmDemandAt(v, i) || 0) * mips;
    }
    for (let h = 0; h < H; h++) {
      const list = [...view.hostVms(h)];
      this.hostVms.push(list);
      let mips = 0;
      let ram = 0;
      for (const v of list) {
        this.vmHost[v] = h;
        mips += this.demandMips[v] ?? 0;
        ram += view.vmRamMb(v);
        this.addHistory(h, v, 1);
        if (view.vmMigrating(v)) this.busy[h] = 1;
      }
      this.usedMips[h] = mips;
      this.usedRam[h] = ram;
      this.startUtil[h] = mips / view.hostMips(h);
      if (list.length > 0) this.occupied.add(h);
    }
    for (let v = 0; v < V; v++) {
      const t = view.vmTarget(v);
      if (t < 0) continue;
      this.busy[t] = 1;
      this.occupied.add(t);
      this.usedMips[t] = (this.usedMips[t] ?? 0) + (this.demandMips[v] ?? 0);
      this.usedRam[t] = (this.usedRam[t] ?? 0) + view.vmRamMb(v);
    }
  }

  /** A host left with no VMs: exact zeros (no rounding residue from add / subtract), and back in the empty pool. */
  private emptied(h: number): void {
    this.usedMips[h] = 0;
    this.usedRam[h] = 0;
    this.hostHistoryMips.fill(0, h * this.historyLength, (h + 1) * this.historyLength);
    this.occupied.delete(h);
    const k = this.kindOf[h] ?? 0;
    this.kindCursor[k] = Math.min(this.kindCursor[k] ?? 0, this.kindPos[h] ?? 0);
  }

  /** Calls `fn` with the lowest-index empty host of each kind that `excluded` does not mark. */
  forEachFirstEmptyHost(excluded: Uint8Array | undefined, fn: (h: number) => void): void {
    this.kindHosts.forEach((hosts, k) => {
      let i = this.kindCursor[k] ?? 0;
      while (i < hosts.length && this.occupied.has(hosts[i] ?? 0)) i++;
      this.kindCursor[k] = i;
      while (i < hosts.length && (this.occupied.has(hosts[i] ?? 0) || excluded?.[hosts[i] ?? 0])) i++;
      if (i < hosts.length) fn(hosts[i] ?? 0);
    });
  }

  private addHistory(h: number, v: number, sign: number): void {
    const L = this.historyLength;
    const hh = this.hostHistoryMips;
    const vh = this.vmHistoryMips;
    for (let i = 0; i < L; i++) hh[h * L + i] = (hh[h * L + i] ?? 0) + sign * (vh[v * L + i] ?? 0);
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
    this.occupied.add(h);
    this.usedMips[h] = (this.usedMips[h] ?? 0) + (this.demandMips[v] ?? 0);
    this.usedRam[h] = (this.usedRam[h] ?? 0) + this.view.vmRamMb(v);
    this.addHistory(h, v, 1);
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
    this.addHistory(h, v, -1);
    this.vmHost[v] = -1;
    if (list?.length === 0 && !this.busy[h]) this.emptied(h);
  }

  /**
   * The host's load history if it held the plan's VMs (CloudSim: sum of the VMs' histories),
   * most recent first, zero tail trimmed; returns a shared scratch array and its length.
   */
  history(h: number): { values: Float64Array; length: number } {
    const out = this.scratch;
    const L = this.historyLength;
    const cap = this.view.hostMips(h);
    let n = L;
    for (let i = 0; i < L; i++) {
      const x = (this.hostHistoryMips[h * L + i] ?? 0) / cap;
      out[i] = x > 1e-12 ? x : 0;
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
