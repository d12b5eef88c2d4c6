/**
 * The clock is injected everywhere: logic never calls `Date.now()` or `setTimeout` directly, so
 * tests drive time with a manual clock and the simulator with a virtual one.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary origin (monotonic for the system clock). */
  now(): number;
  /** Runs `fn` once after `delayMs`; returns a handle to cancel it. */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

/** The real clock: `performance.now()` and Node timers. */
export function systemClock(): Clock {
  return {
    now: () => performance.now(),
    setTimer(fn, delayMs) {
      const t = setTimeout(fn, Math.max(0, Math.min(delayMs, 2_147_483_647)));
      return { cancel: () => clearTimeout(t) };
    },
  };
}

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in time order (timers they set fire too if due). */
  advance(ms: number): void;
  /** Runs timers due now. */
  runDue(): void;
  /** Number of timers waiting. */
  pending(): number;
  /** Time at which the next timer is due, or undefined. */
  nextDueAt(): number | undefined;
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; for tests and simulation. */
export function createManualClock(startMs = 0): ManualClock {
  let nowMs = startMs;
  let seq = 0;
  let timers: ManualTimer[] = [];

  const takeDue = (): ManualTimer | undefined => {
    let best: ManualTimer | undefined;
    for (const t of timers) {
      if (t.cancelled || t.at > nowMs) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    if (best) timers = timers.filter((t) => t !== best);
    return best;
  };

  const runDue = (): void => {
    for (let t = takeDue(); t; t = takeDue()) t.fn();
    timers = timers.filter((t) => !t.cancelled);
  };

  return {
    now: () => nowMs,
    setTimer(fn, delayMs) {
      const timer: ManualTimer = { at: nowMs + Math.max(0, delayMs), seq: seq++, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
    advance(ms) {
      const end = nowMs + ms;
      for (;;) {
        const next = timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (!next) break;
        nowMs = Math.max(nowMs, next.at);
        runDue();
      }
      nowMs = end;
      runDue();
    },
    runDue,
    pending: () => timers.filter((t) => !t.cancelled).length,
    nextDueAt() {
      const live = timers.filter((t) => !t.cancelled);
      return live.length === 0 ? undefined : Math.min(...live.map((t) => t.at));
    },
  };
}
