/**
 * Power-aware mode: wake an idle resource before the active ones run hot, idle resources left
 * empty, and pack the least loaded resources into others when the energy saved over the horizon
 * outweighs the cost of the moves. A pack is all or nothing: a resource is emptied only when
 * every task on it has a target that stays under `packUtilization` (P90) and the damper allows
 * every move.
 */
import { powerAt, p90With, utilizationOn, demandOf, type Slot } from './cost.js';
import { bestTarget, type Planning } from './candidates.js';
import type { CostTerms, TaskView } from './model.js';
import type { TickContext } from './plan.js';

type Saved = Pick<Slot, 'p50' | 'p90' | 'load' | 'usedComputeUnits' | 'usedMemoryBytes' | 'valueSum'>;

function save(s: Slot): Saved {
  return { p50: s.p50, p90: s.p90, load: s.load, usedComputeUnits: s.usedComputeUnits, usedMemoryBytes: s.usedMemoryBytes, valueSum: s.valueSum };
}

function usable(pl: Planning, s: Slot): boolean {
  return s.view.up && !s.view.draining && s.view.failureProbability < pl.p.failureThreshold;
}

/** P90 utilization of the active resources' pooled capacity. */
function activeUtilization(pl: Planning, without?: Slot): number {
  let cap = 0;
  let used = 0;
  for (const s of pl.slots.values()) {
    if (s.idle || !usable(pl, s) || s === without) continue;
    cap += s.view.device.computeUnits;
    used += s.p90 * s.view.device.computeUnits;
  }
  return cap > 0 ? used / cap : Infinity;
}

export function packAndWake(pl: Planning, ctx: TickContext, tasks: readonly TaskView[]): void {
  const p = pl.p;
  if (activeUtilization(pl) > p.wakeUtilization) {
    const sleeping = [...pl.slots.values()].filter((s) => s.idle && usable(pl, s)).sort((a, b) => powerAt(a.view, 0) - powerAt(b.view, 0) || (a.view.id < b.view.id ? -1 : 1));
    const wake = sleeping[0];
    if (wake) {
      wake.idle = false;
      ctx.record(null, wake, 'wake', 'predicted-load', null, null);
    }
    return;
  }
  const touched = new Set<string>();
  for (const d of ctx.decisions) if (d.to) touched.add(d.to);

  for (const s of [...pl.slots.values()].sort((a, b) => powerAt(b.view, 0) - powerAt(a.view, 0) || (a.view.id < b.view.id ? -1 : 1))) {
    if (s.idle || !usable(pl, s) || s.tasks.size > 0 || touched.has(s.view.id)) continue;
    if (activeUtilization(pl, s) > p.wakeUtilization) continue;
    s.idle = true;
    ctx.record(null, s, 'idle', 'empty', null, null);
  }

  const byResource = new Map<string, TaskView[]>();
  for (const t of tasks) {
    const list = byResource.get(t.resource);
    if (list) list.push(t);
    else byResource.set(t.resource, [t]);
  }
  const sources = [...pl.slots.values()].filter((s) => !s.idle && usable(pl, s) && s.tasks.size > 0 && !touched.has(s.view.id)).sort((a, b) => a.p90 - b.p90 || (a.view.id < b.view.id ? -1 : 1));
  const emptied = new Set<Slot>();
  let failures = 0;
  for (const src of sources) {
    // Lightest first: after `maxPackFailures` in a row, heavier ones will not empty either.
    if (failures >= p.maxPackFailures) break;
    const list = byResource.get(src.view.id) ?? [];
    // Children and moving tasks stay with their resource: a resource that has any is not packed.
    if (list.length !== src.tasks.size || list.some((t) => t.immovable)) continue;
    if (!tryPack(pl, ctx, src, list, emptied)) {
      failures++;
      continue;
    }
    failures = 0;
    emptied.add(src);
  }
}

function tryPack(pl: Planning, ctx: TickContext, src: Slot, list: TaskView[], emptied: Set<Slot>): boolean {
  const p = pl.p;
  const before = new Map<Slot, Saved>();
  const plan: Array<{ t: TaskView; tgt: Slot; terms: CostTerms }> = [];
  const keep = (s: Slot) => {
    if (!before.has(s)) before.set(s, save(s));
  };
  keep(src);
  let total = 0;
  const order = [...list].sort((a, b) => demandOf(b, p).d90 - demandOf(a, p).d90 || (a.id < b.id ? -1 : 1));
  let ok = true;
  for (const t of order) {
    const d90 = demandOf(t, p).d90;
    const { best } = bestTarget(pl, t, src, (s) => !emptied.has(s) && p90With(s, t, p, src, 1) <= p.packUtilization, false, {
      belowP90: p.packUtilization - d90 / Math.max(pl.maxComputeUnits, 1e-9),
    });
    if (!best || !ctx.allows(t, src, best.slot)) {
      ok = false;
      break;
    }
    keep(best.slot);
    plan.push({ t, tgt: best.slot, terms: best.terms });
    total += best.terms.total;
    // Tentatively account the move so the next task sees the target's new load.
    const p90 = p90With(best.slot, t, p, src, 1);
    best.slot.p50 += utilizationOn(t, demandOf(t, p).d50, src, best.slot);
    best.slot.p90 = p90;
    best.slot.usedComputeUnits += t.computeUnits;
    best.slot.usedMemoryBytes += t.memoryBytes;
  }
  for (const [s, v] of before) Object.assign(s, v);
  const savedWh = (powerAt(src.view, 0) * p.horizonMs) / 1000 / 3600;
  const net = total - p.energyWeightPerWh * savedWh;
  if (!ok || plan.length === 0 || net >= p.migrationThreshold - p.hysteresis) return false;
  // All or nothing: the budgets must have room for every move of the pack.
  const perResource = new Map<string, number>([[src.view.id, plan.length]]);
  for (const m of plan) perResource.set(m.tgt.view.id, (perResource.get(m.tgt.view.id) ?? 0) + 1);
  if (!ctx.hasRoom(plan.length, perResource)) return false;
  for (const m of plan) ctx.tryMove(m.t, src, m.tgt, m.terms, 'pack', 'power-pack');
  if (src.tasks.size === 0) {
    src.idle = true;
    ctx.record(null, src, 'idle', 'packed', null, null);
  }
  return true;
}
