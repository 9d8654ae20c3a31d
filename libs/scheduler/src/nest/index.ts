/** The Nest face of libs/scheduler (kept apart from the framework-free barrel, see TOOLCHAIN.md 8). */
export { SchedulerModule, type SchedulerModuleAsyncOptions } from './scheduler.module';
export type { SchedulerModuleOptions } from './scheduler-module-options';
export { SchedulerService } from './scheduler.service';
export { SCHEDULER_INSTANCE, SCHEDULER_OPTIONS } from './scheduler.tokens';
