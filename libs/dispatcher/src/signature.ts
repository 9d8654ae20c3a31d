import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Callback signing: `X-Xcron-Signature: t=<unix_ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * `t` is the attempt's send time, so every attempt carries a fresh signature and a receiver can
 * refuse replays older than its tolerance. Several `v1=` entries are allowed in a header (a
 * sender rotating secrets may sign with each); one matching entry is enough.
 */

export const SIGNATURE_SCHEME = 'v1';

/** Hex HMAC-SHA256 of "<timestampMs>.<body>". */
export function computeCallbackSignature(
  secret: string | Buffer,
  timestampMs: number,
  body: string | Buffer,
): string {
  return createHmac('sha256', secret).update(`${timestampMs}.`).update(body).digest('hex');
}

/** The X-Xcron-Signature header value for `body` sent at `timestampMs`. */
export function formatSignatureHeader(
  secret: string | Buffer,
  timestampMs: number,
  body: string | Buffer,
): string {
  return `t=${timestampMs},v1=${computeCallbackSignature(secret, timestampMs, body)}`;
}

export interface ParsedSignatureHeader {
  readonly timestampMs: number;
  readonly signatures: readonly string[];
}

/** Splits a signature header into its timestamp and v1 signatures; undefined if malformed. */
export function parseSignatureHeader(header: string): ParsedSignatureHeader | undefined {
  let timestampMs: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      return undefined;
    }
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestampMs !== undefined || !/^\d{1,16}$/.test(value)) {
        return undefined;
      }
      timestampMs = Number(value);
    } else if (key === SIGNATURE_SCHEME) {
      if (!/^[0-9a-f]{64}$/i.test(value)) {
        return undefined;
      }
      signatures.push(value.toLowerCase());
    }
    // Unknown schemes are ignored, so a future v2 can be added beside v1.
  }
  if (timestampMs === undefined || signatures.length === 0) {
    return undefined;
  }
  return { timestampMs, signatures };
}

export interface VerifySignatureOptions {
  /** How far the signature's timestamp may be from `nowMs`, either way. Default 5 minutes. */
  readonly toleranceMs?: number;
  /** The receiver's clock, unix ms. Default `Date.now()`. */
  readonly nowMs?: number;
}

/**
 * For receivers (and tests): whether `header` is a valid X-Xcron-Signature of `body` (the raw
 * request body, byte for byte) under `secret` (or any of several secrets, during a rotation),
 * with a timestamp within `toleranceMs` of `nowMs`. Comparison is constant-time.
 */
export function verifyCallbackSignature(
  secret: string | Buffer | readonly (string | Buffer)[],
  header: string | undefined,
  body: string | Buffer,
  options: VerifySignatureOptions = {},
): boolean {
  if (typeof header !== 'string') {
    return false;
  }
  const parsed = parseSignatureHeader(header);
  if (parsed === undefined) {
    return false;
  }
  const toleranceMs = options.toleranceMs ?? 5 * 60_000;
  const nowMs = options.nowMs ?? Date.now();
  if (Math.abs(nowMs - parsed.timestampMs) > toleranceMs) {
    return false;
  }
  const secrets = Array.isArray(secret) ? secret : [secret as string | Buffer];
  for (const s of secrets) {
    const expected = Buffer.from(computeCallbackSignature(s, parsed.timestampMs, body), 'latin1');
    for (const candidate of parsed.signatures) {
      const given = Buffer.from(candidate, 'latin1');
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        return true;
      }
    }
  }
  return false;
}
