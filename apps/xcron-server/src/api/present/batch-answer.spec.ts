import { IdempotencyConflictError } from '@xcron/scheduler/task/task.errors';
import type { BatchCreateIdResult } from '@xcron/scheduler/scheduler-api';
import { toApiError } from '../api.error';
import { batchAnswer } from './batch-answer';

/** The answer as the route built it before: `success({tasks})` serialized by fastify. */
function asObjects(results: readonly BatchCreateIdResult[], uuid: string): string {
  const tasks = results.map((result) => {
    if ('conflict' in result) {
      const error = toApiError(result.conflict);
      return { error: { code: error.code, message: error.message, ...error.data } };
    }
    return { task_id: result.taskId, created: result.created };
  });
  return JSON.stringify({ uuid, code: 0, message: 'success', data: { tasks } });
}

function uuidOf(json: string): string {
  return (JSON.parse(json) as { uuid: string }).uuid;
}

describe('batchAnswer', () => {
  it('writes the same JSON as serializing the answer objects', () => {
    const results: BatchCreateIdResult[] = [
      { taskId: '7303421985316605953', created: true },
      { taskId: '1', created: false },
      { conflict: new IdempotencyConflictError('key "quoted" \\ é', '42') },
      { taskId: '9223372036854775807', created: true },
    ];
    const answer = batchAnswer(results);
    expect(answer.json).toBe(asObjects(results, uuidOf(answer.json)));
    expect(answer.anyCreated).toBe(true);
  });

  it('says 200 (nothing created) when every task was found or refused', () => {
    const results: BatchCreateIdResult[] = [
      { taskId: '5', created: false },
      { conflict: new IdempotencyConflictError('k', '5') },
    ];
    const answer = batchAnswer(results);
    expect(answer.anyCreated).toBe(false);
    expect(answer.json).toBe(asObjects(results, uuidOf(answer.json)));
  });

  it('gives each answer its own uuid', () => {
    const results: BatchCreateIdResult[] = [{ taskId: '5', created: true }];
    expect(uuidOf(batchAnswer(results).json)).not.toBe(uuidOf(batchAnswer(results).json));
  });

  it('writes one task, and a thousand', () => {
    for (const count of [1, 1000]) {
      const results = Array.from({ length: count }, (_, i) => ({
        taskId: String(7_303_421_985_316_605_953n + BigInt(i)),
        created: i % 3 !== 0,
      }));
      const answer = batchAnswer(results);
      expect(answer.json).toBe(asObjects(results, uuidOf(answer.json)));
    }
  });
});
