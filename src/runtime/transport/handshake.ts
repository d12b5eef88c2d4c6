/**
 * Opening a link: the HMAC challenge-response of auth.ts over hello envelopes, one per frame,
 * bounded in time. A wrong secret closes the socket with 4401 and rejects with `AuthError`.
 */
import { AuthError, TransportError } from '../../errors.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { connect, type Socket } from '../ws-adapter.js';
import { clientProof, nonce, proofsEqual, serverProof } from './auth.js';
import { Env, type Envelope, decodeFrame, encodeEnvelope, frameOf } from './frames.js';
import { CloseCode, Link, type LinkEvents, type LinkLimits } from './link.js';

export interface HandshakeOptions {
  nodeId: string;
  secret: string;
  /** What this node tells the peer about itself (its url, its role). */
  meta: Record<string, unknown>;
  limits: LinkLimits;
  clock: Clock;
  log: Logger;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** CA certificate for wss. */
  ca?: string | Buffer;
}

type Handler = (data: Buffer, isBinary: boolean) => void;
type Dispatcher = (fn: Handler | undefined) => void;

/** Routes frames to the current step of the handshake, then to the link; holds them while no one listens. */
function dispatcher(socket: Socket): Dispatcher {
  let current: Handler | undefined;
  const held: Array<[Buffer, boolean]> = [];
  socket.onMessage((data, isBinary) => (current ? current(data, isBinary) : held.push([data, isBinary])));
  return (fn) => {
    current = fn;
    while (current && current === fn && held.length > 0) {
      const [data, isBinary] = held.shift()!;
      fn(data, isBinary);
    }
  };
}

function sendHello(socket: Socket, env: Envelope): void {
  const bytes = encodeEnvelope(env);
  socket.send(frameOf([bytes], bytes.length));
}

/** Waits for the next hello envelope of `kind`; rejects on a timeout, a close or anything else. */
function expectHello(socket: Socket, setOnMessage: Dispatcher, kind: string, peer: string, o: HandshakeOptions): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, value?: unknown[]) => {
      if (done) return;
      done = true;
      timer.cancel();
      setOnMessage(undefined);
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = o.clock.setTimer(() => {
      socket.close(CloseCode.protocol, 'handshake timeout');
      finish(new TransportError(peer, `no ${kind} within ${o.timeoutMs ?? 5000} ms`, CloseCode.protocol));
    }, o.timeoutMs ?? 5000);
    socket.onClose((code, reason) =>
      finish(code === CloseCode.auth ? new AuthError(peer, reason || 'refused by peer') : new TransportError(peer, reason || `closed during handshake`, code)),
    );
    setOnMessage((data) => {
      const decoded = decodeFrame(data);
      const env = decoded.ok && decoded.envelopes.length === 1 ? decoded.envelopes[0] : undefined;
      if (!env || env[0] !== Env.hello || env[1] !== kind) {
        socket.close(CloseCode.protocol, `expected ${kind}`);
        finish(new TransportError(peer, `expected ${kind} during handshake`, CloseCode.protocol));
        return;
      }
      finish(undefined, env.slice(2));
    });
  });
}

const metaOf = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Server side: challenge the dialer, check its proof, prove ourselves, and return the link. */
export async function acceptLink(socket: Socket, o: HandshakeOptions, events: LinkEvents): Promise<Link> {
  const setOnMessage = dispatcher(socket);
  const nonceS = nonce();
  const reply = expectHello(socket, setOnMessage, 'auth', socket.remoteAddress ?? 'unknown', o);
  sendHello(socket, [Env.hello, 'challenge', o.nodeId, nonceS]);
  const [clientId, nonceC, proof, meta] = await reply;
  if (typeof clientId !== 'string' || !(nonceC instanceof Uint8Array)) {
    socket.close(CloseCode.protocol, 'malformed auth');
    throw new TransportError(String(clientId), 'malformed auth envelope', CloseCode.protocol);
  }
  if (!proofsEqual(proof, clientProof(o.secret, nonceS, clientId, nonceC))) {
    o.log.warn({ peer: clientId, remote: socket.remoteAddress }, 'refused a link: wrong secret');
    socket.close(CloseCode.auth, 'authentication failed');
    throw new AuthError(clientId, 'wrong secret');
  }
  sendHello(socket, [Env.hello, 'welcome', serverProof(o.secret, nonceC, o.nodeId, nonceS), o.meta]);
  return new Link(socket, clientId, metaOf(meta), false, o.limits, events, o.log, setOnMessage);
}

/** Client side: dial, answer the challenge, check the server's proof, and return the link. */
export async function dialLink(url: string, o: HandshakeOptions, events: LinkEvents): Promise<Link> {
  // Node links are authenticated and carry no browser's bytes: the masking RFC 6455 asks of a
  // client (against cache poisoning through proxies by scripts) buys nothing here and costs a copy.
  const connectOptions: Parameters<typeof connect>[1] = { maxPayloadBytes: o.limits.maxFrameBytes, handshakeTimeoutMs: o.timeoutMs ?? 5000, zeroMask: true };
  if (o.ca !== undefined) connectOptions.ca = o.ca;
  const socket = await connect(url, connectOptions);
  const setOnMessage = dispatcher(socket);
  const [serverId, nonceS] = await expectHello(socket, setOnMessage, 'challenge', url, o);
  if (typeof serverId !== 'string' || !(nonceS instanceof Uint8Array)) {
    socket.close(CloseCode.protocol, 'malformed challenge');
    throw new TransportError(url, 'malformed challenge', CloseCode.protocol);
  }
  const nonceC = nonce();
  const welcome = expectHello(socket, setOnMessage, 'welcome', serverId, o);
  sendHello(socket, [Env.hello, 'auth', o.nodeId, nonceC, clientProof(o.secret, nonceS, o.nodeId, nonceC), o.meta]);
  const [proof, meta] = await welcome;
  if (!proofsEqual(proof, serverProof(o.secret, nonceC, serverId, nonceS))) {
    socket.close(CloseCode.auth, 'server failed authentication');
    throw new AuthError(serverId, 'the server does not know the secret');
  }
  return new Link(socket, serverId, metaOf(meta), true, o.limits, events, o.log, setOnMessage);
}
