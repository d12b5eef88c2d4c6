/**
 * One control interval of the migration controller, as a pure function of a cluster view:
 *   1. evacuate resources whose predicted failure probability reaches the threshold (most valuable
 *      task first, within the move budget);
 *   2. for every other active task, most at risk first (then most valuable, then least state): score the best alternative resource and
 *      move when the cost is below `migrationThreshold - hysteresis`;
 *   3. in power-aware mode, pack lightly loaded resources into others and idle the emptied ones,
 *      or wake one when the active ones are predicted to run hot.
 * Each move planned updates the planning copy, so later tasks see it. Every decision, moves and
 * reasons not to move, carries the numbers behind it.
 */
import { applyMove, demandOf, shortfall, taskValue, type Slot } from './cost.js';
import { bestTarget, buildPlanning, type Planning } from './candidates.js';
import type { Damper } from './damping.js';
import type { ClusterView, CostTerms, Decision, DecisionAction, TaskView } from './model.js';
import type { ResolvedPolicy } from './options.js';
import { packAndWake } from './packing.js';

export interface PlanResult {
  decisions: Decision[];
  /** Tasks looked at (top-level, not moving). */
  evaluated: number;
}

export function planTick(view: ClusterView, p: ResolvedPolicy, damper: Damper): PlanResult {
  const pl = buildPlanning(view, p);
  const ctx = new TickContext(pl, damper);
  const movable = view.tasks.filter((t) => t.parent === undefined && !t.moving);
  const failing = new Set([...pl.slots.values()].filter((s) => s.view.up && s.view.failureProbability >= p.failureThreshold).map((s) => s.view.id));

  // 1. Predicted failure: evacuate, most valuable first.
  const evacuees = movable.filter((t) => failing.has(t.resource)).sort((a, b) => taskValue(b) - taskValue(a) || (a.id < b.id ? -1 : 1));
  for (const t of evacuees) {
    const src = pl.slots.get(t.resource) as Slot;
    if (t.immovable) {
      ctx.record(t, src, 'stay', 'immovable', null, null);
      continue;
    }
    const { best, binding } = bestTarget(pl, t, src, () => true, true);
    if (!best) ctx.record(t, src, 'unplaceable', binding ?? 'no-candidate', null, null);
    else ctx.tryMove(t, src, best.slot, best.terms, 'evacuate', 'predicted-failure');
  }

  // 2. Balance: every other task, most at risk first.
  const risk = (t: TaskView): number => {
    const s = pl.slots.get(t.resource);
    return s ? shortfall(s.p90, p.safeUtilization) + s.view.failureProbability : 0;
  };
  const rest = movable.filter((t) => !failing.has(t.resource) && pl.slots.has(t.resource)).map((t) => ({ t, r: risk(t) }));
  // Most at risk first; among equals the most valuable, then the cheapest to move (least state, as MMT).
  rest.sort((a, b) => b.r - a.r || taskValue(b.t) - taskValue(a.t) || a.t.stateBytes - b.t.stateBytes || (a.t.id < b.t.id ? -1 : 1));
  for (const { t } of rest) {
    const src = pl.slots.get(t.resource) as Slot;
    const atRisk = risk(t) > 0;
    const soft = t.affinity?.prefer !== undefined || t.affinity?.avoid !== undefined;
    if (!atRisk && !soft) continue; // nothing to gain anywhere: no candidate can lower its cost below 0
    if (t.immovable) {
      if (atRisk) ctx.record(t, src, 'stay', 'immovable', null, null);
      continue;
    }
    // Power-aware: fill the fullest resources that stay safe (best fit) rather than spread.
    const fill = p.powerAware ? { belowP90: p.safeUtilization - demandOf(t, p).d90 / Math.max(pl.maxComputeUnits, 1e-9) } : undefined;
    let { best, binding } = bestTarget(pl, t, src, () => true, false, fill);
    if (p.powerAware && (!best || best.terms.total >= ctx.bar(t))) {
      const woken = bestTarget(pl, t, src, (s) => s.idle, true);
      if (woken.best && woken.best.terms.total < (best?.terms.total ?? Infinity)) best = woken.best;
      binding ??= woken.binding;
    }
    if (!best) {
      if (atRisk) ctx.record(t, src, 'unplaceable', binding ?? 'no-candidate', null, null);
      continue;
    }
    if (best.terms.total >= ctx.bar(t)) {
      if (best.terms.gain > 0 || atRisk) ctx.record(t, src, 'stay', best.terms.total >= p.migrationThreshold ? 'no-gain' : 'above-threshold', best.slot, best.terms);
      continue;
    }
    const reason = src.p90 > p.safeUtilization ? 'predicted-overload' : src.view.failureProbability > 0 ? 'failure-risk' : best.terms.affinity < 0 ? 'affinity' : 'gain';
    ctx.tryMove(t, src, best.slot, best.terms, 'move', reason);
  }

  // 3. Power: pack, idle, wake.
  if (p.powerAware) packAndWake(pl, ctx, movable.filter((t) => !ctx.moved.has(t.id)));
  return { decisions: ctx.decisions, evaluated: movable.length };
}

/** The decisions of one tick and the damper's say on each move. */
export class TickContext {
  readonly decisions: Decision[] = [];
  readonly moved = new Set<string>();
  inFlight: number;

  constructor(
    readonly pl: Planning,
    private readonly damper: Damper,
  ) {
    this.inFlight = pl.view.inFlight;
  }

  /** A move must cost less than this. */
  bar(t: TaskView): number {
    return this.pl.p.migrationThreshold - this.pl.p.hysteresis * taskValue(t);
  }

  record(t: TaskView | null, src: Slot, action: DecisionAction, reason: string, to: Slot | null, terms: CostTerms | null): Decision {
    const d: Decision = {
      atMs: this.pl.view.nowMs,
      task: t?.id ?? null,
      resource: src.view.id,
      to: to?.view.id ?? null,
      action,
      reason,
      terms,
      threshold: this.pl.p.migrationThreshold,
      executed: false,
    };
    this.decisions.push(d);
    return d;
  }

  /** Plans the move unless the damper blocks it; returns whether it was planned. */
  tryMove(t: TaskView, src: Slot, tgt: Slot, terms: CostTerms, action: 'move' | 'evacuate' | 'pack', reason: string): boolean {
    const now = this.pl.view.nowMs;
    const blocked = this.damper.check(t.id, tgt.view.id, src.view.id, now, this.inFlight);
    if (blocked) {
      this.record(t, src, 'stay', blocked, tgt, terms);
      return false;
    }
    if (tgt.idle) {
      tgt.idle = false;
      this.record(null, tgt, 'wake', `placing ${t.id}`, null, null);
    }
    this.damper.record(t.id, src.view.id, tgt.view.id, now);
    applyMove(t, src, tgt, this.pl.p);
    this.inFlight++;
    this.moved.add(t.id);
    this.record(t, src, action, reason, tgt, terms);
    return true;
  }

  /** Whether `count` more moves fit the budgets now, cluster-wide and for each resource (with its count). */
  hasRoom(count: number, perResource: ReadonlyMap<string, number>): boolean {
    const now = this.pl.view.nowMs;
    if (this.damper.room(now, this.inFlight) < count) return false;
    for (const [r, n] of perResource) if (this.damper.room(now, this.inFlight, r) < n) return false;
    return true;
  }

  /** Whether the damper would allow a move now (without recording one). */
  allows(t: TaskView, src: Slot, tgt: Slot): boolean {
    return this.damper.check(t.id, tgt.view.id, src.view.id, this.pl.view.nowMs, this.inFlight) === undefined;
  }
}
