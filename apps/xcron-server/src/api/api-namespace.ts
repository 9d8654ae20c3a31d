/** Which API a request URL belongs to: how its errors are answered. */
export type ApiNamespace =
  /** /xcron/*: HTTP 200 with the code in the envelope, as the original xcron. */
  | 'seed'
  /** /v1/* and /readyz: the table's HTTP status, the envelope as body. */
  | 'v1';

export const SEED_PREFIX = '/xcron/';
export const V1_PREFIX = '/v1/';

/** The namespace of a request URL (path and query), or undefined for routes that are not the API's. */
export function apiNamespaceOf(url: string): ApiNamespace | undefined {
  if (url.startsWith(SEED_PREFIX)) return 'seed';
  if (url.startsWith(V1_PREFIX) || url === '/v1' || url.startsWith('/v1?')) return 'v1';
  if (url === '/readyz' || url.startsWith('/readyz?')) return 'v1';
  return undefined;
}
