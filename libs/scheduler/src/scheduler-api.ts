import type { IdempotencyConflictError } from './task/task.errors';
import type {
  ClusterView,
  ExecutionView,
  ReadConsistency,
  TaskPatch,
  TaskSpecInput,
  TaskStatus,
  TaskView,
} from './task/task.model';

export interface CreateTaskResult {
  readonly task: TaskView;
  /** False when an idempotency key returned an existing task. */
  readonly created: boolean;
}

/**
 * One task of a batch: created (or found by its idempotency key), or refused because its
 * idempotency key belongs to a task with other parameters — the batch's other tasks stand.
 */
export type BatchCreateResult = CreateTaskResult | { readonly conflict: IdempotencyConflictError };

/** A task of createTaskIds: its id only, where createTasks gives its whole view. */
export interface CreatedTaskId {
  readonly taskId: string;
  /** False when an idempotency key returned an existing task. */
  readonly created: boolean;
}

export type BatchCreateIdResult = CreatedTaskId | { readonly conflict: IdempotencyConflictError };

export interface TaskPage {
  readonly tasks: readonly TaskView[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface ExecutionPage {
  readonly executions: readonly ExecutionView[];
  readonly nextCursor?: string;
}

export interface ReadOptions {
  readonly consistency?: ReadConsistency;
}

export interface ManualFire {
  readonly taskId: string;
  readonly scheduledAtMs: number;
}

export interface MemberChange {
  /** The new member's peer address, host:port. */
  readonly peerAddress: string;
  /** Its node id; default: the peer address. */
  readonly id?: string;
  /** Add as a learner (replicates, does not vote). Default: a learner promoted once caught up. */
  readonly learner?: boolean;
}

/**
 * Everything a client of xcron can do, on any node of the cluster: writes are forwarded to the
 * leader and answered once committed; reads are linearizable unless `consistency: 'stale'`.
 * Failures are the errors of task.errors.ts (InvalidTaskError, TaskNotFoundError,
 * IdempotencyConflictError, TaskStateConflictError, ClusterUnavailableError).
 * SchedulerService (the Nest injectable) implements it; the HTTP API is written against it.
 */
export interface SchedulerApi {
  createTask(input: TaskSpecInput): Promise<CreateTaskResult>;
  /**
   * Many tasks in one Raft entry; every input is validated before anything is proposed. A task
   * whose idempotency key is taken by other parameters is refused alone (its result says so).
   */
  createTasks(inputs: readonly TaskSpecInput[]): Promise<BatchCreateResult[]>;
  /**
   * createTasks answering each task's id only (same checks, command and errors): a batch's
   * answer needs no TaskView of each task, and 1,000 of them are a real part of its cost.
   */
  createTaskIds(inputs: readonly TaskSpecInput[]): Promise<BatchCreateIdResult[]>;
  getTask(taskId: string, options?: ReadOptions): Promise<TaskView>;
  listTasks(
    query: { status?: TaskStatus; limit?: number; cursor?: string } & ReadOptions,
  ): Promise<TaskPage>;
  /** The next `count` scheduled times (unix ms) of a task, from its next unrecorded fire on. */
  nextFireTimes(taskId: string, count: number, options?: ReadOptions): Promise<number[]>;
  updateTask(taskId: string, patch: TaskPatch): Promise<TaskView>;
  pauseTask(taskId: string): Promise<TaskView>;
  resumeTask(taskId: string): Promise<TaskView>;
  /** Resolves with the task as it was before the delete. */
  deleteTask(taskId: string): Promise<TaskView>;
  /** Fires the task once now, besides its schedule. */
  runTask(taskId: string): Promise<ManualFire>;
  listExecutions(
    taskId: string,
    query: { limit?: number; cursor?: string } & ReadOptions,
  ): Promise<ExecutionPage>;
  /** Executions of every task with that status, newest first (`failed` = the dead letters). */
  listExecutionsByStatus(
    query: { status: ExecutionView['status']; limit?: number; cursor?: string } & ReadOptions,
  ): Promise<ExecutionPage>;
  /** Sends a recorded fire (usually a dead letter) again, as a manual fire with the same scheduled time. */
  rerunExecution(taskId: string, scheduledAtMs: number): Promise<ManualFire>;
  cluster(): ClusterView;
  addMember(change: MemberChange): Promise<ClusterView>;
  removeMember(memberId: string): Promise<ClusterView>;
  /** To `memberId`, or to the most caught-up voter when absent. */
  transferLeadership(memberId?: string): Promise<ClusterView>;
  /** A member of a cluster with a known leader, its journal replayed. */
  isReady(): boolean;
}

/** Nest injection token of the SchedulerApi (SchedulerModule provides SchedulerService under it). */
export const SCHEDULER_API = Symbol.for('xcron.SchedulerApi');
