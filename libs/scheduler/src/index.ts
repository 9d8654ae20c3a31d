/**
 * libs/scheduler — the task model, schedules, the replicated scheduler state, the leader's fire
 * runtime and the framework-free `Scheduler` (one xcron node). The Nest module is a separate entry
 * point, `@xcron/scheduler/nest`.
 */
export * from './task/task.model';
export * from './task/task.errors';
export { isTaskId } from './task/task-id-generator';
export { TASK_DEFAULTS, TASK_LIMITS } from './task/task-spec';
export * from './scheduler-api';
export {
  Scheduler,
  type SchedulerOptions,
  type SchedulerLogger,
  type SyncedFile,
} from './scheduler';
export { compileSchedule, nextFireTimes, type Schedule } from './schedule';
