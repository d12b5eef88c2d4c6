/** The pending answer to one `ask`: settled once, by a reply, an error or its timeout. */
import type { Clock, TimerHandle } from '../runtime/clock.js';
import { AskTimeoutError } from '../errors.js';

/** Whatever answers an ask: a local promise (ReplySlot) or a reply envelope to another node. */
export interface Reply {
  readonly settled: boolean;
  resolve(value: unknown): boolean;
  reject(err: unknown): boolean;
}

export class ReplySlot implements Reply {
  settled = false;
  /** Runs once when the slot settles, however it settles. */
  onSettled: (() => void) | undefined;
  readonly promise: Promise<unknown>;
  private resolveFn!: (value: unknown) => void;
  private rejectFn!: (err: unknown) => void;
  private timer: TimerHandle | undefined;

  constructor(taskId: string, timeoutMs: number, clock: Clock) {
    this.promise = new Promise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (timeoutMs !== Infinity) {
      this.timer = clock.setTimer(() => this.reject(new AskTimeoutError(taskId, timeoutMs)), timeoutMs);
    }
  }

  resolve(value: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.onSettled?.();
    this.resolveFn(value);
    return true;
  }

  reject(err: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.onSettled?.();
    this.rejectFn(err);
    return true;
  }
}
