import { compileSchedule } from '../schedule';
import type {
  ExecutionView,
  MisfirePolicy,
  OverlapPolicy,
  ScheduleSpec,
  TaskSpec,
  TaskStatus,
} from '../task/task.model';
import type { StoreWrite } from '../store/state-store';
import type {
  CommandRefusal,
  CommandResult,
  CreateTasksCommand,
  TaskTiming,
  CreatedTask,
  FireRecord,
  SchedulerCommand,
} from './scheduler-command';
import { ScheduleRegistry } from './schedule-registry';
import {
  EXECUTION_HISTORY_PER_TASK,
  FAMILY,
  encodeDelivery,
  encodeExecution,
  encodeIdempotencyEntry,
  encodeRow,
  failedKey,
  historyKey,
  idBytes,
  idempotencyKeyKey,
  taskKey,
  type IdempotencyEntry,
  type TaskExtra,
  type TaskRow,
} from './state-store-codec';
import type { CheckpointSource } from './state-checkpoint';
import { specDigestOf } from './spec-digest';
import { ByteSlab } from './byte-slab';
import { TaskTable } from './task-table';

export type { IdempotencyEntry } from './state-store-codec';
export type { TaskTiming } from './scheduler-command';
export { specDigestOf } from './spec-digest';

/** How long an ended task (deleted or completed) keeps its idempotency key, and a completed task stays queryable. */
export const ENDED_TASK_RETENTION_MS = 24 * 60 * 60 * 1000;

/** TaskTable.status codes. */
export const STATUS = { active: 0, paused: 1, completed: 2 } as const;
const STATUS_NAMES: readonly Exclude<TaskStatus, 'deleted'>[] = ['active', 'paused', 'completed'];

const OVERLAPS: readonly OverlapPolicy[] = ['allow', 'skip', 'buffer_one'];
const MISFIRES: readonly MisfirePolicy[] = ['fire_once', 'fire_all', 'skip'];
/** policyBits: overlap in bits 0-1, misfire in bits 2-3. */
function policyBitsOf(spec: TaskTiming): number {
  return OVERLAPS.indexOf(spec.overlap) | (MISFIRES.indexOf(spec.misfire) << 2);
}

const NO_TIMES: readonly number[] = Object.freeze([]);
/** The value of an index entry that is all key. */
const EMPTY = new Uint8Array(0);

/** What changed for a task, for the node's fire runtime (which re-plans that task). */
export type TaskChange =
  'created' | 'updated' | 'deleted' | 'paused' | 'resumed' | 'recorded' | 'run';

export interface StateObserver {
  /** For `deleted`, called while the slot still holds the task (it is freed right after). */
  taskChanged(slot: number, taskId: string, change: TaskChange): void;
  /** A record arrived for a fire that already had one (a duplicate delivery around a failover). */
  duplicateRecorded?(record: FireRecord): void;
}

/**
 * The scheduler's replicated state: the fold of SchedulerCommands. Deterministic — every time it
 * uses comes from a command — so every replica that applies the same log holds the same state.
 *
 * In memory it holds per task only what scheduling needs, in a struct-of-arrays TaskTable (tens
 * of bytes per task); callback URLs and bodies, headers, names and execution histories go to the
 * state store: every command queues its store writes, and the state machine writes them (with
 * the applied index) in one batch per apply (takeWrites). See docs/ARCHITECTURE.md.
 */
export class SchedulerState {
  readonly table = new TaskTable<TaskExtra>();
  readonly schedules = new ScheduleRegistry();
  readonly idempotencyKeys = new Map<string, IdempotencyEntry>();
  /** Ended tasks and keys in the order they ended, for retention (commands' clocks are ~monotonic). */
  private endedQueue: { readonly atMs: number; readonly taskId: string; readonly key?: string }[] =
    [];
  private endedQueueHead = 0;
  /** Highest `atMs` of any command applied: the state's notion of "now", for retention only. */
  latestAtMs = 0;
  observer: StateObserver | undefined;
  /** Store writes queued by the commands since the last takeWrites(), in order. */
  private writes: StoreWrite[] = [];
  /** Keys and rows bound for the store (see ByteSlab: why not a small Uint8Array each). */
  private readonly slab = new ByteSlab();
  private readonly storeBytes = (bytes: number): Uint8Array => this.slab.take(bytes);
  /** Rows to write at takeWrites() (a task changed by many commands of a batch is written once). */
  private readonly dirtyRows = new Set<number>();
  private readonly dirtyKeys = new Set<string>();
  /**
   * False while commands the store already holds are folded again (a restart replaying the
   * journal up to the store's own index): their writes are neither encoded nor queued.
   */
  storeWrites = true;

  get size(): number {
    return this.table.size;
  }

  apply(command: SchedulerCommand): CommandResult {
    if (command.atMs > this.latestAtMs) {
      this.latestAtMs = command.atMs;
      this.expireEnded();
    }
    switch (command.t) {
      case 'create':
        return this.create(command);
      case 'delete':
        return this.withTask(command.taskId, (slot) => this.delete(slot, command.atMs));
      case 'pause':
        return this.withTask(command.taskId, (slot) => this.pause(slot, command.atMs));
      case 'resume':
        return this.withTask(command.taskId, (slot) => this.resume(slot, command.atMs));
      case 'update':
        return this.withTask(command.taskId, (slot) =>
          this.update(slot, command.spec, command.atMs),
        );
      case 'run':
        return this.withTask(command.taskId, (slot) =>
          this.run(slot, command.scheduledAtMs, command.atMs),
        );
      case 'record':
        for (const record of command.records) this.record(record);
        return { ok: true };
    }
  }

  /** The store writes of every command applied since the last call, rows and keys last. */
  takeWrites(): StoreWrite[] {
    const writes = this.writes;
    this.writes = [];
    if (!this.storeWrites) {
      this.dirtyRows.clear();
      this.dirtyKeys.clear();
      return writes;
    }
    for (const slot of this.dirtyRows)
      writes.push({
        type: 'put',
        key: this.key(FAMILY.row, slot),
        value: encodeRow(this.rowOf(slot), this.storeBytes),
      });
    this.dirtyRows.clear();
    for (const key of this.dirtyKeys) {
      const entry = this.idempotencyKeys.get(key);
      writes.push(
        entry !== undefined
          ? { type: 'put', key: idempotencyKeyKey(key), value: encodeIdempotencyEntry(entry) }
          : { type: 'del', key: idempotencyKeyKey(key) },
      );
    }
    this.dirtyKeys.clear();
    return writes;
  }

  // ---- reading the in-memory part -----------------------------------------------------------

  /** Every task's status (the metrics count them). */
  *taskStatuses(): Generator<Exclude<TaskStatus, 'deleted'>> {
    for (const slot of this.table.slots()) yield STATUS_NAMES[this.table.status(slot)];
  }

  slotOf(taskId: string): number {
    return this.table.slotOf(taskId);
  }

  statusOf(slot: number): Exclude<TaskStatus, 'deleted'> {
    return STATUS_NAMES[this.table.status(slot)];
  }

  /** The earliest scheduled fire without a record; undefined when the schedule has no more. */
  nextFireAtMs(slot: number): number | undefined {
    const next = this.table.nextFireAtMs(slot);
    return Number.isNaN(next) ? undefined : next;
  }

  isCron(slot: number): boolean {
    return this.table.scheduleRef(slot) !== 0;
  }

  overlap(slot: number): OverlapPolicy {
    return OVERLAPS[this.table.policyBits(slot) & 3];
  }

  misfire(slot: number): MisfirePolicy {
    return MISFIRES[(this.table.policyBits(slot) >> 2) & 3];
  }

  jitterMs(slot: number): number {
    return this.table.extra(slot)?.jitterMs ?? 0;
  }

  expireAtMs(slot: number): number | undefined {
    return this.table.extra(slot)?.expireAtMs;
  }

  /** Fires after the watermark recorded out of order (sorted). */
  recordedAhead(slot: number): readonly number[] {
    return this.table.extra(slot)?.recordedAhead ?? NO_TIMES;
  }

  /** Manual fires (run-now, re-runs) not yet recorded. */
  manualFires(slot: number): readonly number[] {
    return this.table.extra(slot)?.manualFires ?? NO_TIMES;
  }

  /**
   * The next scheduled fire after `afterMs`, within the task's end: end_at, and for a crontab also
   * expire_at (a fire scheduled after it could never be dispatched by it, so the schedule ends there).
   */
  nextFireAfter(slot: number, afterMs: number): number | undefined {
    const ref = this.table.scheduleRef(slot);
    let next: number | undefined;
    if (ref === 0) {
      const runAtMs = this.table.runAtMs(slot);
      next = runAtMs > afterMs ? runAtMs : undefined;
    } else next = this.schedules.schedule(ref).nextAfter(afterMs);
    if (next === undefined) return undefined;
    const extra = this.table.extra(slot);
    if (extra !== undefined) {
      if (extra.endAtMs !== undefined && next > extra.endAtMs) return undefined;
      if (ref !== 0 && extra.expireAtMs !== undefined && next > extra.expireAtMs) return undefined;
    }
    return next;
  }

  /** The first fire of a task created or changed at `atMs`: a crontab's first time at or after max(atMs, startAtMs). */
  private firstFireAt(slot: number, atMs: number): number | undefined {
    if (this.table.scheduleRef(slot) === 0) return this.table.runAtMs(slot);
    const from = Math.max(atMs, this.table.extra(slot)?.startAtMs ?? atMs);
    return this.nextFireAfter(slot, from - 1);
  }

  /** The in-memory part of the task's spec. */
  timingOf(slot: number): TaskTiming {
    const ref = this.table.scheduleRef(slot);
    const schedule: ScheduleSpec =
      ref === 0 ? { kind: 'once', runAtMs: this.table.runAtMs(slot) } : this.schedules.spec(ref);
    const extra = this.table.extra(slot);
    return {
      schedule,
      ...(extra?.startAtMs !== undefined ? { startAtMs: extra.startAtMs } : {}),
      ...(extra?.endAtMs !== undefined ? { endAtMs: extra.endAtMs } : {}),
      ...(extra?.expireAtMs !== undefined ? { expireAtMs: extra.expireAtMs } : {}),
      jitterMs: extra?.jitterMs ?? 0,
      overlap: this.overlap(slot),
      misfire: this.misfire(slot),
      ...(extra?.idempotencyKey !== undefined ? { idempotencyKey: extra.idempotencyKey } : {}),
    };
  }

  /** The task's row, as the store keeps it. */
  rowOf(slot: number): TaskRow {
    const t = this.table;
    const ref = t.scheduleRef(slot);
    return {
      status: t.status(slot),
      policyBits: t.policyBits(slot),
      cron: ref === 0 ? undefined : this.schedules.spec(ref),
      runAtMs: t.runAtMs(slot),
      nextFireAtMs: t.nextFireAtMs(slot),
      createdAtMs: t.createdAtMs(slot),
      updatedAtMs: t.updatedAtMs(slot),
      endedAtMs: t.endedAtMs(slot),
      runCount: t.runCount(slot),
      failureCount: t.failureCount(slot),
      historyCount: t.historyCount(slot),
      extra: t.extra(slot),
    };
  }

  // ---- commands ----------------------------------------------------------------------------

  private create(command: CreateTasksCommand): CommandResult {
    const created: (CreatedTask | CommandRefusal)[] = [];
    for (const item of command.tasks) {
      const taskId = item.taskId;
      // An item decoded from the log carries its delivery encoded (and its spec's digest): the
      // body is never parsed or encoded again here.
      const spec: TaskTiming = 'spec' in item ? item.spec : item.timing;
      if (this.table.has(taskId)) {
        created.push({ error: 'id_taken', taskId });
        continue;
      }
      const key = spec.idempotencyKey;
      let specDigest: string | undefined;
      if (key !== undefined) {
        specDigest = 'spec' in item ? specDigestOf(item.spec) : item.specDigest;
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
      // The schedule first: an invalid one throws before the table changes.
      const ref = this.schedules.acquire(spec.schedule);
      const slot = this.table.add(taskId);
      this.table.setScheduleRef(slot, ref);
      this.setTiming(slot, spec, undefined);
      this.table.setStatus(slot, STATUS.active);
      this.table.setCreatedAtMs(slot, command.atMs);
      this.table.setUpdatedAtMs(slot, command.atMs);
      this.table.setNextFireAtMs(slot, this.firstFireAt(slot, command.atMs) ?? Number.NaN);
      if (this.storeWrites)
        this.writes.push({
          type: 'put',
          key: this.key(FAMILY.delivery, slot),
          value: 'spec' in item ? encodeDelivery(item.spec) : item.delivery,
        });
      this.dirtyRows.add(slot);
      if (key !== undefined && specDigest !== undefined) {
        this.idempotencyKeys.set(key, { taskId, specDigest });
        this.dirtyKeys.add(key);
      }
      if (Number.isNaN(this.table.nextFireAtMs(slot))) this.complete(slot, command.atMs);
      created.push({ taskId, created: true });
      this.observer?.taskChanged(slot, taskId, 'created');
    }
    return { ok: true, created };
  }

  private delete(slot: number, atMs: number): CommandResult {
    const key = this.table.extra(slot)?.idempotencyKey;
    if (key !== undefined) this.endKey(key, atMs);
    this.remove(slot);
    return { ok: true };
  }

  private pause(slot: number, atMs: number): CommandResult {
    const status = this.table.status(slot);
    if (status === STATUS.completed)
      return this.conflict(slot, 'a completed task cannot be paused');
    if (status === STATUS.active) {
      this.table.setStatus(slot, STATUS.paused);
      this.table.setUpdatedAtMs(slot, atMs);
      this.dirtyRows.add(slot);
      this.changed(slot, 'paused');
    }
    return { ok: true };
  }

  private resume(slot: number, atMs: number): CommandResult {
    const status = this.table.status(slot);
    if (status === STATUS.completed)
      return this.conflict(slot, 'a completed task cannot be resumed');
    if (status === STATUS.paused) {
      this.table.setStatus(slot, STATUS.active);
      this.table.setUpdatedAtMs(slot, atMs);
      this.dirtyRows.add(slot);
      // A crontab's fires that fell due while paused are not owed: it goes on from now. A one-shot
      // whose time passed while paused still fires (once, at once).
      const next = this.table.nextFireAtMs(slot);
      if (this.isCron(slot) && next < atMs) {
        this.table.setNextFireAtMs(slot, this.firstFireAt(slot, atMs) ?? Number.NaN);
        this.setExtraField(slot, 'recordedAhead', undefined);
        if (Number.isNaN(this.table.nextFireAtMs(slot))) this.complete(slot, atMs);
      }
      this.changed(slot, 'resumed');
    }
    return { ok: true };
  }

  private update(slot: number, spec: TaskSpec, atMs: number): CommandResult {
    if (this.table.status(slot) === STATUS.completed && spec.schedule.kind === 'cron')
      return this.conflict(slot, 'a completed crontab task cannot be changed; create a new one');
    const ref = this.schedules.acquire(spec.schedule);
    this.schedules.release(this.table.scheduleRef(slot));
    this.table.setScheduleRef(slot, ref);
    this.setTiming(slot, spec, this.table.extra(slot)?.manualFires);
    this.table.setUpdatedAtMs(slot, atMs);
    this.table.setNextFireAtMs(slot, this.firstFireAt(slot, atMs) ?? Number.NaN);
    if (this.storeWrites)
      this.writes.push({
        type: 'put',
        key: this.key(FAMILY.delivery, slot),
        value: encodeDelivery(spec),
      });
    this.dirtyRows.add(slot);
    if (Number.isNaN(this.table.nextFireAtMs(slot))) this.complete(slot, atMs);
    else if (this.table.status(slot) === STATUS.completed) {
      // A one-shot moved to a new time runs again, and its key lives again with it.
      this.table.setStatus(slot, STATUS.active);
      this.table.setEndedAtMs(slot, Number.NaN);
      const key = spec.idempotencyKey;
      const entry = key !== undefined ? this.idempotencyKeys.get(key) : undefined;
      if (
        key !== undefined &&
        entry?.taskId === this.table.idOf(slot) &&
        entry.endedAtMs !== undefined
      ) {
        delete entry.endedAtMs;
        this.dirtyKeys.add(key);
      }
    }
    this.changed(slot, 'updated');
    return { ok: true };
  }

  private run(slot: number, scheduledAtMs: number, atMs: number): CommandResult {
    const manual = this.manualFires(slot);
    if (!manual.includes(scheduledAtMs))
      this.setExtraField(slot, 'manualFires', [...manual, scheduledAtMs]);
    this.table.setUpdatedAtMs(slot, atMs);
    this.dirtyRows.add(slot);
    this.changed(slot, 'run');
    return { ok: true };
  }

  private record(record: FireRecord): void {
    const slot = this.table.slotOf(record.taskId);
    if (slot < 0) return; // deleted meanwhile: nothing to keep
    this.dirtyRows.add(slot);
    if (record.manual) {
      const manual = this.manualFires(slot);
      if (manual.includes(record.scheduledAtMs))
        this.setExtraField(
          slot,
          'manualFires',
          manual.filter((ms) => ms !== record.scheduledAtMs),
        );
      this.addExecution(slot, record);
      this.changed(slot, 'recorded', record.taskId);
      return;
    }
    const through = record.skipThroughMs ?? record.scheduledAtMs;
    const next = this.nextFireAtMs(slot);
    const ahead = this.recordedAhead(slot);
    if (
      next === undefined ||
      through < next ||
      (record.skipThroughMs === undefined && ahead.includes(through))
    ) {
      this.observer?.duplicateRecorded?.(record);
      return;
    }
    if (record.skipThroughMs === undefined && record.scheduledAtMs > next) {
      this.setExtraField(slot, 'recordedAhead', insertSorted(ahead, record.scheduledAtMs));
    } else {
      // The watermark passes this fire (or this run of skipped fires), then any recorded ahead.
      let watermark = this.nextFireAfter(slot, through);
      const rest = ahead.filter((ms) => ms > through);
      while (watermark !== undefined && rest[0] === watermark) {
        rest.shift();
        watermark = this.nextFireAfter(slot, watermark);
      }
      this.table.setNextFireAtMs(slot, watermark ?? Number.NaN);
      this.setExtraField(slot, 'recordedAhead', rest.length > 0 ? rest : undefined);
    }
    this.addExecution(slot, record);
    if (Number.isNaN(this.table.nextFireAtMs(slot)) && this.manualFires(slot).length === 0)
      this.complete(slot, record.finishedAtMs, record.taskId);
    this.changed(slot, 'recorded', record.taskId);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Sets the in-memory spec fields (all but the schedule ref) from a spec. */
  private setTiming(slot: number, spec: TaskTiming, manualFires: number[] | undefined): void {
    if (spec.schedule.kind === 'once') this.table.setRunAtMs(slot, spec.schedule.runAtMs);
    else this.table.setRunAtMs(slot, Number.NaN);
    this.table.setPolicyBits(slot, policyBitsOf(spec));
    if (
      spec.startAtMs === undefined &&
      spec.endAtMs === undefined &&
      spec.expireAtMs === undefined &&
      spec.jitterMs === 0 &&
      spec.idempotencyKey === undefined &&
      (manualFires === undefined || manualFires.length === 0)
    ) {
      // Most tasks have none of the rare fields: no object to build and drop.
      this.table.setExtra(slot, undefined);
      return;
    }
    const extra: TaskExtra = {};
    if (spec.startAtMs !== undefined) extra.startAtMs = spec.startAtMs;
    if (spec.endAtMs !== undefined) extra.endAtMs = spec.endAtMs;
    if (spec.expireAtMs !== undefined) extra.expireAtMs = spec.expireAtMs;
    if (spec.jitterMs !== 0) extra.jitterMs = spec.jitterMs;
    if (spec.idempotencyKey !== undefined) extra.idempotencyKey = spec.idempotencyKey;
    if (manualFires !== undefined && manualFires.length > 0) extra.manualFires = manualFires;
    this.table.setExtra(slot, hasAny(extra) ? extra : undefined);
  }

  private setExtraField(
    slot: number,
    field: 'recordedAhead' | 'manualFires',
    value: number[] | undefined,
  ): void {
    const extra = this.table.extra(slot);
    if (value === undefined || value.length === 0) {
      if (extra === undefined || extra[field] === undefined) return;
      const { [field]: _dropped, ...rest } = extra;
      this.table.setExtra(slot, hasAny(rest) ? rest : undefined);
      return;
    }
    this.table.setExtra(slot, { ...extra, [field]: value });
  }

  private addExecution(slot: number, record: FireRecord): void {
    const count = this.table.historyCount(slot);
    if (this.storeWrites) {
      const ring = count % EXECUTION_HISTORY_PER_TASK;
      this.writes.push({
        type: 'put',
        key: this.ringKey(FAMILY.history, slot, ring),
        // A skip's skipThroughMs is stored too; reads leave it out (decodeExecution).
        value: encodeExecution(record, this.storeBytes),
      });
      // The dead-letter index follows the ring slot: set for a failure, cleared when a later
      // outcome overwrites a slot that may have held one (a slot used for the first time holds none).
      if (record.status === 'failed')
        this.writes.push({
          type: 'put',
          key: this.ringKey(FAMILY.failed, slot, ring),
          value: EMPTY,
        });
      else if (count >= EXECUTION_HISTORY_PER_TASK)
        this.writes.push({ type: 'del', key: this.ringKey(FAMILY.failed, slot, ring) });
    }
    this.table.setHistoryCount(slot, count + 1);
    if (record.status !== 'skipped' && record.status !== 'expired')
      this.table.setRunCount(slot, this.table.runCount(slot) + 1);
    if (record.status === 'failed')
      this.table.setFailureCount(slot, this.table.failureCount(slot) + 1);
  }

  private complete(slot: number, atMs: number, knownTaskId?: string): void {
    if (this.table.status(slot) === STATUS.completed) return;
    this.table.setStatus(slot, STATUS.completed);
    this.table.setEndedAtMs(slot, atMs);
    this.table.setUpdatedAtMs(slot, Math.max(this.table.updatedAtMs(slot), atMs));
    this.dirtyRows.add(slot);
    const taskId = knownTaskId ?? this.table.idOf(slot);
    const key = this.table.extra(slot)?.idempotencyKey;
    this.endedQueue.push({ atMs, taskId, ...(key !== undefined ? { key } : {}) });
    if (key !== undefined) {
      const entry = this.idempotencyKeys.get(key);
      if (entry !== undefined && entry.taskId === taskId) {
        entry.endedAtMs = atMs;
        this.dirtyKeys.add(key);
      }
    }
  }

  private endKey(key: string, atMs: number): void {
    const entry = this.idempotencyKeys.get(key);
    if (entry === undefined) return;
    entry.endedAtMs = atMs;
    this.dirtyKeys.add(key);
    this.endedQueue.push({ atMs, taskId: entry.taskId, key });
  }

  /** Drops a task from memory and the store (its key, if any, is handled by the caller). */
  private remove(slot: number): void {
    const taskId = this.table.idOf(slot);
    this.observer?.taskChanged(slot, taskId, 'deleted');
    const id = this.idBytesOf(slot);
    if (this.storeWrites) this.writes.push({ type: 'del', key: taskKey(FAMILY.row, id) });
    if (this.storeWrites) this.writes.push({ type: 'del', key: taskKey(FAMILY.delivery, id) });
    const kept = Math.min(this.table.historyCount(slot), EXECUTION_HISTORY_PER_TASK);
    for (let ring = 0; ring < kept; ring++)
      if (this.storeWrites) {
        this.writes.push({ type: 'del', key: historyKey(id, ring) });
        this.writes.push({ type: 'del', key: failedKey(id, ring) });
      }
    this.schedules.release(this.table.scheduleRef(slot));
    this.dirtyRows.delete(slot);
    this.table.remove(slot);
  }

  /** Forgets tasks and keys that ended more than the retention ago (by the commands' clock). */
  private expireEnded(): void {
    const horizon = this.latestAtMs - ENDED_TASK_RETENTION_MS;
    while (
      this.endedQueueHead < this.endedQueue.length &&
      this.endedQueue[this.endedQueueHead].atMs < horizon
    ) {
      const { taskId, key } = this.endedQueue[this.endedQueueHead++];
      const slot = this.table.slotOf(taskId);
      // Still completed and not revived by an update since.
      if (
        slot >= 0 &&
        this.table.status(slot) === STATUS.completed &&
        this.table.endedAtMs(slot) < horizon
      )
        this.remove(slot);
      if (key !== undefined) {
        const entry = this.idempotencyKeys.get(key);
        if (
          entry !== undefined &&
          entry.taskId === taskId &&
          entry.endedAtMs !== undefined &&
          entry.endedAtMs < horizon
        ) {
          this.idempotencyKeys.delete(key);
          this.dirtyKeys.add(key);
        }
      }
    }
    if (this.endedQueueHead > 1024 && this.endedQueueHead * 2 > this.endedQueue.length) {
      this.endedQueue = this.endedQueue.slice(this.endedQueueHead);
      this.endedQueueHead = 0;
    }
  }

  private withTask(taskId: string, then: (slot: number) => CommandResult): CommandResult {
    const slot = this.table.slotOf(taskId);
    if (slot < 0) return { error: 'not_found', taskId };
    return then(slot);
  }

  /** `taskId` when the caller has it at hand (a record carries it): formatting one costs ~1 µs. */
  private changed(slot: number, change: TaskChange, taskId?: string): void {
    this.observer?.taskChanged(slot, taskId ?? this.table.idOf(slot), change);
  }

  private conflict(slot: number, message: string): CommandRefusal {
    return { error: 'state_conflict', taskId: this.table.idOf(slot), message };
  }

  private idBytesOf(slot: number): Uint8Array {
    const bytes = new Uint8Array(8);
    this.table.writeIdBytes(slot, bytes, 0);
    return bytes;
  }

  /** historyKey (or failedKey) of the task in `slot`, in slab bytes. */
  private ringKey(family: number, slot: number, ring: number): Uint8Array {
    const key = this.slab.take(10);
    key[0] = family;
    this.table.writeIdBytes(slot, key, 1);
    key[9] = ring;
    return key;
  }

  private key(family: number, slot: number): Uint8Array {
    const key = this.slab.take(9);
    key[0] = family;
    this.table.writeIdBytes(slot, key, 1);
    return key;
  }

  // ---- loading (start-up, snapshot install) -------------------------------------------------

  /** Drops everything (before a load). Queued writes are dropped too. */
  clear(): void {
    this.table.clear();
    this.schedules.clear();
    this.idempotencyKeys.clear();
    this.endedQueue = [];
    this.endedQueueHead = 0;
    this.latestAtMs = 0;
    this.writes = [];
    this.dirtyRows.clear();
    this.dirtyKeys.clear();
  }

  /** Loads one task's row from the store. Throws an Error naming the task when it cannot. */
  loadRow(taskId: string, row: TaskRow): void {
    const ref = this.acquireStored(row, () => taskId);
    this.fillRow(this.table.add(taskId), ref, row);
  }

  /** loadRow for a row whose id is 8 bytes at `offset` of `bytes` (a checkpoint). */
  loadRowWithIdBytes(bytes: Uint8Array, offset: number, row: TaskRow): void {
    const ref = this.acquireStored(row, () => TaskTable.idFromBytes(bytes, offset));
    this.fillRow(this.table.addFromBytes(bytes, offset), ref, row);
  }

  /**
   * A copy of the state as it is now, for a checkpoint written while applies go on: the table's
   * arrays are copied (extras are never changed in place, so they are shared), keys are copied.
   */
  freeze(appliedIndex: number): CheckpointSource {
    const crons = new Map<number, Extract<ScheduleSpec, { kind: 'cron' }>>();
    for (const slot of this.table.slots()) {
      const ref = this.table.scheduleRef(slot);
      if (ref !== 0 && !crons.has(ref)) crons.set(ref, this.schedules.spec(ref));
    }
    return {
      appliedIndex,
      latestAtMs: this.latestAtMs,
      table: this.table.clone(),
      crons,
      keys: [...this.idempotencyKeys].map(([key, entry]) => [key, { ...entry }] as const),
    };
  }

  private acquireStored(row: TaskRow, taskId: () => string): number {
    try {
      return row.cron !== undefined ? this.schedules.acquire(row.cron) : 0;
    } catch (error) {
      throw new Error(`task ${taskId()}: its stored crontab cannot be compiled: ${String(error)}`, {
        cause: error,
      });
    }
  }

  private fillRow(slot: number, ref: number, row: TaskRow): void {
    const t = this.table;
    t.setScheduleRef(slot, ref);
    t.setStatus(slot, row.status);
    t.setPolicyBits(slot, row.policyBits);
    t.setRunAtMs(slot, row.runAtMs);
    t.setNextFireAtMs(slot, row.nextFireAtMs);
    t.setCreatedAtMs(slot, row.createdAtMs);
    t.setUpdatedAtMs(slot, row.updatedAtMs);
    t.setEndedAtMs(slot, row.endedAtMs);
    t.setRunCount(slot, row.runCount);
    t.setFailureCount(slot, row.failureCount);
    t.setHistoryCount(slot, row.historyCount);
    t.setExtra(slot, row.extra);
  }

  loadKey(key: string, entry: IdempotencyEntry): void {
    this.idempotencyKeys.set(key, entry);
  }

  /** After a load: re-creates the retention queue (derived, not stored). */
  finishLoad(latestAtMs: number): void {
    this.latestAtMs = latestAtMs;
    const ended: { atMs: number; taskId: string; key?: string }[] = [];
    for (const slot of this.table.slots()) {
      const endedAtMs = this.table.endedAtMs(slot);
      if (Number.isNaN(endedAtMs)) continue;
      const key = this.table.extra(slot)?.idempotencyKey;
      ended.push({ atMs: endedAtMs, taskId: this.table.idOf(slot), ...(key ? { key } : {}) });
    }
    // Every ended key, its task gone or not (a task updated to another key keeps living while
    // its old key expires), as the fold queued it; a key queued twice is dropped once.
    for (const [key, entry] of this.idempotencyKeys)
      if (entry.endedAtMs !== undefined)
        ended.push({ atMs: entry.endedAtMs, taskId: entry.taskId, key });
    ended.sort((a, b) => a.atMs - b.atMs);
    this.endedQueue = ended;
    this.endedQueueHead = 0;
  }
}

function hasAny(extra: TaskExtra): boolean {
  for (const _key in extra) return true;
  return false;
}

function insertSorted(values: readonly number[], value: number): number[] {
  const copy = [...values];
  let at = copy.length;
  while (at > 0 && copy[at - 1] > value) at--;
  if (copy[at - 1] !== value) copy.splice(at, 0, value);
  return copy;
}

/** The first fire of a spec created or changed at `atMs`: a crontab's first time at or after max(atMs, startAtMs). */
export function firstFireAtMs(spec: TaskSpec, atMs: number): number | undefined {
  const schedule = spec.schedule;
  if (schedule.kind === 'once') return schedule.runAtMs;
  const from = Math.max(atMs, spec.startAtMs ?? atMs);
  return nextFireAfter(spec, from - 1);
}

/** As SchedulerState.nextFireAfter, for a spec that is not (yet) in the state. */
export function nextFireAfter(spec: TaskSpec, afterMs: number): number | undefined {
  const next = compileSchedule(spec.schedule).nextAfter(afterMs);
  if (next === undefined) return undefined;
  if (spec.endAtMs !== undefined && next > spec.endAtMs) return undefined;
  if (spec.schedule.kind === 'cron' && spec.expireAtMs !== undefined && next > spec.expireAtMs)
    return undefined;
  return next;
}

export type { ExecutionView };
export { idBytes };
