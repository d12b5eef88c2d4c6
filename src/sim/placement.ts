/**
 * The placement steps every consolidation policy shares (Beloglazov & Buyya 2012, as in CloudSim's
 * PowerVmAllocationPolicyMigrationAbstract): power-aware best fit decreasing (PABFD), minimum
 * migration time (MMT) selection, unloading overloaded hosts, and the underload step that tries
 * to empty the least loaded hosts.
 */
import type { OverloadDetector } from './detectors.js';
import type { SimPlan } from './plan.js';
import { powerAt } from './power.js';

/**
 * Power increase (W) of host `h` if VM `v` joined it, from the host's current planned load
 * (CloudSim: P(after) - P(now), P(0) being the idle power even for a switched-off host);
 * NaN when the load would pass 100 %.
 */
export function powerIncrease(plan: SimPlan, h: number, v: number): number {
  const cap = plan.view.hostMips(h);
  const used = plan.usedMips[h] ?? 0;
  const after = (used + (plan.demandMips[v] ?? 0)) / cap;
  if (after > 1 + 1e-12) return Number.NaN;
  const table = plan.view.hostPower(h);
  return powerAt(table, after) - powerAt(table, used / cap);
}

function overloadedWith(plan: SimPlan, h: number, v: number, detector: OverloadDetector): boolean {
  plan.assign(v, h);
  const over = detector.overloaded(plan, h);
  plan.unassign(v);
  return over;
}

/**
 * PABFD's host choice for one VM: among hosts not excluded where it fits and that do not become
 * overloaded (checked only for hosts already loaded, as CloudSim does), the one whose power rises
 * least; lowest index on ties; -1 if none. Empty hosts of one kind all cost the same, so only the
 * first of each kind is tried; `allowEmpty: false` leaves empty hosts out.
 */
export function findHostForVm(plan: SimPlan, v: number, excluded: Uint8Array | undefined, detector?: OverloadDetector, allowEmpty = true): number {
  const from = plan.vmHost[v] ?? -1;
  if (from >= 0) plan.unassign(v);
  let best = -1;
  let bestDiff = Infinity;
  const consider = (h: number): void => {
    if (excluded?.[h] || !plan.fits(v, h)) return;
    const diff = powerIncrease(plan, h, v);
    if (!(diff < bestDiff || (diff === bestDiff && h < best))) return;
    if (detector && (plan.usedMips[h] ?? 0) !== 0 && overloadedWith(plan, h, v, detector)) return;
    best = h;
    bestDiff = diff;
  };
  for (const h of [...plan.occupied]) consider(h);
  if (allowEmpty) plan.forEachFirstEmptyHost(excluded, consider);
  if (from >= 0) plan.assign(v, from);
  return best;
}

/** VMs by current demand, largest first (stable). */
export function sortByDemandDesc(plan: SimPlan, vms: readonly number[]): number[] {
  return [...vms].sort((a, b) => (plan.demandMips[b] ?? 0) - (plan.demandMips[a] ?? 0));
}

/** Power-aware best fit decreasing: places `vms` in the plan; returns the VMs no host could take. */
export function pabfd(plan: SimPlan, vms: readonly number[], excluded?: Uint8Array, detector?: OverloadDetector): number[] {
  const unplaced: number[] = [];
  for (const v of sortByDemandDesc(plan, vms)) {
    const h = findHostForVm(plan, v, excluded, detector);
    if (h < 0) unplaced.push(v);
    else plan.assign(v, h);
  }
  return unplaced;
}

/** MMT: the host's VM with the least RAM that is not migrating (first on ties); -1 if none. */
export function selectMinimumMigrationTime(plan: SimPlan, h: number): number {
  let best = -1;
  let bestRam = Infinity;
  for (const v of plan.hostVms[h] ?? []) {
    if (plan.view.vmMigrating(v)) continue;
    const ram = plan.view.vmRamMb(v);
    if (ram < bestRam) {
      best = v;
      bestRam = ram;
    }
  }
  return best;
}

export type VmSelection = (plan: SimPlan, h: number) => number;

/** Overloaded hosts (a 0/1 flag per host) and the VMs taken off them, one by one, until each is no longer overloaded. */
export function unloadOverloadedHosts(
  plan: SimPlan,
  detector: OverloadDetector,
  select: VmSelection = selectMinimumMigrationTime,
): { overloaded: Uint8Array; vms: number[] } {
  const H = plan.view.hostCount;
  const overloaded = new Uint8Array(H);
  for (let h = 0; h < H; h++) if (detector.overloaded(plan, h)) overloaded[h] = 1;
  const vms: number[] = [];
  for (let h = 0; h < H; h++) {
    if (!overloaded[h]) continue;
    for (;;) {
      const v = select(plan, h);
      if (v < 0) break;
      vms.push(v);
      plan.unassign(v);
      if (!detector.overloaded(plan, h)) break;
    }
  }
  return { overloaded, vms };
}

/**
 * The underload step: hosts by utilisation at plan time, least loaded first; a host whose VMs all
 * fit elsewhere (PABFD on active, non-overloaded hosts, none overloaded after) is emptied,
 * otherwise left as it is. Hosts that receive VMs (here or in `targets`) are not emptied.
 * Returns the number of hosts emptied.
 */
export function consolidateUnderloadedHosts(plan: SimPlan, detector: OverloadDetector | undefined, overloaded: Uint8Array, targets: Iterable<number>): number {
  const H = plan.view.hostCount;
  const noSource = new Uint8Array(H);
  const noTarget = new Uint8Array(H);
  for (let h = 0; h < H; h++) {
    if (overloaded[h] || !((plan.startUtil[h] ?? 0) > 0)) {
      noSource[h] = 1;
      noTarget[h] = 1;
    }
  }
  for (const t of targets) noSource[t] = 1;
  const order: number[] = [];
  for (let h = 0; h < H; h++) if (!noSource[h] && (plan.startUtil[h] ?? 0) < 1) order.push(h);
  order.sort((a, b) => (plan.startUtil[a] ?? 0) - (plan.startUtil[b] ?? 0) || a - b);
  let emptied = 0;
  for (const h of order) {
    if (noSource[h] || plan.busy[h]) continue;
    noSource[h] = 1;
    noTarget[h] = 1;
    const vms = (plan.hostVms[h] ?? []).filter((v) => !plan.view.vmMigrating(v));
    if (vms.length === 0) continue;
    const moved: number[] = [];
    let ok = true;
    for (const v of sortByDemandDesc(plan, vms)) {
      const t = findHostForVm(plan, v, noTarget, detector, false);
      if (t < 0) {
        ok = false;
        break;
      }
      plan.assign(v, t);
      moved.push(v);
    }
    if (!ok) {
      for (const v of moved) plan.assign(v, h);
      continue;
    }
    for (const v of moved) noSource[plan.vmHost[v] ?? 0] = 1;
    emptied++;
  }
  return emptied;
}
