/**
 * What travels on a link. A frame is one WebSocket binary message holding a CBOR array of
 * envelopes; each envelope is a small array whose first element is its type. Envelopes are
 * encoded one by one as they are queued (so a link knows its pending bytes exactly) and a frame
 * is the CBOR array header followed by the queued encodings.
 */
import { cborDecode, cborEncode } from '../../codecs/cbor.js';

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
} as const;

export type Envelope =
  | [typeof Env.send, string, unknown]
  | [typeof Env.ask, string, unknown, number]
  | [typeof Env.reply, number, boolean, unknown]
  | [typeof Env.moved, string, string, number]
  | [typeof Env.control, string, unknown]
  | [typeof Env.hello, string, ...unknown[]]
  | [typeof Env.seq, string, unknown, number]
  | [typeof Env.seq, string, unknown, number, string];

export function encodeEnvelope(env: Envelope): Uint8Array {
  return cborEncode(env);
}

/** The CBOR head of an array of `n` items (major type 4). */
function arrayHead(n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x80 | n);
  if (n < 0x100) return Uint8Array.of(0x98, n);
  if (n < 0x10000) return Uint8Array.of(0x99, n >> 8, n & 0xff);
  return Uint8Array.of(0x9a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Joins encoded envelopes into one frame. */
export function frameOf(encoded: readonly Uint8Array[], totalBytes: number): Buffer {
  const head = arrayHead(encoded.length);
  const out = Buffer.allocUnsafe(head.length + totalBytes);
  out.set(head, 0);
  let offset = head.length;
  for (const e of encoded) {
    out.set(e, offset);
    offset += e.length;
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
    default:
      return `unknown envelope type ${String(type)}`;
  }
}
