/**
 * Which answers are worth another attempt. The policy of xcron:
 *
 * - 2xx: success.
 * - 408 Request Timeout, 425 Too Early, 429 Too Many Requests, every 5xx: retried (transient by
 *   definition, or a gateway / overloaded receiver). 429 and 503 honour Retry-After.
 * - Every other 4xx (400, 401, 403, 404, 409, 410, 413, 422, …): not retried. The receiver read the
 *   request and refused it; the same bytes will be refused again, and retrying for minutes only
 *   delays the dead letter that an operator can re-run once the receiver is fixed.
 * - 1xx/3xx: not retried. Redirects are never followed (a POST redirect could leave the allow-list
 *   and changes method semantics); the URL should be fixed instead.
 * - No answer (connection refused/reset, DNS failure, TLS error, timeout): retried.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

/** Whether a Retry-After header of this answer is honoured. */
export function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}
