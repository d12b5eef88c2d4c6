/**
 * Each sender's order for a task's stamped messages (see `TaskCell.sequenced`). A task that
 * moves is reached by several paths (forwarded along a chain of earlier owners, or straight), so
 * arrival order alone does not keep a sender's order; the stamps of sender-side replay do. A
 * stamped message more than one seq above what the task applied of its origin's stream comes
 * early: it waits here until the seqs before it are handled, then goes before the mailbox. A gap
 * that stays open `GAP_WAIT_MS` is given up on (those messages were lost on the way: a
 * dead-lettered forward, a refused send), and what waited behind it goes on.
 */
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { Queued, Stamp } from './mailbox.js';

/** Longest a stamped message that came ahead of its stream waits for the earlier ones, ms. */
export const GAP_WAIT_MS = 5000;

/** Stamped messages of one origin that came ahead of an earlier seq of its stream. */
interface Early {
  /** When the wait for the missing seq began (or last made progress), ms. */
  sinceMs: number;
  bySeq: Map<number, Queued>;
}

/** What the order needs from its task. */
export interface StreamOrderHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly id: string;
  /** Most messages that may wait here (the mailbox's capacity): past it a gap is given up on at once. */
  readonly capacity: number;
  /** Origin -> highest seq applied (the task's map, which a restore may replace). */
  readonly applied: Map<string, number>;
  /** Messages are ready: the task should take a turn. */
  kick(): void;
}

export class StreamOrder {
  /** Seqs given up on: gaps that stayed open for `GAP_WAIT_MS`. */
  gapsSkipped = 0;
  /** Messages whose turn came when an earlier one of their stream was applied: handled before the mailbox. */
  ready: Queued[] = [];
  private early: Map<string, Early> | undefined;
  private count = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly host: StreamOrderHost) {}

  /** Messages that came early and wait. */
  get waiting(): number {
    return this.count;
  }

  /** `stamp` came ahead of an earlier seq of its stream: it waits. False: a copy of one that waits already. */
  park(msg: unknown, reply: Queued['reply'], stamp: Stamp): boolean {
    this.early ??= new Map();
    let e = this.early.get(stamp.origin);
    if (e === undefined) this.early.set(stamp.origin, (e = { sinceMs: this.host.clock.now(), bySeq: new Map() }));
    if (e.bySeq.has(stamp.seq)) return false;
    e.bySeq.set(stamp.seq, { msg, reply, stamp });
    this.count++;
    // Bounded like the mailbox: past its capacity the stream gives up on its gap at once.
    if (this.count > this.host.capacity) this.skipGap(stamp.origin, e);
    else this.timer ??= this.host.clock.setTimer(() => this.expired(), GAP_WAIT_MS);
    return true;
  }

  /** `stamp` was applied: the next seq of its stream, if it came early, is ready. */
  applied(stamp: Stamp): void {
    if (this.early !== undefined) this.next(stamp.origin, stamp.seq + 1);
  }

  /** Takes what is ready, in order. */
  takeReady(): Queued[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** Takes what waits, each stream by seq (a hand-off or a stop), and stops the timer. */
  takeEarly(): Queued[] {
    const out: Queued[] = [];
    for (const e of this.early?.values() ?? []) for (const seq of [...e.bySeq.keys()].sort((a, b) => a - b)) out.push(e.bySeq.get(seq)!);
    this.early = undefined;
    this.count = 0;
    this.timer?.cancel();
    this.timer = undefined;
    return out;
  }

  private next(origin: string, seq: number): void {
    const e = this.early!.get(origin);
    const q = e?.bySeq.get(seq);
    if (q === undefined) return;
    e!.bySeq.delete(seq);
    this.count--;
    e!.sinceMs = this.host.clock.now();
    if (e!.bySeq.size === 0) this.early!.delete(origin);
    if (this.count === 0) this.takeEarly();
    this.ready.push(q);
  }

  /** Gives up on the missing seqs before the first that waits: it and those after it go on. */
  private skipGap(origin: string, e: Early): void {
    const first = Math.min(...e.bySeq.keys());
    const applied = this.host.applied.get(origin) ?? 0;
    this.gapsSkipped += first - applied - 1;
    this.host.log.warn({ task: this.host.id, origin, missing: [applied + 1, first - 1] }, 'gave up waiting for messages missing from a sender\'s stream');
    this.host.applied.set(origin, first - 1);
    this.next(origin, first);
    this.host.kick();
  }

  private expired(): void {
    this.timer = undefined;
    const now = this.host.clock.now();
    for (const [origin, e] of [...(this.early ?? [])]) if (now - e.sinceMs >= GAP_WAIT_MS) this.skipGap(origin, e);
    if (this.early === undefined) return;
    const oldest = Math.min(...[...this.early.values()].map((e) => e.sinceMs));
    this.timer = this.host.clock.setTimer(() => this.expired(), Math.max(1, oldest + GAP_WAIT_MS - now));
  }
}
