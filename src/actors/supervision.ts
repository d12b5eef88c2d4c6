/**
 * Restart intensity and backoff, OTP style: at most `maxRestarts` restarts within `withinMs`;
 * one more and the failure escalates. The n-th restart in a period waits
 * `min(maxMs, initialMs * factor^(n-1))`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Directive } from '../runtime/event-types.js';
import type { BackoffOptions, Strategy, SupervisionOptions } from './task.js';

export interface ResolvedSupervision {
  directive: Directive | ((err: unknown) => Directive);
  maxRestarts: number;
  withinMs: number;
  backoff: Required<BackoffOptions>;
  strategy: Strategy;
}

export const defaultSupervision: ResolvedSupervision = Object.freeze({
  directive: 'restart',
  maxRestarts: 3,
  withinMs: 5000,
  backoff: Object.freeze({ initialMs: 10, maxMs: 1000, factor: 2 }),
  strategy: 'one-for-one',
});

const directives: readonly Directive[] = ['restart', 'resume', 'stop', 'escalate', 'replace'];

export function resolveSupervision(base: ResolvedSupervision, over: SupervisionOptions | undefined, where: string): ResolvedSupervision {
  if (!over) return base;
  const s: ResolvedSupervision = {
    directive: over.directive ?? base.directive,
    maxRestarts: over.maxRestarts ?? base.maxRestarts,
    withinMs: over.withinMs ?? base.withinMs,
    backoff: { ...base.backoff, ...over.backoff },
    strategy: over.strategy ?? base.strategy,
  };
  if (typeof s.directive !== 'function' && !directives.includes(s.directive)) {
    throw new InvalidArgumentError(`${where}.directive`, `must be one of ${directives.join(', ')} or a function`);
  }
  if (!(s.maxRestarts >= 0)) throw new InvalidArgumentError(`${where}.maxRestarts`, 'must be a non-negative number');
  if (!(s.withinMs > 0)) throw new InvalidArgumentError(`${where}.withinMs`, 'must be a positive number of ms');
  if (!(s.backoff.initialMs >= 0) || !(s.backoff.maxMs >= s.backoff.initialMs) || !(s.backoff.factor >= 1)) {
    throw new InvalidArgumentError(`${where}.backoff`, 'needs 0 <= initialMs <= maxMs and factor >= 1');
  }
  if (s.strategy !== 'one-for-one' && s.strategy !== 'all-for-one') {
    throw new InvalidArgumentError(`${where}.strategy`, 'must be one-for-one or all-for-one');
  }
  return s;
}

export function decide(s: ResolvedSupervision, err: unknown): Directive {
  if (typeof s.directive !== 'function') return s.directive;
  try {
    const d = s.directive(err);
    return directives.includes(d) ? d : 'escalate';
  } catch {
    return 'escalate';
  }
}

export type RestartDecision = { allowed: true; restarts: number; delayMs: number } | { allowed: false; restarts: number };

/** Counts restarts in a sliding period. */
export class RestartTracker {
  private times: number[] = [];

  /** Records a restart at `nowMs`, or refuses it when the budget is spent. */
  next(s: ResolvedSupervision, nowMs: number): RestartDecision {
    this.times = this.times.filter((t) => nowMs - t < s.withinMs);
    if (this.times.length >= s.maxRestarts) return { allowed: false, restarts: this.times.length };
    this.times.push(nowMs);
    const n = this.times.length;
    const delayMs = Math.min(s.backoff.maxMs, s.backoff.initialMs * s.backoff.factor ** (n - 1));
    return { allowed: true, restarts: n, delayMs };
  }

  get count(): number {
    return this.times.length;
  }
}
