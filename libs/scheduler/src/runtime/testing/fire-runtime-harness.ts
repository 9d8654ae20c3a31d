import type { CallbackRequest, DeliveryResult } from '@xcron/dispatcher';
import type { ExecutionView, SkipReason, TaskSpec, TaskStatus } from '../../task/task.model';
import type { CommandResult, FireRecord, SchedulerCommand } from '../../state/scheduler-command';
import { SchedulerState } from '../../state/scheduler-state';
import {
  EXECUTION_HISTORY_PER_TASK,
  FAMILY,
  decodeFireDelivery,
  decodeExecution,
  historyKey,
  idBytes,
  type FireDelivery,
} from '../../state/state-store-codec';
import type { StoreWrite } from '../../store/state-store';
import { TimingWheel, type WheelHandle } from '../../wheel/timing-wheel';
import {
  FireRuntime,
  type FireRuntimeOptions,
  type FireTimer,
  type TimerItem,
} from '../fire-runtime';
import { RecordBatcher } from '../record-batcher';

/**
 * Test doubles for FireRuntime: a simulated clock, a FireTimer over a TimingWheel that only moves
 * when the test advances it, a dispatcher whose every request is a deferred the test settles, and
 * a RecordBatcher whose proposals are applied to a real SchedulerState (optionally held back, as
 * if Raft were slow to commit). No real timers: only setImmediate turns, which RecordBatcher uses.
 */

export class SimClock {
  constructor(public nowMs: number) {}
}

interface TimerEntry {
  readonly fire: TimerItem;
  readonly dueMs: number;
  handle: WheelHandle | undefined;
  readonly id: number;
}

export interface HandOut {
  readonly fire: TimerItem;
  readonly dueMs: number;
  readonly atMs: number;
}

/**
 * FireRuntime's timer for tests: a TimingWheel advanced by hand. Like WheelFireTimer, it hands out
 * a fire only once the clock has reached its due time, and hands out what onDue schedules at or
 * before the current time on the next pass (as WheelFireTimer's zero-delay re-arm would).
 */
export class SimFireTimer implements FireTimer {
  private wheel: TimingWheel<TimerEntry>;
  private readonly entries = new Map<number, TimerEntry>();
  private nextHandle = 1;
  readonly handedOut: HandOut[] = [];
  onDue: (item: TimerItem) => void = () => undefined;

  constructor(private readonly clock: SimClock) {
    this.wheel = new TimingWheel<TimerEntry>(clock.nowMs);
  }

  schedule(fire: TimerItem, dueMs: number): number {
    const entry: TimerEntry = { fire, dueMs, handle: undefined, id: this.nextHandle++ };
    entry.handle = this.wheel.schedule(entry, dueMs);
    this.entries.set(entry.id, entry);
    return entry.id;
  }

  cancel(handle: number): void {
    const entry = this.entries.get(handle);
    if (entry === undefined) return;
    this.entries.delete(handle);
    if (entry.handle !== undefined) this.wheel.cancel(entry.handle);
  }

  clear(): void {
    this.wheel = new TimingWheel<TimerEntry>(this.clock.nowMs);
    this.entries.clear();
  }

  /** What waits in the timer, earliest first. */
  pending(): { readonly fire: TimerItem; readonly dueMs: number }[] {
    return [...this.entries.values()]
      .map(({ fire, dueMs }) => ({ fire, dueMs }))
      .sort((a, b) => a.dueMs - b.dueMs);
  }

  nextDueMs(): number | undefined {
    return this.wheel.nextDueMs();
  }

  /** One pass: hands out every fire due at or before the clock. Returns how many. */
  fireDue(): number {
    const now = this.clock.nowMs;
    const due: TimerEntry[] = [];
    this.wheel.advance(now, (entry) => due.push(entry));
    for (const entry of due) {
      this.entries.delete(entry.id);
      if (now < entry.dueMs)
        throw new Error(`fire ${JSON.stringify(entry.fire)} handed out early at ${now}`);
      this.handedOut.push({ fire: entry.fire, dueMs: entry.dueMs, atMs: now });
      this.onDue(entry.fire);
    }
    return due.length;
  }
}

/** One request handed to the dispatcher, settled when the test says. */
export interface DispatchCall {
  readonly node: string;
  readonly request: CallbackRequest;
  readonly atMs: number;
  settled: boolean;
  resolve(result: DeliveryResult): void;
  reject(error: unknown): void;
}

/** One node's dispatch side: runtime, its timer and its recorder. */
export interface SimLeader {
  readonly nodeId: string;
  readonly runtime: FireRuntime;
  readonly timer: SimFireTimer;
  readonly recorder: RecordBatcher;
}

export interface FireHarnessOptions {
  readonly startMs: number;
  readonly options?: Partial<FireRuntimeOptions>;
  readonly random?: () => number;
  /** Deliveries load as promises (as from classic-level), counted in `deliveryLoads`. */
  readonly asyncDeliveries?: boolean;
}

export const SUCCEEDED: DeliveryResult = {
  status: 'succeeded',
  httpStatus: 200,
  attempts: 1,
  durationMs: 5,
  timedOutAttempts: 0,
};

export class FireHarness {
  readonly clock: SimClock;
  readonly state = new SchedulerState();
  readonly leaders: SimLeader[] = [];
  readonly calls: DispatchCall[] = [];
  /** Every record committed, in commit order. */
  readonly records: FireRecord[] = [];
  readonly duplicates: FireRecord[] = [];
  readonly skippedMetric: { reason: SkipReason; count: number }[] = [];
  readonly givenUp: FireRecord[] = [];
  /** What the runtimes logged (warnings and errors). */
  readonly logged: string[] = [];
  /** Every delivery the runtimes loaded from the store, with when. */
  readonly deliveryLoads: { slot: number; atMs: number }[] = [];
  /** While true, proposals wait in `heldProposals` until commitHeld(). */
  holdProposals = false;
  private readonly heldProposals: { command: SchedulerCommand; done: () => void }[] = [];

  constructor(private readonly config: FireHarnessOptions) {
    this.clock = new SimClock(config.startMs);
    this.state.observer = {
      taskChanged: (slot, taskId, change) => {
        for (const leader of this.leaders) leader.runtime.taskChanged(slot, taskId, change);
      },
      duplicateRecorded: (record) => this.duplicates.push(record),
    };
  }

  get now(): number {
    return this.clock.nowMs;
  }

  /** The latest leader. */
  get leader(): SimLeader {
    const leader = this.leaders[this.leaders.length - 1];
    if (leader === undefined) throw new Error('no leader yet: call addLeader()');
    return leader;
  }

  get runtime(): FireRuntime {
    return this.leader.runtime;
  }

  /** A node's runtime over the shared state (a new leader after failover, when one existed). */
  addLeader(nodeId = `n${this.leaders.length + 1}`): SimLeader {
    const timer = new SimFireTimer(this.clock);
    const recorder = new RecordBatcher(
      (command) => this.propose(command),
      () => this.clock.nowMs,
      { recordsPerProposalMax: 1_000, proposeAttempts: 1, retryDelayMs: 0 },
      (records) => this.givenUp.push(...records),
    );
    const runtime = new FireRuntime({
      state: this.state,
      nodeId,
      timer,
      recorder,
      loadDelivery: (slot) => {
        this.deliveryLoads.push({ slot, atMs: this.clock.nowMs });
        const delivery = this.delivery(slot);
        return this.config.asyncDeliveries ? Promise.resolve(delivery) : delivery;
      },
      dispatch: (request) => this.dispatch(nodeId, request),
      nowMs: () => this.clock.nowMs,
      random: this.config.random ?? (() => 0),
      options: { misfireThresholdMs: 5_000, misfireMax: 100, ...this.config.options },
      metrics: { firesSkipped: (reason, count) => this.skippedMetric.push({ reason, count }) },
      logger: {
        warn: (message) => this.logged.push(message),
        error: (message) => this.logged.push(message),
      },
    });
    timer.onDue = runtime.onDue;
    const leader = { nodeId, runtime, timer, recorder };
    this.leaders.push(leader);
    return leader;
  }

  /** Applies a command as committed now (the proposer's clock is the simulated one). */
  apply(command: DistributiveOmit<SchedulerCommand, 'atMs'>): CommandResult {
    return this.applyToState({ ...command, atMs: this.clock.nowMs } as SchedulerCommand);
  }

  /** A task as the old object-per-task state showed it (history oldest first), for assertions. */
  task(taskId: string): {
    status: Exclude<TaskStatus, 'deleted'>;
    nextFireAtMs: number | undefined;
    runCount: number;
    failureCount: number;
    recordedAhead: readonly number[];
    manualFires: readonly number[];
    history: ExecutionView[];
  } {
    const state = this.state;
    const slot = state.slotOf(taskId);
    if (slot < 0) throw new Error(`task ${taskId} not in the state`);
    const count = state.table.historyCount(slot);
    const history: ExecutionView[] = [];
    for (let n = Math.max(0, count - EXECUTION_HISTORY_PER_TASK); n < count; n++) {
      const bytes = this.store.get(
        hex(historyKey(idBytes(taskId), n % EXECUTION_HISTORY_PER_TASK)),
      );
      if (bytes !== undefined) history.push(decodeExecution(taskId, bytes));
    }
    return {
      status: state.statusOf(slot),
      nextFireAtMs: state.nextFireAtMs(slot),
      runCount: state.table.runCount(slot),
      failureCount: state.table.failureCount(slot),
      recordedAhead: state.recordedAhead(slot),
      manualFires: state.manualFires(slot),
      history,
    };
  }

  /** The state store as a plain map (hex key → value): the writes of every command, applied at once. */
  private readonly store = new Map<string, Uint8Array>();

  private applyToState(command: SchedulerCommand): CommandResult {
    const result = this.state.apply(command);
    this.applyWrites(this.state.takeWrites());
    return result;
  }

  private applyWrites(writes: readonly StoreWrite[]): void {
    for (const write of writes) {
      if (write.type === 'put' && write.value !== undefined)
        this.store.set(hex(write.key), write.value);
      else this.store.delete(hex(write.key));
    }
  }

  private delivery(slot: number): FireDelivery {
    const key = new Uint8Array(9);
    key[0] = FAMILY.delivery;
    this.state.table.writeIdBytes(slot, key, 1);
    const bytes = this.store.get(hex(key));
    if (bytes === undefined) throw new Error(`no delivery stored for slot ${slot}`);
    return decodeFireDelivery(bytes);
  }

  createTask(taskId: string, spec: TaskSpec): void {
    const result = this.apply({ t: 'create', tasks: [{ taskId, spec }] });
    const created = 'ok' in result ? result.created?.[0] : undefined;
    if (created === undefined || !('created' in created) || !created.created)
      throw new Error(`create ${taskId} failed: ${JSON.stringify(result)}`);
  }

  /**
   * Moves the clock to `targetMs`, stopping at every due time on the way and handing out what is
   * due there (a precise timer).
   */
  advanceTo(targetMs: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error('advanceTo: the timers never settle');
      this.fireDue();
      let next: number | undefined;
      for (const { timer } of this.leaders) {
        const due = timer.nextDueMs();
        if (due !== undefined && (next === undefined || due < next)) next = due;
      }
      if (next === undefined || next > targetMs) break;
      this.clock.nowMs = Math.max(this.clock.nowMs, Math.ceil(next));
    }
    this.clock.nowMs = Math.max(this.clock.nowMs, targetMs);
    this.fireDue();
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.clock.nowMs + ms);
  }

  /** Moves the clock without handing anything out (the node was down or stalled). */
  jumpTo(targetMs: number): void {
    this.clock.nowMs = targetMs;
  }

  /** Hands out everything due now, including what onDue schedules for now. */
  fireDue(): void {
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error('fireDue: the timers never settle');
      let fired = 0;
      for (const { timer } of this.leaders) fired += timer.fireDue();
      if (fired === 0) return;
    }
  }

  /** Requests not settled yet. */
  inFlight(): DispatchCall[] {
    return this.calls.filter((call) => !call.settled);
  }

  /** The one unsettled request of this scheduled time (throws if none or several). */
  call(scheduledAtMs: number, taskId?: string): DispatchCall {
    const found = this.inFlight().filter(
      (c) =>
        c.request.scheduledAtMs === scheduledAtMs &&
        (taskId === undefined || c.request.taskId === taskId),
    );
    if (found.length !== 1)
      throw new Error(`${found.length} requests in flight for ${taskId ?? '*'}@${scheduledAtMs}`);
    return found[0];
  }

  succeed(call: DispatchCall, result: Partial<DeliveryResult> = {}): void {
    call.resolve({ ...SUCCEEDED, ...result });
  }

  /** Lets promise callbacks and RecordBatcher's setImmediate batches run (and commit). */
  async settle(): Promise<void> {
    for (let turn = 0; turn < 4; turn++)
      await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Commits the proposals held back (holdProposals), in order. */
  async commitHeld(): Promise<void> {
    for (const { command, done } of this.heldProposals.splice(0)) {
      this.applyCommitted(command);
      done();
    }
    await this.settle();
  }

  /** The scheduled times of every request dispatched, in order (optionally of one task). */
  dispatchedTimes(taskId?: string): number[] {
    return this.calls
      .filter((c) => taskId === undefined || c.request.taskId === taskId)
      .map((c) => c.request.scheduledAtMs);
  }

  private propose(command: SchedulerCommand): Promise<CommandResult> {
    if (!this.holdProposals) return Promise.resolve(this.applyCommitted(command));
    return new Promise((resolve) =>
      this.heldProposals.push({ command, done: () => resolve({ ok: true }) }),
    );
  }

  private applyCommitted(command: SchedulerCommand): CommandResult {
    if (command.t === 'record') this.records.push(...command.records);
    return this.applyToState(command);
  }

  private dispatch(node: string, request: CallbackRequest): Promise<DeliveryResult> {
    return new Promise<DeliveryResult>((resolve, reject) => {
      const call: DispatchCall = {
        node,
        request,
        atMs: this.clock.nowMs,
        settled: false,
        resolve: (result) => {
          if (call.settled) throw new Error('request settled twice');
          call.settled = true;
          resolve(result);
        },
        reject: (error) => {
          if (call.settled) throw new Error('request settled twice');
          call.settled = true;
          reject(error);
        },
      };
      this.calls.push(call);
    });
  }
}

/** Omit over each member of a union (the built-in Omit collapses the union). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
