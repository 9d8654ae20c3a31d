/**
 * The API's result codes: ONE table. The seed routes answer HTTP 200 with `code`; /v1 answers the
 * same `code` with the table's HTTP status. InvalidTaskError reasons map to rows by
 * INVALID_TASK_REASON_ERRORS; the README's code table is `renderSeedCodeTable()` of it.
 * Framework-free: unit tests and the docs import it without Nest.
 */
import type { InvalidTaskReason } from '@xcron/scheduler/task/task.errors';

export interface ApiErrorSpec {
  /** The envelope's `code`; 1000–1020 are the original xcron's, newer ones are above them. */
  readonly code: number;
  /** HTTP status of /v1 (the seed routes always answer 200). */
  readonly httpStatus: number;
  /** One line for the README. */
  readonly meaning: string;
}

/** Code of a successful answer. */
export const SUCCESS_CODE = 0;

// prettier-ignore
export const API_ERRORS = {
  //  kind                      code  /v1 status  meaning
  request_invalid:          { code: 1000, httpStatus: 400, meaning: 'Request not parseable: malformed JSON, not an object, a field missing or of the wrong type, an unknown field (/v1), a malformed task id.' },
  time_format_invalid:      { code: 1001, httpStatus: 400, meaning: 'Time format invalid: a one-shot time that is not unix seconds (seed: digits or a JSON integer, at most 253402300799 = 9999-12-31; a larger value is taken for milliseconds) or not RFC 3339 / unix ms (/v1).' },
  time_value_invalid:       { code: 1002, httpStatus: 400, meaning: 'Time value invalid: a one-shot time earlier than one second ago, or times that contradict each other (end before start).' },
  callback_url_invalid:     { code: 1003, httpStatus: 400, meaning: 'Callback URL invalid: missing, not an absolute http(s) URL, or a host outside the allow-list.' },
  unavailable:              { code: 1004, httpStatus: 503, meaning: 'System failure: no leader known or the write was not committed in time; retry (on /v1, `data.leader` names the leader\'s HTTP address when one is known).' },
  internal:                 { code: 1004, httpStatus: 500, meaning: 'System failure: an unexpected error; the server logged it with the answer\'s `uuid`.' },
  cron_invalid:             { code: 1010, httpStatus: 400, meaning: 'Crontab invalid: does not parse, or has not 5 or 6 fields (an alias such as @hourly is one field).' },
  type_unsupported:         { code: 1020, httpStatus: 400, meaning: 'Unsupported task type: seed `type` other than 1 (crontab) or 2 (one-shot).' },
  task_not_found:           { code: 1030, httpStatus: 404, meaning: 'No task (or recorded execution) with that id.' },
  idempotency_conflict:     { code: 1040, httpStatus: 409, meaning: 'The idempotency_key belongs to a task created with other parameters (`data.existing_task_id`).' },
  task_state_conflict:      { code: 1041, httpStatus: 409, meaning: 'The operation does not apply to the task in its current state (e.g. resume a completed task).' },
  body_too_large:           { code: 1050, httpStatus: 413, meaning: 'Request body over body_limit_bytes, a batch over its limits, or a callback body / headers over the limit.' },
  unauthorized:             { code: 1060, httpStatus: 401, meaning: 'Missing or wrong `Authorization: Bearer <token>` (only when api_token is set).' },
  timezone_invalid:         { code: 1070, httpStatus: 400, meaning: 'Time zone invalid: not an IANA zone name such as "Europe/Paris".' },
  route_not_found:          { code: 1080, httpStatus: 404, meaning: 'No such route (path or method).' },
  media_type_unsupported:   { code: 1090, httpStatus: 415, meaning: 'Content-Type of a request body is not application/json.' },
} as const satisfies Record<string, ApiErrorSpec>;

export type ApiErrorKind = keyof typeof API_ERRORS;

/** The row of each InvalidTaskError reason: the only place reasons become codes. */
export const INVALID_TASK_REASON_ERRORS = {
  request_invalid: 'request_invalid',
  time_format_invalid: 'time_format_invalid',
  time_value_invalid: 'time_value_invalid',
  callback_url_invalid: 'callback_url_invalid',
  cron_invalid: 'cron_invalid',
  timezone_invalid: 'timezone_invalid',
  type_unsupported: 'type_unsupported',
  body_too_large: 'body_too_large',
} as const satisfies Record<InvalidTaskReason, ApiErrorKind>;

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/**
 * Markdown for the README: one row per code (a code with two /v1 statuses, 1004, gets one row with
 * both). Pure; a test keeps the README's table equal to it.
 */
export function renderSeedCodeTable(): string {
  const rows = new Map<number, { statuses: number[]; meanings: string[] }>();
  rows.set(SUCCESS_CODE, {
    statuses: [200],
    meanings: ['Success (/v1: 201 when a task was created).'],
  });
  for (const spec of Object.values(API_ERRORS) as ApiErrorSpec[]) {
    const row = rows.get(spec.code) ?? { statuses: [], meanings: [] };
    row.statuses.push(spec.httpStatus);
    row.meanings.push(spec.meaning);
    rows.set(spec.code, row);
  }
  const lines = [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([code, row]) =>
        `| ${code} | ${row.statuses.join(' / ')} | ${cell(row.meanings.join(' '))} |`,
    );
  return ['| code | /v1 HTTP status | meaning |', '| --- | --- | --- |', ...lines].join('\n');
}
