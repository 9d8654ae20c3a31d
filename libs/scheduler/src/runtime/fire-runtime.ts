import { CancelSignal, type CallbackRequest, type DeliveryResult } from '@xcron/dispatcher';
import type { FireRecord } from '../state/scheduler-command';
import type { SkipReason } from '../task/task.model';
import type { SchedulerState, StateObserver, TaskChange } from '../state/scheduler-state';
import type { FireDelivery } from '../state/state-store-codec';
import type { RecordBatcher } from './record-batcher';

/** One fire handed out: a task's scheduled time, or a manual fire. */
export interface DueFire {
  readonly taskId: string;
  readonly scheduledAtMs: number;
  readonly manual: boolean;
  /** The random delay added to this fire (jitter_ms): lateness is counted from after it. */
  readonly jitterMs?: number;
}

/**
 * What waits in the timer: a task's next scheduled fire as `slot * 2 + phase` (a number, so a
 * million pending fires allocate nothing; phase 0 = load its delivery, 1 = fire), or a manual fire.
 */
export type TimerItem = number | DueFire;

/** The single timer over every pending fire (a timing wheel in production). Handles are numbers. */
export interface FireTimer {
  schedule(item: TimerItem, dueMs: number): number;
  cancel(handle: number): void;
  clear(): void;
}

export interface FireRuntimeOptions {
  /** A fire not dispatched within this of its time is missed: the task's misfire policy applies. */
  readonly misfireThresholdMs: number;
  /** fire_all fires at most this many missed times (the latest ones); earlier ones are skipped. */
  readonly misfireMax: number;
  /**
   * A fire's delivery (callback URL, body, …) is loaded from the state store this long before it
   * is due, so that it is in memory when the fire goes out. 0 = load when the fire is planned.
   */
  readonly deliveryLeadMs?: number;
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
  /** The task's delivery from the state store (a value when it is at hand, as in tests). */
  readonly loadDelivery: (slot: number) => FireDelivery | Promise<FireDelivery>;
  readonly dispatch: (request: CallbackRequest) => Promise<DeliveryResult>;
  readonly nowMs: () => number;
  readonly random: () => number;
  readonly options: FireRuntimeOptions;
  readonly metrics?: FireRuntimeMetrics;
  readonly logger: { warn(message: string): void; error(message: string): void };
}

/**
 * What the leader knows about one task's fires beyond the replicated ledger. Only tasks with
 * something of it have one (a fire handed out and not yet recorded, a jittered fire pending,
 * manual fires): a million pending tasks cost no plan objects.
 */
interface TaskPlan {
  readonly taskId: string;
  /** The highest scheduled fire this leader has dispatched or skipped (not yet recorded, maybe). */
  handledThroughMs: number;
  /** The jitter drawn for the pending scheduled fire. */
  jitterMs: number;
  /** Scheduled (non-manual) fires on the wire. */
  inFlight: number;
  /** overlap = buffer_one: the fire held back until the one in flight ends. */
  buffered: number | undefined;
  /** Manual fires (run-now, re-runs): made only for a task that has some. */
  manual: ManualFiresPlan | undefined;
  /** Aborted when the task is deleted; made at the first send. */
  abort: CancelSignal | undefined;
}

interface ManualFiresPlan {
  /** On the wire, by scheduled time. */
  readonly inFlight: Set<number>;
  /**
   * Sent by this leader and not yet recorded: the state lists them until the record is applied,
   * and they must not go out twice.
   */
  readonly sent: Set<number>;
  readonly timerHandles: Map<number, number>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Tasks planned per turn of the event loop when a whole state is planned (see planEveryTask). */
const PLAN_SLICE_TASKS = 10_000;
/** Bound on stepping through missed crontab times (≈ 1 s of CPU at worst). */
const MISSED_STEPS_MAX = 100_000;
const NO_HANDLE = -1;
/**
 * Delivery loads are due on this grid (between `deliveryLeadMs` and that plus the grid before the
 * fire): the loads of one grid step come due in one wheel tick and go to the store in one
 * getMany. At 1,000 fires/s spread over the milliseconds, a store call per fire cost ~50 µs each.
 */
const DELIVERY_LOAD_GRID_MS = 100;

/**
 * The leader's dispatch loop. It keeps, per active task, the next fire in one timer; when a fire
 * is due it applies the task's policies (expiry, misfire, overlap), hands it to the dispatcher
 * and records the outcome through Raft. It holds only what the replicated state does not: which
 * fires it has already handed out. So a new leader rebuilds it from the state alone, and fires
 * every due fire that has no record.
 *
 * Per pending task it holds one timer entry (its slot in the item) and one timer handle in a
 * typed array; deliveries are loaded `deliveryLeadMs` before the fire and dropped after it.
 */
export class FireRuntime implements StateObserver {
  /** By slot: plans of live tasks. */
  private readonly plans = new Map<number, TaskPlan>();
  /** Plans of deleted tasks whose fires are still on the wire, by task id. */
  private readonly retiredPlans = new Map<string, TaskPlan>();
  /** By slot: the handle of the task's pending scheduled fire in the timer, or NO_HANDLE. */
  private timerHandles = new Float64Array(0);
  /** By slot: deliveries loaded for fires due soon. */
  private readonly deliveries = new Map<number, FireDelivery | Promise<FireDelivery>>();
  private active = false;
  /** When this node (last) took the lead: fires due before it may have gone out from the old leader. */
  private leadingSinceMs = 0;
  /** Bumped by each planEveryTask, so that an older pass stops when a newer one starts. */
  private planEpoch = 0;
  private planned = false;
  private readonly leadMs: number;

  constructor(private readonly deps: FireRuntimeDeps) {
    this.leadMs = deps.options.deliveryLeadMs ?? 0;
  }

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
    const slots = this.deps.state.table.slots();
    const slice = (): void => {
      if (!this.active || epoch !== this.planEpoch) return;
      for (let count = 0; count < PLAN_SLICE_TASKS; count++) {
        const next = slots.next();
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
    this.dropTimers();
    for (const [slot, plan] of this.plans) if (!this.busy(plan)) this.plans.delete(slot);
  }

  /** The whole state was replaced (snapshot install, replay): plan everything afresh. */
  replanAll(): void {
    if (!this.active) return;
    this.dropTimers();
    // Slots may now hold other tasks: each plan follows its task id to its new slot (what it
    // handed out still counts); the plan of a task that is gone waits for its fires by id.
    const plans = [...this.plans.values()];
    this.plans.clear();
    for (const plan of plans) {
      const slot = this.deps.state.slotOf(plan.taskId);
      if (slot >= 0) this.plans.set(slot, plan);
      else if (this.busy(plan)) this.retiredPlans.set(plan.taskId, plan);
    }
    this.planEveryTask();
  }

  taskChanged(slot: number, taskId: string, change: TaskChange): void {
    if (change === 'deleted') {
      this.cancelTimer(slot);
      this.deliveries.delete(slot);
      const plan = this.plans.get(slot);
      if (plan !== undefined) {
        this.plans.delete(slot);
        plan.abort?.cancel();
        this.cancelManualTimers(plan);
        if (this.busy(plan)) this.retiredPlans.set(taskId, plan);
      }
      return;
    }
    if (change === 'updated') {
      // A new schedule and maybe a new callback: what was handed out under the old one does not
      // count towards the new, and the loaded delivery is stale.
      this.deliveries.delete(slot);
      const plan = this.plans.get(slot);
      if (plan !== undefined) plan.handledThroughMs = -Infinity;
    }
    if (!this.active) return;
    this.plan(slot);
  }

  // ---- planning ----------------------------------------------------------------------------

  private plan(slot: number): void {
    const state = this.deps.state;
    const status = state.statusOf(slot);
    const manualFires = state.manualFires(slot);
    let plan = this.plans.get(slot);
    this.cancelTimer(slot);
    // A paused task fires nothing; a completed one only its manual fires (a re-run dead letter).
    if (status === 'paused' || (status === 'completed' && manualFires.length === 0)) {
      if (plan !== undefined) this.cancelManualTimers(plan);
      this.deliveries.delete(slot);
      if (plan !== undefined && status === 'completed') this.dropPlanIfIdle(slot, plan);
      return;
    }
    if (manualFires.length > 0 || plan?.manual !== undefined)
      this.planManual(slot, (plan ??= this.newPlan(slot)));
    if (status !== 'active') return;
    const next = this.nextUnhandled(slot, plan);
    if (next === undefined) {
      if (plan !== undefined) this.dropPlanIfIdle(slot, plan);
      return;
    }
    const jitterLimit = state.jitterMs(slot);
    let jitterMs = 0;
    if (jitterLimit > 0) {
      jitterMs = Math.floor(this.deps.random() * (jitterLimit + 1));
      (plan ?? this.newPlan(slot)).jitterMs = jitterMs;
    } else if (plan !== undefined) {
      plan.jitterMs = 0;
      this.dropPlanIfIdle(slot, plan);
    }
    const dueMs = next + jitterMs;
    const loadAtMs =
      Math.floor((dueMs - this.leadMs) / DELIVERY_LOAD_GRID_MS) * DELIVERY_LOAD_GRID_MS;
    if (this.leadMs > 0 && loadAtMs > this.deps.nowMs()) {
      this.deliveries.delete(slot);
      this.setTimer(slot, this.deps.timer.schedule(slot * 2, loadAtMs));
    } else {
      // Due soon: start loading now (with no lead, the fire loads it when it goes out).
      if (this.leadMs > 0) this.loadDelivery(slot);
      this.setTimer(slot, this.deps.timer.schedule(slot * 2 + 1, dueMs));
    }
  }

  private planManual(slot: number, plan: TaskPlan): void {
    const manual = (plan.manual ??= {
      inFlight: new Set(),
      sent: new Set(),
      timerHandles: new Map(),
    });
    const manualFires = this.deps.state.manualFires(slot);
    // Sent manual fires leave the set once their record is applied (the state no longer lists them).
    for (const sent of manual.sent) if (!manualFires.includes(sent)) manual.sent.delete(sent);
    for (const scheduledAtMs of manualFires) {
      if (manual.sent.has(scheduledAtMs) || manual.timerHandles.has(scheduledAtMs)) continue;
      const fire: DueFire = { taskId: plan.taskId, scheduledAtMs, manual: true };
      manual.timerHandles.set(scheduledAtMs, this.deps.timer.schedule(fire, this.deps.nowMs()));
    }
  }

  /** The first scheduled fire that has neither a record nor been handed out by this leader. */
  private nextUnhandled(slot: number, plan: TaskPlan | undefined): number | undefined {
    const state = this.deps.state;
    let next = state.nextFireAtMs(slot);
    if (next !== undefined && plan !== undefined && next <= plan.handledThroughMs)
      next = state.nextFireAfter(slot, plan.handledThroughMs);
    const ahead = state.recordedAhead(slot);
    while (next !== undefined && ahead.includes(next)) next = state.nextFireAfter(slot, next);
    return next;
  }

  // ---- firing ------------------------------------------------------------------------------

  /** The timer's callback: `item` is due. */
  readonly onDue = (item: TimerItem): void => {
    if (!this.active) return;
    if (typeof item !== 'number') {
      this.manualDue(item);
      return;
    }
    const slot = item >> 1;
    if ((item & 1) === 0) {
      // Its delivery is due to be loaded: the fire itself goes in the timer now.
      this.setTimer(slot, NO_HANDLE);
      this.plan(slot);
      return;
    }
    this.setTimer(slot, NO_HANDLE);
    const state = this.deps.state;
    if (!state.table.isLive(slot) || state.statusOf(slot) !== 'active') return;
    let plan = this.plans.get(slot);
    const scheduledAtMs = this.nextUnhandled(slot, plan);
    if (scheduledAtMs === undefined) return;
    plan ??= this.newPlan(slot);
    const fire: DueFire =
      plan.jitterMs > 0
        ? { taskId: plan.taskId, scheduledAtMs, manual: false, jitterMs: plan.jitterMs }
        : { taskId: plan.taskId, scheduledAtMs, manual: false };
    const nowMs = this.deps.nowMs();
    // Lateness counts from the jittered time: the jitter is a delay the task asked for.
    const lateMs = nowMs - scheduledAtMs - plan.jitterMs;
    const thresholdMs = this.deps.options.misfireThresholdMs;
    const expireAtMs = state.expireAtMs(slot);
    if (expireAtMs !== undefined && nowMs > expireAtMs) {
      this.skip(slot, plan, scheduledAtMs, scheduledAtMs, 'expired');
    } else if (state.isCron(slot) && lateMs > thresholdMs) {
      this.misfire(slot, plan, scheduledAtMs, nowMs - thresholdMs);
    } else {
      this.fireScheduled(slot, plan, fire);
    }
    this.plan(slot);
  };

  private manualDue(fire: DueFire): void {
    const slot = this.deps.state.slotOf(fire.taskId);
    if (slot < 0) return;
    const plan = this.plans.get(slot);
    if (plan === undefined || this.deps.state.statusOf(slot) === 'paused') return;
    plan.manual?.timerHandles.delete(fire.scheduledAtMs);
    if (
      this.deps.state.manualFires(slot).includes(fire.scheduledAtMs) &&
      !plan.manual?.sent.has(fire.scheduledAtMs)
    )
      this.send(slot, plan, fire);
  }

  /**
   * A crontab's fires from `firstMissedMs` up to (not including) `missedUntilMs` — those more
   * than the misfire threshold late — could not go out in time: apply its policy. Later fires, still on time, are
   * planned as usual afterwards. Fires already recorded (out of order, by an earlier leader) are
   * neither skipped again nor sent again.
   */
  private misfire(
    slot: number,
    plan: TaskPlan,
    firstMissedMs: number,
    missedUntilMs: number,
  ): void {
    const state = this.deps.state;
    const policy = state.misfire(slot);
    const keep = policy === 'skip' ? 0 : policy === 'fire_once' ? 1 : this.deps.options.misfireMax;
    const ahead = state.recordedAhead(slot);
    // The missed times, the last `keep` of them kept (a ring would do; `keep` is small).
    const kept: number[] = [];
    let missed = 0;
    let lastMissed = firstMissedMs;
    for (
      let t: number | undefined = firstMissedMs, steps = 0;
      t !== undefined && t < missedUntilMs && steps < MISSED_STEPS_MAX;
      steps++, t = state.nextFireAfter(slot, t)
    ) {
      lastMissed = t;
      if (ahead.includes(t)) continue;
      missed++;
      if (keep > 0) {
        kept.push(t);
        if (kept.length > keep) kept.shift();
      }
    }
    const skipThrough = kept.length > 0 ? kept[0] - 1 : lastMissed;
    const skipped = missed - kept.length;
    if (skipThrough >= firstMissedMs) {
      if (skipped > 0) this.skip(slot, plan, firstMissedMs, skipThrough, 'misfire', skipped);
      else plan.handledThroughMs = Math.max(plan.handledThroughMs, skipThrough);
    }
    for (const scheduledAtMs of kept)
      this.fireScheduled(slot, plan, { taskId: plan.taskId, scheduledAtMs, manual: false });
  }

  private fireScheduled(slot: number, plan: TaskPlan, fire: DueFire): void {
    plan.handledThroughMs = Math.max(plan.handledThroughMs, fire.scheduledAtMs);
    const state = this.deps.state;
    if (plan.inFlight > 0 && state.isCron(slot)) {
      const overlap = state.overlap(slot);
      if (overlap === 'skip') {
        this.skip(slot, plan, fire.scheduledAtMs, fire.scheduledAtMs, 'overlap');
        return;
      }
      if (overlap === 'buffer_one') {
        if (plan.buffered !== undefined)
          this.skip(slot, plan, plan.buffered, plan.buffered, 'overlap');
        plan.buffered = fire.scheduledAtMs;
        return;
      }
    }
    this.send(slot, plan, fire);
  }

  private send(slot: number, plan: TaskPlan, fire: DueFire): void {
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
    const signal = (plan.abort ??= new CancelSignal());
    const delivery = this.loadDelivery(slot);
    const go = (loaded: FireDelivery): Promise<DeliveryResult> => {
      if (signal.aborted) return Promise.resolve(CANCELLED);
      this.deps.metrics?.fireStarted?.(fire, this.deps.nowMs() - fire.scheduledAtMs);
      // Built without object spreads: this runs for every fire.
      const request: Mutable<CallbackRequest> = {
        taskId: fire.taskId,
        scheduledAtMs: fire.scheduledAtMs,
        url: loaded.url,
        bodyJson: loaded.bodyJson,
        timeoutMs: loaded.timeoutMs,
        retry: loaded.retry,
        signal,
      };
      if (loaded.headers !== undefined) request.headers = loaded.headers;
      return this.deps.dispatch(request);
    };
    (delivery instanceof Promise ? delivery.then(go) : go(delivery))
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
    const state = this.deps.state;
    let slot = state.slotOf(fire.taskId);
    let plan = slot >= 0 ? this.plans.get(slot) : undefined;
    if (plan === undefined || plan.taskId !== fire.taskId) {
      plan = this.retiredPlans.get(fire.taskId);
      slot = -1;
    }
    if (plan !== undefined) {
      if (fire.manual) plan.manual?.inFlight.delete(fire.scheduledAtMs);
      else plan.inFlight--;
    }
    // Cancelled = the task was deleted or this node is shutting down: no verdict to record.
    if (result.status !== 'cancelled') {
      // Built without object spreads: this runs for every fire.
      const record: Mutable<FireRecord> = {
        taskId: fire.taskId,
        scheduledAtMs: fire.scheduledAtMs,
        status: result.status,
        attempts: result.attempts,
        durationMs: result.durationMs,
        node: this.deps.nodeId,
        finishedAtMs: this.deps.nowMs(),
      };
      if (result.httpStatus !== undefined) record.httpStatus = result.httpStatus;
      if (result.error !== undefined) record.error = result.error;
      if (fire.manual) record.manual = true;
      this.deps.recorder.add(record);
    }
    if (plan === undefined) return;
    if (slot < 0) {
      if (!this.busy(plan)) this.retiredPlans.delete(fire.taskId);
      return;
    }
    const status = state.statusOf(slot);
    // A paused task drops its held fire (resume plans from the resume time).
    if (status !== 'active') plan.buffered = undefined;
    if (
      !fire.manual &&
      plan.buffered !== undefined &&
      plan.inFlight === 0 &&
      this.active &&
      status === 'active'
    ) {
      const buffered = plan.buffered;
      plan.buffered = undefined;
      this.send(slot, plan, { taskId: fire.taskId, scheduledAtMs: buffered, manual: false });
    }
    if (!this.active && !this.busy(plan)) this.plans.delete(slot);
  }

  private skip(
    slot: number,
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
      taskId: plan.taskId,
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

  // ---- bookkeeping -------------------------------------------------------------------------

  private newPlan(slot: number): TaskPlan {
    const plan: TaskPlan = {
      taskId: this.deps.state.table.idOf(slot),
      handledThroughMs: -Infinity,
      jitterMs: 0,
      inFlight: 0,
      buffered: undefined,
      manual: undefined,
      abort: undefined,
    };
    this.plans.set(slot, plan);
    return plan;
  }

  /**
   * A plan that holds nothing the state does not — no fire on the wire or held back, no manual
   * fire, no jitter drawn, nothing handed out beyond the state's watermark — is dropped.
   */
  private dropPlanIfIdle(slot: number, plan: TaskPlan): void {
    if (this.busy(plan) || plan.buffered !== undefined || plan.jitterMs > 0) return;
    if (
      plan.manual !== undefined &&
      (plan.manual.sent.size > 0 || plan.manual.timerHandles.size > 0)
    )
      return;
    const watermark = this.deps.state.nextFireAtMs(slot);
    if (watermark !== undefined && watermark <= plan.handledThroughMs) return;
    this.plans.delete(slot);
  }

  private loadDelivery(slot: number): FireDelivery | Promise<FireDelivery> {
    const cached = this.deliveries.get(slot);
    if (cached !== undefined) return cached;
    const loaded = this.deps.loadDelivery(slot);
    if (loaded instanceof Promise) {
      const pending = loaded.then(
        (delivery) => {
          if (this.deliveries.get(slot) === pending) this.deliveries.set(slot, delivery);
          return delivery;
        },
        (error: unknown) => {
          if (this.deliveries.get(slot) === pending) this.deliveries.delete(slot);
          throw error;
        },
      );
      // A failed load is reported when the fire goes out (as a failed attempt), not here.
      pending.catch(() => undefined);
      this.deliveries.set(slot, pending);
      return pending;
    }
    this.deliveries.set(slot, loaded);
    return loaded;
  }

  private setTimer(slot: number, handle: number): void {
    if (slot >= this.timerHandles.length) {
      const grown = new Float64Array(
        Math.max(this.deps.state.table.slotLimit, slot + 1, this.timerHandles.length * 1.5, 1024),
      ).fill(NO_HANDLE);
      grown.set(this.timerHandles);
      this.timerHandles = grown;
    }
    this.timerHandles[slot] = handle;
  }

  private cancelTimer(slot: number): void {
    if (slot >= this.timerHandles.length) return;
    const handle = this.timerHandles[slot];
    if (handle === NO_HANDLE) return;
    this.deps.timer.cancel(handle);
    this.timerHandles[slot] = NO_HANDLE;
  }

  private cancelManualTimers(plan: TaskPlan): void {
    if (plan.manual === undefined) return;
    for (const handle of plan.manual.timerHandles.values()) this.deps.timer.cancel(handle);
    plan.manual.timerHandles.clear();
  }

  /** Forgets every timer entry (the timer was cleared) and every loaded delivery. */
  private dropTimers(): void {
    this.deps.timer.clear();
    this.timerHandles.fill(NO_HANDLE);
    this.deliveries.clear();
    for (const plan of this.plans.values()) plan.manual?.timerHandles.clear();
  }

  private busy(plan: TaskPlan): boolean {
    return plan.inFlight > 0 || (plan.manual?.inFlight.size ?? 0) > 0;
  }
}

const CANCELLED: DeliveryResult = {
  status: 'cancelled',
  attempts: 0,
  durationMs: 0,
  timedOutAttempts: 0,
};
