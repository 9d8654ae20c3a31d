import { createHash } from 'node:crypto';
import { compileSchedule } from '../schedule';
import type { TaskSpec } from '../task/task.model';
import type {
  CommandRefusal,
  CommandResult,
  CreateTasksCommand,
  CreatedTask,
  FireRecord,
  SchedulerCommand,
} from './scheduler-command';
import { EXECUTION_HISTORY_PER_TASK, type TaskRecord } from './task-record';

/** How long an ended task (deleted or completed) keeps its idempotency key, and a completed task stays queryable. */
export const ENDED_TASK_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A snapshot's frozen view of the state (SchedulerState.beginView). */
export interface SnapshotView {
  readonly latestAtMs: number;
  tasks(): Iterable<TaskRecord>;
  keys(): Iterable<[string, IdempotencyEntry]>;
}

interface FrozenView {
  readonly taskIds: string[];
  readonly keys: string[];
  /** Tasks and keys as they were at beginView, copied before a command changed them. */
  readonly frozenTasks: Map<string, TaskRecord>;
  readonly frozenKeys: Map<string, IdempotencyEntry>;
}

/** What changed for a task, for the node's fire runtime (which re-plans that task). */
export type TaskChange =
  'created' | 'updated' | 'deleted' | 'paused' | 'resumed' | 'recorded' | 'run';

export interface StateObserver {
  taskChanged(taskId: string, change: TaskChange): void;
  /** A record arrived for a fire that already had one (a duplicate delivery around a failover). */
  duplicateRecorded?(record: FireRecord): void;
}

export interface IdempotencyEntry {
  readonly taskId: string;
  /** A digest of the spec's canonical JSON, to tell a retry from a different request with the same key. */
  readonly specDigest: string;
  endedAtMs?: number;
}

/**
 * The scheduler's replicated state: the fold of SchedulerCommands. Deterministic — every time it
 * uses comes from a command — so every replica that applies the same log holds the same state.
 */
export class SchedulerState {
  readonly tasks = new Map<string, TaskRecord>();
  readonly idempotencyKeys = new Map<string, IdempotencyEntry>();
  /** Ended tasks and keys in the order they ended, for retention (commands' clocks are ~monotonic). */
  private readonly endedQueue: {
    readonly atMs: number;
    readonly taskId: string;
    readonly key?: string;
  }[] = [];
  private endedQueueHead = 0;
  /** The frozen view a snapshot is being read from, if any (see beginView). */
  private view: FrozenView | undefined;
  /** Highest `atMs` of any command applied: the state's notion of "now", for retention only. */
  latestAtMs = 0;
  observer: StateObserver | undefined;

  apply(command: SchedulerCommand): CommandResult {
    if (command.atMs > this.latestAtMs) {
      this.latestAtMs = command.atMs;
      this.expireEnded();
    }
    switch (command.t) {
      case 'create':
        return this.create(command);
      case 'delete':
        return this.withTask(command.taskId, (task) => this.delete(task, command.atMs));
      case 'pause':
        return this.withTask(command.taskId, (task) => this.pause(task, command.atMs));
      case 'resume':
        return this.withTask(command.taskId, (task) => this.resume(task, command.atMs));
      case 'update':
        return this.withTask(command.taskId, (task) =>
          this.update(task, command.spec, command.atMs),
        );
      case 'run':
        return this.withTask(command.taskId, (task) =>
          this.run(task, command.scheduledAtMs, command.atMs),
        );
      case 'record':
        for (const record of command.records) this.record(record);
        return { ok: true };
    }
  }

  // ---- commands ----------------------------------------------------------------------------

  private create(command: CreateTasksCommand): CommandResult {
    const created: (CreatedTask | CommandRefusal)[] = [];
    for (const { taskId, spec } of command.tasks) {
      if (this.tasks.has(taskId)) {
        created.push({ error: 'id_taken', taskId });
        continue;
      }
      const key = spec.idempotencyKey;
      let specDigest: string | undefined;
      if (key !== undefined) {
        specDigest = specDigestOf(spec);
        const existing = this.idempotencyKeys.get(key);
        if (existing !== undefined) {
          created.push(
            existing.specDigest === specDigest
              ? { taskId: existing.taskId, created: false }
              : {
                  error: 'idempotency_conflict',
                  idempotencyKey: key,
                  existingTaskId: existing.taskId,
                },
          );
          continue;
        }
      }
      const task = newTaskRecord(taskId, spec, command.atMs);
      this.tasks.set(taskId, task);
      if (key !== undefined && specDigest !== undefined)
        this.idempotencyKeys.set(key, { taskId, specDigest });
      if (task.nextFireAtMs === undefined) this.complete(task, command.atMs);
      created.push({ taskId, created: true });
      this.observer?.taskChanged(taskId, 'created');
    }
    return { ok: true, created };
  }

  private delete(task: TaskRecord, atMs: number): CommandResult {
    this.tasks.delete(task.id);
    const key = task.spec.idempotencyKey;
    if (key !== undefined) this.endKey(key, atMs);
    this.observer?.taskChanged(task.id, 'deleted');
    return { ok: true };
  }

  private pause(task: TaskRecord, atMs: number): CommandResult {
    if (task.status === 'completed') return conflict(task, 'a completed task cannot be paused');
    if (task.status === 'active') {
      task.status = 'paused';
      task.updatedAtMs = atMs;
      this.observer?.taskChanged(task.id, 'paused');
    }
    return { ok: true };
  }

  private resume(task: TaskRecord, atMs: number): CommandResult {
    if (task.status === 'completed') return conflict(task, 'a completed task cannot be resumed');
    if (task.status === 'paused') {
      task.status = 'active';
      task.updatedAtMs = atMs;
      // A crontab's fires that fell due while paused are not owed: it goes on from now. A one-shot
      // whose time passed while paused still fires (once, at once).
      if (
        task.spec.schedule.kind === 'cron' &&
        task.nextFireAtMs !== undefined &&
        task.nextFireAtMs < atMs
      ) {
        task.nextFireAtMs = firstFireAtMs(task.spec, atMs);
        task.recordedAhead = [];
        if (task.nextFireAtMs === undefined) this.complete(task, atMs);
      }
      this.observer?.taskChanged(task.id, 'resumed');
    }
    return { ok: true };
  }

  private update(task: TaskRecord, spec: TaskSpec, atMs: number): CommandResult {
    if (task.status === 'completed' && spec.schedule.kind === 'cron')
      return conflict(task, 'a completed crontab task cannot be changed; create a new one');
    task.spec = spec;
    task.updatedAtMs = atMs;
    task.recordedAhead = [];
    task.nextFireAtMs = firstFireAtMs(spec, atMs);
    if (task.nextFireAtMs === undefined) this.complete(task, atMs);
    else if (task.status === 'completed') {
      // A one-shot moved to a new time runs again.
      task.status = 'active';
      task.endedAtMs = undefined;
    }
    this.observer?.taskChanged(task.id, 'updated');
    return { ok: true };
  }

  private run(task: TaskRecord, scheduledAtMs: number, atMs: number): CommandResult {
    if (!task.manualFires.includes(scheduledAtMs)) task.manualFires.push(scheduledAtMs);
    task.updatedAtMs = atMs;
    this.observer?.taskChanged(task.id, 'run');
    return { ok: true };
  }

  private record(record: FireRecord): void {
    const task = this.tasks.get(record.taskId);
    if (task === undefined) return; // deleted meanwhile: nothing to keep
    this.touchTask(record.taskId);
    if (record.manual) {
      const at = task.manualFires.indexOf(record.scheduledAtMs);
      if (at >= 0) task.manualFires.splice(at, 1);
      this.addExecution(task, record);
      this.observer?.taskChanged(task.id, 'recorded');
      return;
    }
    const through = record.skipThroughMs ?? record.scheduledAtMs;
    const next = task.nextFireAtMs;
    if (
      next === undefined ||
      through < next ||
      (record.skipThroughMs === undefined && task.recordedAhead.includes(through))
    ) {
      this.observer?.duplicateRecorded?.(record);
      return;
    }
    if (record.skipThroughMs === undefined && record.scheduledAtMs > next) {
      insertSorted(task.recordedAhead, record.scheduledAtMs);
    } else {
      // The watermark passes this fire (or this run of skipped fires), then any recorded ahead.
      task.nextFireAtMs = this.nextAfter(task, through);
      task.recordedAhead = task.recordedAhead.filter((ms) => ms > through);
      while (task.nextFireAtMs !== undefined && task.recordedAhead[0] === task.nextFireAtMs) {
        task.recordedAhead.shift();
        task.nextFireAtMs = this.nextAfter(task, task.nextFireAtMs);
      }
    }
    this.addExecution(task, record);
    if (task.nextFireAtMs === undefined && task.manualFires.length === 0)
      this.complete(task, record.finishedAtMs);
    this.observer?.taskChanged(task.id, 'recorded');
  }

  // ---- helpers -----------------------------------------------------------------------------

  private nextAfter(task: TaskRecord, afterMs: number): number | undefined {
    return nextFireAfter(task.spec, afterMs);
  }

  private addExecution(task: TaskRecord, record: FireRecord): void {
    const { skipThroughMs: _skipThroughMs, ...execution } = record;
    task.history.push(execution);
    if (task.history.length > EXECUTION_HISTORY_PER_TASK) task.history.shift();
    if (record.status !== 'skipped' && record.status !== 'expired') task.runCount += 1;
    if (record.status === 'failed') task.failureCount += 1;
  }

  private complete(task: TaskRecord, atMs: number): void {
    if (task.status === 'completed') return;
    task.status = 'completed';
    task.endedAtMs = atMs;
    task.updatedAtMs = Math.max(task.updatedAtMs, atMs);
    this.endedQueue.push({ atMs, taskId: task.id, key: task.spec.idempotencyKey });
    const key = task.spec.idempotencyKey;
    if (key !== undefined) {
      const entry = this.idempotencyKeys.get(key);
      if (entry !== undefined && entry.taskId === task.id) {
        this.touchKey(key);
        entry.endedAtMs = atMs;
      }
    }
  }

  private endKey(key: string, atMs: number): void {
    const entry = this.idempotencyKeys.get(key);
    if (entry === undefined) return;
    this.touchKey(key);
    entry.endedAtMs = atMs;
    this.endedQueue.push({ atMs, taskId: entry.taskId, key });
  }

  /** Forgets tasks and keys that ended more than the retention ago (by the commands' clock). */
  private expireEnded(): void {
    const horizon = this.latestAtMs - ENDED_TASK_RETENTION_MS;
    while (
      this.endedQueueHead < this.endedQueue.length &&
      this.endedQueue[this.endedQueueHead].atMs < horizon
    ) {
      const { taskId, key } = this.endedQueue[this.endedQueueHead++];
      const task = this.tasks.get(taskId);
      // Still completed and not revived by an update since.
      if (
        task !== undefined &&
        task.status === 'completed' &&
        task.endedAtMs !== undefined &&
        task.endedAtMs < horizon
      ) {
        this.touchTask(taskId);
        this.tasks.delete(taskId);
        this.observer?.taskChanged(taskId, 'deleted');
      }
      if (key !== undefined) {
        const entry = this.idempotencyKeys.get(key);
        if (
          entry !== undefined &&
          entry.taskId === taskId &&
          entry.endedAtMs !== undefined &&
          entry.endedAtMs < horizon
        )
          this.touchKey(key);
        this.idempotencyKeys.delete(key);
      }
    }
    if (this.endedQueueHead > 1024 && this.endedQueueHead * 2 > this.endedQueue.length) {
      this.endedQueue.splice(0, this.endedQueueHead);
      this.endedQueueHead = 0;
    }
  }

  /** Re-creates the retention queue after a restore (the queue is derived, not stored). */
  rebuildDerived(): void {
    this.endedQueue.length = 0;
    this.endedQueueHead = 0;
    const ended: { atMs: number; taskId: string; key?: string }[] = [];
    for (const task of this.tasks.values())
      if (task.endedAtMs !== undefined)
        ended.push({ atMs: task.endedAtMs, taskId: task.id, key: task.spec.idempotencyKey });
    for (const [key, entry] of this.idempotencyKeys)
      if (entry.endedAtMs !== undefined && !this.tasks.has(entry.taskId))
        ended.push({ atMs: entry.endedAtMs, taskId: entry.taskId, key });
    ended.sort((a, b) => a.atMs - b.atMs);
    this.endedQueue.push(...ended);
  }

  private withTask(taskId: string, then: (task: TaskRecord) => CommandResult): CommandResult {
    const task = this.tasks.get(taskId);
    if (task === undefined) return { error: 'not_found', taskId };
    this.touchTask(taskId);
    return then(task);
  }

  // ---- snapshot views (copy-on-write) -------------------------------------------------------

  /**
   * Freezes the state as it is now for a snapshot that is read while applies go on: the ids are
   * listed now, and a task or key that a later command changes or removes is first copied into
   * the view (copy-on-write), so the view always shows it as it was here. One view at a time;
   * end it with endView().
   */
  beginView(): SnapshotView {
    // An open view belongs to a snapshot whose stream was abandoned (one is taken at a time).
    const view: FrozenView = {
      taskIds: [...this.tasks.keys()],
      keys: [...this.idempotencyKeys.keys()],
      frozenTasks: new Map(),
      frozenKeys: new Map(),
    };
    this.view = view;
    const latestAtMs = this.latestAtMs;
    const tasks = this.tasks;
    const idempotencyKeys = this.idempotencyKeys;
    return {
      latestAtMs,
      *tasks() {
        for (const id of view.taskIds) {
          const task = view.frozenTasks.get(id) ?? tasks.get(id);
          if (task !== undefined) yield task;
        }
      },
      *keys() {
        for (const key of view.keys) {
          const entry = view.frozenKeys.get(key) ?? idempotencyKeys.get(key);
          if (entry !== undefined) yield [key, entry];
        }
      },
    };
  }

  endView(): void {
    this.view = undefined;
  }

  private touchTask(taskId: string): void {
    const view = this.view;
    if (view === undefined || view.frozenTasks.has(taskId)) return;
    const task = this.tasks.get(taskId);
    if (task !== undefined) view.frozenTasks.set(taskId, structuredClone(task));
  }

  private touchKey(key: string): void {
    const view = this.view;
    if (view === undefined || view.frozenKeys.has(key)) return;
    const entry = this.idempotencyKeys.get(key);
    if (entry !== undefined) view.frozenKeys.set(key, { ...entry });
  }
}

/**
 * A task as `create` makes it (still `active` when its schedule has no fire: create then completes
 * it). Pure, so a node that forwarded the create can show the new task before applying it.
 */
export function newTaskRecord(taskId: string, spec: TaskSpec, atMs: number): TaskRecord {
  return {
    id: taskId,
    spec,
    status: 'active',
    createdAtMs: atMs,
    updatedAtMs: atMs,
    runCount: 0,
    failureCount: 0,
    nextFireAtMs: firstFireAtMs(spec, atMs),
    recordedAhead: [],
    manualFires: [],
    history: [],
  };
}

/** The first fire of a spec created or changed at `atMs`: a crontab's first time at or after max(atMs, startAtMs). */
export function firstFireAtMs(spec: TaskSpec, atMs: number): number | undefined {
  const schedule = spec.schedule;
  if (schedule.kind === 'once') return schedule.runAtMs;
  const from = Math.max(atMs, spec.startAtMs ?? atMs);
  return nextFireAfter(spec, from - 1);
}

/**
 * The next scheduled fire after `afterMs`, within the spec's end: end_at, and for a crontab also
 * expire_at (a fire scheduled after it could never be dispatched by it, so the schedule ends there).
 */
export function nextFireAfter(spec: TaskSpec, afterMs: number): number | undefined {
  const next = compileSchedule(spec.schedule).nextAfter(afterMs);
  if (next === undefined) return undefined;
  if (spec.endAtMs !== undefined && next > spec.endAtMs) return undefined;
  if (spec.schedule.kind === 'cron' && spec.expireAtMs !== undefined && next > spec.expireAtMs)
    return undefined;
  return next;
}

function conflict(task: TaskRecord, message: string): CommandRefusal {
  return { error: 'state_conflict', taskId: task.id, message };
}

function insertSorted(values: number[], value: number): void {
  let at = values.length;
  while (at > 0 && values[at - 1] > value) at--;
  if (values[at - 1] !== value) values.splice(at, 0, value);
}

/** A digest of the spec's JSON with sorted keys: two specs that mean the same give the same digest. */
export function specDigestOf(spec: TaskSpec): string {
  const json = JSON.stringify(spec, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : value,
  );
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}
