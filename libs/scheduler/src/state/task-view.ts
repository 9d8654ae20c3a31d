import type { ExecutionView, TaskSpec, TaskView } from '../task/task.model';
import type { TaskDelivery } from './state-store-codec';
import { firstFireAtMs, type SchedulerState, type TaskTiming } from './scheduler-state';

/** A whole spec from its in-memory part and its stored delivery. */
export function specOf(timing: TaskTiming, delivery: TaskDelivery): TaskSpec {
  return {
    ...(delivery.name !== undefined ? { name: delivery.name } : {}),
    schedule: timing.schedule,
    callback: delivery.callback,
    timeoutMs: delivery.timeoutMs,
    retry: delivery.retry,
    ...(timing.startAtMs !== undefined ? { startAtMs: timing.startAtMs } : {}),
    ...(timing.endAtMs !== undefined ? { endAtMs: timing.endAtMs } : {}),
    ...(timing.expireAtMs !== undefined ? { expireAtMs: timing.expireAtMs } : {}),
    jitterMs: timing.jitterMs,
    overlap: timing.overlap,
    misfire: timing.misfire,
    ...(timing.idempotencyKey !== undefined ? { idempotencyKey: timing.idempotencyKey } : {}),
  };
}

/** A task of the state as the API shows it. */
export function taskViewOf(
  state: SchedulerState,
  slot: number,
  delivery: TaskDelivery,
  lastExecution: ExecutionView | undefined,
): TaskView {
  const table = state.table;
  const status = state.statusOf(slot);
  const next = state.nextFireAtMs(slot);
  return {
    id: table.idOf(slot),
    spec: specOf(state.timingOf(slot), delivery),
    status,
    createdAtMs: table.createdAtMs(slot),
    updatedAtMs: table.updatedAtMs(slot),
    runCount: table.runCount(slot),
    failureCount: table.failureCount(slot),
    ...(next !== undefined && status !== 'completed' ? { nextFireAtMs: next } : {}),
    ...(lastExecution !== undefined ? { lastExecution } : {}),
  };
}

/**
 * A task as `create` makes it, before it is applied here (a node that forwarded the create shows
 * the new task at once): pure, from the spec and the command's time.
 */
export function newTaskView(taskId: string, spec: TaskSpec, atMs: number): TaskView {
  const next = firstFireAtMs(spec, atMs);
  return {
    id: taskId,
    spec,
    status: next === undefined ? 'completed' : 'active',
    createdAtMs: atMs,
    updatedAtMs: atMs,
    runCount: 0,
    failureCount: 0,
    ...(next !== undefined ? { nextFireAtMs: next } : {}),
  };
}
