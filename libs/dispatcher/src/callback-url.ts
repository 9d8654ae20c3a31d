import { isIP } from 'node:net';

/**
 * Callback URL rules, shared by task creation (the scheduler refuses a bad URL with code 1003)
 * and dispatch (a task stored before the rules tightened is refused, never sent).
 */

const MAX_URL_LENGTH = 2048;

/**
 * The problem with `url` as a callback URL, or undefined when it is acceptable: an absolute
 * http: or https: URL with a host and no credentials (`user:pass@` would be logged and stored with
 * the task; a receiver wanting a secret can check the signature or a custom header), at most 2048
 * characters.
 */
export function validateCallbackUrl(url: string): string | undefined {
  const parsed = parseCallbackUrl(url);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** `url` parsed when it is an acceptable callback URL (see validateCallbackUrl), else the problem. */
export function parseCallbackUrl(url: string): URL | string {
  if (typeof url !== 'string' || url === '') {
    return 'callback URL is empty';
  }
  if (url.length > MAX_URL_LENGTH) {
    return `callback URL is longer than ${MAX_URL_LENGTH} characters`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'callback URL is not a valid absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `callback URL scheme must be http or https, got ${parsed.protocol.slice(0, -1)}`;
  }
  if (parsed.hostname === '') {
    return 'callback URL has no host';
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'callback URL must not contain credentials';
  }
  return parsed;
}

/**
 * The host name of `url` as compared with an allow-list: lower case, no trailing dot, IPv6
 * addresses without brackets. Undefined if `url` does not parse.
 */
export function callbackHostOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  return normalizeHost(parsed.hostname);
}

/** The host of a parsed URL as an allow-list compares it. */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) {
    h = h.slice(1, -1);
  }
  if (h.endsWith('.')) {
    h = h.slice(0, -1);
  }
  return h;
}

/**
 * Whether `host` (already normalized) matches one allow-list entry: an exact host name or IP
 * ("api.example.com", "10.0.0.7"), or "*.example.com", which matches any name under example.com
 * (a.example.com, a.b.example.com) but not example.com itself. Entries are case-insensitive;
 * ports are not part of an entry.
 */
export function hostMatchesPattern(host: string, pattern: string): boolean {
  const p = normalizeHost(pattern.trim());
  if (p.startsWith('*.')) {
    const suffix = p.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return p !== '' && host === p;
}

/**
 * Whether `url`'s host is allowed. `allowedHosts` undefined means no allow-list (every host is
 * allowed); an empty list allows nothing. A URL that does not parse is never allowed.
 */
export function isCallbackUrlAllowed(
  url: string,
  allowedHosts: readonly string[] | undefined,
): boolean {
  const host = callbackHostOf(url);
  return host !== undefined && isCallbackHostAllowed(host, allowedHosts);
}

/** `isCallbackUrlAllowed` for a host already normalized (see `normalizeHost`). */
export function isCallbackHostAllowed(
  host: string,
  allowedHosts: readonly string[] | undefined,
): boolean {
  if (host === '') {
    return false;
  }
  if (allowedHosts === undefined) {
    return true;
  }
  for (const pattern of allowedHosts) {
    if (hostMatchesPattern(host, pattern)) {
      return true;
    }
  }
  return false;
}

/** The problem with an allow-list entry (for configuration validation), or undefined. */
export function validateAllowedHostPattern(pattern: string): string | undefined {
  const p = normalizeHost(pattern.trim());
  const body = p.startsWith('*.') ? p.slice(2) : p;
  if (body === '' || body.includes('*')) {
    return `allowed host "${pattern}" must be a host name, an IP address or "*.<domain>"`;
  }
  if (/[\s/@?#]/.test(body) || (body.includes(':') && isIP(body) !== 6)) {
    return `allowed host "${pattern}" must be a bare host name (no scheme, port or path)`;
  }
  return undefined;
}
