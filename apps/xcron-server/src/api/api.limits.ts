/**
 * Every bound the HTTP API puts on a request, in one place. The scheduler may enforce tighter
 * domain rules (retry ranges, time ordering); these only keep a request's shape sane.
 */

/** Largest seed one-shot time in unix seconds: 9999-12-31T23:59:59Z. A larger integer is taken for milliseconds. */
export const UNIX_SECONDS_MAX = 253_402_300_799;
/** Largest `*_ms` time: 9999-12-31T23:59:59.999Z. */
export const UNIX_MS_MAX = UNIX_SECONDS_MAX * 1000 + 999;
/** Longest duration field (`timeout_ms`, `jitter_ms`, backoffs): 2^31 - 1 ms, about 24.8 days. */
export const DURATION_MS_MAX = 2_147_483_647;
/** Most attempts a retry policy may ask for. */
export const RETRY_MAX_ATTEMPTS_MAX = 1000;
export const NAME_CHARS_MAX = 200;
export const IDEMPOTENCY_KEY_CHARS_MAX = 200;
export const CRON_EXPRESSION_CHARS_MAX = 256;
export const TIMEZONE_CHARS_MAX = 64;
/** Opaque pagination cursors are short; a longer one is not ours. */
export const CURSOR_CHARS_MAX = 512;

export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 1000;
/** How many next fire times GET /v1/tasks/:id shows. */
export const NEXT_FIRE_TIMES_COUNT = 5;

/** Defaults of ApiOptions. */
export const BATCH_TASKS_MAX_DEFAULT = 1000;
export const BATCH_BODY_LIMIT_BYTES_DEFAULT = 4 * 1024 * 1024;
