import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { ApiError } from './api.error';
import { parseTaskId } from './parse/task-id';

/** A parser's result, or its error thrown for the exception filter. */
export function unwrap<T>(result: T | InvalidTaskError | ApiError): T {
  if (result instanceof InvalidTaskError || result instanceof ApiError) throw result;
  return result;
}

/** A task id from a /v1 path: one that cannot exist is simply not found (404). */
export function pathTaskId(raw: string): string {
  const id = parseTaskId(raw);
  if (id === undefined)
    throw new ApiError('task_not_found', `task ${raw} does not exist`, { task_id: raw });
  return id;
}
