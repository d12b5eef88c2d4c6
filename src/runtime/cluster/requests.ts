/**
 * Answers that cross links: `RemoteReply` sends a task's reply to an ask back to the asking node;
 * `PendingRequests` is node-to-node question and answer (the RMS's debug view asks members).
 */
import type { Reply } from '../../actors/reply.js';
import { NodeDownError } from '../../errors.js';
import type { Clock, TimerHandle } from '../clock.js';
import { Env, type Envelope } from '../transport/frames.js';
import type { Link } from '../transport/link.js';
import { errorFromWire, errorToWire } from '../transport/wire-errors.js';
import { Control } from './types.js';

/** A reply whose answer goes back over a link as a REPLY envelope. */
export class RemoteReply implements Reply {
  settled = false;
  constructor(
    private readonly node: { sendTo(node: string, env: Envelope): void },
    private readonly peer: string,
    private readonly askId: number,
  ) {}
  resolve(value: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.node.sendTo(this.peer, [Env.reply, this.askId, true, value]);
    return true;
  }
  reject(err: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.node.sendTo(this.peer, [Env.reply, this.askId, false, errorToWire(err)]);
    return true;
  }
}

export interface RequestExtras {
  timeoutError?: () => Error;
  tail?: Uint8Array;
}

interface Pending {
  node: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: TimerHandle;
}

export class PendingRequests {
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly sendTo: (node: string, env: Envelope, tail?: Uint8Array) => void,
    private readonly nextId: () => number,
  ) {}

  /**
   * `extra.timeoutError` makes the error a timeout rejects with (default a `NodeDownError`);
   * `extra.tail`, a large byte string, goes into the payload's last field (which must be an empty
   * byte string) without being copied on the way (see `encodeEnvelopeWithTail`).
   */
  ask(node: string, kind: string, payload: unknown, timeoutMs: number, extra: RequestExtras = {}): Promise<unknown> {
    const { timeoutError } = extra;
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      const timer = this.clock.setTimer(() => {
        this.pending.delete(id);
        reject(timeoutError ? timeoutError() : new NodeDownError(node, undefined, `no answer to ${kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { node, resolve, reject, timer });
      try {
        this.sendTo(node, [Env.control, Control.request, { id, kind, payload }], extra.tail);
      } catch (err) {
        timer.cancel();
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  /** Answers a request that arrived on `link` with what `answer` gives (or its error). */
  async answer(link: Link, p: Record<string, unknown>, answer: (kind: string, payload: unknown) => unknown): Promise<void> {
    const id = p['id'];
    try {
      const value = await answer(String(p['kind']), p['payload']);
      link.send([Env.control, Control.response, { id, ok: true, value }]);
    } catch (err) {
      if (link.isOpen) link.send([Env.control, Control.response, { id, ok: false, error: errorToWire(err) }]);
    }
  }

  settle(p: Record<string, unknown>): void {
    const id = Number(p['id']);
    const r = this.pending.get(id);
    if (!r) return;
    this.pending.delete(id);
    r.timer.cancel();
    if (p['ok']) r.resolve(p['value']);
    else r.reject(errorFromWire(p['error']));
  }

  failTo(node: string, reason: string): void {
    for (const [id, r] of this.pending) {
      if (r.node !== node) continue;
      this.pending.delete(id);
      r.timer.cancel();
      r.reject(new NodeDownError(node, undefined, reason));
    }
  }

  failAll(self: string, reason: string): void {
    for (const [, r] of this.pending) {
      r.timer.cancel();
      r.reject(new NodeDownError(self, undefined, reason));
    }
    this.pending.clear();
  }
}
