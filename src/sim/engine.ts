/**
 * The discrete-event engine. Virtual time advances interval by interval; inside an interval the
 * events are the ends of migrations, and each host's books are kept frame by frame between its
 * events, as CloudSim's PowerDatacenter does: a frame's state (who runs where, allocation,
 * violation) is the one at its start, energy is the trapezoid between the load at its start and
 * at its end, VM demand is linear between the 300 s samples (so the trapezoid is exact for a
 * power curve linear between table points, up to a crossing of a 10 % point).
 */
import { InvalidArgumentError } from '../errors.js';
import { SimCluster } from './cluster.js';
import { MetricsAccumulator, type SimMetrics } from './metrics.js';
import { SimPlan } from './plan.js';
import { pabfd } from './placement.js';
import { powerAt } from './power.js';
import type { SimPolicy, SimSetup, SimView } from './types.js';

export interface SimResult extends SimMetrics {
  readonly policy: string;
  /** Active (non-zero load) hosts at the start of each interval. */
  readonly activeHosts: Int32Array;
  /** VMs no host could take at time 0 (they are left out). */
  readonly unplacedVms: number;
  /** Migrations the engine refused (VM busy, target full, bad index). */
  readonly rejectedMigrations: number;
  readonly stats: Record<string, number>;
}

/** Default time-0 placement: PABFD of all VMs by their first demand sample, capacity only. */
export function defaultInitialPlacement(view: SimView): Int32Array {
  const plan = new SimPlan(view);
  pabfd(plan, Array.from({ length: view.vmCount }, (_, v) => v));
  return plan.vmHost;
}

interface HostFrameState {
  util: number;
  violated: boolean;
  scale: number;
}

export function runSimulation(setup: SimSetup, policy: SimPolicy): SimResult {
  const c = new SimCluster(setup);
  const { steps, intervalMs } = setup.workload;
  const H = c.hostCount;
  const V = c.vmCount;
  const m = new MetricsAccumulator(H, V);
  const activeHosts = new Int32Array(steps);
  const deg = setup.migrationDegradation;
  const intervalS = intervalMs / 1000;
  let rejected = 0;

  const init = policy.initialPlacement?.(c) ?? defaultInitialPlacement(c);
  let unplaced = 0;
  for (let v = 0; v < V; v++) {
    const h = init[v] ?? -1;
    if (h >= 0 && h < H) c.place(v, h);
    else unplaced++;
  }
  const maxPowerW = setup.hosts.reduce((s, h) => s + powerAt(h.power, 1), 0);
  const incoming: number[][] = Array.from({ length: H }, () => []);
  const events: number[][] = Array.from({ length: H }, () => []);
  const migrating: number[] = [];
  const state: HostFrameState = { util: 0, violated: false, scale: 1 };

  // Load of host h at fraction f of interval k, with migrations ending after `statusMs` still running.
  const hostState = (h: number, k: number, f: number, statusMs: number, lostFrameS: number): void => {
    const core = c.hostCoreMips(h);
    const cap = c.hostTotalMips[h] ?? 1;
    let req = 0;
    let want = 0;
    for (const v of c.vmsOn[h] ?? []) {
      const running = (c.vmMigrationEndMs[v] ?? Number.NaN) > statusMs;
      if (c.vmTargetIdx[v] !== -1 && !running) continue;
      const d = c.demandFraction(v, k, f) * c.vmMips(v);
      req += d;
      want += Math.min(d, core) * (running ? 1 - deg : 1);
    }
    for (const v of incoming[h] ?? []) {
      const d = c.demandFraction(v, k, f) * c.vmMips(v);
      if ((c.vmMigrationEndMs[v] ?? 0) > statusMs) want += deg * Math.min(d, core);
      else {
        req += d;
        want += Math.min(d, core);
      }
    }
    const scale = want > cap ? cap / want : 1;
    state.util = (want * scale) / cap;
    state.violated = want * scale < req - 1e-9;
    state.scale = scale;
    if (lostFrameS > 0) {
      for (const v of c.vmsOn[h] ?? []) {
        if (!((c.vmMigrationEndMs[v] ?? Number.NaN) > statusMs)) continue;
        const d = c.demandFraction(v, k, f) * c.vmMips(v);
        const got = Math.min(d, core) * (1 - deg) * scale;
        m.vmLostToMigration[v] = (m.vmLostToMigration[v] ?? 0) + Math.max(0, d - got) * lostFrameS;
      }
    }
  };

  for (let k = 0; k < steps; k++) {
    const t0 = k * intervalMs;
    const t1 = t0 + intervalMs;
    c.step = k;
    c.nowMs = t0;
    if (k > 0) {
      for (const mig of policy.decide(c, t0)) {
        const { vm, target } = mig;
        const from = c.vmHost(vm);
        if (
          !(vm >= 0 && vm < V && target >= 0 && target < H) ||
          from < 0 ||
          from === target ||
          c.vmMigrating(vm) ||
          (c.enforceRam && (c.hostUsedRam[target] ?? 0) + c.vmRamMb(vm) > c.hostRamMb(target) + 1e-9)
        ) {
          rejected++;
          continue;
        }
        c.startMigration(vm, target, t0);
        migrating.push(vm);
        m.migrations++;
      }
    }
    for (const v of migrating) {
      const to = c.vmTargetIdx[v] ?? -1;
      incoming[to]?.push(v);
      const end = c.vmMigrationEndMs[v] ?? 0;
      if (end < t1) {
        events[c.vmHostIdx[v] ?? 0]?.push(end);
        events[to]?.push(end);
      }
    }
    let active = 0;
    for (let h = 0; h < H; h++) {
      const ev = events[h] ?? [];
      if (ev.length > 1) ev.sort((a, b) => a - b);
      const table = c.setup.hosts[h]?.power ?? [];
      let a = t0;
      for (let i = 0; i <= ev.length; i++) {
        const b = i < ev.length ? (ev[i] ?? t1) : t1;
        if (b <= a) continue;
        const dtS = (b - a) / 1000;
        hostState(h, k, (a - t0) / intervalMs, a, dtS);
        const u0 = state.util;
        if (a === t0 && u0 > 0) active++;
        if (u0 > 0) {
          m.hostActiveS[h] = (m.hostActiveS[h] ?? 0) + dtS;
          if (state.violated) m.hostViolationS[h] = (m.hostViolationS[h] ?? 0) + dtS;
        }
        hostState(h, k, (b - t0) / intervalMs, a, 0);
        if (u0 > 0) m.energyJ += ((powerAt(table, u0) + powerAt(table, state.util)) / 2) * dtS;
        a = b;
      }
      ev.length = 0;
      (incoming[h] ?? []).length = 0;
    }
    activeHosts[k] = active;
    for (let v = 0; v < V; v++) {
      if ((c.vmHostIdx[v] ?? -1) >= 0) m.vmRequested[v] = (m.vmRequested[v] ?? 0) + c.demandFraction(v, k, 0) * c.vmMips(v) * intervalS;
    }
    for (let i = migrating.length - 1; i >= 0; i--) {
      const v = migrating[i] ?? 0;
      if ((c.vmMigrationEndMs[v] ?? 0) <= t1) {
        c.finishMigration(v);
        migrating.splice(i, 1);
      }
    }
  }
  if (policy.energyModel === 'max-power') m.energyJ = maxPowerW * (steps * intervalS);
  return { policy: policy.name, ...m.finish(), activeHosts, unplacedVms: unplaced, rejectedMigrations: rejected, stats: policy.stats?.() ?? {} };
}

export function checkSetup(setup: SimSetup): void {
  const { workload } = setup;
  if (workload.demand.length !== workload.vmIds.length * (workload.steps + 1)) {
    throw new InvalidArgumentError('workload.demand', `needs ${workload.vmIds.length} x ${workload.steps + 1} samples, got ${workload.demand.length}`);
  }
  if (!(setup.migrationMBps > 0)) throw new InvalidArgumentError('migrationMBps', `must be > 0, got ${setup.migrationMBps}`);
}
