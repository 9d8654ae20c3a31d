import { CallbackDispatcher, DispatchWarmUp, type DispatcherMetrics } from '@xcron/dispatcher';
import { NodeFileSystem, SyncTimingFileSystem } from '@xcron/queue';
import {
  InvalidConfChangeError,
  NodeStoppedError,
  NotLeaderError,
  ProposalDroppedError,
  ProposalLostError,
  ProposalTimeoutError,
  RaftNode,
  type Member,
  type RaftNodeOptions,
} from '@xcron/raft';
import type {
  BatchCreateIdResult,
  BatchCreateResult,
  CreatedTaskId,
  CreateTaskResult,
  ExecutionPage,
  ManualFire,
  MemberChange,
  ReadOptions,
  SchedulerApi,
  TaskPage,
} from './scheduler-api';
import { FireRuntime, type FireRuntimeMetrics } from './runtime/fire-runtime';
import { RecordBatcher } from './runtime/record-batcher';
import { WheelFireTimer } from './runtime/wheel-fire-timer';
import { DispatchAdmission } from './runtime/dispatch-admission';
import { realClock } from './wheel/clock-port';
import {
  decodeResult,
  encodeCommand,
  type CommandRefusal,
  type CommandResult,
  type CreateTaskItem,
  type SchedulerCommand,
} from './state/scheduler-command';
import { SchedulerStateMachine } from './state/scheduler-state-machine';
import { newTaskView, taskViewOf } from './state/task-view';
import { CreateCoalescer } from './write/create-coalescer';
import { TaskIdGenerator, isTaskId, nodeNumberOf } from './task/task-id-generator';
import {
  normalizeTaskSpec,
  patchTaskSpec,
  type CheckedTaskExtras,
  type TaskSpecContext,
} from './task/task-spec';
import {
  ClusterUnavailableError,
  IdempotencyConflictError,
  InvalidTaskError,
  TaskNotFoundError,
  TaskStateConflictError,
} from './task/task.errors';
import type {
  ClusterView,
  ExecutionView,
  TaskPatch,
  TaskSpec,
  TaskSpecInput,
  TaskStatus,
  TaskView,
} from './task/task.model';
import { join } from 'node:path';

export interface SchedulerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The files whose syncs SchedulerOptions.metrics.syncObserved times. */
export type SyncedFile = 'raft_log' | 'journal';

export interface SchedulerOptions {
  /** This node's id (its peer address unless configured otherwise). */
  readonly nodeId: string;
  /** raft_dir: the Raft log, snapshots and the event journal live under it. */
  readonly dataDir: string;
  readonly peerListenHost: string;
  readonly peerListenPort: number;
  readonly advertisedPeerAddress: string;
  readonly advertisedHttpAddress: string;
  /** The bootstrap membership (every voter of peer_hosts; this node alone for a single node). */
  readonly initialMembers: readonly Member[];
  readonly clusterSecret?: string;
  /** A node added at run time: it never bootstraps a cluster, it asks the leader to admit it. */
  readonly joinExisting?: boolean;
  readonly raft?: Partial<
    Pick<
      RaftNodeOptions,
      | 'tickMs'
      | 'electionTicks'
      | 'snapshotEveryEntries'
      | 'snapshotEveryBytes'
      | 'compactionMarginEntries'
    >
  >;
  readonly proposalTimeoutMs?: number;
  readonly misfireThresholdMs?: number;
  readonly misfireMax?: number;
  readonly callbackBodyBytesMax?: number;
  readonly allowedCallbackHosts?: readonly string[];
  readonly dispatchConcurrency?: number;
  /**
   * POSTs to a loopback server that warm the callback path once the node is ready (see
   * DispatchWarmUp); 0 = none. Default 400.
   */
  readonly dispatchWarmUpRequests?: number;
  readonly signingSecret?: string;
  readonly journalSyncIntervalMs?: number;
  readonly logger: SchedulerLogger;
  readonly metrics?: {
    dispatcher?: DispatcherMetrics;
    runtime?: FireRuntimeMetrics;
    duplicateRecorded?(): void;
    /** Each durable write's wait on the disk: a synced Raft log write, a journal fdatasync. */
    syncObserved?(file: SyncedFile, durationMs: number): void;
  };
  /** Clock and randomness, injectable for tests. */
  readonly nowMs?: () => number;
  readonly random?: () => number;
}

/**
 * A fire's callback and body are read from the state store this long before it is due (they are
 * not kept in memory): a LevelDB read takes well under a millisecond, a busy disk more.
 */
const DELIVERY_LEAD_MS = 1_000;

const DEFAULTS = {
  proposalTimeoutMs: 5_000,
  misfireThresholdMs: 5_000,
  misfireMax: 100,
  callbackBodyBytesMax: 64 * 1024,
  dispatchConcurrency: 256,
  dispatchWarmUpRequests: 400,
} as const;
/**
 * Fire records of this long go to Raft as one proposal (see RecordBatcher.gatherMs): at 1,000
 * fires a second spread over the milliseconds, one proposal per record cost ~1 ms of CPU a fire.
 */
const RECORD_GATHER_MS = 10;
/** While fires are held for want of a majority, whether one answers again is checked this often. */
const QUORUM_RECHECK_MS = 20;
/** The warm-up waits for readiness this long at most (polling), then runs anyway. */
const WARM_UP_WAIT_MS = 60_000;
const WARM_UP_POLL_MS = 50;
const LIST_LIMIT_DEFAULT = 100;
const LIST_LIMIT_MAX = 1_000;
const ID_RETRIES = 3;

/**
 * One xcron node, framework-free: the Raft node, the journal-backed state machine, the leader's
 * fire runtime and the callback dispatcher, behind the SchedulerApi. SchedulerService (Nest) is a
 * thin shell around it.
 */
export class Scheduler implements SchedulerApi {
  private readonly ids: TaskIdGenerator;
  /** Creates of the same turn of the event loop, one Raft entry. */
  private readonly creates: CreateCoalescer;
  private unsubscribeRole: (() => void) | undefined;
  private leading = false;
  private leadershipEpoch = 0;
  private stopped = false;
  private warmUp: DispatchWarmUp | undefined;
  private warmUpTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: SchedulerOptions,
    private readonly node: RaftNode,
    private readonly stateMachine: SchedulerStateMachine,
    private readonly runtime: FireRuntime,
    private readonly dispatcher: CallbackDispatcher,
    private readonly recorder: RecordBatcher,
    private readonly timer: WheelFireTimer,
  ) {
    this.ids = new TaskIdGenerator(nodeNumberOf(options.nodeId), this.now);
    this.creates = new CreateCoalescer((command) => this.write(command, false), this.now);
  }

  static async start(options: SchedulerOptions): Promise<Scheduler> {
    const nowMs = options.nowMs ?? Date.now;
    const random = options.random ?? Math.random;
    const syncObserved = options.metrics?.syncObserved;
    const stateMachine = await SchedulerStateMachine.open({
      journalDir: join(options.dataDir, 'journal'),
      journalSyncIntervalMs: options.journalSyncIntervalMs,
      ...(syncObserved !== undefined
        ? {
            fileSystem: new SyncTimingFileSystem(new NodeFileSystem(), (ms) =>
              syncObserved('journal', ms),
            ),
          }
        : {}),
      logger: options.logger,
    });
    const dispatcher = new CallbackDispatcher({
      concurrency: options.dispatchConcurrency ?? DEFAULTS.dispatchConcurrency,
      ...(options.signingSecret !== undefined ? { signingSecret: options.signingSecret } : {}),
      ...(options.allowedCallbackHosts !== undefined
        ? { allowedHosts: [...options.allowedCallbackHosts] }
        : {}),
      random,
      ...(options.metrics?.dispatcher !== undefined ? { metrics: options.metrics.dispatcher } : {}),
    });
    // The runtime and the Raft node need each other: the records go through the node, whose
    // start applies entries that the runtime observes. Late-bound through this holder.
    const late: { node?: RaftNode; runtime?: FireRuntime } = {};
    const propose = async (command: SchedulerCommand): Promise<CommandResult> => {
      if (late.node === undefined) throw new ClusterUnavailableError('the node is starting');
      return decodeResult(
        await late.node.propose(
          encodeCommand(command),
          options.proposalTimeoutMs ?? DEFAULTS.proposalTimeoutMs,
        ),
      );
    };
    const recorder = new RecordBatcher(
      propose,
      nowMs,
      {
        recordsPerProposalMax: 1_000,
        proposeAttempts: 5,
        retryDelayMs: 200,
        gatherMs: RECORD_GATHER_MS,
      },
      (records, error) =>
        options.logger.warn(
          `${records.length} fire record(s) could not be committed (${String(error)}); the next leader fires them again`,
        ),
    );
    // Due fires wait in the timer while a concurrency's worth of attempts already waits for a
    // slot, and while the leader has not heard from a majority for half an election timeout.
    const timer = new WheelFireTimer(
      (item) => late.runtime?.onDue(item),
      { ...realClock, nowMs },
      new DispatchAdmission({
        queued: () => dispatcher.queued,
        whenQueueBelow: (limit, wake) => dispatcher.whenQueueBelow(limit, wake),
        quorumContactAgeMs: () => late.node?.quorumContactAgeMs() ?? 0,
        quorumContactMaxAgeMs: () => (late.node?.electionTimeoutMs ?? Infinity) / 2,
        queuedMax: options.dispatchConcurrency ?? DEFAULTS.dispatchConcurrency,
        quorumRecheckMs: QUORUM_RECHECK_MS,
        onQuorumHold: (held, ageMs) =>
          held
            ? options.logger.warn(
                `leader: no answer from a majority of the voters for ${Math.round(ageMs)} ms: holding due fires (their records could not commit) until one answers or another node leads`,
              )
            : options.logger.log('leader: a majority answers again: due fires go out'),
      }),
    );
    const fireRuntime = new FireRuntime({
      state: stateMachine.state,
      nodeId: options.nodeId,
      timer,
      recorder,
      loadDelivery: (slot) => stateMachine.fireDelivery(slot),
      dispatch: (request) => dispatcher.dispatch(request),
      nowMs,
      random,
      options: {
        misfireThresholdMs: options.misfireThresholdMs ?? DEFAULTS.misfireThresholdMs,
        misfireMax: options.misfireMax ?? DEFAULTS.misfireMax,
        deliveryLeadMs: DELIVERY_LEAD_MS,
      },
      ...(options.metrics?.runtime !== undefined ? { metrics: options.metrics.runtime } : {}),
      logger: options.logger,
    });
    late.runtime = fireRuntime;
    stateMachine.state.observer = {
      taskChanged: (slot, taskId, change) => fireRuntime.taskChanged(slot, taskId, change),
      duplicateRecorded: () => options.metrics?.duplicateRecorded?.(),
    };
    stateMachine.onReset = () => fireRuntime.replanAll();
    const node = await RaftNode.start({
      id: options.nodeId,
      dataDir: join(options.dataDir, 'raft'),
      listenHost: options.peerListenHost,
      listenPort: options.peerListenPort,
      advertisedPeerAddress: options.advertisedPeerAddress,
      advertisedHttpAddress: options.advertisedHttpAddress,
      initialMembers: [...options.initialMembers],
      ...(options.clusterSecret !== undefined ? { clusterSecret: options.clusterSecret } : {}),
      ...(options.joinExisting ? { joinExisting: true } : {}),
      stateMachine,
      ...options.raft,
      ...(syncObserved !== undefined
        ? { observeLogSyncMs: (ms: number) => syncObserved('raft_log', ms) }
        : {}),
      proposalTimeoutMs: options.proposalTimeoutMs ?? DEFAULTS.proposalTimeoutMs,
      logger: {
        info: (m) => options.logger.log(m),
        warn: (m) => options.logger.warn(m),
        error: (m) => options.logger.error(m),
      },
      random,
    });
    late.node = node;
    const scheduler = new Scheduler(
      options,
      node,
      stateMachine,
      fireRuntime,
      dispatcher,
      recorder,
      timer,
    );
    scheduler.unsubscribeRole = node.onRoleChange(() => scheduler.followLeadership());
    scheduler.followLeadership();
    scheduler.warmUpWhenReady();
    return scheduler;
  }

  /**
   * Warms the callback path (DispatchWarmUp) once the node is ready: not before, so that it does
   * not delay readiness (a restart plans every task first), and on followers too, so that one that
   * takes over fires at full speed. Off with dispatchWarmUpRequests = 0.
   */
  private warmUpWhenReady(): void {
    const requests = this.options.dispatchWarmUpRequests ?? DEFAULTS.dispatchWarmUpRequests;
    if (requests <= 0) return;
    const giveUpWaitingAtMs = Date.now() + WARM_UP_WAIT_MS;
    const attempt = (): void => {
      this.warmUpTimer = undefined;
      if (this.stopped) return;
      if (!this.isReady() && Date.now() < giveUpWaitingAtMs) {
        this.warmUpTimer = setTimeout(attempt, WARM_UP_POLL_MS).unref();
        return;
      }
      const warmUp = new DispatchWarmUp();
      this.warmUp = warmUp;
      warmUp
        .run({
          requests,
          ...(this.options.signingSecret !== undefined
            ? { signingSecret: this.options.signingSecret }
            : {}),
        })
        .then(
          (report) =>
            this.options.logger.log(
              `callback path warmed up: ${report.requests} POST(s) to a loopback server in ${Math.round(report.ms)} ms`,
            ),
          (error: unknown) =>
            this.options.logger.warn(
              `callback warm-up failed (${String(error)}); the first callbacks may be slower`,
            ),
        )
        .finally(() => {
          if (this.warmUp === warmUp) this.warmUp = undefined;
        });
    };
    attempt();
  }

  private readonly now = (): number => (this.options.nowMs ?? Date.now)();

  // ---- leadership --------------------------------------------------------------------------

  /** The leader dispatches; it starts once its state holds every entry committed before it led. */
  private followLeadership(): void {
    if (this.stopped) return;
    const isLeader = this.node.clusterInfo().role === 'leader';
    if (isLeader === this.leading) return;
    this.leading = isLeader;
    const epoch = ++this.leadershipEpoch;
    if (!isLeader) {
      this.runtime.stop();
      this.options.logger.log('no longer the leader: stopped dispatching');
      return;
    }
    void this.node
      .readBarrier()
      .then(() => {
        if (epoch !== this.leadershipEpoch || this.stopped) return;
        this.runtime.start();
        this.options.logger.log(`leader: dispatching ${this.stateMachine.state.size} task(s)`);
      })
      .catch((error: unknown) => {
        // Lost the lead before the barrier: the role hook starts over at the next change.
        if (epoch === this.leadershipEpoch) this.leading = false;
        this.options.logger.warn(`leader barrier failed: ${String(error)}`);
      });
  }

  // ---- writes ------------------------------------------------------------------------------

  async createTask(input: TaskSpecInput): Promise<CreateTaskResult> {
    const [result] = await this.createTasks([input]);
    if ('conflict' in result) throw result.conflict;
    return result;
  }

  async createTasks(inputs: readonly TaskSpecInput[]): Promise<BatchCreateResult[]> {
    return this.createMany<CreateTaskResult>(
      inputs,
      // What apply made of (id, spec, atMs): no read of the store needed.
      (taskId, spec, atMs) => ({ task: newTaskView(taskId, spec, atMs), created: true }),
      async (taskId) => ({ task: await this.currentView(taskId), created: false }),
    );
  }

  async createTaskIds(inputs: readonly TaskSpecInput[]): Promise<BatchCreateIdResult[]> {
    return this.createMany<CreatedTaskId>(
      inputs,
      (taskId) => ({ taskId, created: true }),
      // The view is read as createTasks reads it (so a task gone meanwhile fails alike); only
      // its id is answered.
      async (taskId) => ({ taskId: (await this.currentView(taskId)).id, created: false }),
    );
  }

  /**
   * createTasks and createTaskIds: every input checked, then proposed as one command (retried
   * with fresh ids for the tasks whose id was taken); `made` and `found` give a created task's
   * result and that of a task an idempotency key returned.
   */
  private async createMany<R>(
    inputs: readonly TaskSpecInput[],
    made: (taskId: string, spec: TaskSpec, atMs: number) => R,
    found: (taskId: string) => Promise<R>,
  ): Promise<(R | { readonly conflict: IdempotencyConflictError })[]> {
    const context = this.specContext();
    const extras: CheckedTaskExtras = { bodyJson: '' };
    const count = inputs.length;
    const specs = new Array<TaskSpec>(count);
    const bodyJsons = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      try {
        specs[i] = normalizeTaskSpec(inputs[i], context, extras);
      } catch (error) {
        if (error instanceof InvalidTaskError && count > 1)
          throw new InvalidTaskError(
            error.reason,
            `tasks[${i}].${error.field ?? ''}`.replace(/\.$/, ''),
            `tasks[${i}]: ${error.message}`,
          );
        throw error;
      }
      bodyJsons[i] = extras.bodyJson;
    }
    const results = new Array<R | { readonly conflict: IdempotencyConflictError }>(count);
    // The inputs still to create (indexes), first all of them, then those whose id was taken.
    let todo: number[] | undefined;
    for (let attempt = 0; todo === undefined || todo.length > 0; attempt++) {
      const todoCount = todo === undefined ? count : todo.length;
      const batch = new Array<CreateTaskItem>(todoCount);
      for (let j = 0; j < todoCount; j++) {
        const i = todo === undefined ? j : todo[j];
        batch[j] = { taskId: this.ids.next(), spec: specs[i], bodyJson: bodyJsons[i] };
      }
      // No read barrier after the write: a new task is what apply makes of (id, spec, atMs).
      const { result: outcome, atMs } = await this.creates.create(batch);
      if (!('ok' in outcome) || outcome.created === undefined)
        throw refusalError(outcome as CommandRefusal);
      const retry: number[] = [];
      let existingRead = false;
      const created = outcome.created;
      for (let j = 0; j < created.length; j++) {
        const i = todo === undefined ? j : todo[j];
        const one = created[j];
        if ('error' in one) {
          if (one.error === 'id_taken' && attempt < ID_RETRIES) retry.push(i);
          else if (one.error === 'idempotency_conflict')
            results[i] = {
              conflict: new IdempotencyConflictError(one.idempotencyKey, one.existingTaskId),
            };
          else throw refusalError(one);
          continue;
        }
        if (one.created) {
          results[i] = made(one.taskId, specs[i], atMs);
          continue;
        }
        if (!existingRead) {
          // An idempotency key returned a task this node may not have applied yet.
          await this.readBarrier({});
          existingRead = true;
        }
        results[i] = await found(one.taskId);
      }
      todo = retry;
    }
    return results;
  }

  async updateTask(taskId: string, patch: TaskPatch): Promise<TaskView> {
    const current = await this.readTask(taskId, {});
    const spec = patchTaskSpec(current.spec, patch, this.specContext());
    await this.writeOk({ t: 'update', atMs: this.now(), taskId, spec });
    return this.currentView(taskId);
  }

  async pauseTask(taskId: string): Promise<TaskView> {
    await this.writeOk({ t: 'pause', atMs: this.now(), taskId });
    return this.currentView(taskId);
  }

  async resumeTask(taskId: string): Promise<TaskView> {
    await this.writeOk({ t: 'resume', atMs: this.now(), taskId });
    return this.currentView(taskId);
  }

  async deleteTask(taskId: string): Promise<TaskView> {
    const before = await this.readTask(taskId, {});
    await this.writeOk({ t: 'delete', atMs: this.now(), taskId });
    return before;
  }

  async runTask(taskId: string): Promise<ManualFire> {
    const scheduledAtMs = this.now();
    await this.writeOk({ t: 'run', atMs: scheduledAtMs, taskId, scheduledAtMs });
    return { taskId, scheduledAtMs };
  }

  async rerunExecution(taskId: string, scheduledAtMs: number): Promise<ManualFire> {
    const slot = await this.readSlot(taskId, {});
    const history = await this.stateMachine.executions(slot);
    if (!history.some((execution) => execution.scheduledAtMs === scheduledAtMs))
      throw new TaskNotFoundError(
        `${taskId} (no recorded execution scheduled at ${scheduledAtMs})`,
      );
    await this.writeOk({ t: 'run', atMs: this.now(), taskId, scheduledAtMs });
    return { taskId, scheduledAtMs };
  }

  // ---- reads -------------------------------------------------------------------------------

  getTask(taskId: string, options: ReadOptions = {}): Promise<TaskView> {
    return this.readTask(taskId, options);
  }

  async listTasks(
    query: { status?: TaskStatus; limit?: number; cursor?: string } & ReadOptions,
  ): Promise<TaskPage> {
    await this.readBarrier(query);
    const limit = clampLimit(query.limit);
    if (query.cursor !== undefined && !isTaskId(query.cursor))
      throw new InvalidTaskError(
        'request_invalid',
        'cursor',
        'cursor must be a next_cursor this API returned',
      );
    const state = this.stateMachine.state;
    const status = query.status;
    // The page's slots from memory, then their definitions from the store.
    const page = state.table.pageOfSlots(
      limit,
      query.cursor,
      status === undefined ? () => true : (slot) => state.statusOf(slot) === status,
    );
    const tasks = await Promise.all(page.slots.map((slot) => this.viewOfSlot(slot)));
    return { tasks, ...(page.more ? { nextCursor: tasks[tasks.length - 1].id } : {}) };
  }

  async nextFireTimes(taskId: string, count: number, options: ReadOptions = {}): Promise<number[]> {
    const slot = await this.readSlot(taskId, options);
    const state = this.stateMachine.state;
    const times: number[] = [];
    if (state.statusOf(slot) !== 'active') return times;
    const ahead = state.recordedAhead(slot);
    let next = state.nextFireAtMs(slot);
    while (next !== undefined && times.length < count) {
      if (!ahead.includes(next)) times.push(next);
      next = state.nextFireAfter(slot, next);
    }
    return times;
  }

  async listExecutions(
    taskId: string,
    query: { limit?: number; cursor?: string } & ReadOptions,
  ): Promise<ExecutionPage> {
    const slot = await this.readSlot(taskId, query);
    return pageOf(await this.stateMachine.executions(slot), query);
  }

  async listExecutionsByStatus(
    query: { status: ExecutionView['status']; limit?: number; cursor?: string } & ReadOptions,
  ): Promise<ExecutionPage> {
    await this.readBarrier(query);
    const matching: ExecutionView[] = [];
    const executions =
      query.status === 'failed'
        ? this.stateMachine.failedExecutions()
        : this.stateMachine.allExecutions();
    for await (const execution of executions)
      if (execution.status === query.status) matching.push(execution);
    matching.sort((a, b) => b.finishedAtMs - a.finishedAtMs || compareIds(a.taskId, b.taskId));
    return pageOf(matching, query);
  }

  // ---- cluster -----------------------------------------------------------------------------

  cluster(): ClusterView {
    const info = this.node.clusterInfo();
    const members = info.members.map((member) => ({
      id: member.id,
      peerAddress: member.peerAddress,
      ...(member.httpAddress !== undefined ? { httpAddress: member.httpAddress } : {}),
      learner: member.learner,
    }));
    const leader = members.find((member) => member.id === info.leaderId);
    return {
      id: info.id,
      role: info.role,
      ...(info.leaderId !== '' ? { leaderId: info.leaderId } : {}),
      ...(leader?.httpAddress !== undefined ? { leaderHttpAddress: leader.httpAddress } : {}),
      ...(leader !== undefined ? { leaderPeerAddress: leader.peerAddress } : {}),
      term: info.term,
      commitIndex: info.commitIndex,
      appliedIndex: info.appliedIndex,
      members,
    };
  }

  async addMember(change: MemberChange): Promise<ClusterView> {
    await this.membershipChange(() =>
      this.node.addMember({
        id: change.id ?? change.peerAddress,
        peerAddress: change.peerAddress,
        learner: change.learner ?? false,
      }),
    );
    return this.cluster();
  }

  async removeMember(memberId: string): Promise<ClusterView> {
    await this.membershipChange(() => this.node.removeMember(memberId));
    return this.cluster();
  }

  async transferLeadership(memberId?: string): Promise<ClusterView> {
    const view = this.cluster();
    const target =
      memberId ?? view.members.find((member) => !member.learner && member.id !== view.id)?.id;
    if (target === undefined)
      throw new TaskStateConflictError('', 'no other voter to transfer leadership to');
    if (view.role !== 'leader')
      throw new ClusterUnavailableError(
        'only the leader can transfer leadership',
        view.leaderHttpAddress,
      );
    this.node.transferLeadership(target);
    return this.cluster();
  }

  isReady(): boolean {
    if (this.stopped) return false;
    const info = this.node.clusterInfo();
    if (info.leaderId === '' || info.joining || this.stateMachine.appliedIndex === 0) return false;
    // The leader is ready once it fires: its state is current and every task is planned.
    return info.role !== 'leader' || this.runtime.ready;
  }

  /** Whether this node currently dispatches (it leads and its state is current). */
  get dispatching(): boolean {
    return this.runtime.dispatching;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get raftNode(): RaftNode {
    return this.node;
  }

  get state(): SchedulerStateMachine['state'] {
    return this.stateMachine.state;
  }

  dispatcherStats(): ReturnType<CallbackDispatcher['stats']> {
    return this.dispatcher.stats();
  }

  /**
   * SIGTERM: stop handing out fires, let the ones on the wire finish (up to `drainTimeoutMs`),
   * commit their records, then stop Raft and close the journal.
   */
  async stop(drainTimeoutMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeRole?.();
    if (this.warmUpTimer !== undefined) clearTimeout(this.warmUpTimer);
    await this.warmUp?.stop();
    this.runtime.stop();
    this.timer.close();
    const { unfinished } = await this.dispatcher.drain(drainTimeoutMs);
    if (unfinished > 0)
      this.options.logger.warn(
        `${unfinished} callback(s) still on the wire at shutdown; the next leader fires them again`,
      );
    await withTimeout(this.recorder.idle(), drainTimeoutMs);
    await this.node.stop();
    await this.stateMachine.close();
    await this.dispatcher.close();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private specContext(): TaskSpecContext {
    return {
      nowMs: this.now(),
      callbackBodyBytesMax: this.options.callbackBodyBytesMax ?? DEFAULTS.callbackBodyBytesMax,
      ...(this.options.allowedCallbackHosts !== undefined
        ? { allowedCallbackHosts: this.options.allowedCallbackHosts }
        : {}),
    };
  }

  /**
   * Proposes a command and resolves with apply's result. On the leader the entry is applied here
   * before propose resolves; a follower forwarded it, so unless `readAfter` is false it waits
   * (ReadIndex) until its own state holds the write too — the answer then shows the task as the
   * write left it.
   */
  private async write(command: SchedulerCommand, readAfter = true): Promise<CommandResult> {
    try {
      const leader = this.node.clusterInfo().role === 'leader';
      const result = decodeResult(
        await this.node.propose(
          encodeCommand(command),
          this.options.proposalTimeoutMs ?? DEFAULTS.proposalTimeoutMs,
        ),
      );
      if (!leader && readAfter) await this.node.readBarrier(this.options.proposalTimeoutMs);
      return result;
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private async writeOk(command: SchedulerCommand): Promise<void> {
    const result = await this.write(command);
    if (!('ok' in result)) throw refusalError(result);
  }

  private async membershipChange(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      // An unknown member, one already there, a change while another is uncommitted: the
      // membership as it is refuses it (409), not the cluster being unavailable.
      if (error instanceof InvalidConfChangeError)
        throw new TaskStateConflictError('', error.message);
      throw this.unavailable(error);
    }
  }

  private async readBarrier(options: ReadOptions): Promise<void> {
    if (options.consistency === 'stale') return;
    try {
      await this.node.readBarrier(this.options.proposalTimeoutMs ?? DEFAULTS.proposalTimeoutMs);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private async readSlot(taskId: string, options: ReadOptions): Promise<number> {
    await this.readBarrier(options);
    const slot = this.stateMachine.state.slotOf(taskId);
    if (slot < 0) throw new TaskNotFoundError(taskId);
    return slot;
  }

  private async readTask(taskId: string, options: ReadOptions): Promise<TaskView> {
    return this.viewOfSlot(await this.readSlot(taskId, options));
  }

  /** The task as this node applied it: a write resolves only after it was applied here. */
  private currentView(taskId: string): Promise<TaskView> {
    const slot = this.stateMachine.state.slotOf(taskId);
    if (slot < 0) return Promise.reject(new TaskNotFoundError(taskId));
    return this.viewOfSlot(slot);
  }

  /** A task's view: its row from memory, its definition and last execution from the store. */
  private async viewOfSlot(slot: number): Promise<TaskView> {
    const machine = this.stateMachine;
    const table = machine.state.table;
    const taskId = table.idOf(slot);
    const [delivery, last] = await Promise.all([
      machine.delivery(slot),
      machine.executions(slot, 1),
    ]);
    // Deleted while the store was read (its slot may even hold another task by now).
    if (!table.isLive(slot) || table.idOf(slot) !== taskId) throw new TaskNotFoundError(taskId);
    return taskViewOf(machine.state, slot, delivery, last[0]);
  }

  /** Raft's errors, as the API's: no leader, timed out, stopped — the client may retry. */
  private unavailable(error: unknown): Error {
    if (
      error instanceof NotLeaderError ||
      error instanceof ProposalTimeoutError ||
      error instanceof ProposalLostError ||
      error instanceof ProposalDroppedError ||
      error instanceof NodeStoppedError
    ) {
      const leaderHttp =
        error instanceof NotLeaderError
          ? error.leaderHttpAddress
          : this.cluster().leaderHttpAddress;
      return new ClusterUnavailableError(error.message, leaderHttp);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function refusalError(refusal: CommandRefusal): Error {
  switch (refusal.error) {
    case 'not_found':
      return new TaskNotFoundError(refusal.taskId);
    case 'state_conflict':
      return new TaskStateConflictError(refusal.taskId, refusal.message);
    case 'idempotency_conflict':
      return new IdempotencyConflictError(refusal.idempotencyKey, refusal.existingTaskId);
    case 'id_taken':
      return new TaskStateConflictError(
        refusal.taskId,
        `task id ${refusal.taskId} is taken; retry the request`,
      );
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return LIST_LIMIT_DEFAULT;
  return Math.max(1, Math.min(LIST_LIMIT_MAX, Math.floor(limit)));
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Offset cursors over an ordered list (execution lists are short: bounded per task). */
function pageOf(
  executions: ExecutionView[],
  query: { limit?: number; cursor?: string },
): ExecutionPage {
  const limit = clampLimit(query.limit);
  const offset =
    query.cursor !== undefined && /^\d+$/.test(query.cursor) ? Number(query.cursor) : 0;
  const page = executions.slice(offset, offset + limit);
  return {
    executions: page,
    ...(offset + limit < executions.length ? { nextCursor: String(offset + limit) } : {}),
  };
}

async function withTimeout(promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}
