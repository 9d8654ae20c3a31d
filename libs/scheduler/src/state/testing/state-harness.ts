import type { StateStore } from '../../store/state-store';
import { MemoryStateStore } from '../../store/testing/memory-state-store';
import type { ExecutionView, TaskSpec, TaskStatus } from '../../task/task.model';
import type { CommandResult, SchedulerCommand } from '../scheduler-command';
import { SchedulerState } from '../scheduler-state';
import {
  EXECUTION_HISTORY_PER_TASK,
  FAMILY,
  decodeDelivery,
  decodeExecution,
  decodeIdempotencyEntry,
  decodeRow,
  familyRange,
  historyKey,
  idFromKey,
  idBytes,
  taskKey,
  type TaskDelivery,
} from '../state-store-codec';
import { specOf } from '../task-view';

/** Reads of what a task keeps in the store (as SchedulerStateMachine.delivery/executions). */
export interface TaskStoreReader {
  delivery(slot: number): Promise<TaskDelivery>;
  /** Newest first. */
  executions(slot: number): Promise<ExecutionView[]>;
}

/** The reads of TaskStoreReader over any store holding `state`'s writes. */
export function storeReader(state: SchedulerState, store: StateStore): TaskStoreReader {
  return {
    async delivery(slot) {
      const taskId = state.table.idOf(slot);
      const bytes = await store.get(taskKey(FAMILY.delivery, idBytes(taskId)));
      if (bytes === undefined) throw new Error(`task ${taskId} has no delivery in the store`);
      return decodeDelivery(bytes);
    },
    async executions(slot) {
      const taskId = state.table.idOf(slot);
      const count = state.table.historyCount(slot);
      const id = idBytes(taskId);
      const keys: Uint8Array[] = [];
      for (let n = count - 1; n >= Math.max(0, count - EXECUTION_HISTORY_PER_TASK); n--)
        keys.push(historyKey(id, n % EXECUTION_HISTORY_PER_TASK));
      const values = await store.getMany(keys);
      return values.map((value, i) => {
        if (value === undefined) throw new Error(`task ${taskId}: execution ${i} is missing`);
        return decodeExecution(taskId, value);
      });
    },
  };
}

/** A task in the shape the state held before the TaskTable (one object per task). */
export interface TaskRecord {
  readonly id: string;
  readonly spec: TaskSpec;
  readonly status: Exclude<TaskStatus, 'deleted'>;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly runCount: number;
  readonly failureCount: number;
  /** The earliest scheduled fire without a record; undefined when the schedule has no more. */
  readonly nextFireAtMs: number | undefined;
  readonly recordedAhead: readonly number[];
  readonly manualFires: readonly number[];
  /** Oldest first (the last EXECUTION_HISTORY_PER_TASK). */
  readonly history: readonly ExecutionView[];
  readonly endedAtMs?: number;
}

/** The task `taskId` of `state` in the old shape, its spec and history read through `reader`. */
export async function taskRecordOf(
  state: SchedulerState,
  reader: TaskStoreReader,
  taskId: string,
): Promise<TaskRecord | undefined> {
  const slot = state.slotOf(taskId);
  if (slot < 0) return undefined;
  const table = state.table;
  const endedAtMs = table.endedAtMs(slot);
  return {
    id: taskId,
    spec: specOf(state.timingOf(slot), await reader.delivery(slot)),
    status: state.statusOf(slot),
    createdAtMs: table.createdAtMs(slot),
    updatedAtMs: table.updatedAtMs(slot),
    runCount: table.runCount(slot),
    failureCount: table.failureCount(slot),
    nextFireAtMs: state.nextFireAtMs(slot),
    recordedAhead: [...state.recordedAhead(slot)],
    manualFires: [...state.manualFires(slot)],
    history: (await reader.executions(slot)).reverse(),
    ...(Number.isNaN(endedAtMs) ? {} : { endedAtMs }),
  };
}

/**
 * Everything the state holds, as plain data sorted by id: every task in the old shape (spec and
 * history from the store), the idempotency keys and the clock. Two replicas that applied the same
 * commands dump equal.
 */
export async function dumpState(state: SchedulerState, reader: TaskStoreReader): Promise<unknown> {
  const ids = [...state.table.slots()].map((slot) => state.table.idOf(slot));
  ids.sort(compareIds);
  const tasks: TaskRecord[] = [];
  for (const id of ids) tasks.push((await taskRecordOf(state, reader, id))!);
  return {
    tasks,
    rows: ids.map((id) => ({ id, ...state.rowOf(state.slotOf(id)) })),
    keys: [...state.idempotencyKeys.entries()]
      .map(([key, entry]) => [key, { ...entry }] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    latestAtMs: state.latestAtMs,
  };
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * A pure fold with its store: each apply() writes the command's store writes to a
 * MemoryStateStore, as the state machine does at every apply.
 */
export class FoldHarness implements TaskStoreReader {
  readonly state = new SchedulerState();
  readonly store = new MemoryStateStore();
  private readonly reader = storeReader(this.state, this.store);

  /** Applies one command (a command that throws is refused, as the state machine does). */
  apply(command: SchedulerCommand): CommandResult {
    let result: CommandResult;
    try {
      result = this.state.apply(command);
    } catch (error) {
      result = { error: 'state_conflict', taskId: '', message: String(error) };
    }
    // MemoryStateStore writes synchronously; the promise only reports it.
    void this.store.write(this.state.takeWrites(), { sync: false });
    return result;
  }

  applyAll(commands: readonly SchedulerCommand[]): void {
    for (const command of commands) this.apply(command);
  }

  task(taskId: string): Promise<TaskRecord | undefined> {
    return taskRecordOf(this.state, this.reader, taskId);
  }

  has(taskId: string): boolean {
    return this.state.slotOf(taskId) >= 0;
  }

  delivery(slot: number): Promise<TaskDelivery> {
    return this.reader.delivery(slot);
  }

  executions(slot: number): Promise<ExecutionView[]> {
    return this.reader.executions(slot);
  }

  dump(): Promise<unknown> {
    return dumpState(this.state, this.reader);
  }

  /**
   * A restart: a new harness over a copy of this store, its state loaded from the rows and keys
   * as SchedulerStateMachine.open loads them (the clock from the meta record it would read).
   */
  async reloaded(): Promise<FoldHarness> {
    const copy = new FoldHarness();
    const view = this.store.view();
    try {
      for await (const batch of view.entries({ gte: new Uint8Array(0), lt: Uint8Array.of(0xff) }))
        await copy.store.write(
          batch.map(([key, value]) => ({ type: 'put' as const, key, value })),
          { sync: true },
        );
    } finally {
      await view.close();
    }
    const state = copy.state;
    const load = copy.store.view();
    try {
      for await (const batch of load.entries(familyRange(FAMILY.row)))
        for (const [key, value] of batch) state.loadRow(idFromKey(key), decodeRow(value));
      for await (const batch of load.entries(familyRange(FAMILY.key)))
        for (const [key, value] of batch)
          state.loadKey(new TextDecoder().decode(key.subarray(1)), decodeIdempotencyEntry(value));
    } finally {
      await load.close();
    }
    state.finishLoad(this.state.latestAtMs);
    return copy;
  }
}
