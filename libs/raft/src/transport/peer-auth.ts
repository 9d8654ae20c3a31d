import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_NONCE_BYTES, AUTH_PROOF_BYTES } from './transport.constants';

/**
 * Mutual challenge-response authentication of peers that share `cluster_secret`.
 *
 * Each side sends a fresh random nonce; the other answers with
 *
 *     proof = HMAC-SHA256(secret, "xcron-peer-auth/1" || role || nonce || dialer id || acceptor id || cluster id)
 *
 * with every variable field length-prefixed (u32), so no two different inputs concatenate to the
 * same bytes. `role` says who proves ("A" acceptor, "D" dialer): without it, an attacker could
 * open a second connection and have a node answer its own challenge for it (a reflection attack).
 * Binding both ids and the cluster id stops a proof made for one pair or cluster being replayed
 * for another; fresh nonces stop replay across connections. The secret never crosses the wire.
 *
 * This authenticates the handshake only; later frames are neither encrypted nor MACed, so an
 * attacker on the network path could still hijack an open connection. Run the peer port on a
 * private network (or under TLS/WireGuard) where that matters.
 */
export type ProverRole = 'acceptor' | 'dialer';

const DOMAIN = Buffer.from('xcron-peer-auth/1', 'utf8');

export interface ProofInput {
  role: ProverRole;
  /** The challenge being answered: the other side's nonce. */
  nonce: Buffer;
  dialerId: string;
  acceptorId: string;
  clusterId: string;
}

/** Nonces come from the CSPRNG, never from the injected `random`: predictable nonces would allow replay. */
export function newNonce(): Buffer {
  return randomBytes(AUTH_NONCE_BYTES);
}

export function computeProof(secret: Buffer, input: ProofInput): Buffer {
  const hmac = createHmac('sha256', secret);
  hmac.update(DOMAIN);
  hmac.update(input.role === 'acceptor' ? 'A' : 'D');
  for (const field of [input.nonce, input.dialerId, input.acceptorId, input.clusterId]) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    hmac.update(length);
    hmac.update(bytes);
  }
  return hmac.digest();
}

/** Constant-time check of a received proof (its length is public: it is fixed). */
export function proofMatches(secret: Buffer, input: ProofInput, received: Buffer): boolean {
  if (received.length !== AUTH_PROOF_BYTES) return false;
  return timingSafeEqual(computeProof(secret, input), received);
}
