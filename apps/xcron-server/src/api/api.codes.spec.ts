import {
  ClusterUnavailableError,
  IdempotencyConflictError,
  InvalidTaskError,
  TaskNotFoundError,
  TaskStateConflictError,
  type InvalidTaskReason,
} from '@xcron/scheduler/task/task.errors';
import { API_ERRORS, INVALID_TASK_REASON_ERRORS, renderSeedCodeTable } from './api.codes';
import { ApiError, toApiError } from './api.error';

const REASONS: Record<InvalidTaskReason, number> = {
  request_invalid: 1000,
  time_format_invalid: 1001,
  time_value_invalid: 1002,
  callback_url_invalid: 1003,
  cron_invalid: 1010,
  timezone_invalid: 1070,
  type_unsupported: 1020,
  body_too_large: 1050,
};

describe('the code table', () => {
  it("keeps the original xcron's codes", () => {
    expect(API_ERRORS.request_invalid.code).toBe(1000);
    expect(API_ERRORS.time_format_invalid.code).toBe(1001);
    expect(API_ERRORS.time_value_invalid.code).toBe(1002);
    expect(API_ERRORS.callback_url_invalid.code).toBe(1003);
    expect(API_ERRORS.unavailable.code).toBe(1004);
    expect(API_ERRORS.internal.code).toBe(1004);
    expect(API_ERRORS.cron_invalid.code).toBe(1010);
    expect(API_ERRORS.type_unsupported.code).toBe(1020);
  });

  it('numbers every newer code above 1020, each once', () => {
    const newer = Object.entries(API_ERRORS).filter(([, spec]) => spec.code > 1020);
    expect(newer.length).toBeGreaterThan(0);
    const codes = newer.map(([, spec]) => spec.code);
    expect(new Set(codes).size).toBe(codes.length);
    const older = Object.values(API_ERRORS).filter((spec) => spec.code <= 1020);
    expect(older.every((spec) => spec.code >= 1000)).toBe(true);
  });

  it.each(Object.entries(REASONS))('maps InvalidTaskError %s to code %d', (reason, code) => {
    const error = toApiError(new InvalidTaskError(reason as InvalidTaskReason, 'format', 'bad'));
    expect(error.code).toBe(code);
    expect(error.data).toEqual({ field: 'format' });
    expect(INVALID_TASK_REASON_ERRORS[reason as InvalidTaskReason]).toBe(error.kind);
  });

  it('gives every /v1 status the issue asks for', () => {
    expect(toApiError(new InvalidTaskError('cron_invalid', undefined, 'x')).httpStatus).toBe(400);
    expect(toApiError(new TaskNotFoundError('7')).httpStatus).toBe(404);
    expect(toApiError(new IdempotencyConflictError('k', '7')).httpStatus).toBe(409);
    expect(toApiError(new TaskStateConflictError('7', 'completed')).httpStatus).toBe(409);
    expect(toApiError(new InvalidTaskError('body_too_large', undefined, 'x')).httpStatus).toBe(413);
    expect(new ApiError('unauthorized', 'x').httpStatus).toBe(401);
    expect(toApiError(new ClusterUnavailableError('no leader')).httpStatus).toBe(503);
  });

  it('maps the scheduler errors with the data a client acts on', () => {
    expect(toApiError(new TaskNotFoundError('7'))).toMatchObject({
      code: 1030,
      data: { task_id: '7' },
    });
    expect(toApiError(new IdempotencyConflictError('k', '7'))).toMatchObject({
      code: 1040,
      data: { existing_task_id: '7' },
    });
    expect(toApiError(new ClusterUnavailableError('no leader', '10.0.0.2:8000'))).toMatchObject({
      code: 1004,
      data: { leader: '10.0.0.2:8000' },
    });
    expect(toApiError(new ClusterUnavailableError('no leader')).data).toBeUndefined();
  });

  it('hides the message of an unexpected error', () => {
    const error = toApiError(new Error('ECONNRESET at /secret/path'));
    expect(error).toMatchObject({ kind: 'internal', code: 1004, httpStatus: 500 });
    expect(error.message).not.toContain('secret');
    expect(toApiError('a string').kind).toBe('internal');
  });

  it('renders the README table: one row per code, sorted, 1004 with both statuses', () => {
    const table = renderSeedCodeTable();
    const lines = table.split('\n');
    expect(lines[0]).toBe('| code | /v1 HTTP status | meaning |');
    const codes = lines.slice(2).map((line) => Number(line.split('|')[1]));
    expect(codes).toEqual([...new Set(codes)].sort((a, b) => a - b));
    expect(codes[0]).toBe(0);
    expect(table).toContain('| 1004 | 503 / 500 |');
    expect(renderSeedCodeTable()).toBe(table);
  });
});
