/**
 * What travels on a link. A frame is one WebSocket binary message holding a CBOR array of
 * envelopes; each envelope is a small array whose first element is its type. Envelopes are
 * encoded one by one as they are queued (so a link knows its pending bytes exactly) and a frame
 * is the CBOR array header followed by the queued encodings.
 */
import { cborDecode, cborEncode } from '../../codecs/cbor.js';
import { InvalidArgumentError } from '../../errors.js';

export const Env = {
  /** [SEND, toTaskId, body] */
  send: 0,
  /** [ASK, toTaskId, body, askId] */
  ask: 1,
  /** [REPLY, askId, ok, valueOrError] */
  reply: 2,
  /** [MOVED, taskId, node, epoch]: the task lives elsewhere now */
  moved: 3,
  /** [CONTROL, kind, payload]: membership, directory, snapshots, heartbeats */
  control: 4,
  /** [HELLO, kind, ...]: the handshake, before a link is authenticated */
  hello: 5,
  /**
   * [SEQ, toTaskId, body, seq, origin?]: a send stamped for replay (seq in the origin node's
   * stream to that task); origin is left out when it is the link's peer, given when forwarded
   */
  seq: 6,
  /**
   * [TAIL, length]: always last in its frame; the envelope before it ends with an empty byte
   * string whose bytes are the link's next binary message, `length` bytes (see `Detachable`)
   */
  tail: 7,
} as const;

export type Envelope =
  | [typeof Env.send, string, unknown]
  | [typeof Env.ask, string, unknown, number]
  | [typeof Env.reply, number, boolean, unknown]
  | [typeof Env.moved, string, string, number]
  | [typeof Env.control, string, unknown]
  | [typeof Env.hello, string, ...unknown[]]
  | [typeof Env.seq, string, unknown, number]
  | [typeof Env.seq, string, unknown, number, string]
  | [typeof Env.tail, number];

export function encodeEnvelope(env: Envelope): Uint8Array {
  return cborEncode(env);
}

/** An envelope encoded in pieces that go into a frame one after the other; `length` is their total bytes. */
export interface EncodedParts {
  readonly parts: readonly Uint8Array[];
  readonly length: number;
  /**
   * The same envelope as its encoding with an empty byte string last (`head`) and the bytes that
   * fill it (`tail`): a link may send `tail` as a message of its own, uncopied (`Env.tail`).
   */
  readonly detachable?: Detachable;
}

export interface Detachable {
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
}

/** One encoded envelope, whole or in pieces. */
export type Encoded = Uint8Array | EncodedParts;

/**
 * Encodes an envelope whose last encoded value is a large byte string, without copying it: in
 * `env` that value is an empty byte string (a placeholder), and `tail` takes its place. The bytes
 * of `tail` are copied once, into the frame, unless the link sends them detached (`Env.tail`).
 */
export function encodeEnvelopeWithTail(env: Envelope, tail: Uint8Array): EncodedParts {
  const head = cborEncode(env);
  if (head[head.length - 1] !== 0x40) throw new InvalidArgumentError('env', 'must end with an empty byte string, the placeholder of the tail');
  const n = tail.byteLength;
  const bstr = n < 24 ? Uint8Array.of(0x40 | n) : n < 0x100 ? Uint8Array.of(0x58, n) : n < 0x10000 ? Uint8Array.of(0x59, n >> 8, n & 0xff) : Uint8Array.of(0x5a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const parts = [head.subarray(0, head.length - 1), bstr, tail];
  return { parts, length: head.length - 1 + bstr.length + n, detachable: { head, tail } };
}

/** The encoded `[Env.tail, n]` announcing a detached tail of `n` bytes. */
export function tailAnnouncement(n: number): Uint8Array {
  return cborEncode([Env.tail, n]);
}

/**
 * Puts `tail` in place of the empty byte string that ends `env` (its last element, descending
 * into the last element of arrays and the last value of plain objects): the inverse of sending it
 * detached. False when `env` does not end with an empty byte string.
 */
export function attachTail(env: unknown, tail: Uint8Array): boolean {
  let holder: unknown = env;
  for (let depth = 0; depth < 32; depth++) {
    let key: string | number;
    if (Array.isArray(holder)) key = holder.length - 1;
    else if (typeof holder === 'object' && holder !== null && !(holder instanceof Uint8Array)) {
      const keys = Object.keys(holder);
      if (keys.length === 0) return false;
      key = keys[keys.length - 1]!;
    } else return false;
    if (key === -1) return false;
    const value = (holder as Record<string | number, unknown>)[key];
    if (value instanceof Uint8Array) {
      if (value.byteLength !== 0) return false;
      (holder as Record<string | number, unknown>)[key] = tail;
      return true;
    }
    holder = value;
  }
  return false;
}

/** The bytes of an encoded envelope in one piece (a copy when it is in pieces). */
export function joined(e: Encoded): Uint8Array {
  if (e instanceof Uint8Array) return e;
  const out = new Uint8Array(e.length);
  let offset = 0;
  for (const p of e.parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The CBOR head of an array of `n` items (major type 4). */
function arrayHead(n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x80 | n);
  if (n < 0x100) return Uint8Array.of(0x98, n);
  if (n < 0x10000) return Uint8Array.of(0x99, n >> 8, n & 0xff);
  return Uint8Array.of(0x9a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Joins encoded envelopes into one frame. */
export function frameOf(encoded: readonly Encoded[], totalBytes: number): Buffer {
  const head = arrayHead(encoded.length);
  const out = Buffer.allocUnsafe(head.length + totalBytes);
  out.set(head, 0);
  let offset = head.length;
  for (const e of encoded) {
    if (e instanceof Uint8Array) {
      out.set(e, offset);
      offset += e.length;
    } else {
      for (const p of e.parts) {
        out.set(p, offset);
        offset += p.length;
      }
    }
  }
  return out;
}

export type DecodeResult = { ok: true; envelopes: Envelope[] } | { ok: false; reason: string; cause?: unknown };

/** Decodes and shape-checks a frame; never throws. */
export function decodeFrame(frame: Uint8Array): DecodeResult {
  let value: unknown;
  try {
    value = cborDecode(frame);
  } catch (cause) {
    return { ok: false, reason: 'frame is not valid CBOR', cause };
  }
  if (!Array.isArray(value)) return { ok: false, reason: 'frame is not an array of envelopes' };
  for (const env of value) {
    const why = checkEnvelope(env);
    if (why) return { ok: false, reason: why };
  }
  return { ok: true, envelopes: value as Envelope[] };
}

function checkEnvelope(env: unknown): string | undefined {
  if (!Array.isArray(env) || env.length === 0) return 'envelope is not a non-empty array';
  const [type, a, b, c] = env as unknown[];
  switch (type) {
    case Env.send:
      return typeof a === 'string' && env.length === 3 ? undefined : 'malformed send envelope';
    case Env.ask:
      return typeof a === 'string' && Number.isInteger(c) && env.length === 4 ? undefined : 'malformed ask envelope';
    case Env.reply:
      return Number.isInteger(a) && typeof b === 'boolean' && env.length === 4 ? undefined : 'malformed reply envelope';
    case Env.moved:
      return typeof a === 'string' && typeof b === 'string' && Number.isInteger(c) ? undefined : 'malformed moved envelope';
    case Env.control:
      return typeof a === 'string' && env.length === 3 ? undefined : 'malformed control envelope';
    case Env.seq:
      return typeof a === 'string' && Number.isInteger(c) && (env.length === 4 || (env.length === 5 && typeof env[4] === 'string')) ? undefined : 'malformed seq envelope';
    case Env.hello:
      return typeof a === 'string' ? undefined : 'malformed hello envelope';
    case Env.tail:
      return Number.isInteger(a) && (a as number) > 0 && env.length === 2 ? undefined : 'malformed tail envelope';
    default:
      return `unknown envelope type ${String(type)}`;
  }
}
