/**
 * The one file that imports ws. Node-to-node links and the debug socket both go through this
 * small surface: listen (plain or TLS), connect, and a socket with explicit back-pressure
 * (`bufferedAmount`, send callbacks). bufferutil, when installed, is picked up by ws itself.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface Socket {
  /** Sends one frame; `cb` runs once it is written to the OS (or fails). */
  send(data: Uint8Array | string, cb?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  readonly remoteAddress: string | undefined;
  onMessage(fn: (data: Buffer, isBinary: boolean) => void): void;
  onClose(fn: (code: number, reason: string) => void): void;
  onError(fn: (err: Error) => void): void;
}

export interface ServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Frames larger than this close the connection with code 1009. */
  maxPayloadBytes: number;
  /** Serve wss with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface SocketServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  maxPayloadBytes: number;
  /** CA certificate (PEM) to trust for wss. */
  ca?: string | Buffer;
  /** Give up connecting after this long (default 5000 ms). */
  handshakeTimeoutMs?: number;
  headers?: Record<string, string>;
  /**
   * Send every frame with an all-zero mask (default false: a random mask per frame, as RFC 6455
   * asks of a client). A zero mask costs nothing at either end (ws neither copies nor masks the
   * payload, and the peer skips unmasking); see docs/cluster.md for why node links use it.
   */
  zeroMask?: boolean;
}

/** Fills ws's mask with zeros: masking and unmasking become no-ops. */
const zeroMask = (mask: Buffer): void => void mask.fill(0);

function wrap(ws: WebSocket, remoteAddress: string | undefined): Socket {
  // A peer may speak first (a challenge in the same TCP chunk as the upgrade response): frames
  // that arrive before anyone listens are kept and handed to the first listener.
  const listeners: Array<(data: Buffer, isBinary: boolean) => void> = [];
  let early: Array<[Buffer, boolean]> | undefined = [];
  // ws emits 'error' (an oversized or malformed frame) and then 'close' with the code; an
  // 'error' without a listener would throw and take the process down, so one always listens.
  const errorListeners: Array<(err: Error) => void> = [];
  ws.on('error', (err: Error) => {
    for (const l of errorListeners) l(err);
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buf = toBuffer(data);
    if (early) early.push([buf, isBinary]);
    else for (const l of listeners) l(buf, isBinary);
  });
  return {
    send: (data, cb) => ws.send(data, cb),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    remoteAddress,
    onMessage(fn) {
      listeners.push(fn);
      const queued = early;
      early = undefined;
      for (const [data, isBinary] of queued ?? []) fn(data, isBinary);
    },
    onClose: (fn) => void ws.on('close', (code: number, reason: Buffer) => fn(code, reason.toString())),
    onError: (fn) => void errorListeners.push(fn),
  };
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export interface IncomingRequest {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string | undefined;
}

export function listen(options: ServerOptions, onConnection: (socket: Socket, request: IncomingRequest) => void): Promise<SocketServer> {
  const host = options.host ?? '127.0.0.1';
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }) : http.createServer();
  const wss = new WebSocketServer({ server, maxPayload: options.maxPayloadBytes, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    const remoteAddress = req.socket.remoteAddress;
    onConnection(wrap(ws, remoteAddress), { url: req.url ?? '/', headers: req.headers, remoteAddress });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const scheme = options.tls ? 'wss' : 'ws';
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `${scheme}://${shownHost}:${port}`,
        port,
        host,
        close: () =>
          new Promise<void>((done) => {
            for (const ws of sockets) ws.terminate();
            wss.close(() => server.close(() => done()));
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

export function connect(url: string, options: ConnectOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const wsOptions: ConstructorParameters<typeof WebSocket>[2] = {
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? 5000,
    };
    if (options.ca !== undefined) wsOptions.ca = options.ca;
    if (options.headers !== undefined) wsOptions.headers = options.headers;
    if (options.zeroMask === true) wsOptions.generateMask = zeroMask;
    const ws = new WebSocket(url, wsOptions);
    const onError = (err: Error) => {
      ws.off('open', onOpen);
      reject(err);
    };
    const onOpen = () => {
      ws.off('error', onError);
      resolve(wrap(ws, undefined));
    };
    ws.once('error', onError);
    ws.once('open', onOpen);
  });
}
