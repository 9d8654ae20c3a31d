import { compileSchedule, type Schedule } from '../schedule';
import type { ScheduleSpec } from '../task/task.model';

type CronSpec = Extract<ScheduleSpec, { kind: 'cron' }>;

/**
 * The crontab schedules of the state, each (expression, zone) once: tasks refer to theirs by a
 * small number (TaskTable.scheduleRef, 0 = a one-shot), so a million tasks on a few schedules
 * hold a few compiled schedules, not a million. Refs are local to this process (the store keeps
 * the expression itself) and are reused once no task holds them.
 */
export class ScheduleRegistry {
  private readonly refByKey = new Map<string, number>();
  private readonly specs: (CronSpec | undefined)[] = [undefined];
  private readonly compiled: (Schedule | undefined)[] = [undefined];
  private readonly holders: number[] = [0];
  private readonly freeRefs: number[] = [];

  /** A ref for the schedule (held once more); 0 for a one-shot. Throws on an invalid crontab. */
  acquire(schedule: ScheduleSpec): number {
    if (schedule.kind === 'once') return 0;
    const key = `${schedule.timezone ?? ''}\u0000${schedule.expression}`;
    let ref = this.refByKey.get(key);
    if (ref === undefined) {
      const compiled = compileSchedule(schedule);
      ref = this.freeRefs.pop() ?? this.specs.length;
      const spec: CronSpec =
        schedule.timezone !== undefined
          ? { kind: 'cron', expression: schedule.expression, timezone: schedule.timezone }
          : { kind: 'cron', expression: schedule.expression };
      this.specs[ref] = spec;
      this.compiled[ref] = compiled;
      this.holders[ref] = 0;
      this.refByKey.set(key, ref);
    }
    this.holders[ref]++;
    return ref;
  }

  release(ref: number): void {
    if (ref === 0) return;
    if (--this.holders[ref] > 0) return;
    const spec = this.specs[ref];
    if (spec !== undefined) this.refByKey.delete(`${spec.timezone ?? ''}\u0000${spec.expression}`);
    this.specs[ref] = undefined;
    this.compiled[ref] = undefined;
    this.freeRefs.push(ref);
  }

  spec(ref: number): CronSpec {
    const spec = this.specs[ref];
    if (spec === undefined) throw new Error(`no schedule ${ref}`);
    return spec;
  }

  schedule(ref: number): Schedule {
    const schedule = this.compiled[ref];
    if (schedule === undefined) throw new Error(`no schedule ${ref}`);
    return schedule;
  }

  clear(): void {
    this.refByKey.clear();
    this.specs.length = 1;
    this.compiled.length = 1;
    this.holders.length = 1;
    this.freeRefs.length = 0;
  }

  get size(): number {
    return this.refByKey.size;
  }
}
