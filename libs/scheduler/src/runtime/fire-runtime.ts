import type { CallbackRequest, DeliveryResult } from '@xcron/dispatcher';
import type { FireRecord } from '../state/scheduler-command';
import type { SkipReason } from '../task/task.model';
import {
  nextFireAfter,
  type SchedulerState,
  type StateObserver,
  type TaskChange,
} from '../state/scheduler-state';
import type { TaskRecord } from '../state/task-record';
import type { RecordBatcher } from './record-batcher';

/** One fire waiting in the timer: a task's scheduled time, or a manual fire. */
export interface DueFire {
  readonly taskId: string;
  readonly scheduledAtMs: number;
  readonly manual: boolean;
  /** The random delay added to this fire (jitter_ms): lateness is counted from after it. */
  readonly jitterMs?: number;
}

/** The single timer over every pending fire (a timing wheel in production). */
export interface FireTimer {
  schedule(fire: DueFire, dueMs: number): unknown;
  cancel(handle: unknown): void;
  clear(): void;
}

export interface FireRuntimeOptions {
  /** A fire not dispatched within this of its time is missed: the task's misfire policy applies. */
  readonly misfireThresholdMs: number;
  /** fire_all fires at most this many missed times (the latest ones); earlier ones are skipped. */
  readonly misfireMax: number;
}

export interface FireRuntimeMetrics {
  fireStarted?(fire: DueFire, latenessMs: number): void;
  fireFinished?(fire: DueFire, result: DeliveryResult): void;
  firesSkipped?(reason: SkipReason, count: number): void;
  /** A fire due before this node took the lead, without a record: a possible duplicate. */
  refireAfterFailover?(fire: DueFire): void;
}

export interface FireRuntimeDeps {
  readonly state: SchedulerState;
  readonly nodeId: string;
  readonly timer: FireTimer;
  readonly recorder: RecordBatcher;
  readonly dispatch: (request: CallbackRequest) => Promise<DeliveryResult>;
  readonly nowMs: () => number;
  readonly random: () => number;
  readonly options: FireRuntimeOptions;
  readonly metrics?: FireRuntimeMetrics;
  readonly logger: { warn(message: string): void; error(message: string): void };
}

/** What the leader knows about one task's fires beyond the replicated ledger. */
interface TaskPlan {
  /** The highest scheduled fire this leader has dispatched or skipped (not yet recorded, maybe). */
  handledThroughMs: number;
  timerHandle: unknown;
  /** Scheduled (non-manual) fires on the wire. */
  inFlight: number;
  /** overlap = buffer_one: the fire held back until the one in flight ends. */
  buffered: number | undefined;
  /** Manual fires (run-now, re-runs): made only for a task that has some. */
  manual: ManualFiresPlan | undefined;
  /** Aborted when the task is deleted; made at the first send (a pending task costs none). */
  abort: AbortController | undefined;
}

interface ManualFiresPlan {
  /** On the wire, by scheduled time. */
  readonly inFlight: Set<number>;
  /**
   * Sent by this leader and not yet recorded: the state lists them until the record is applied,
   * and they must not go out twice.
   */
  readonly sent: Set<number>;
  readonly timerHandles: Map<number, unknown>;
}

/** Tasks planned per turn of the event loop when a whole state is planned (see planEveryTask). */
const PLAN_SLICE_TASKS = 10_000;
/** Bound on stepping through missed crontab times (≈ 1 s of CPU at worst). */
const MISSED_STEPS_MAX = 100_000;

/**
 * The leader's dispatch loop. It keeps, per active task, the next fire in one timer; when a fire
 * is due it applies the task's policies (expiry, misfire, overlap), hands it to the dispatcher
 * and records the outcome through Raft. It holds only what the replicated state does not: which
 * fires it has already handed out. So a new leader rebuilds it from the state alone, and fires
 * every due fire that has no record.
 */
export class FireRuntime implements StateObserver {
  private readonly plans = new Map<string, TaskPlan>();
  private active = false;
  /** When this node (last) took the lead: fires due before it may have gone out from the old leader. */
  private leadingSinceMs = 0;
  /** Bumped by each planEveryTask, so that an older pass stops when a newer one starts. */
  private planEpoch = 0;
  private planned = false;

  constructor(private readonly deps: FireRuntimeDeps) {}

  get dispatching(): boolean {
    return this.active;
  }

  /** Leading, and every task of the state has been planned (see planEveryTask). */
  get ready(): boolean {
    return this.active && this.planned;
  }

  /** This node leads (and its state is current): plan every task. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.leadingSinceMs = this.deps.nowMs();
    this.planEveryTask();
  }

  /**
   * Plans every task of the state: PLAN_SLICE_TASKS at once, then a turn of the event loop, so a
   * new leader with a million tasks keeps answering (and firing what it planned first) meanwhile.
   * A task that changes in between is planned by its change; planning twice is harmless.
   */
  private planEveryTask(): void {
    const epoch = ++this.planEpoch;
    this.planned = false;
    const taskIds = this.deps.state.tasks.keys();
    const slice = (): void => {
      if (!this.active || epoch !== this.planEpoch) return;
      for (let count = 0; count < PLAN_SLICE_TASKS; count++) {
        const next = taskIds.next();
        if (next.done) {
          this.planned = true;
          return;
        }
        this.plan(next.value);
      }
      setImmediate(slice);
    };
    slice();
  }

  /** Leadership lost: nothing more is handed out here. Fires on the wire finish and are recorded. */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.deps.timer.clear();
    for (const plan of this.plans.values()) {
      plan.timerHandle = undefined;
      plan.manual?.timerHandles.clear();
    }
    for (const [taskId, plan] of this.plans) if (!this.busy(plan)) this.plans.delete(taskId);
  }

  /** The whole state was replaced (snapshot install, replay): plan everything afresh. */
  replanAll(): void {
    if (!this.active) return;
    this.deps.timer.clear();
    for (const plan of this.plans.values()) {
      plan.timerHandle = undefined;
      plan.manual?.timerHandles.clear();
    }
    this.planEveryTask();
  }

  taskChanged(taskId: string, change: TaskChange): void {
    if (change === 'deleted') {
      const plan = this.plans.get(taskId);
      if (plan !== undefined) {
        plan.abort?.abort();
        this.cancelTimers(plan);
        if (!this.busy(plan)) this.plans.delete(taskId);
      }
      return;
    }
    if (!this.active) return;
    if (change === 'updated') {
      // A new schedule: what was handed out under the old one does not count towards the new.
      const plan = this.plans.get(taskId);
      if (plan !== undefined) plan.handledThroughMs = -Infinity;
    }
    this.plan(taskId);
  }

  // ---- planning ----------------------------------------------------------------------------

  private plan(taskId: string): void {
    const task = this.deps.state.tasks.get(taskId);
    if (task === undefined) return;
    let plan = this.plans.get(taskId);
    // A paused task fires nothing; a completed one only its manual fires (a re-run dead letter).
    if (
      task.status === 'paused' ||
      (task.status === 'completed' && task.manualFires.length === 0)
    ) {
      if (plan !== undefined) {
        this.cancelTimers(plan);
        if (task.status === 'completed' && !this.busy(plan)) this.plans.delete(taskId);
      }
      return;
    }
    if (plan === undefined) {
      plan = {
        handledThroughMs: -Infinity,
        timerHandle: undefined,
        inFlight: 0,
        buffered: undefined,
        manual: undefined,
        abort: undefined,
      };
      this.plans.set(taskId, plan);
    }
    if (task.manualFires.length > 0 || plan.manual !== undefined) this.planManual(task, plan);
    if (plan.timerHandle !== undefined) {
      this.deps.timer.cancel(plan.timerHandle);
      plan.timerHandle = undefined;
    }
    if (task.status !== 'active') return;
    const next = this.nextUnhandled(task, plan);
    if (next === undefined) return;
    const jitterMs =
      task.spec.jitterMs > 0 ? Math.floor(this.deps.random() * (task.spec.jitterMs + 1)) : 0;
    const fire: DueFire = { taskId, scheduledAtMs: next, manual: false, jitterMs };
    plan.timerHandle = this.deps.timer.schedule(fire, next + jitterMs);
  }

  private planManual(task: TaskRecord, plan: TaskPlan): void {
    const manual = (plan.manual ??= {
      inFlight: new Set(),
      sent: new Set(),
      timerHandles: new Map(),
    });
    // Sent manual fires leave the set once their record is applied (the state no longer lists them).
    for (const sent of manual.sent) if (!task.manualFires.includes(sent)) manual.sent.delete(sent);
    for (const scheduledAtMs of task.manualFires) {
      if (manual.sent.has(scheduledAtMs) || manual.timerHandles.has(scheduledAtMs)) continue;
      const fire: DueFire = { taskId: task.id, scheduledAtMs, manual: true };
      manual.timerHandles.set(scheduledAtMs, this.deps.timer.schedule(fire, this.deps.nowMs()));
    }
  }

  /** The first scheduled fire that has neither a record nor been handed out by this leader. */
  private nextUnhandled(task: TaskRecord, plan: TaskPlan): number | undefined {
    let next = task.nextFireAtMs;
    if (next !== undefined && next <= plan.handledThroughMs)
      next = nextFireAfter(task.spec, plan.handledThroughMs);
    while (next !== undefined && task.recordedAhead.includes(next))
      next = nextFireAfter(task.spec, next);
    return next;
  }

  // ---- firing ------------------------------------------------------------------------------

  /** The timer's callback: `fire` is due. */
  readonly onDue = (fire: DueFire): void => {
    if (!this.active) return;
    const task = this.deps.state.tasks.get(fire.taskId);
    const plan = this.plans.get(fire.taskId);
    if (task === undefined || plan === undefined || task.status === 'paused') return;
    if (fire.manual) {
      plan.manual?.timerHandles.delete(fire.scheduledAtMs);
      if (
        task.manualFires.includes(fire.scheduledAtMs) &&
        !plan.manual?.sent.has(fire.scheduledAtMs)
      )
        this.send(task, plan, fire);
      return;
    }
    plan.timerHandle = undefined;
    if (task.status !== 'active') return;
    const nowMs = this.deps.nowMs();
    const spec = task.spec;
    // Lateness counts from the jittered time: the jitter is a delay the task asked for.
    const lateMs = nowMs - fire.scheduledAtMs - (fire.jitterMs ?? 0);
    const thresholdMs = this.deps.options.misfireThresholdMs;
    if (spec.expireAtMs !== undefined && nowMs > spec.expireAtMs) {
      this.skip(task, plan, fire.scheduledAtMs, fire.scheduledAtMs, 'expired');
    } else if (spec.schedule.kind === 'cron' && lateMs > thresholdMs) {
      this.misfire(task, plan, fire.scheduledAtMs, nowMs - thresholdMs);
    } else {
      this.fireScheduled(task, plan, fire);
    }
    this.plan(task.id);
  };

  /**
   * A crontab's fires from `firstMissedMs` up to (not including) `missedUntilMs` — those more
   * than the misfire threshold late — could not go out in time: apply its policy. Later fires, still on time, are
   * planned as usual afterwards. Fires already recorded (out of order, by an earlier leader) are
   * neither skipped again nor sent again.
   */
  private misfire(
    task: TaskRecord,
    plan: TaskPlan,
    firstMissedMs: number,
    missedUntilMs: number,
  ): void {
    const policy = task.spec.misfire;
    const keep = policy === 'skip' ? 0 : policy === 'fire_once' ? 1 : this.deps.options.misfireMax;
    // The missed times, the last `keep` of them kept (a ring would do; `keep` is small).
    const kept: number[] = [];
    let missed = 0;
    let lastMissed = firstMissedMs;
    for (
      let t: number | undefined = firstMissedMs, steps = 0;
      t !== undefined && t < missedUntilMs && steps < MISSED_STEPS_MAX;
      steps++, t = nextFireAfter(task.spec, t)
    ) {
      lastMissed = t;
      if (task.recordedAhead.includes(t)) continue;
      missed++;
      if (keep > 0) {
        kept.push(t);
        if (kept.length > keep) kept.shift();
      }
    }
    const skipThrough = kept.length > 0 ? kept[0] - 1 : lastMissed;
    const skipped = missed - kept.length;
    if (skipThrough >= firstMissedMs) {
      if (skipped > 0) this.skip(task, plan, firstMissedMs, skipThrough, 'misfire', skipped);
      else plan.handledThroughMs = Math.max(plan.handledThroughMs, skipThrough);
    }
    for (const scheduledAtMs of kept)
      this.fireScheduled(task, plan, { taskId: task.id, scheduledAtMs, manual: false });
  }

  private fireScheduled(task: TaskRecord, plan: TaskPlan, fire: DueFire): void {
    plan.handledThroughMs = Math.max(plan.handledThroughMs, fire.scheduledAtMs);
    if (plan.inFlight > 0 && task.spec.schedule.kind === 'cron') {
      if (task.spec.overlap === 'skip') {
        this.skip(task, plan, fire.scheduledAtMs, fire.scheduledAtMs, 'overlap');
        return;
      }
      if (task.spec.overlap === 'buffer_one') {
        if (plan.buffered !== undefined)
          this.skip(task, plan, plan.buffered, plan.buffered, 'overlap');
        plan.buffered = fire.scheduledAtMs;
        return;
      }
    }
    this.send(task, plan, fire);
  }

  private send(task: TaskRecord, plan: TaskPlan, fire: DueFire): void {
    if (fire.manual) {
      const manual = (plan.manual ??= {
        inFlight: new Set(),
        sent: new Set(),
        timerHandles: new Map(),
      });
      manual.inFlight.add(fire.scheduledAtMs);
      manual.sent.add(fire.scheduledAtMs);
    } else plan.inFlight++;
    if (!fire.manual && fire.scheduledAtMs + (fire.jitterMs ?? 0) < this.leadingSinceMs)
      this.deps.metrics?.refireAfterFailover?.(fire);
    const spec = task.spec;
    this.deps.metrics?.fireStarted?.(fire, this.deps.nowMs() - fire.scheduledAtMs);
    const request: CallbackRequest = {
      taskId: task.id,
      scheduledAtMs: fire.scheduledAtMs,
      url: spec.callback.url,
      bodyJson: JSON.stringify(spec.callback.body),
      ...(spec.callback.headers !== undefined ? { headers: spec.callback.headers } : {}),
      timeoutMs: spec.timeoutMs,
      retry: spec.retry,
      signal: (plan.abort ??= new AbortController()).signal,
    };
    this.deps
      .dispatch(request)
      .then(
        (result) => this.finished(fire, result),
        (error: unknown) =>
          this.finished(fire, {
            status: 'failed',
            attempts: 0,
            durationMs: 0,
            timedOutAttempts: 0,
            error: String(error),
          }),
      )
      .catch((error: unknown) =>
        this.deps.logger.error(`fire ${fire.taskId}@${fire.scheduledAtMs}: ${String(error)}`),
      );
  }

  private finished(fire: DueFire, result: DeliveryResult): void {
    this.deps.metrics?.fireFinished?.(fire, result);
    const plan = this.plans.get(fire.taskId);
    if (plan !== undefined) {
      if (fire.manual) plan.manual?.inFlight.delete(fire.scheduledAtMs);
      else plan.inFlight--;
    }
    // Cancelled = the task was deleted or this node is shutting down: no verdict to record.
    if (result.status !== 'cancelled') {
      this.deps.recorder.add({
        taskId: fire.taskId,
        scheduledAtMs: fire.scheduledAtMs,
        status: result.status,
        ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
        attempts: result.attempts,
        durationMs: result.durationMs,
        node: this.deps.nodeId,
        finishedAtMs: this.deps.nowMs(),
        ...(result.error !== undefined ? { error: result.error } : {}),
        ...(fire.manual ? { manual: true } : {}),
      });
    }
    if (plan === undefined) return;
    const task = this.deps.state.tasks.get(fire.taskId);
    if (task === undefined) {
      if (!this.busy(plan)) this.plans.delete(fire.taskId);
      return;
    }
    // A paused task drops its held fire (resume plans from the resume time).
    if (task.status !== 'active') plan.buffered = undefined;
    if (
      !fire.manual &&
      plan.buffered !== undefined &&
      plan.inFlight === 0 &&
      this.active &&
      task.status === 'active'
    ) {
      const buffered = plan.buffered;
      plan.buffered = undefined;
      this.send(task, plan, { taskId: fire.taskId, scheduledAtMs: buffered, manual: false });
    }
    if (!this.active && !this.busy(plan)) this.plans.delete(fire.taskId);
  }

  private skip(
    task: TaskRecord,
    plan: TaskPlan,
    fromMs: number,
    throughMs: number,
    reason: SkipReason,
    /** Scheduled fires the record covers (a range skips many). */
    count = 1,
  ): void {
    plan.handledThroughMs = Math.max(plan.handledThroughMs, throughMs);
    this.deps.metrics?.firesSkipped?.(reason, count);
    const record: FireRecord = {
      taskId: task.id,
      scheduledAtMs: fromMs,
      status: reason === 'expired' ? 'expired' : 'skipped',
      attempts: 0,
      durationMs: 0,
      node: this.deps.nodeId,
      finishedAtMs: this.deps.nowMs(),
      skipReason: reason,
      ...(throughMs !== fromMs ? { skipThroughMs: throughMs } : {}),
    };
    this.deps.recorder.add(record);
  }

  private cancelTimers(plan: TaskPlan): void {
    if (plan.timerHandle !== undefined) this.deps.timer.cancel(plan.timerHandle);
    plan.timerHandle = undefined;
    if (plan.manual === undefined) return;
    for (const handle of plan.manual.timerHandles.values()) this.deps.timer.cancel(handle);
    plan.manual.timerHandles.clear();
  }

  private busy(plan: TaskPlan): boolean {
    return plan.inFlight > 0 || (plan.manual?.inFlight.size ?? 0) > 0;
  }
}
