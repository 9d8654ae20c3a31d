/**
 * The task model as clients and embedding apps see it: what a task asks for (TaskSpec), what the
 * cluster knows about it (TaskView) and what happened at each fire (ExecutionView). Times are unix
 * milliseconds (`*Ms`), durations `*Ms` too. Task ids are decimal strings of an integer below 2^63.
 */

/** When a task fires: a crontab (5 fields, 6 with seconds, or an alias) or once at a time. */
export type ScheduleSpec =
  | { readonly kind: 'cron'; readonly expression: string; readonly timezone?: string }
  | { readonly kind: 'once'; readonly runAtMs: number };

/** What to do when a crontab fire falls due while an earlier fire of the same task is in flight. */
export type OverlapPolicy = 'allow' | 'skip' | 'buffer_one';

/**
 * What to do with fires that could not be dispatched within the misfire threshold of their time
 * (no leader, cluster down): one fire for the latest missed time, every missed time (bounded), or
 * none (recorded as skipped).
 */
export type MisfirePolicy = 'fire_once' | 'fire_all' | 'skip';

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface CallbackSpec {
  /** http: or https: URL that receives a POST at each fire. */
  readonly url: string;
  /** Any JSON value; sent as the POST body. */
  readonly body: unknown;
  /** Extra request headers (the X-Xcron-* and Idempotency-Key headers are always set by xcron). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A task as a client asks for it, after defaults were filled in. */
export interface TaskSpec {
  readonly name?: string;
  readonly schedule: ScheduleSpec;
  readonly callback: CallbackSpec;
  /** Per attempt. */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** A crontab fires no earlier than this. */
  readonly startAtMs?: number;
  /** A crontab fires no later than this; after it the task completes. */
  readonly endAtMs?: number;
  /** A fire (one-shot or crontab) not dispatched by this time is skipped as expired. */
  readonly expireAtMs?: number;
  /** Each fire is delayed by a seeded random 0..jitterMs (0 = on time). */
  readonly jitterMs: number;
  readonly overlap: OverlapPolicy;
  readonly misfire: MisfirePolicy;
  /** The same key returns the same task while it exists (and 24 h after it ends). */
  readonly idempotencyKey?: string;
}

/** The fields of a TaskSpec a client may leave out, and what they become. */
export type TaskSpecInput = Omit<
  TaskSpec,
  'timeoutMs' | 'retry' | 'jitterMs' | 'overlap' | 'misfire'
> &
  Partial<Pick<TaskSpec, 'timeoutMs' | 'jitterMs' | 'overlap' | 'misfire'>> & {
    readonly retry?: Partial<RetryPolicy>;
  };

/** The optional fields a PATCH may remove, by giving them as null. */
export type ClearableTaskField = 'name' | 'startAtMs' | 'endAtMs' | 'expireAtMs';

/** Fields PATCH may change: everything but the idempotency key; null removes a clearable one. */
export type TaskPatch = Partial<Omit<TaskSpecInput, 'idempotencyKey' | ClearableTaskField>> & {
  readonly [F in ClearableTaskField]?: TaskSpecInput[F] | null;
} & {
  /**
   * A crontab's time zone alone: the task's expression stays (a task that is a one-shot is
   * refused). A new `schedule` carries its own zone instead.
   */
  readonly timezone?: string;
};

export type TaskStatus = 'active' | 'paused' | 'completed' | 'deleted';

export type ExecutionStatus = 'succeeded' | 'failed' | 'skipped' | 'expired';

/** Why a fire was skipped rather than sent. */
export type SkipReason = 'misfire' | 'overlap' | 'expired' | 'ended';

export interface ExecutionView {
  readonly taskId: string;
  /** The fire's scheduled time (jitter not included): the Idempotency-Key is `<taskId>:<scheduledAtMs>`. */
  readonly scheduledAtMs: number;
  readonly status: ExecutionStatus;
  /** The last attempt's HTTP status, if an answer came. */
  readonly httpStatus?: number;
  readonly attempts: number;
  /** From the first attempt's start to the last attempt's end. */
  readonly durationMs: number;
  /** Id of the node that dispatched it. */
  readonly node: string;
  /** When the dispatching node recorded it (its clock). */
  readonly finishedAtMs: number;
  readonly error?: string;
  readonly skipReason?: SkipReason;
  /** Set when this fire was a manual run or a re-run of a dead letter. */
  readonly manual?: boolean;
}

export interface TaskView {
  readonly id: string;
  readonly spec: TaskSpec;
  readonly status: TaskStatus;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** Fires recorded (every status but skipped). */
  readonly runCount: number;
  readonly failureCount: number;
  /** The next fire not yet recorded, if any. */
  readonly nextFireAtMs?: number;
  readonly lastExecution?: ExecutionView;
}

/** Consistency of a read: linearizable (ReadIndex through the leader; default) or this node's state. */
export type ReadConsistency = 'linearizable' | 'stale';

export type MemberRole = 'leader' | 'follower' | 'candidate' | 'learner';

export interface ClusterMemberView {
  readonly id: string;
  readonly peerAddress: string;
  readonly httpAddress?: string;
  readonly learner: boolean;
}

export interface ClusterView {
  readonly id: string;
  readonly role: MemberRole;
  readonly leaderId?: string;
  readonly leaderHttpAddress?: string;
  readonly leaderPeerAddress?: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly ClusterMemberView[];
}
