/**
 * An authenticated link to one peer node. Outbound envelopes are encoded as they are queued and
 * flushed together, one frame per event-loop turn (or more when a frame would pass
 * `maxFrameBytes`). Back-pressure: while the socket holds more than `highWaterBytes` unsent, the
 * link waits for the socket to drain; past `maxPendingBytes` queued, `send` throws
 * `LinkOverloadedError` so the sender knows at once. A frame that breaks the protocol closes the
 * link with a close code and a typed `TransportError`; the node and its other links go on.
 * A large tail ends its frame and follows it as the next binary message (`Env.tail`), so its bytes
 * reach the socket uncopied and arrive as a buffer of their own.
 */
import { InvalidArgumentError, LinkOverloadedError, TransportError } from '../../errors.js';
import type { Logger } from '../logger.js';
import type { Socket } from '../ws-adapter.js';
import { type Encoded, type Envelope, Env, attachTail, decodeFrame, encodeEnvelope, frameOf, joined, tailAnnouncement } from './frames.js';

/**
 * Tails (large byte strings ending an envelope, `encodeEnvelopeWithTail`) of at least this many
 * bytes go as a WebSocket message of their own after their frame, never copied into it (64 KiB).
 */
export const DETACH_MIN_BYTES = 64 * 1024;

const EMPTY = new Uint8Array(0);

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  tooBig: 1009,
  protocol: 4400,
  auth: 4401,
  duplicate: 4409,
  nodeDead: 4410,
} as const;

export interface LinkLimits {
  /** Largest frame sent or accepted, bytes (default 16 MiB). */
  maxFrameBytes: number;
  /** Most bytes queued on a link before `send` throws (default 64 MiB). */
  maxPendingBytes: number;
  /** Unsent socket bytes above which flushing pauses (default 4 MiB). */
  highWaterBytes: number;
}

export const defaultLinkLimits: LinkLimits = { maxFrameBytes: 16 * 2 ** 20, maxPendingBytes: 64 * 2 ** 20, highWaterBytes: 4 * 2 ** 20 };

export interface LinkEvents {
  envelope(link: Link, env: Envelope): void;
  /**
   * The link closed; `err` says why when it was not a clean close. `unsent` holds the encoded
   * envelopes that were queued but never written, so their senders can be told.
   */
  closed(link: Link, code: number, err: TransportError | undefined, unsent: Uint8Array[]): void;
}

export class Link {
  private outbox: Encoded[] = [];
  private outboxBytes = 0;
  private scheduled = false;
  private waitingForDrain = false;
  private closedCode: number | undefined;
  private readonly headroomBytes = 16;
  /** An envelope whose tail is the next message, and the tail's length. */
  private awaitingTail: { env: Envelope; bytes: number } | undefined;
  /** Frames sent and received, for inspection. */
  framesOut = 0;
  framesIn = 0;
  envelopesOut = 0;
  envelopesIn = 0;

  constructor(
    private readonly socket: Socket,
    /** The peer's node id. */
    readonly peer: string,
    /** What the peer said about itself in the handshake. */
    readonly peerMeta: Readonly<Record<string, unknown>>,
    /** True when this side dialed. */
    readonly dialed: boolean,
    private readonly limits: LinkLimits,
    private readonly events: LinkEvents,
    private readonly log: Logger,
    setOnMessage: (fn: ((data: Buffer, isBinary: boolean) => void) | undefined) => void,
  ) {
    setOnMessage((data, isBinary) => this.receive(data, isBinary));
    socket.onClose((code, reason) => this.onSocketClose(code, reason));
  }

  get isOpen(): boolean {
    return this.closedCode === undefined && this.socket.isOpen;
  }

  get pendingBytes(): number {
    return this.outboxBytes + this.socket.bufferedAmount;
  }

  /** Queues one envelope; throws `LinkOverloadedError` past the pending limit. */
  send(env: Envelope): void {
    const bytes = encodeEnvelope(env);
    this.sendEncoded(bytes);
  }

  /** Queues one envelope already encoded (whole, or in pieces that are joined only in the frame). */
  sendEncoded(bytes: Encoded): void {
    if (bytes.length + this.headroomBytes > this.limits.maxFrameBytes) {
      throw new InvalidArgumentError('message', `encodes to ${bytes.length} bytes, more than the link's maxFrameBytes ${this.limits.maxFrameBytes}`);
    }
    const pending = this.pendingBytes;
    if (pending + bytes.length > this.limits.maxPendingBytes) throw new LinkOverloadedError(this.peer, pending, this.limits.maxPendingBytes);
    this.outbox.push(bytes);
    this.outboxBytes += bytes.length;
    if (!this.scheduled && !this.waitingForDrain) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    while (this.outbox.length > 0 && this.isOpen) {
      if (this.socket.bufferedAmount > this.limits.highWaterBytes) {
        this.waitingForDrain = true;
        return;
      }
      let n = 0;
      let bytes = 0;
      let frameBytes = 0;
      let tail: Uint8Array | undefined;
      let trailer: Uint8Array | undefined;
      const max = this.limits.maxFrameBytes - this.headroomBytes;
      while (n < this.outbox.length && tail === undefined) {
        const e = this.outbox[n]!;
        const d = e instanceof Uint8Array ? undefined : e.detachable;
        if (d && d.tail.byteLength >= DETACH_MIN_BYTES) {
          // The frame ends with this envelope (its placeholder kept) and the announcement; the tail follows.
          const announce = tailAnnouncement(d.tail.byteLength);
          if (n > 0 && frameBytes + d.head.length + announce.length > max) break;
          this.outbox[n] = d.head;
          tail = d.tail;
          trailer = announce;
          frameBytes += d.head.length + announce.length;
        } else {
          if (n > 0 && frameBytes + e.length > max) break;
          frameBytes += e.length;
        }
        bytes += e.length;
        n++;
      }
      const batch = n === this.outbox.length ? this.outbox : this.outbox.slice(0, n);
      this.outbox = n === this.outbox.length ? [] : this.outbox.slice(n);
      if (trailer) batch.push(trailer);
      this.outboxBytes -= bytes;
      this.framesOut++;
      this.envelopesOut += n;
      const written = (err?: Error) => {
        if (err) return;
        if (this.waitingForDrain && this.socket.bufferedAmount <= this.limits.highWaterBytes) {
          this.waitingForDrain = false;
          this.flush();
        }
      };
      this.socket.send(frameOf(batch, frameBytes), tail ? undefined : written);
      if (tail) this.socket.send(tail, written);
    }
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closedCode !== undefined) return;
    if (!isBinary) {
      this.fail(CloseCode.unsupportedData, 'text frame on a node link');
      return;
    }
    if (this.awaitingTail) {
      const { env, bytes } = this.awaitingTail;
      this.awaitingTail = undefined;
      if (data.byteLength !== bytes) {
        this.fail(CloseCode.invalidPayload, `tail of ${data.byteLength} bytes, ${bytes} announced`);
        return;
      }
      attachTail(env, data);
      this.deliver([env]);
      return;
    }
    const decoded = decodeFrame(data);
    if (!decoded.ok) {
      this.fail(decoded.reason.startsWith('unknown envelope') ? CloseCode.protocol : CloseCode.invalidPayload, decoded.reason, decoded.cause);
      return;
    }
    this.framesIn++;
    const envelopes = decoded.envelopes;
    const last = envelopes[envelopes.length - 1];
    if (last?.[0] === Env.tail) {
      // The envelope before the announcement waits for its tail, the next message.
      const owner = envelopes[envelopes.length - 2];
      if (!owner || owner[0] === Env.tail || !attachTail(owner, EMPTY)) {
        this.fail(CloseCode.protocol, 'tail announcement without an envelope ending in an empty byte string');
        return;
      }
      this.awaitingTail = { env: owner, bytes: last[1] };
      envelopes.length -= 2;
    }
    this.deliver(envelopes);
  }

  private deliver(envelopes: Envelope[]): void {
    for (const env of envelopes) {
      if (env[0] === Env.tail) {
        this.fail(CloseCode.protocol, 'tail announcement not last in its frame');
        return;
      }
      if (env[0] === Env.hello) {
        this.fail(CloseCode.protocol, 'handshake envelope on an authenticated link');
        return;
      }
      this.envelopesIn++;
      try {
        this.events.envelope(this, env);
      } catch (err) {
        this.log.error({ err, peer: this.peer }, 'envelope handler threw');
      }
      if (this.closedCode !== undefined) return;
    }
  }

  /** Closes the link for a protocol fault: logged, typed, and only this link. */
  private fail(code: number, reason: string, cause?: unknown): void {
    const err = new TransportError(this.peer, reason, code, cause);
    this.log.warn({ err, peer: this.peer }, 'closing link');
    this.close(code, reason, err);
  }

  close(code: number, reason: string, err?: TransportError): void {
    if (this.closedCode !== undefined) return;
    this.closedCode = code;
    const unsent = this.takeOutbox();
    try {
      this.socket.close(code, reason.slice(0, 120));
    } catch {
      this.socket.terminate();
    }
    this.events.closed(this, code, err, unsent);
  }

  private takeOutbox(): Uint8Array[] {
    const unsent = this.outbox.map(joined);
    this.outbox = [];
    this.outboxBytes = 0;
    return unsent;
  }

  private onSocketClose(code: number, reason: string): void {
    if (this.closedCode !== undefined) return;
    this.closedCode = code;
    const unsent = this.takeOutbox();
    const clean = code === CloseCode.normal || code === CloseCode.goingAway;
    const err = clean ? undefined : new TransportError(this.peer, reason || (code === CloseCode.tooBig ? 'frame larger than maxFrameBytes' : 'connection lost'), code);
    if (err) this.log.warn({ err, peer: this.peer }, 'link closed');
    this.events.closed(this, code, err, unsent);
  }
}
