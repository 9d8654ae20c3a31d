/**
 * The one error type the API answers with, and the mapping of the scheduler's errors (by class and
 * `reason`, never by message text) onto it. Framework-free.
 */
import {
  ClusterUnavailableError,
  IdempotencyConflictError,
  InvalidTaskError,
  TaskNotFoundError,
  TaskStateConflictError,
} from '@xcron/scheduler/task/task.errors';
import { API_ERRORS, INVALID_TASK_REASON_ERRORS, type ApiErrorKind } from './api.codes';

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    /** Goes to the envelope's `data` (snake_case keys). */
    readonly data?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get code(): number {
    return API_ERRORS[this.kind].code;
  }

  get httpStatus(): number {
    return API_ERRORS[this.kind].httpStatus;
  }
}

/** An InvalidTaskError as the API answers it: its reason's code, the field in `data.field`. */
export function fromInvalidTask(error: InvalidTaskError): ApiError {
  return new ApiError(
    INVALID_TASK_REASON_ERRORS[error.reason],
    error.message,
    error.field === undefined ? undefined : { field: error.field },
  );
}

/**
 * Any thrown value → ApiError. Unknown errors become `internal` (the caller logs the original);
 * their message is not shown to the client.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof InvalidTaskError) return fromInvalidTask(error);
  if (error instanceof TaskNotFoundError)
    return new ApiError('task_not_found', error.message, { task_id: error.taskId });
  if (error instanceof IdempotencyConflictError)
    return new ApiError('idempotency_conflict', error.message, {
      existing_task_id: error.existingTaskId,
    });
  if (error instanceof TaskStateConflictError)
    return new ApiError('task_state_conflict', error.message, { task_id: error.taskId });
  if (error instanceof ClusterUnavailableError)
    return new ApiError(
      'unavailable',
      error.message,
      error.leaderHttpAddress === undefined ? undefined : { leader: error.leaderHttpAddress },
    );
  return new ApiError('internal', 'internal error; the server logged it with this uuid');
}

/** Shorthand of the parsers: a request that is not what the route takes. */
export function invalidRequest(field: string | undefined, message: string): InvalidTaskError {
  return new InvalidTaskError('request_invalid', field, message);
}
