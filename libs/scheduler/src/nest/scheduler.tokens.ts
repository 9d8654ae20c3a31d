/** Injection tokens of SchedulerModule. */
export const SCHEDULER_OPTIONS = Symbol.for('xcron.SchedulerOptions');
export const SCHEDULER_INSTANCE = Symbol.for('xcron.Scheduler');
