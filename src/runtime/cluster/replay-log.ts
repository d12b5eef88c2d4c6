/**
 * Sender-side replay (upstream backup). Every plain `send` this node makes to a task on another
 * node is stamped with the next sequence number of this node's stream to that task and kept here,
 * encoded, until a snapshot of the task that the RMS stored covers it (the snapshot's `applied`
 * map says this node's stream is applied up to that seq). When the task's node dies and the RMS
 * re-places the task from its snapshot, what is kept past the snapshot's `applied` is sent again,
 * in order, before anything newer; the task drops what it had applied already.
 *
 * A stream is `blocked` while its task cannot be reached (its link closed, its node is gone):
 * new sends to it are kept here only, and go out in order when it is reachable again.
 *
 * Bounded: past `maxBytes` kept in all, `stamp` throws `ReplayBufferFullError` (the message is not
 * accepted; nothing kept is ever dropped to make room).
 */
import { ReplayBufferFullError } from '../../errors.js';
import { Env, encodeEnvelope } from '../transport/frames.js';

/** One kept message: its seq, the message, and its SEQ envelope as sent (origin left out). */
export interface ReplayEntry {
  readonly seq: number;
  readonly msg: unknown;
  readonly bytes: Uint8Array;
}

interface Stream {
  /** Seq of the last message stamped. */
  last: number;
  /** Highest seq a stored snapshot covers: kept entries are all above it. */
  covered: number;
  entries: ReplayEntry[];
  /** Index of the first live entry (entries before it were trimmed; compacted now and then). */
  head: number;
  /** The node the stream last went to. */
  node: string | undefined;
  /** Unreachable: new messages are kept, not sent, until `unblock`. */
  blocked: boolean;
}

export interface ReplayStats {
  /** Messages and bytes kept now. */
  messages: number;
  bytes: number;
  /** Messages dropped from the buffer because a stored snapshot covered them. */
  trimmed: number;
  /** Messages sent again after their task was re-placed or its link came back. */
  resent: number;
  /** Sends refused because the buffer was full. */
  refused: number;
}

export class ReplayLog {
  private readonly streams = new Map<string, Stream>();
  readonly stats: ReplayStats = { messages: 0, bytes: 0, trimmed: 0, resent: 0, refused: 0 };

  constructor(
    /** This node's id, for errors. */
    readonly node: string,
    /** Most bytes kept in all streams together. */
    readonly maxBytes: number,
  ) {}

  /** Stamps and keeps a send to `taskId`; throws `ReplayBufferFullError` when it does not fit. */
  stamp(taskId: string, msg: unknown): ReplayEntry {
    const s = this.stream(taskId);
    const seq = s.last + 1;
    const bytes = encodeEnvelope([Env.seq, taskId, msg, seq]);
    if (this.stats.bytes + bytes.length > this.maxBytes) {
      this.stats.refused++;
      throw new ReplayBufferFullError(this.node, taskId, this.stats.bytes, this.maxBytes);
    }
    s.last = seq;
    const entry = { seq, msg, bytes };
    s.entries.push(entry);
    this.stats.messages++;
    this.stats.bytes += bytes.length;
    return entry;
  }

  /** A stored snapshot of `taskId` applied this node's stream up to `seq`: drops what it covers. */
  cover(taskId: string, seq: number): void {
    const s = this.streams.get(taskId);
    if (!s || seq <= s.covered) return;
    s.covered = seq;
    while (s.head < s.entries.length && s.entries[s.head]!.seq <= seq) this.release(s.entries[s.head++]!);
    if (s.head === s.entries.length) {
      s.entries = [];
      s.head = 0;
    } else if (s.head > 1024 && s.head * 2 > s.entries.length) {
      s.entries = s.entries.slice(s.head);
      s.head = 0;
    }
  }

  /** The kept messages of a stream, oldest first (all above its coverage). */
  pending(taskId: string): ReplayEntry[] {
    const s = this.streams.get(taskId);
    return s ? s.entries.slice(s.head) : [];
  }

  /**
   * Drops one kept message that will never be delivered (refused by its link, or its task is
   * unknown). The stream's last one gives its seq back: the next send takes it, so the task does
   * not wait for a seq that never comes (a task applies each stream in order).
   */
  discard(taskId: string, seq: number): void {
    const s = this.streams.get(taskId);
    if (!s) return;
    if (seq === s.last) s.last--;
    const i = s.entries.findIndex((e, k) => k >= s.head && e.seq === seq);
    if (i < 0) return;
    this.release(s.entries[i]!, false);
    s.entries.splice(i, 1);
  }

  /**
   * Empties a stream (its task stopped or is lost), returning what it kept. Its seq counter stays:
   * a task of the same id later may still have applied the old numbers.
   */
  forget(taskId: string): ReplayEntry[] {
    const s = this.streams.get(taskId);
    if (!s) return [];
    const kept = s.entries.slice(s.head);
    for (const e of kept) this.release(e, false);
    s.entries = [];
    s.head = 0;
    s.covered = s.last;
    s.blocked = false;
    s.node = undefined;
    return kept;
  }

  /** The seq before the first kept message of `taskId`'s stream (its last seq when nothing is kept). */
  beforePending(taskId: string): number {
    const s = this.streams.get(taskId);
    if (!s) return 0;
    return s.head < s.entries.length ? s.entries[s.head]!.seq - 1 : s.last;
  }

  /** Seq of the last message stamped for `taskId` (0: none). */
  lastSeq(taskId: string): number {
    return this.streams.get(taskId)?.last ?? 0;
  }

  isBlocked(taskId: string): boolean {
    return this.streams.get(taskId)?.blocked === true;
  }

  /** Records where a stream's messages go now. */
  sentTo(taskId: string, node: string): void {
    const s = this.streams.get(taskId);
    if (s) s.node = node;
  }

  block(taskId: string): void {
    const s = this.streams.get(taskId);
    if (s) s.blocked = true;
  }

  /** Blocks every stream that last went to `node` (its link closed); returns their task ids. */
  blockNode(node: string): string[] {
    const out: string[] = [];
    for (const [id, s] of this.streams) {
      if (s.node !== node) continue;
      s.blocked = true;
      out.push(id);
    }
    return out;
  }

  /** Task ids of the blocked streams that last went to `node`. */
  blockedOn(node: string): string[] {
    return [...this.streams].filter(([, s]) => s.blocked && s.node === node).map(([id]) => id);
  }

  /**
   * Reopens a stream for a resend: the entries to send again, in order (those above `covered`,
   * which the task's restored snapshot says it has applied).
   */
  unblock(taskId: string, covered = 0): ReplayEntry[] {
    const s = this.streams.get(taskId);
    if (!s) return [];
    this.cover(taskId, covered);
    s.blocked = false;
    const out = s.entries.slice(s.head);
    this.stats.resent += out.length;
    return out;
  }

  get size(): number {
    return this.streams.size;
  }

  private stream(taskId: string): Stream {
    let s = this.streams.get(taskId);
    if (!s) {
      s = { last: 0, covered: 0, entries: [], head: 0, node: undefined, blocked: false };
      this.streams.set(taskId, s);
    }
    return s;
  }

  private release(e: ReplayEntry, covered = true): void {
    this.stats.messages--;
    this.stats.bytes -= e.bytes.length;
    if (covered) this.stats.trimmed++;
  }
}
