/**
 * An authenticated link to one peer node. Outbound envelopes are encoded as they are queued and
 * flushed together, one frame per event-loop turn (or more when a frame would pass
 * `maxFrameBytes`). Back-pressure: while the socket holds more than `highWaterBytes` unsent, the
 * link waits for the socket to drain; past `maxPendingBytes` queued, `send` throws
 * `LinkOverloadedError` so the sender knows at once. A frame that breaks the protocol closes the
 * link with a close code and a typed `TransportError`; the node and its other links go on.
 */
import { InvalidArgumentError, LinkOverloadedError, TransportError } from '../../errors.js';
import type { Logger } from '../logger.js';
import type { Socket } from '../ws-adapter.js';
import { type Encoded, type Envelope, Env, decodeFrame, encodeEnvelope, frameOf, joined } from './frames.js';

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
      const max = this.limits.maxFrameBytes - this.headroomBytes;
      while (n < this.outbox.length && bytes + this.outbox[n]!.length <= max) bytes += this.outbox[n++]!.length;
      const batch = n === this.outbox.length ? this.outbox : this.outbox.slice(0, n);
      this.outbox = n === this.outbox.length ? [] : this.outbox.slice(n);
      this.outboxBytes -= bytes;
      this.framesOut++;
      this.envelopesOut += n;
      this.socket.send(frameOf(batch, bytes), (err) => {
        if (err) return;
        if (this.waitingForDrain && this.socket.bufferedAmount <= this.limits.highWaterBytes) {
          this.waitingForDrain = false;
          this.flush();
        }
      });
    }
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closedCode !== undefined) return;
    if (!isBinary) {
      this.fail(CloseCode.unsupportedData, 'text frame on a node link');
      return;
    }
    const decoded = decodeFrame(data);
    if (!decoded.ok) {
      this.fail(decoded.reason.startsWith('unknown envelope') ? CloseCode.protocol : CloseCode.invalidPayload, decoded.reason, decoded.cause);
      return;
    }
    this.framesIn++;
    for (const env of decoded.envelopes) {
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
