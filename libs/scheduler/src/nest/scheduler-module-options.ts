import type { SchedulerOptions } from '../scheduler';

/** SchedulerModule's options: the node's (see SchedulerOptions) and how long shutdown may drain. */
export interface SchedulerModuleOptions extends SchedulerOptions {
  /** On app shutdown, how long callbacks on the wire may take to finish (default 5,000). */
  readonly shutdownDrainMs?: number;
}
