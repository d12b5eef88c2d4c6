/**
 * The paper's baseline policies: NPA (no power management: every host at full power), DVFS (power
 * follows load, no migration), and `detector + MMT + PABFD + underload step` for THR, IQR, MAD
 * and LR. All place VMs at time 0 with PABFD.
 */
import { InvalidArgumentError } from '../../errors.js';
import { iqrDetector, lrDetector, madDetector, thresholdDetector, type OverloadDetector } from '../detectors.js';
import { consolidateUnderloadedHosts, pabfd, selectMinimumMigrationTime, unloadOverloadedHosts, type VmSelection } from '../placement.js';
import { SimPlan } from '../plan.js';
import type { SimPolicy, SimView } from '../types.js';

function allVms(view: SimView): number[] {
  return Array.from({ length: view.vmCount }, (_, v) => v);
}

/** PABFD of every VM by its current demand, honouring `detector`; VMs it cannot place go by capacity alone. */
export function initialPabfd(view: SimView, detector?: OverloadDetector): Int32Array {
  const plan = new SimPlan(view);
  const left = pabfd(plan, allVms(view), undefined, detector);
  if (detector && left.length > 0) pabfd(plan, left);
  return plan.vmHost;
}

/**
 * One consolidation round: unload overloaded hosts (selection until not overloaded), place those
 * VMs by PABFD on the other hosts, then the underload step. Returns the plan, whose
 * `migrations()` are the moves.
 */
export function consolidationRound(view: SimView, detector: OverloadDetector, select: VmSelection = selectMinimumMigrationTime): SimPlan {
  const plan = new SimPlan(view);
  const { overloaded, vms } = unloadOverloadedHosts(plan, detector, select);
  const unplaced = new Set(pabfd(plan, vms, overloaded, detector));
  const targets: number[] = [];
  for (const v of vms) {
    if (unplaced.has(v)) plan.assign(v, view.vmHost(v));
    else targets.push(plan.vmHost[v] ?? 0);
  }
  consolidateUnderloadedHosts(plan, detector, overloaded, targets);
  return plan;
}

export function createMigrationPolicy(name: string, detector: OverloadDetector, select: VmSelection = selectMinimumMigrationTime): SimPolicy {
  return {
    name,
    initialPlacement: (view) => initialPabfd(view, detector),
    decide: (view) => consolidationRound(view, detector, select).migrations(),
  };
}

/** No migration; power follows load (idle hosts off). */
export function createDvfsPolicy(): SimPolicy {
  return { name: 'dvfs', initialPlacement: (view) => initialPabfd(view), decide: () => [] };
}

/** No power management: every host draws its maximum power all the time; no migration. */
export function createNpaPolicy(): SimPolicy {
  return { name: 'npa', initialPlacement: (view) => initialPabfd(view), decide: () => [], energyModel: 'max-power' };
}

/** The paper's policy set, by name: `npa`, `dvfs`, `thr-mmt-X`, `iqr-mmt-S`, `mad-mmt-S`, `lr-mmt-S`. */
export function createBaselinePolicy(name: string): SimPolicy {
  if (name === 'npa') return createNpaPolicy();
  if (name === 'dvfs') return createDvfsPolicy();
  const m = /^(thr|iqr|mad|lr)-mmt-(\d+(?:\.\d+)?)$/.exec(name);
  const param = Number(m?.[2]);
  if (!m || !(param > 0)) throw new InvalidArgumentError('policy', `unknown policy ${JSON.stringify(name)} (npa, dvfs, thr-mmt-X, iqr-mmt-S, mad-mmt-S, lr-mmt-S, predictive-naive, godwit)`);
  const detector = m[1] === 'thr' ? thresholdDetector(param) : m[1] === 'iqr' ? iqrDetector(param) : m[1] === 'mad' ? madDetector(param) : lrDetector(param);
  return createMigrationPolicy(name, detector);
}
