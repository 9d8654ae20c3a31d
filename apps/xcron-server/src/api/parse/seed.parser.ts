/**
 * The seed routes' requests (POST /xcron/createTask, /xcron/deleteTask, GET /xcron/queryTask) →
 * the scheduler's input. Pure: no clock (the scheduler decides "in the past"), no I/O. Unknown
 * fields are ignored, as the original (Go's encoding/json) did.
 */
import type { ScheduleSpec, TaskSpecInput } from '@xcron/scheduler/task/task.model';
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { CRON_EXPRESSION_CHARS_MAX, TIMEZONE_CHARS_MAX } from '../api.limits';
import { invalidRequest } from '../api.error';
import { parseCallback } from './callback';
import {
  catchInvalid,
  describeJson,
  expectObject,
  optionalString,
  type JsonObject,
} from './json-fields';
import { describeTaskIdProblem, parseTaskId } from './task-id';
import { readCommonOptions, type CommonTaskOptions } from './task-options';
import { unixSecondsToMs } from './times';

/** The seed's task types, as the seed README numbers them (the original Go code had them swapped). */
export const SEED_TYPE_CRONTAB = 1;
export const SEED_TYPE_ONE_SHOT = 2;

type MutableInput = CommonTaskOptions & {
  schedule?: ScheduleSpec;
  callback?: TaskSpecInput['callback'];
  startAtMs?: number;
  endAtMs?: number;
  expireAtMs?: number;
};

function parseSeedSchedule(body: JsonObject): ScheduleSpec {
  const type = body.type;
  if (type === undefined)
    throw invalidRequest('type', 'type is required: 1 (crontab) or 2 (one-shot)');
  if (typeof type !== 'number')
    throw invalidRequest(
      'type',
      `type must be the number 1 (crontab) or 2 (one-shot), got ${describeJson(type)}`,
    );
  if (type !== SEED_TYPE_CRONTAB && type !== SEED_TYPE_ONE_SHOT)
    throw new InvalidTaskError(
      'type_unsupported',
      'type',
      `unsupported task type ${type}: 1 (crontab) or 2 (one-shot)`,
    );
  const format = body.format;
  if (format === undefined)
    throw invalidRequest(
      'format',
      'format is required: a crontab (type 1) or unix seconds (type 2)',
    );
  const timezone = optionalString(body, 'timezone', 'timezone', TIMEZONE_CHARS_MAX);
  if (type === SEED_TYPE_ONE_SHOT) {
    if (timezone !== undefined)
      throw invalidRequest('timezone', 'timezone applies to crontab tasks (type 1) only');
    return { kind: 'once', runAtMs: unixSecondsToMs(format, 'format') };
  }
  if (typeof format !== 'string')
    throw invalidRequest(
      'format',
      `format of a crontab task must be a string, got ${describeJson(format)}`,
    );
  if (format.length > CRON_EXPRESSION_CHARS_MAX)
    throw new InvalidTaskError(
      'cron_invalid',
      'format',
      `format is longer than ${CRON_EXPRESSION_CHARS_MAX} characters`,
    );
  return timezone === undefined
    ? { kind: 'cron', expression: format }
    : { kind: 'cron', expression: format, timezone };
}

function buildSeedTask(body: unknown): TaskSpecInput {
  const object = expectObject(body, undefined);
  const input: MutableInput = {};
  input.schedule = parseSeedSchedule(object);
  input.callback = parseCallback(object.callback, 'callback', { strict: false });
  readCommonOptions(object, '', false, input);
  if (object.start_at !== undefined) input.startAtMs = unixSecondsToMs(object.start_at, 'start_at');
  if (object.end_at !== undefined) input.endAtMs = unixSecondsToMs(object.end_at, 'end_at');
  if (object.expire_at !== undefined)
    input.expireAtMs = unixSecondsToMs(object.expire_at, 'expire_at');
  return input as TaskSpecInput;
}

/**
 * POST /xcron/createTask: `{type: 1 | 2, format, callback: {url, body?, headers?}, …options}`;
 * times in unix seconds (`format` of a one-shot, `start_at`, `end_at`, `expire_at`).
 */
export function parseSeedCreateTask(body: unknown): TaskSpecInput | InvalidTaskError {
  return catchInvalid(() => buildSeedTask(body));
}

/** POST /xcron/deleteTask `{task_id}` → the task id. */
export function parseSeedTaskIdBody(body: unknown): string | InvalidTaskError {
  return catchInvalid(() => {
    const object = expectObject(body, undefined);
    return seedTaskId(object.task_id);
  });
}

/** GET /xcron/queryTask?task_id= → the task id. */
export function parseSeedTaskIdQuery(query: unknown): string | InvalidTaskError {
  return catchInvalid(() => {
    const object = expectObject(query ?? {}, undefined);
    return seedTaskId(object.task_id);
  });
}

function seedTaskId(value: unknown): string {
  const id = parseTaskId(value);
  if (id === undefined) throw invalidRequest('task_id', describeTaskIdProblem(value));
  return id;
}
