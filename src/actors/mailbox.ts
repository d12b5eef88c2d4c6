/**
 * A bounded FIFO of user messages, each with an optional reply slot. A ring buffer that grows
 * by doubling up to its capacity, so an idle task holds a few slots, not `capacity`.
 */
import type { Reply } from './reply.js';

export const OverflowPolicy = { reject: 'reject', drop: 'drop' } as const;
export type OverflowPolicy = (typeof OverflowPolicy)[keyof typeof OverflowPolicy];

export interface MailboxOptions {
  /** Most user messages waiting (default 10,000; `Infinity` for unbounded). */
  capacity?: number;
  /** What a full mailbox does with a new message: `reject` throws `MailboxFullError` to the sender (default), `drop` sends it to dead letters. */
  overflow?: OverflowPolicy;
}

export class Mailbox {
  private msgs: unknown[];
  private replies: (Reply | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    const initial = Math.min(16, Math.max(1, capacity === Infinity ? 16 : capacity));
    this.msgs = new Array<unknown>(initial);
    this.replies = new Array<Reply | undefined>(initial);
  }

  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Appends a message; false when the mailbox is full. */
  push(msg: unknown, reply: Reply | undefined): boolean {
    if (this.size >= this.capacity) return false;
    if (this.size === this.msgs.length) this.grow();
    const i = (this.head + this.size) % this.msgs.length;
    this.msgs[i] = msg;
    this.replies[i] = reply;
    this.size++;
    return true;
  }

  /** Reply slot of the message `shift` would return next (check `length` first). */
  peekReply(): Reply | undefined {
    return this.replies[this.head];
  }

  /** Removes and returns the oldest message; its reply slot is read with `peekReply` before. */
  shift(): unknown {
    const i = this.head;
    const msg = this.msgs[i];
    this.msgs[i] = undefined;
    this.replies[i] = undefined;
    this.head = (i + 1) % this.msgs.length;
    this.size--;
    return msg;
  }

  /** Empties the mailbox, returning what it held in order. */
  drain(): Array<{ msg: unknown; reply: Reply | undefined }> {
    const out: Array<{ msg: unknown; reply: Reply | undefined }> = [];
    while (this.size > 0) {
      const reply = this.peekReply();
      out.push({ msg: this.shift(), reply });
    }
    return out;
  }

  private grow(): void {
    const n = this.msgs.length;
    const next = Math.min(n * 2, this.capacity); // push checked size < capacity, so next > n
    const msgs = new Array<unknown>(next);
    const replies = new Array<Reply | undefined>(next);
    for (let k = 0; k < this.size; k++) {
      msgs[k] = this.msgs[(this.head + k) % n];
      replies[k] = this.replies[(this.head + k) % n];
    }
    this.msgs = msgs;
    this.replies = replies;
    this.head = 0;
  }
}
