/**
 * The answer of POST /v1/tasks:batch as JSON text: exactly `JSON.stringify(success({tasks}))` with
 * `tasks[i]` = `{task_id, created}` or `{error: {code, message, …data}}`, written without the
 * 1,000 small objects (and their serialization) that a batch's answer otherwise costs. Pure.
 */
import type { BatchCreateIdResult } from '@xcron/scheduler/scheduler-api';
import { toApiError } from '../api.error';
import { success } from '../envelope';

/** What fastify sets for a serialized object: the batch route sends the same header. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const CREATED_HEAD = '{"task_id":';
const CREATED_TAIL = ',"created":true}';
const FOUND_TAIL = ',"created":false}';

export interface BatchAnswer {
  /** The envelope's JSON text. */
  readonly json: string;
  /** Whether any task was created (201) or none (200). */
  readonly anyCreated: boolean;
}

export function batchAnswer(results: readonly BatchCreateIdResult[]): BatchAnswer {
  let anyCreated = false;
  let items = '';
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    if (i > 0) items += ',';
    if ('conflict' in result) {
      // This task alone is refused; the others of the batch stand.
      const error = toApiError(result.conflict);
      items += JSON.stringify({
        error: { code: error.code, message: error.message, ...error.data },
      });
      continue;
    }
    anyCreated ||= result.created;
    items +=
      CREATED_HEAD + JSON.stringify(result.taskId) + (result.created ? CREATED_TAIL : FOUND_TAIL);
  }
  // The envelope as success() builds it, its empty task list filled in.
  const envelope = JSON.stringify(success({ tasks: [] }));
  const at = envelope.lastIndexOf('[]');
  return { json: envelope.slice(0, at + 1) + items + envelope.slice(at + 1), anyCreated };
}
