import type { CallbackRetryPolicy } from './callback-request';

/**
 * The backoff cap after failed attempt `attempt` (1-based), i.e. before attempt `attempt + 1`:
 * min(maxBackoffMs, initialBackoffMs × 2^(attempt-1)). Nondecreasing in `attempt`.
 */
export function backoffCapMs(policy: CallbackRetryPolicy, attempt: number): number {
  const initial = policy.initialBackoffMs;
  if (initial <= 0 || policy.maxBackoffMs <= 0) {
    return 0;
  }
  // 2 ** 1023 keeps the product finite or Infinity, never NaN; min() then takes the cap.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 1023);
  return Math.min(policy.maxBackoffMs, initial * 2 ** exponent);
}

/**
 * The wait before the next attempt after failed attempt `attempt`, with "equal jitter": half the
 * cap for sure, the other half random, i.e. an integer in [floor(cap/2), cap].
 *
 * Why equal and not full jitter: full jitter (random × cap) may retry at once after a failure,
 * which hammers a receiver that just failed; equal jitter keeps a floor of half the exponential
 * delay while still spreading a burst of retries (the fires of one crontab minute) over time.
 *
 * `random` returns a float in [0, 1) (inject a seeded one in tests); it is called exactly once.
 */
export function backoffDelayMs(
  policy: CallbackRetryPolicy,
  attempt: number,
  random: () => number,
): number {
  const cap = backoffCapMs(policy, attempt);
  const r = random();
  const unit = r >= 0 && r < 1 ? r : r >= 1 ? 1 : 0;
  const half = cap / 2;
  return Math.min(cap, Math.floor(half + unit * half));
}

const MAX_RETRY_AFTER_SECONDS = 365 * 24 * 3600;

/**
 * A Retry-After value in milliseconds from `nowMs`: delta seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"). Undefined when absent or unparseable; a date in the past
 * gives 0.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const text = value.trim();
  if (text === '') {
    return undefined;
  }
  if (/^\d+$/.test(text)) {
    return Math.min(Number(text), MAX_RETRY_AFTER_SECONDS) * 1000;
  }
  // An HTTP-date names its weekday and month; without letters Date.parse would read "-5" as a year.
  const at = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    return undefined;
  }
  return Math.max(0, at - nowMs);
}
