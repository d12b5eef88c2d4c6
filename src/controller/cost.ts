/**
 * The cost of moving one task from one resource to another, term by term (see `CostTerms`).
 * Pure arithmetic over a planning copy of the cluster (`Slot`s), so a tick can try a move, see
 * its effect on later tasks, and the simulator can run exactly the same numbers.
 */
import { affinityScore } from '../runtime/placement.js';
import type { CostTerms, ResourceView, TaskView } from './model.js';
import type { ResolvedPolicy } from './options.js';

/** A resource during planning: its forecast as moves already planned this tick change it. */
export interface Slot {
  readonly view: ResourceView;
  /** Utilization forecasts (P50, P90) and now, after the moves planned so far. */
  p50: number;
  p90: number;
  load: number;
  usedComputeUnits: number;
  usedMemoryBytes: number;
  /** Sum of the values of the tasks on it. */
  valueSum: number;
  tasks: Set<string>;
  /** Task names on it, for co-location and anti-affinity. */
  names: Map<string, number>;
  idle: boolean;
}

/** Whether `s` hosts a task named or identified `x`, not counting `t` itself. */
export function hostsOther(s: Slot, t: TaskView, x: string): boolean {
  if (x === t.id) return false;
  if (s.tasks.has(x)) return true;
  const self = s.tasks.has(t.id) && x === t.task ? 1 : 0;
  return (s.names.get(x) ?? 0) > self;
}

/** Share of service a task misses at utilization `u`: 0 up to `safe`, then 1 - safe / u. */
export function shortfall(u: number, safe: number): number {
  return u <= safe ? 0 : 1 - safe / u;
}

/** Watts at utilization `u` (clamped to 0..1): the table when given, else the device's idle..peak line. */
export function powerAt(r: ResourceView, u: number): number {
  const x = Math.min(Math.max(u, 0), 1);
  const table = r.powerTableW;
  if (table && table.length >= 2) {
    const pos = x * (table.length - 1);
    const i = Math.min(Math.floor(pos), table.length - 2);
    const a = table[i] ?? 0;
    const b = table[i + 1] ?? a;
    return a + (b - a) * (pos - i);
  }
  const { idleW, peakW } = r.device.power;
  return idleW + (peakW - idleW) * x;
}

export function taskValue(t: TaskView): number {
  return t.value ?? 1;
}

/** The task's demand (P50, P90) in compute units of its current resource. */
export function demandOf(t: TaskView, p: ResolvedPolicy): { d50: number; d90: number; now: number } {
  if (p.policy === 'reactive' || !t.demandForecast) return { d50: t.demand, d90: t.demand, now: t.demand };
  return { d50: t.demandForecast.p50, d90: Math.max(t.demandForecast.p90, t.demandForecast.p50), now: t.demand };
}

/** Utilization the task adds to `to` (or takes from its own resource when `to` is `from`). */
export function utilizationOn(t: TaskView, units: number, from: Slot, to: Slot): number {
  const speedFrom = from.view.device.speedFor(t.task);
  const speedTo = to.view.device.speedFor(t.task);
  const ratio = speedTo > 0 ? speedFrom / speedTo : 1;
  return (units * ratio) / to.view.device.computeUnits;
}

/**
 * P90 of a resource after a task joins (sign +1) or leaves (sign -1): P50s add; the spreads
 * (P90 - P50) add in quadrature, as independent errors do, so a resource's P90 is not the sum
 * of its tasks' P90s. A task without a forecast has no spread and adds its demand to both.
 */
export function p90With(slot: Slot, t: TaskView, p: ResolvedPolicy, from: Slot, sign: 1 | -1): number {
  const { d50, d90 } = demandOf(t, p);
  const mid = Math.max(0, slot.p50 + sign * utilizationOn(t, d50, from, slot));
  const spread = slot.p90 - slot.p50;
  const own = utilizationOn(t, d90 - d50, from, slot);
  return mid + Math.sqrt(Math.max(0, spread * spread + sign * own * own));
}

export function moveCost(t: TaskView, src: Slot, tgt: Slot, p: ResolvedPolicy, linkBytesPerS: number): CostTerms {
  const h = p.horizonMs / 1000;
  const v = taskValue(t);
  const { d50 } = demandOf(t, p);
  const dec50 = utilizationOn(t, d50, src, src);
  const inc50 = utilizationOn(t, d50, src, tgt);
  const safe = p.safeUtilization;

  const stay = shortfall(src.p90, safe);
  const srcAfter = shortfall(p90With(src, t, p, src, -1), safe);
  const there = shortfall(tgt.p50 + inc50, safe);
  const thereBefore = shortfall(tgt.p50, safe);
  const own = v * (stay + src.view.failureProbability - (there + tgt.view.failureProbability)) * h;
  const neighbours = Math.max(0, src.valueSum - v) * (stay - srcAfter) * h;
  const gain = own + neighbours;
  const disruption = tgt.valueSum * (there - thereBefore) * h;

  const transferS = linkBytesPerS > 0 ? t.stateBytes / linkBytesPerS : 0;
  const degradation = v * (p.pauseMs / 1000 + p.preCopySlowdown * transferS);
  const transfer = p.transferWeight * transferS;

  let energy = 0;
  if (p.powerAware) {
    const deltaW = powerAt(src.view, src.p50 - dec50) - powerAt(src.view, src.p50) + powerAt(tgt.view, tgt.p50 + inc50) - powerAt(tgt.view, tgt.p50);
    energy = (p.energyWeightPerWh * deltaW * h) / 3600;
  }
  const moveCostTerm = t.moveCost ?? 0;
  const soft = t.affinity?.prefer !== undefined || t.affinity?.avoid !== undefined;
  const affinity = soft
    ? -(affinityScore(tgt.view.device, t.affinity, (x) => hostsOther(tgt, t, x)) - affinityScore(src.view.device, t.affinity, (x) => hostsOther(src, t, x))) * p.affinityWeight
    : 0;
  const total = degradation + transfer + disruption + energy + moveCostTerm + affinity - gain;
  return { degradation, transfer, disruption, energy, moveCost: moveCostTerm, affinity, gain, total };
}

/** Applies a planned move to the planning copy. */
export function applyMove(t: TaskView, src: Slot, tgt: Slot, p: ResolvedPolicy): void {
  const { d50, now } = demandOf(t, p);
  const tgt90 = p90With(tgt, t, p, src, 1);
  const src90 = p90With(src, t, p, src, -1);
  tgt.p50 += utilizationOn(t, d50, src, tgt);
  tgt.p90 = tgt90;
  tgt.load += utilizationOn(t, now, src, tgt);
  src.p50 = Math.max(0, src.p50 - utilizationOn(t, d50, src, src));
  src.p90 = src90;
  src.load = Math.max(0, src.load - utilizationOn(t, now, src, src));
  src.usedComputeUnits -= t.computeUnits;
  src.usedMemoryBytes -= t.memoryBytes;
  tgt.usedComputeUnits += t.computeUnits;
  tgt.usedMemoryBytes += t.memoryBytes;
  const v = taskValue(t);
  src.valueSum -= v;
  tgt.valueSum += v;
  src.tasks.delete(t.id);
  tgt.tasks.add(t.id);
  src.names.set(t.task, (src.names.get(t.task) ?? 1) - 1);
  tgt.names.set(t.task, (tgt.names.get(t.task) ?? 0) + 1);
}
