import type { ExecutionView, TaskSpec, TaskStatus, TaskView } from '../task/task.model';

/** Executions kept per task (newest last); older ones drop off. */
export const EXECUTION_HISTORY_PER_TASK = 20;

/**
 * One task as the replicated state holds it: its definition and its fire ledger. The ledger is a
 * watermark — every scheduled fire before `nextFireAtMs` is recorded — plus the few fires after it
 * recorded out of order (`recordedAhead`, sorted), so that a new leader knows exactly which due
 * fires have no record.
 */
export interface TaskRecord {
  readonly id: string;
  spec: TaskSpec;
  status: Exclude<TaskStatus, 'deleted'>;
  readonly createdAtMs: number;
  updatedAtMs: number;
  runCount: number;
  failureCount: number;
  /** The earliest scheduled fire without a record; undefined when the schedule has no more. */
  nextFireAtMs: number | undefined;
  recordedAhead: number[];
  /** Manual fires (run-now, re-runs) not yet recorded, by scheduled time. */
  manualFires: number[];
  history: ExecutionView[];
  /** When it completed (for retention). */
  endedAtMs?: number;
}

export function taskView(record: TaskRecord): TaskView {
  const last = record.history[record.history.length - 1];
  return {
    id: record.id,
    spec: record.spec,
    status: record.status,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
    runCount: record.runCount,
    failureCount: record.failureCount,
    ...(record.nextFireAtMs !== undefined && record.status !== 'completed'
      ? { nextFireAtMs: record.nextFireAtMs }
      : {}),
    ...(last !== undefined ? { lastExecution: last } : {}),
  };
}
