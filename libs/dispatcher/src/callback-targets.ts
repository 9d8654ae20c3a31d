import { normalizeHost, parseCallbackUrl } from './callback-url';

/** Where one callback URL sends: undici's origin and path, and its host as allow-lists see it. */
export interface CallbackTarget {
  readonly origin: string;
  readonly path: string;
  /** normalizeHost of the URL's host name. */
  readonly host: string;
}

/** Distinct URLs remembered; past this the memo starts over (a scheduler has far fewer URLs). */
const TARGETS_MAX = 10_000;

const targetsByUrl = new Map<string, CallbackTarget | { readonly problem: string }>();

/**
 * parseCallbackUrl, remembered by URL text: tasks mostly share a handful of URLs, and parsing one
 * (a WHATWG URL object and its getters) was the largest cost of checking a task at creation and a
 * few µs and a heavy object per fire at dispatch. The answer depends on the text alone; the
 * allow-list is the caller's (isCallbackHostAllowed on `host`).
 */
export function resolveCallbackUrl(url: string): CallbackTarget | { readonly problem: string } {
  const known = targetsByUrl.get(url);
  if (known !== undefined) return known;
  const parsed = parseCallbackUrl(url);
  const resolved =
    typeof parsed === 'string'
      ? { problem: parsed }
      : {
          origin: parsed.origin,
          path: parsed.pathname + parsed.search,
          host: normalizeHost(parsed.hostname),
        };
  if (targetsByUrl.size >= TARGETS_MAX) targetsByUrl.clear();
  targetsByUrl.set(url, resolved);
  return resolved;
}
