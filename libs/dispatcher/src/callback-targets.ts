import { isCallbackHostAllowed, normalizeHost, parseCallbackUrl } from './callback-url';

/** Where one callback URL sends: undici's origin and path. */
export interface CallbackTarget {
  readonly origin: string;
  readonly path: string;
}

/** Distinct URLs kept; past this the cache starts over (a scheduler has far fewer callback URLs). */
const TARGETS_MAX = 10_000;

/**
 * Callback URLs parsed and checked against the host allow-list, by URL text. Tasks mostly share a
 * handful of URLs, and parsing one (a WHATWG URL object and its getters) cost a few µs and a
 * heavy object per fire. A URL's verdict depends only on its text and the allow-list, which is
 * fixed for the dispatcher's life: a cached verdict is the verdict.
 */
export class CallbackTargets {
  readonly #byUrl = new Map<string, CallbackTarget | string>();

  constructor(private readonly allowedHosts: readonly string[] | undefined) {}

  /** The target, or the reason the URL is refused. */
  resolve(url: string): CallbackTarget | string {
    const known = this.#byUrl.get(url);
    if (known !== undefined) return known;
    const resolved = this.#parse(url);
    if (this.#byUrl.size >= TARGETS_MAX) this.#byUrl.clear();
    this.#byUrl.set(url, resolved);
    return resolved;
  }

  #parse(url: string): CallbackTarget | string {
    const parsed = parseCallbackUrl(url);
    if (typeof parsed === 'string') return `invalid callback URL: ${parsed}`;
    if (this.allowedHosts !== undefined) {
      const host = normalizeHost(parsed.hostname);
      if (!isCallbackHostAllowed(host, this.allowedHosts))
        return `callback host "${host}" is not in the allow-list`;
    }
    return { origin: parsed.origin, path: parsed.pathname + parsed.search };
  }
}
