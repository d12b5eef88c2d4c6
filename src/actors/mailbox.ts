/**
 * A bounded FIFO of user messages, each with an optional reply slot. A ring buffer that grows
 * by doubling up to its capacity, so an idle task holds a few slots, not `capacity`.
 */
import type { Reply } from './reply.js';

/**
 * Where a message from another node came from: its origin node and its sequence number in that
 * node's stream to this task (see src/runtime/cluster/replay-log.ts). The task cell drops a
 * message whose seq it has applied already.
 */
export interface Stamp {
  origin: string;
  seq: number;
}

/** One queued message, as `drain` returns it. */
export interface Queued {
  msg: unknown;
  reply: Reply | undefined;
  stamp?: Stamp | undefined;
}

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
  private stamps: (Stamp | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    const initial = Math.min(16, Math.max(1, capacity === Infinity ? 16 : capacity));
    this.msgs = new Array<unknown>(initial);
    this.replies = new Array<Reply | undefined>(initial);
    this.stamps = new Array<Stamp | undefined>(initial);
  }

  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Appends a message; false when the mailbox is full. */
  push(msg: unknown, reply: Reply | undefined, stamp?: Stamp): boolean {
    if (this.size >= this.capacity) return false;
    if (this.size === this.msgs.length) this.grow();
    const i = (this.head + this.size) % this.msgs.length;
    this.msgs[i] = msg;
    this.replies[i] = reply;
    this.stamps[i] = stamp;
    this.size++;
    return true;
  }

  /** Reply slot of the message `shift` would return next (check `length` first). */
  peekReply(): Reply | undefined {
    return this.replies[this.head];
  }

  /** Stamp of the message `shift` would return next (undefined for a local or unstamped one). */
  peekStamp(): Stamp | undefined {
    return this.stamps[this.head];
  }

  /** Removes and returns the oldest message; its reply slot is read with `peekReply` before. */
  shift(): unknown {
    const i = this.head;
    const msg = this.msgs[i];
    this.msgs[i] = undefined;
    this.replies[i] = undefined;
    this.stamps[i] = undefined;
    this.head = (i + 1) % this.msgs.length;
    this.size--;
    return msg;
  }

  /** Empties the mailbox, returning what it held in order. */
  drain(): Queued[] {
    const out: Queued[] = [];
    while (this.size > 0) {
      const reply = this.peekReply();
      const stamp = this.peekStamp();
      out.push({ msg: this.shift(), reply, stamp });
    }
    return out;
  }

  private grow(): void {
    const n = this.msgs.length;
    const next = Math.min(n * 2, this.capacity); // push checked size < capacity, so next > n
    const msgs = new Array<unknown>(next);
    const replies = new Array<Reply | undefined>(next);
    const stamps = new Array<Stamp | undefined>(next);
    for (let k = 0; k < this.size; k++) {
      msgs[k] = this.msgs[(this.head + k) % n];
      replies[k] = this.replies[(this.head + k) % n];
      stamps[k] = this.stamps[(this.head + k) % n];
    }
    this.msgs = msgs;
    this.replies = replies;
    this.stamps = stamps;
    this.head = 0;
  }
}
