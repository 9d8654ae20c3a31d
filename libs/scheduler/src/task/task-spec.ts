import {
  isCallbackHostAllowed,
  resolveCallbackUrl,
  validateCallbackHeaders,
} from '@xcron/dispatcher';
import { compileSchedule } from '../schedule';
import { InvalidTaskError } from './task.errors';
import type { RetryPolicy, ScheduleSpec, TaskPatch, TaskSpec, TaskSpecInput } from './task.model';

/** Defaults and bounds of a task's optional fields (README's API section lists them). */
export const TASK_DEFAULTS = {
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000 } satisfies RetryPolicy,
  jitterMs: 0,
  overlap: 'allow',
  misfire: 'fire_once',
} as const;

export const TASK_LIMITS = {
  timeoutMsMin: 100,
  timeoutMsMax: 300_000,
  maxAttemptsMax: 100,
  backoffMsMax: 24 * 60 * 60 * 1000,
  jitterMsMax: 60 * 60 * 1000,
  nameCharsMax: 200,
  idempotencyKeyCharsMax: 200,
  /** A one-shot this far in the past is refused (clocks of client and node differ a little). */
  pastToleranceMs: 1_000,
  /** Latest time a task may name: year 9999. */
  timeMsMax: 253_402_300_799_000,
} as const;

export interface TaskSpecContext {
  readonly nowMs: number;
  /** Largest serialized callback body. */
  readonly callbackBodyBytesMax: number;
  /** Callback hosts allowed; undefined = any. */
  readonly allowedCallbackHosts?: readonly string[];
}

const OVERLAP_POLICIES = ['allow', 'skip', 'buffer_one'] as const;
const MISFIRE_POLICIES = ['fire_once', 'fire_all', 'skip'] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Out-parameter of normalizeTaskSpec (one object reused over a batch: nothing allocated a task). */
export interface CheckedTaskExtras {
  /**
   * The callback body's JSON, as the size check measured it: a create encodes the stored delivery
   * with it instead of stringifying the body a second time.
   */
  bodyJson: string;
}

/**
 * Checks a task as a client gave it and fills in the defaults. Everything is checked before
 * anything is proposed, so bad input stores nothing; each error names the field and the problem.
 */
export function normalizeTaskSpec(
  input: TaskSpecInput,
  context: TaskSpecContext,
  extras?: CheckedTaskExtras,
): TaskSpec {
  const schedule = input.schedule;
  if (schedule === undefined || schedule === null || typeof schedule !== 'object')
    throw new InvalidTaskError('request_invalid', 'schedule', 'a schedule is required');
  if (schedule.kind === 'once') {
    checkTime(schedule.runAtMs, 'run_at');
    if (schedule.runAtMs < context.nowMs - TASK_LIMITS.pastToleranceMs)
      throw new InvalidTaskError(
        'time_value_invalid',
        'run_at',
        `the one-shot time ${new Date(schedule.runAtMs).toISOString()} is in the past (now is ${new Date(context.nowMs).toISOString()})`,
      );
  } else if (schedule.kind !== 'cron')
    throw new InvalidTaskError(
      'type_unsupported',
      'schedule',
      'schedule kind must be cron or once',
    );
  const compiled = compileSchedule(schedule);

  // Built field by field in TaskSpec's order (not with conditional spreads: a batch builds 1,000),
  // each field checked in that order, so the first problem is the one reported.
  const spec: Mutable<TaskSpec> = {} as Mutable<TaskSpec>;
  if (input.name !== undefined) spec.name = checkText(input.name, 'name', TASK_LIMITS.nameCharsMax);
  spec.schedule = schedule;
  spec.callback = checkCallback(input.callback, context, extras);
  spec.timeoutMs = checkInteger(
    input.timeoutMs ?? TASK_DEFAULTS.timeoutMs,
    'timeout_ms',
    TASK_LIMITS.timeoutMsMin,
    TASK_LIMITS.timeoutMsMax,
  );
  spec.retry = checkRetry(input.retry);
  if (input.startAtMs !== undefined) spec.startAtMs = checkTime(input.startAtMs, 'start_at');
  if (input.endAtMs !== undefined) spec.endAtMs = checkTime(input.endAtMs, 'end_at');
  if (input.expireAtMs !== undefined) spec.expireAtMs = checkTime(input.expireAtMs, 'expire_at');
  spec.jitterMs = checkInteger(
    input.jitterMs ?? TASK_DEFAULTS.jitterMs,
    'jitter_ms',
    0,
    TASK_LIMITS.jitterMsMax,
  );
  spec.overlap = checkChoice(input.overlap ?? TASK_DEFAULTS.overlap, 'overlap', OVERLAP_POLICIES);
  spec.misfire = checkChoice(input.misfire ?? TASK_DEFAULTS.misfire, 'misfire', MISFIRE_POLICIES);
  if (input.idempotencyKey !== undefined)
    spec.idempotencyKey = checkText(
      input.idempotencyKey,
      'idempotency_key',
      TASK_LIMITS.idempotencyKeyCharsMax,
    );
  if (spec.startAtMs !== undefined && spec.endAtMs !== undefined && spec.endAtMs <= spec.startAtMs)
    throw new InvalidTaskError('time_value_invalid', 'end_at', 'end_at must be after start_at');
  if (schedule.kind === 'cron') {
    if (spec.endAtMs !== undefined && spec.endAtMs < context.nowMs)
      throw new InvalidTaskError(
        'time_value_invalid',
        'end_at',
        'end_at is in the past: the task would never fire',
      );
    const from = Math.max(context.nowMs, spec.startAtMs ?? 0);
    const first = compiled.nextAfter(from - 1);
    if (first === undefined || (spec.endAtMs !== undefined && first > spec.endAtMs))
      throw new InvalidTaskError(
        'cron_invalid',
        'format',
        `crontab "${schedule.expression}" never fires in the task's time window`,
      );
  }
  return spec;
}

/** A PATCH: the stored spec with the given fields replaced, checked as a whole. */
export function patchTaskSpec(
  current: TaskSpec,
  patch: TaskPatch,
  context: TaskSpecContext,
): TaskSpec {
  const { timezone, ...fields } = patch;
  const merged: Record<string, unknown> = {
    ...current,
    ...fields,
    schedule:
      timezone === undefined
        ? (patch.schedule ?? current.schedule)
        : rezoned(current, patch, timezone),
    retry: { ...current.retry, ...(patch.retry ?? {}) },
    callback: patch.callback ?? current.callback,
    ...(current.idempotencyKey !== undefined ? { idempotencyKey: current.idempotencyKey } : {}),
  };
  // null removes an optional field (name, start/end/expire times).
  for (const [field, value] of Object.entries(patch)) if (value === null) delete merged[field];
  return normalizeTaskSpec(merged as unknown as TaskSpecInput, context);
}

/** The crontab of `current` (or of the patch) in another zone; a one-shot has none to move. */
function rezoned(current: TaskSpec, patch: TaskPatch, timezone: string): ScheduleSpec {
  const schedule = patch.schedule ?? current.schedule;
  if (schedule.kind !== 'cron')
    throw new InvalidTaskError(
      'request_invalid',
      'timezone',
      'timezone applies to a crontab; this task is a one-shot (give run_at to move it)',
    );
  return { kind: 'cron', expression: schedule.expression, timezone };
}

function checkCallback(
  callback: TaskSpecInput['callback'],
  context: TaskSpecContext,
  extras: CheckedTaskExtras | undefined,
): TaskSpec['callback'] {
  if (callback === undefined || callback === null || typeof callback !== 'object')
    throw new InvalidTaskError(
      'callback_url_invalid',
      'callback',
      'callback {url, body} is required',
    );
  if (typeof callback.url !== 'string' || callback.url.length === 0)
    throw new InvalidTaskError('callback_url_invalid', 'callback.url', 'callback.url is required');
  const target = resolveCallbackUrl(callback.url);
  if ('problem' in target)
    throw new InvalidTaskError(
      'callback_url_invalid',
      'callback.url',
      `callback.url: ${target.problem}`,
    );
  if (
    context.allowedCallbackHosts !== undefined &&
    !isCallbackHostAllowed(target.host, context.allowedCallbackHosts)
  )
    throw new InvalidTaskError(
      'callback_url_invalid',
      'callback.url',
      `callback.url: host ${new URL(callback.url).hostname} is not in the allowed callback hosts`,
    );
  const bodyJson = JSON.stringify(callback.body ?? null);
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short text needs no count.
  if (
    bodyJson.length * 3 > context.callbackBodyBytesMax &&
    Buffer.byteLength(bodyJson) > context.callbackBodyBytesMax
  )
    throw new InvalidTaskError(
      'body_too_large',
      'callback.body',
      `callback.body is ${Buffer.byteLength(bodyJson)} bytes as JSON; the limit is ${context.callbackBodyBytesMax}`,
    );
  if (extras !== undefined) extras.bodyJson = bodyJson;
  let headers: Record<string, string> | undefined;
  if (callback.headers !== undefined) {
    if (
      callback.headers === null ||
      typeof callback.headers !== 'object' ||
      Array.isArray(callback.headers) ||
      Object.values(callback.headers).some((value) => typeof value !== 'string')
    )
      throw new InvalidTaskError(
        'request_invalid',
        'callback.headers',
        'callback.headers must be an object of strings',
      );
    headers = { ...callback.headers };
    const problem = validateCallbackHeaders(headers);
    if (problem !== undefined)
      throw new InvalidTaskError('request_invalid', 'callback.headers', problem);
  }
  return headers !== undefined
    ? { url: callback.url, body: callback.body ?? null, headers }
    : { url: callback.url, body: callback.body ?? null };
}

function checkRetry(retry: Partial<RetryPolicy> | undefined): RetryPolicy {
  // The defaults are within bounds: nothing to check (a fresh object: specs are not shared).
  if (retry === undefined) return { ...TASK_DEFAULTS.retry };
  const merged = { ...TASK_DEFAULTS.retry, ...(retry ?? {}) };
  const policy: RetryPolicy = {
    maxAttempts: checkInteger(
      merged.maxAttempts,
      'retry.max_attempts',
      1,
      TASK_LIMITS.maxAttemptsMax,
    ),
    initialBackoffMs: checkInteger(
      merged.initialBackoffMs,
      'retry.initial_backoff_ms',
      0,
      TASK_LIMITS.backoffMsMax,
    ),
    maxBackoffMs: checkInteger(
      merged.maxBackoffMs,
      'retry.max_backoff_ms',
      0,
      TASK_LIMITS.backoffMsMax,
    ),
  };
  if (policy.maxBackoffMs < policy.initialBackoffMs)
    throw new InvalidTaskError(
      'request_invalid',
      'retry.max_backoff_ms',
      'retry.max_backoff_ms must not be below retry.initial_backoff_ms',
    );
  return policy;
}

function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidTaskError(
      'request_invalid',
      field,
      `${field} must be an integer from ${min} to ${max}`,
    );
  return value;
}

function checkTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new InvalidTaskError('time_format_invalid', field, `${field} must be a time`);
  if (value < 0 || value > TASK_LIMITS.timeMsMax)
    throw new InvalidTaskError(
      'time_value_invalid',
      field,
      `${field} is out of range (0 to year 9999)`,
    );
  return value;
}

function checkText(value: unknown, field: string, charsMax: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > charsMax)
    throw new InvalidTaskError(
      'request_invalid',
      field,
      `${field} must be a string of 1 to ${charsMax} characters`,
    );
  return value;
}

function checkChoice<T extends string>(value: unknown, field: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw new InvalidTaskError(
      'request_invalid',
      field,
      `${field} must be one of ${choices.join(', ')}`,
    );
  return value as T;
}
