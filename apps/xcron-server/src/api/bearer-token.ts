/**
 * Bearer-token check, framework-free. Both sides are hashed to 32 bytes first so that
 * timingSafeEqual compares equal lengths: the time taken says nothing about the token, its length
 * included.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = (authorization: string | undefined) => boolean;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** A check of `Authorization` header values against `token` (undefined: every request passes). */
export function bearerTokenCheck(token: string | undefined): TokenCheck {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (authorization) => {
    const match = authorization === undefined ? null : BEARER.exec(authorization);
    // Hash even a missing token, so a missing header costs what a wrong one does.
    const given = digest(match === null ? '' : match[1]);
    return timingSafeEqual(given, expected) && match !== null;
  };
}
