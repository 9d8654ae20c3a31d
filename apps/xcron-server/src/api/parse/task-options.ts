/**
 * The optional task fields the seed's createTask and /v1 share (same names, snake_case): name,
 * timeout_ms, retry, jitter_ms, overlap, misfire, idempotency_key. Times are read by the callers,
 * since the seed takes unix seconds and /v1 RFC 3339 or unix ms.
 */
import type { MisfirePolicy, OverlapPolicy, RetryPolicy } from '@xcron/scheduler/task/task.model';
import {
  DURATION_MS_MAX,
  IDEMPOTENCY_KEY_CHARS_MAX,
  NAME_CHARS_MAX,
  RETRY_MAX_ATTEMPTS_MAX,
} from '../api.limits';
import {
  expectObject,
  optionalInteger,
  optionalOneOf,
  optionalString,
  refuseUnknownFields,
  type JsonObject,
} from './json-fields';

export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['allow', 'skip', 'buffer_one'];
export const MISFIRE_POLICIES: readonly MisfirePolicy[] = ['fire_once', 'fire_all', 'skip'];
const RETRY_FIELDS: ReadonlySet<string> = new Set([
  'max_attempts',
  'initial_backoff_ms',
  'max_backoff_ms',
]);

/** The shared fields, as TaskSpecInput spells them; absent fields stay absent. */
export interface CommonTaskOptions {
  name?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  jitterMs?: number;
  overlap?: OverlapPolicy;
  misfire?: MisfirePolicy;
  idempotencyKey?: string;
}

function parseRetry(value: unknown, field: string, strict: boolean): Partial<RetryPolicy> {
  const object = expectObject(value, field);
  if (strict) refuseUnknownFields(object, RETRY_FIELDS, `${field}.`);
  const retry: { -readonly [K in keyof RetryPolicy]?: number } = {};
  const maxAttempts = optionalInteger(
    object,
    'max_attempts',
    `${field}.max_attempts`,
    1,
    RETRY_MAX_ATTEMPTS_MAX,
  );
  if (maxAttempts !== undefined) retry.maxAttempts = maxAttempts;
  const initial = optionalInteger(
    object,
    'initial_backoff_ms',
    `${field}.initial_backoff_ms`,
    0,
    DURATION_MS_MAX,
  );
  if (initial !== undefined) retry.initialBackoffMs = initial;
  const max = optionalInteger(
    object,
    'max_backoff_ms',
    `${field}.max_backoff_ms`,
    0,
    DURATION_MS_MAX,
  );
  if (max !== undefined) retry.maxBackoffMs = max;
  return retry;
}

/**
 * Reads the shared optional fields of `object` into `out`. `prefix` is the dotted path of
 * `object` (`""`, or `tasks[3].` in a batch), for error fields.
 */
export function readCommonOptions(
  object: JsonObject,
  prefix: string,
  strict: boolean,
  out: CommonTaskOptions,
): void {
  // Each field's path is built only when the field is there (a batch reads these 1,000 times).
  if (object.name !== undefined)
    out.name = optionalString(object, 'name', `${prefix}name`, NAME_CHARS_MAX);
  if (object.timeout_ms !== undefined)
    out.timeoutMs = optionalInteger(
      object,
      'timeout_ms',
      `${prefix}timeout_ms`,
      1,
      DURATION_MS_MAX,
    );
  if (object.retry !== undefined) out.retry = parseRetry(object.retry, `${prefix}retry`, strict);
  if (object.jitter_ms !== undefined)
    out.jitterMs = optionalInteger(object, 'jitter_ms', `${prefix}jitter_ms`, 0, DURATION_MS_MAX);
  if (object.overlap !== undefined)
    out.overlap = optionalOneOf(object, 'overlap', `${prefix}overlap`, OVERLAP_POLICIES);
  if (object.misfire !== undefined)
    out.misfire = optionalOneOf(object, 'misfire', `${prefix}misfire`, MISFIRE_POLICIES);
  if (object.idempotency_key !== undefined)
    out.idempotencyKey = optionalString(
      object,
      'idempotency_key',
      `${prefix}idempotency_key`,
      IDEMPOTENCY_KEY_CHARS_MAX,
    );
}
