/**
 * /v1 request bodies and queries → the scheduler's input. Strict: an unknown field is refused,
 * naming it. Times: RFC 3339 strings (`run_at`, `start_at`, …) or unix milliseconds (`run_at_ms`,
 * `start_at_ms`, …), one of the two per time. Pure and framework-free.
 */
import type {
  ClearableTaskField,
  ReadConsistency,
  ScheduleSpec,
  TaskPatch,
  TaskSpecInput,
  TaskStatus,
  ExecutionStatus,
} from '@xcron/scheduler/task/task.model';
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import type { MemberChange } from '@xcron/scheduler/scheduler-api';
import { parseHostPort } from '../../config/host-port';
import {
  CRON_EXPRESSION_CHARS_MAX,
  CURSOR_CHARS_MAX,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  TIMEZONE_CHARS_MAX,
} from '../api.limits';
import { ApiError, invalidRequest } from '../api.error';
import { parseCallbackAt } from './callback';
import {
  catchInvalid,
  describeJson,
  expectObject,
  optionalString,
  refuseUnknownFields,
  type JsonObject,
} from './json-fields';
import { readCommonOptions, type CommonTaskOptions } from './task-options';
import { isUnixMs, rfc3339ToMs, unixMs } from './times';

const TIME_FIELDS = ['run_at', 'start_at', 'end_at', 'expire_at'] as const;
const PATCH_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'cron',
  'timezone',
  ...TIME_FIELDS.flatMap((time) => [time, `${time}_ms`]),
  'callback',
  'timeout_ms',
  'retry',
  'jitter_ms',
  'overlap',
  'misfire',
]);
const CREATE_FIELDS: ReadonlySet<string> = new Set([...PATCH_FIELDS, 'idempotency_key']);
const BATCH_FIELDS: ReadonlySet<string> = new Set(['tasks']);
/** PATCH fields that null removes: the wire name and the task field. */
const CLEARABLE_FIELDS: readonly [string, ClearableTaskField][] = [
  ['name', 'name'],
  ['start_at', 'startAtMs'],
  ['start_at_ms', 'startAtMs'],
  ['end_at', 'endAtMs'],
  ['end_at_ms', 'endAtMs'],
  ['expire_at', 'expireAtMs'],
  ['expire_at_ms', 'expireAtMs'],
];

type MutableTask = CommonTaskOptions & {
  schedule?: ScheduleSpec;
  callback?: TaskSpecInput['callback'];
  startAtMs?: number;
  endAtMs?: number;
  expireAtMs?: number;
};

/**
 * `<name>` (RFC 3339) or `<name>_ms` (unix ms), not both; undefined when neither is given. Both
 * names are constants and the field's path is built only for an error: a batch reads four times
 * a task, and most are absent.
 */
function readTime(
  object: JsonObject,
  name: string,
  msName: string,
  prefix: string,
): number | undefined {
  const text = object[name];
  const ms = object[msName];
  if (text === undefined && ms === undefined) return undefined;
  if (text !== undefined && ms !== undefined)
    throw invalidRequest(
      `${prefix}${name}`,
      `give ${prefix}${name} or ${prefix}${msName}, not both`,
    );
  if (text !== undefined) return rfc3339ToMs(text, `${prefix}${name}`);
  return unixMsAt(ms, prefix, msName);
}

/** unixMs(value, prefix + name), the path built only when the value is refused. */
function unixMsAt(value: unknown, prefix: string, name: string): number {
  return isUnixMs(value) ? value : unixMs(value, `${prefix}${name}`);
}

/**
 * `cron` (+ `timezone`) or `run_at` / `run_at_ms`; undefined when none is given (a patch). With
 * `timezoneAlone`, a `timezone` without `cron` is the caller's (a patch that moves a crontab to
 * another zone); otherwise it is refused.
 */
function readSchedule(
  object: JsonObject,
  prefix: string,
  timezoneAlone?: (timezone: string) => void,
): ScheduleSpec | undefined {
  const cron = object.cron;
  const runAtMs = readTime(object, 'run_at', 'run_at_ms', prefix);
  const timezone =
    object.timezone === undefined
      ? undefined
      : optionalString(object, 'timezone', `${prefix}timezone`, TIMEZONE_CHARS_MAX);
  if (cron === undefined) {
    if (timezone !== undefined) {
      if (timezoneAlone === undefined || runAtMs !== undefined)
        throw invalidRequest(`${prefix}timezone`, `${prefix}timezone goes with ${prefix}cron`);
      timezoneAlone(timezone);
    }
    return runAtMs === undefined ? undefined : { kind: 'once', runAtMs };
  }
  if (runAtMs !== undefined)
    throw invalidRequest(`${prefix}cron`, `give ${prefix}cron or ${prefix}run_at(_ms), not both`);
  if (typeof cron !== 'string')
    throw invalidRequest(
      `${prefix}cron`,
      `${prefix}cron must be a string, got ${describeJson(cron)}`,
    );
  if (cron.length > CRON_EXPRESSION_CHARS_MAX)
    throw new InvalidTaskError(
      'cron_invalid',
      `${prefix}cron`,
      `${prefix}cron is longer than ${CRON_EXPRESSION_CHARS_MAX} characters`,
    );
  return timezone === undefined
    ? { kind: 'cron', expression: cron }
    : { kind: 'cron', expression: cron, timezone };
}

function readTaskFields(
  object: JsonObject,
  prefix: string,
  out: MutableTask,
  timezoneAlone?: (timezone: string) => void,
): void {
  const schedule = readSchedule(object, prefix, timezoneAlone);
  if (schedule !== undefined) out.schedule = schedule;
  if (object.callback !== undefined)
    out.callback = parseCallbackAt(object.callback, prefix, { strict: true });
  readCommonOptions(object, prefix, true, out);
  const startAtMs = readTime(object, 'start_at', 'start_at_ms', prefix);
  if (startAtMs !== undefined) out.startAtMs = startAtMs;
  const endAtMs = readTime(object, 'end_at', 'end_at_ms', prefix);
  if (endAtMs !== undefined) out.endAtMs = endAtMs;
  const expireAtMs = readTime(object, 'expire_at', 'expire_at_ms', prefix);
  if (expireAtMs !== undefined) out.expireAtMs = expireAtMs;
}

function buildTask(value: unknown, prefix: string): TaskSpecInput {
  const object = expectObject(value, prefix === '' ? undefined : prefix.slice(0, -1));
  refuseUnknownFields(object, CREATE_FIELDS, prefix);
  const task: MutableTask = {};
  readTaskFields(object, prefix, task);
  if (task.schedule === undefined)
    throw invalidRequest(
      `${prefix}cron`,
      `a task needs ${prefix}cron, ${prefix}run_at or ${prefix}run_at_ms`,
    );
  // A missing callback is a callback URL error (1003), as on the seed route.
  if (task.callback === undefined)
    task.callback = parseCallbackAt(undefined, prefix, { strict: true });
  return task as TaskSpecInput;
}

/** POST /v1/tasks. */
export function parseV1CreateTask(body: unknown): TaskSpecInput | InvalidTaskError {
  return catchInvalid(() => buildTask(body, ''));
}

/** PATCH /v1/tasks/:id: the create fields but `idempotency_key`, all optional, at least one. */
export function parseV1PatchTask(body: unknown): TaskPatch | InvalidTaskError {
  return catchInvalid(() => {
    const object = expectObject(body, undefined);
    if ('idempotency_key' in object)
      throw invalidRequest('idempotency_key', 'idempotency_key cannot be changed');
    refuseUnknownFields(object, PATCH_FIELDS, '');
    // null removes an optional field; both spellings of a time name the same field.
    const cleared: Partial<Record<ClearableTaskField, null>> = {};
    const fields = { ...object };
    for (const [wire, field] of CLEARABLE_FIELDS)
      if (fields[wire] === null) {
        delete fields[wire];
        cleared[field] = null;
      }
    const patch: MutableTask & { timezone?: string } = {};
    readTaskFields(fields, '', patch, (timezone) => (patch.timezone = timezone));
    for (const field of Object.keys(cleared) as ClearableTaskField[])
      if (field in patch)
        throw invalidRequest(undefined, `${field} is both set and removed by this patch`);
    Object.assign(patch, cleared);
    if (Object.keys(patch).length === 0)
      throw invalidRequest(undefined, 'the patch changes nothing');
    return patch as TaskPatch;
  });
}

/**
 * POST /v1/tasks:batch `{tasks: [...]}`: 1 to `tasksMax` tasks, each as POST /v1/tasks takes it;
 * error fields are `tasks[i].…`. Over `tasksMax` is a body_too_large error (ApiError).
 */
export function parseV1Batch(
  body: unknown,
  options: { readonly tasksMax: number },
): TaskSpecInput[] | InvalidTaskError | ApiError {
  return catchInvalid(() => {
    const object = expectObject(body, undefined);
    refuseUnknownFields(object, BATCH_FIELDS, '');
    const tasks = object.tasks;
    if (!Array.isArray(tasks) || tasks.length === 0)
      throw invalidRequest('tasks', `tasks must be a non-empty array, got ${describeJson(tasks)}`);
    if (tasks.length > options.tasksMax)
      return new ApiError(
        'body_too_large',
        `a batch holds at most ${options.tasksMax} tasks, got ${tasks.length}`,
        { field: 'tasks' },
      );
    const inputs: TaskSpecInput[] = new Array(tasks.length);
    for (let index = 0; index < tasks.length; index++)
      inputs[index] = buildTask(tasks[index], `tasks[${index}].`);
    return inputs;
  });
}

// ---- queries ------------------------------------------------------------------------------

export interface PageQuery {
  readonly limit: number;
  readonly cursor?: string;
  readonly consistency?: ReadConsistency;
}

const TASK_STATUSES: readonly TaskStatus[] = ['active', 'paused', 'completed', 'deleted'];
const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'succeeded',
  'failed',
  'skipped',
  'expired',
];
const CONSISTENCIES: readonly ReadConsistency[] = ['linearizable', 'stale'];
const READ_PARAMS: ReadonlySet<string> = new Set(['consistency']);
const PAGE_PARAMS: ReadonlySet<string> = new Set(['limit', 'cursor', 'consistency']);
const FILTERED_PAGE_PARAMS: ReadonlySet<string> = new Set([...PAGE_PARAMS, 'status']);

/** A query parameter given once, as a string (a repeated one is an array: refused). */
function queryString(query: JsonObject, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw invalidRequest(name, `query parameter ${name} must be given once`);
  return value;
}

function queryOneOf<const V extends string>(
  query: JsonObject,
  name: string,
  values: readonly V[],
): V | undefined {
  const value = queryString(query, name);
  if (value === undefined) return undefined;
  const match = values.find((candidate) => candidate === value);
  if (match === undefined)
    throw invalidRequest(
      name,
      `${name} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return match;
}

function readQuery(query: unknown, allowed: ReadonlySet<string>): JsonObject {
  const object = expectObject(query ?? {}, 'query');
  refuseUnknownFields(object, allowed, '');
  return object;
}

function readPage(query: JsonObject): PageQuery {
  const limitText = queryString(query, 'limit');
  let limit = PAGE_LIMIT_DEFAULT;
  if (limitText !== undefined) {
    limit = /^[0-9]{1,4}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= PAGE_LIMIT_MAX))
      throw invalidRequest(
        'limit',
        `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}, got ${JSON.stringify(limitText)}`,
      );
  }
  const cursor = queryString(query, 'cursor');
  if (cursor !== undefined && (cursor === '' || cursor.length > CURSOR_CHARS_MAX))
    throw invalidRequest('cursor', 'cursor must be a next_cursor this API returned');
  const consistency = queryOneOf(query, 'consistency', CONSISTENCIES);
  return {
    limit,
    ...(cursor === undefined ? {} : { cursor }),
    ...(consistency === undefined ? {} : { consistency }),
  };
}

/** `?consistency=stale|linearizable` of single reads. */
export function parseReadQuery(
  query: unknown,
): { consistency?: ReadConsistency } | InvalidTaskError {
  return catchInvalid(() => {
    const consistency = queryOneOf(readQuery(query, READ_PARAMS), 'consistency', CONSISTENCIES);
    return consistency === undefined ? {} : { consistency };
  });
}

/** GET /v1/tasks: `limit` (default 100, max 1000), `cursor`, `status`, `consistency`. */
export function parseListTasksQuery(
  query: unknown,
): (PageQuery & { status?: TaskStatus }) | InvalidTaskError {
  return catchInvalid(() => {
    const object = readQuery(query, FILTERED_PAGE_PARAMS);
    const status = queryOneOf(object, 'status', TASK_STATUSES);
    return { ...readPage(object), ...(status === undefined ? {} : { status }) };
  });
}

/** GET /v1/tasks/:id/executions: `limit`, `cursor`, `consistency`. */
export function parsePageQuery(query: unknown): PageQuery | InvalidTaskError {
  return catchInvalid(() => readPage(readQuery(query, PAGE_PARAMS)));
}

/** GET /v1/executions: `status` (default `failed`, the dead letters), `limit`, `cursor`, `consistency`. */
export function parseExecutionsQuery(
  query: unknown,
): (PageQuery & { status: ExecutionStatus }) | InvalidTaskError {
  return catchInvalid(() => {
    const object = readQuery(query, FILTERED_PAGE_PARAMS);
    return {
      ...readPage(object),
      status: queryOneOf(object, 'status', EXECUTION_STATUSES) ?? 'failed',
    };
  });
}

/** `:scheduled_at_ms` of a rerun path: whole unix ms. */
export function parseScheduledAtMs(text: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

// ---- cluster ------------------------------------------------------------------------------

const MEMBER_FIELDS: ReadonlySet<string> = new Set(['peer_address', 'id', 'learner']);
const TRANSFER_FIELDS: ReadonlySet<string> = new Set(['member_id']);
const MEMBER_ID_CHARS_MAX = 256;

/** POST /v1/cluster/members `{peer_address: "host:port", id?, learner?}`. */
export function parseMemberChange(body: unknown): MemberChange | InvalidTaskError {
  return catchInvalid(() => {
    const object = expectObject(body, undefined);
    refuseUnknownFields(object, MEMBER_FIELDS, '');
    const peerAddress = object.peer_address;
    if (typeof peerAddress !== 'string')
      throw invalidRequest(
        'peer_address',
        `peer_address must be a "host:port" string, got ${describeJson(peerAddress)}`,
      );
    const split = parseHostPort(peerAddress);
    if (!split.ok || split.value.port === undefined)
      throw invalidRequest(
        'peer_address',
        `peer_address must be "host:port": ${split.ok ? 'the port is missing' : split.problem}`,
      );
    const id = optionalString(object, 'id', 'id', MEMBER_ID_CHARS_MAX);
    const learner = object.learner;
    if (learner !== undefined && typeof learner !== 'boolean')
      throw invalidRequest(
        'learner',
        `learner must be true or false, got ${describeJson(learner)}`,
      );
    return {
      peerAddress,
      ...(id === undefined ? {} : { id }),
      ...(learner === undefined ? {} : { learner }),
    };
  });
}

/** POST /v1/cluster/transfer-leadership `{member_id?}` (an empty body picks the most caught-up voter). */
export function parseTransferLeadership(body: unknown): { memberId?: string } | InvalidTaskError {
  return catchInvalid(() => {
    if (body === undefined || body === null) return {};
    const object = expectObject(body, undefined);
    refuseUnknownFields(object, TRANSFER_FIELDS, '');
    const memberId = optionalString(object, 'member_id', 'member_id', MEMBER_ID_CHARS_MAX);
    return memberId === undefined ? {} : { memberId };
  });
}
