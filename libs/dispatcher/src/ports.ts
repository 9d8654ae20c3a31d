/** The dispatcher's two ports to time, so tests of backoff and signing need no real waits. */

export interface Clock {
  /** Unix milliseconds. Used for the signature's timestamp, durations and HTTP-date Retry-After. */
  nowMs(): number;
}

/**
 * Waits `ms`, or less if `signal` aborts first. It must resolve in both cases and never reject:
 * the dispatcher looks at the signal afterwards.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const systemClock: Clock = { nowMs: () => Date.now() };

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
