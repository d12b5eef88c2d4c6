/**
 * A small client for the debug socket, used by `godwit inspect` and the tests: request/response
 * by id, pushed events, and typed errors for a refused token (AuthError), an unreachable node
 * (NodeDownError), a dropped link (TransportError) and error responses (DebugRequestError).
 */
import { AuthError, InvalidArgumentError, NodeDownError, TransportError } from '../errors.js';
import { DebugCloseCodes, DebugErrorCodes, DebugRequestError, type WireEvent } from './debug-protocol.js';
import { connect, type Socket } from './ws-adapter.js';

export interface DebugClientOptions {
  token: string;
  /** How the token travels: `header` (Authorization: Bearer, default) or `message` (a first `auth` request). */
  auth?: 'header' | 'message';
  /** Give up connecting after this long, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Give up on one request after this long, in ms (default 10000). */
  timeoutMs?: number;
  /** Largest frame accepted from the server, in bytes (default 256 MiB: trees can be big). */
  maxPayloadBytes?: number;
}

export interface DebugClient {
  /** `{ node, admin }` when authenticated by message; undefined with header auth. */
  readonly hello: { node: string; admin: boolean } | undefined;
  /** Sends `{ id, op, args }`; resolves with `result`, rejects with DebugRequestError, AuthError or TransportError. */
  request<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Called for every pushed event (after `subscribe`); `dropped` counts events the server skipped before it. */
  onEvent(fn: (event: WireEvent, dropped: number) => void): void;
  /** Resolves once the socket is closed, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

interface Pending {
  op: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

export async function connectDebugSocket(url: string, options: DebugClientOptions): Promise<DebugClient> {
  if (typeof options.token !== 'string' || options.token.length === 0) throw new InvalidArgumentError('options.token', 'must be a non-empty string');
  const auth = options.auth ?? 'header';
  let socket: Socket;
  try {
    socket = await connect(url, {
      maxPayloadBytes: options.maxPayloadBytes ?? 256 * 1024 * 1024,
      handshakeTimeoutMs: options.connectTimeoutMs ?? 5000,
      ...(auth === 'header' ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
    });
  } catch (err) {
    throw new NodeDownError(url, undefined, err instanceof Error ? err.message : String(err));
  }
  const client = new Client(url, socket, options.timeoutMs ?? 10_000);
  if (auth === 'message') {
    try {
      client.hello = await client.request<{ node: string; admin: boolean }>('auth', { token: options.token });
    } catch (err) {
      await client.close();
      throw err;
    }
  }
  return client;
}

class Client implements DebugClient {
  hello: { node: string; admin: boolean } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: Array<(event: WireEvent, dropped: number) => void> = [];
  private seq = 0;
  private closeError: Error | undefined;

  constructor(
    url: string,
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    this.closed = new Promise((resolve) => {
      socket.onClose((code, reason) => {
        this.closeError =
          code === DebugCloseCodes.UNAUTHORIZED ? new AuthError(url, reason || 'token refused') : new TransportError(url, reason || 'connection closed', code);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(this.closeError);
        }
        this.pending.clear();
        resolve({ code, reason });
      });
    });
    socket.onError(() => {
      // The close that follows rejects what is pending.
    });
    socket.onMessage((data, isBinary) => {
      if (!isBinary) this.onText(data.toString('utf8'));
    });
  }

  request<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closeError) return Promise.reject(this.closeError);
    // Closing (e.g. the server just refused the token): answer with the reason it closed for.
    if (!this.socket.isOpen) return this.closed.then(() => Promise.reject(this.closeError));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DebugRequestError(op, { code: DebugErrorCodes.TIMEOUT, message: `no answer within ${this.timeoutMs} ms` }));
      }, this.timeoutMs);
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify(args === undefined ? { id, op } : { id, op, args }));
    });
  }

  onEvent(fn: (event: WireEvent, dropped: number) => void): void {
    this.listeners.push(fn);
  }

  async close(): Promise<void> {
    if (this.socket.isOpen) this.socket.close(1000, 'client done');
    await this.closed;
  }

  private onText(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as Record<string, unknown>;
    if (typeof f['event'] === 'object' && f['event'] !== null) {
      const dropped = typeof f['dropped'] === 'number' ? f['dropped'] : 0;
      for (const l of this.listeners) l(f['event'] as WireEvent, dropped);
      return;
    }
    const p = typeof f['id'] === 'number' ? this.pending.get(f['id']) : undefined;
    if (!p) return;
    this.pending.delete(f['id'] as number);
    clearTimeout(p.timer);
    if (f['ok'] === true) p.resolve(f['result']);
    else {
      const e = f['error'] as { code?: unknown; message?: unknown } | undefined;
      p.reject(new DebugRequestError(p.op, { code: String(e?.code ?? DebugErrorCodes.INTERNAL), message: String(e?.message ?? 'no message') }));
    }
  }
}
