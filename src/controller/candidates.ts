/**
 * Building the planning copy of a cluster view and finding a task's best target in it: hard
 * constraints filter (the same `unmetConstraint` as placement), the cost model ranks, and with
 * many resources a sample is scored (the least loaded half, then random ones) instead of all.
 */
import { unmetConstraint, type Candidate, type PlacementRequest } from '../runtime/placement.js';
import { hostsOther, moveCost, taskValue, type Slot } from './cost.js';
import type { ClusterView, CostTerms, TaskView } from './model.js';
import type { ResolvedPolicy } from './options.js';
import { createPrng } from './prng.js';

export interface Planning {
  readonly view: ClusterView;
  readonly p: ResolvedPolicy;
  readonly slots: Map<string, Slot>;
  /** Slots ordered by P90 at the start of the tick (for sampling). */
  readonly byLoad: Slot[];
  /** Their P90 at the start of the tick, in the same order. */
  readonly startP90: Float64Array;
  /** The largest capacity of any resource, compute units. */
  readonly maxComputeUnits: number;
  readonly random: () => number;
}

export function buildPlanning(view: ClusterView, p: ResolvedPolicy): Planning {
  const slots = new Map<string, Slot>();
  for (const r of view.resources) {
    const reactive = p.policy === 'reactive';
    slots.set(r.id, {
      view: r,
      p50: reactive ? r.load : r.forecast.p50,
      p90: reactive ? r.load : Math.max(r.forecast.p90, r.forecast.p50),
      load: r.load,
      usedComputeUnits: r.usedComputeUnits,
      usedMemoryBytes: r.usedMemoryBytes,
      valueSum: 0,
      tasks: new Set(),
      names: new Map(),
      idle: r.idle,
    });
  }
  for (const t of view.tasks) {
    const s = slots.get(t.resource);
    if (!s) continue;
    s.valueSum += taskValue(t);
    s.tasks.add(t.id);
    s.names.set(t.task, (s.names.get(t.task) ?? 0) + 1);
  }
  const byLoad = [...slots.values()].sort((a, b) => a.p90 - b.p90 || (a.view.id < b.view.id ? -1 : 1));
  const startP90 = Float64Array.from(byLoad, (s) => s.p90);
  const maxComputeUnits = view.resources.reduce((m, r) => Math.max(m, r.device.computeUnits), 0);
  return { view, p, slots, byLoad, startP90, maxComputeUnits, random: createPrng((p.seed ^ Math.floor(view.nowMs)) >>> 0) };
}


function asCandidate(s: Slot, t: TaskView): Candidate {
  return {
    device: s.view.device,
    up: s.view.up,
    draining: s.view.draining,
    usedComputeUnits: s.usedComputeUnits,
    usedMemoryBytes: s.usedMemoryBytes,
    hosts: (x) => hostsOther(s, t, x),
  };
}

export function requestOf(t: TaskView): PlacementRequest {
  return { task: t.task, affinity: t.affinity, kernelKinds: t.kernelKinds, computeUnits: t.computeUnits, memoryBytes: t.memoryBytes };
}

export interface Target {
  slot: Slot;
  terms: CostTerms;
}

export interface TargetSearch {
  best: Target | undefined;
  /** The constraint that excluded most candidates, when none qualified. */
  binding: string | undefined;
}

/**
 * The cheapest target for `t` among slots that pass `accept` and the hard constraints. Idle
 * slots are left out unless `includeIdle`. `fullest` (for packing) walks the slots from the most
 * loaded down and scores the first `maxCandidates` that qualify, preferring the fuller of two
 * equally cheap ones (best fit), so packing fills resources instead of spreading over them.
 */
export function bestTarget(pl: Planning, t: TaskView, src: Slot, accept: (s: Slot) => boolean, includeIdle = false, fullest?: { belowP90: number }): TargetSearch {
  const req = requestOf(t);
  const unmet = new Map<string, number>();
  let best: Target | undefined;
  let qualified = 0;
  const consider = (s: Slot): void => {
    if (s === src || (s.idle && !includeIdle) || !accept(s)) return;
    if (s.view.failureProbability >= pl.p.failureThreshold) {
      unmet.set('failure-risk', (unmet.get('failure-risk') ?? 0) + 1);
      return;
    }
    const why = unmetConstraint(asCandidate(s, t), req);
    if (why) {
      unmet.set(why.constraint, (unmet.get(why.constraint) ?? 0) + 1);
      return;
    }
    qualified++;
    const terms = moveCost(t, src, s, pl.p, pl.view.linkBytesPerS);
    if (!best || better(terms, s, best, fullest !== undefined)) best = { slot: s, terms };
  };
  const all = pl.byLoad;
  if (fullest) {
    // Start below `belowP90` (by the tick's starting P90): fuller slots cannot take the task.
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pl.startP90[mid] ?? 0) <= fullest.belowP90) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && qualified < pl.p.maxCandidates; i--) consider(all[i] as Slot);
  } else if (all.length <= pl.p.maxCandidates + 1) all.forEach(consider);
  else {
    const head = Math.ceil(pl.p.maxCandidates / 2);
    for (let i = 0; i < head && i < all.length; i++) consider(all[i] as Slot);
    for (let k = head; k < pl.p.maxCandidates; k++) consider(all[head + Math.floor(pl.random() * (all.length - head))] as Slot);
  }
  let binding: string | undefined;
  if (!best) {
    let most = 0;
    for (const [c, n] of unmet) if (n > most) [binding, most] = [c, n];
  }
  return { best, binding };
}

function better(terms: CostTerms, s: Slot, best: Target, fullest: boolean): boolean {
  const a = terms.total;
  const b = best.terms.total;
  if (fullest && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b))) return s.p90 > best.slot.p90 || (s.p90 === best.slot.p90 && s.view.id < best.slot.view.id);
  return a < b || (a === b && s.view.id < best.slot.view.id);
}
