/**
 * Mutual HMAC challenge-response: the secret never crosses the wire.
 *   server -> client  challenge(serverId, nonceS)
 *   client -> server  auth(clientId, nonceC, HMAC(secret, "client" | nonceS | clientId | nonceC))
 *   server -> client  welcome(HMAC(secret, "server" | nonceC | serverId | nonceS))
 * Each side checks the other's proof with a constant-time comparison.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 16;

export function nonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

function proof(secret: string, label: string, parts: Array<Uint8Array | string>): Uint8Array {
  const h = createHmac('sha256', secret);
  h.update(`godwit-link-v1|${label}`);
  for (const p of parts) {
    h.update('|');
    h.update(p);
  }
  return h.digest();
}

export const clientProof = (secret: string, nonceS: Uint8Array, clientId: string, nonceC: Uint8Array): Uint8Array =>
  proof(secret, 'client', [nonceS, clientId, nonceC]);

export const serverProof = (secret: string, nonceC: Uint8Array, serverId: string, nonceS: Uint8Array): Uint8Array =>
  proof(secret, 'server', [nonceC, serverId, nonceS]);

export function proofsEqual(a: unknown, b: Uint8Array): boolean {
  return a instanceof Uint8Array && a.length === b.length && timingSafeEqual(a, b);
}
