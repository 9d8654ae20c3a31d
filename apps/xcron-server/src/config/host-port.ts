import { isIPv4, isIPv6 } from 'node:net';

/** The lowest and highest TCP port a setting may name (0, "any free port", is not an address). */
export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** A `host[:port]` entry split in two; `port` is absent when the entry did not give one. */
export interface HostPort {
  readonly host: string;
  readonly port?: number;
}

export type HostPortResult =
  | { readonly ok: true; readonly value: HostPort }
  | { readonly ok: false; readonly problem: string };

// RFC 1123 labels; underscores are allowed because container and service-discovery names use them.
const HOSTNAME_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
const MAX_HOSTNAME_CHARS = 253;

/**
 * Why `host` (without brackets) is not a host name or IP address, or undefined when it is one.
 * Only the form is checked, never DNS: a peer may not resolve yet while the cluster starts.
 */
export function hostProblem(host: string): string | undefined {
  if (host === '') return 'the host is empty';
  if (isIPv4(host) || isIPv6(host)) return undefined;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (
    name.length > MAX_HOSTNAME_CHARS ||
    !name.split('.').every((label) => HOSTNAME_LABEL.test(label))
  ) {
    return `"${host}" is not a host name or IP address`;
  }
  return undefined;
}

/** Why `text` is not a port number from 1 to 65535, or undefined when it is one. */
function portProblem(text: string): string | undefined {
  if (!/^\d{1,5}$/.test(text))
    return `port "${text}" is not a number from ${MIN_PORT} to ${MAX_PORT}`;
  const port = Number(text);
  if (port < MIN_PORT || port > MAX_PORT)
    return `port ${port} is not from ${MIN_PORT} to ${MAX_PORT}`;
  return undefined;
}

/**
 * Splits `host`, `host:port`, `[ipv6]` or `[ipv6]:port`. An IPv6 address must be in brackets,
 * because `::1:8899` is itself a valid address and cannot be split safely.
 */
export function parseHostPort(entry: string): HostPortResult {
  let host: string;
  let portText: string | undefined;
  if (entry.includes('://')) return { ok: false, problem: 'is a URL: write only "host:port"' };
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return { ok: false, problem: 'has "[" without a closing "]"' };
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':'))
      return { ok: false, problem: `has "${rest}" after "]"` };
    portText = rest === '' ? undefined : rest.slice(1);
    if (!isIPv6(host)) return { ok: false, problem: `"[${host}]" is not an IPv6 address` };
  } else {
    const colons = entry.split(':').length - 1;
    if (colons > 1) {
      return {
        ok: false,
        problem: 'looks like an IPv6 address: write it in brackets, e.g. "[::1]:8899"',
      };
    }
    [host, portText] = colons === 1 ? (entry.split(':') as [string, string]) : [entry, undefined];
    const problem = hostProblem(host);
    if (problem !== undefined) return { ok: false, problem };
  }
  if (portText === undefined) return { ok: true, value: { host } };
  const problem = portProblem(portText);
  if (problem !== undefined) return { ok: false, problem };
  return { ok: true, value: { host, port: Number(portText) } };
}

/** `host:port`, with an IPv6 host in brackets so the result parses back to the same pair. */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
