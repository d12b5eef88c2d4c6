/**
 * What keeps the controller from thrashing: a per-task cooldown, no return to a resource a task
 * left recently (ping-pong), move budgets per minute (cluster-wide and per resource, counting
 * both ends of a move) and a cap on migrations in flight. Time comes from the caller (the
 * injected clock), so the same damper runs under a manual or virtual clock.
 */
import type { ResolvedPolicy } from './options.js';

export type Blocked = 'cooldown' | 'ping-pong' | 'budget' | 'resource-budget' | 'max-concurrent';

const MINUTE_MS = 60_000;

export class Damper {
  private readonly lastMove = new Map<string, { atMs: number; from: string }>();
  private readonly moves: number[] = [];
  private readonly resourceMoves = new Map<string, number[]>();

  constructor(private readonly p: ResolvedPolicy) {}

  /** Why moving `task` from `from` to `to` now is not allowed, or undefined when it is. */
  check(task: string, to: string, from: string, nowMs: number, inFlight: number): Blocked | undefined {
    if (inFlight >= this.p.maxConcurrent) return 'max-concurrent';
    const last = this.lastMove.get(task);
    if (last && nowMs - last.atMs < this.p.cooldownMs) return 'cooldown';
    if (last && last.from === to && nowMs - last.atMs < this.p.pingPongMs) return 'ping-pong';
    if (this.recent(this.moves, nowMs) >= this.p.movesPerMinute) return 'budget';
    for (const r of [from, to]) {
      const list = this.resourceMoves.get(r);
      if (list && this.recent(list, nowMs) >= this.p.movesPerResourcePerMinute) return 'resource-budget';
    }
    return undefined;
  }

  /** How many more moves may start now: cluster-wide, or into and out of `resource`. */
  room(nowMs: number, inFlight: number, resource?: string): number {
    if (resource !== undefined) return this.p.movesPerResourcePerMinute - this.recent(this.resourceMoves.get(resource) ?? [], nowMs);
    return Math.min(this.p.maxConcurrent - inFlight, this.p.movesPerMinute - this.recent(this.moves, nowMs));
  }

  /** Counts a move that was started. */
  record(task: string, from: string, to: string, nowMs: number): void {
    this.lastMove.set(task, { atMs: nowMs, from });
    this.moves.push(nowMs);
    for (const r of [from, to]) {
      let list = this.resourceMoves.get(r);
      if (!list) this.resourceMoves.set(r, (list = []));
      list.push(nowMs);
    }
  }

  /** Forgets a task (it stopped or left the cluster). */
  forget(task: string): void {
    this.lastMove.delete(task);
  }

  /** Moves started in the last minute, cluster-wide. */
  movesLastMinute(nowMs: number): number {
    return this.recent(this.moves, nowMs);
  }

  private recent(list: number[], nowMs: number): number {
    let drop = 0;
    while (drop < list.length && (list[drop] ?? 0) <= nowMs - MINUTE_MS) drop++;
    if (drop > 0) list.splice(0, drop);
    return list.length;
  }
}
