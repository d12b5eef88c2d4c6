/** The pending answer to one `ask`: settled once, by a reply, an error or its timeout. */
import type { Clock, TimerHandle } from '../runtime/clock.js';
import { AskTimeoutError } from '../errors.js';

export class ReplySlot {
  settled = false;
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
    this.resolveFn(value);
    return true;
  }

  reject(err: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.rejectFn(err);
    return true;
  }
}
