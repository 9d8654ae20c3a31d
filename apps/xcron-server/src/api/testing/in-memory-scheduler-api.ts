/**
 * TEST DOUBLE of SchedulerApi for the API's HTTP tests, until the real SchedulerService exists.
 * It keeps tasks in a Map, applies the defaults, and throws the contract's errors for the cases the
 * API maps (a rough cron field count, an unknown zone, a one-shot in the past, unknown ids,
 * idempotency conflicts, state conflicts). It is not a scheduler: nothing fires, and its cron
 * check is only a field count. Time comes from an injected clock.
 */
import type {
  CreatedTaskId,
  CreateTaskResult,
  ExecutionPage,
  ManualFire,
  MemberChange,
  SchedulerApi,
  TaskPage,
} from '@xcron/scheduler/scheduler-api';
import {
  IdempotencyConflictError,
  InvalidTaskError,
  TaskNotFoundError,
  TaskStateConflictError,
} from '@xcron/scheduler/task/task.errors';
import type {
  ClusterView,
  ExecutionStatus,
  ExecutionView,
  TaskPatch,
  TaskSpec,
  TaskSpecInput,
  TaskStatus,
  TaskView,
} from '@xcron/scheduler/task/task.model';

const PAST_TOLERANCE_MS = 1000;

export class InMemorySchedulerApi implements SchedulerApi {
  readonly tasks = new Map<string, TaskView>();
  readonly executions: ExecutionView[] = [];
  /** Every input createTask / createTasks received, for assertions. */
  readonly created: TaskSpecInput[] = [];
  ready = true;
  /** When set, every write and read throws it (e.g. a ClusterUnavailableError). */
  failWith: Error | undefined;
  private nextId = 1_000_000_000_000_000n;

  constructor(private readonly clock: { nowMs(): number } = { nowMs: () => Date.now() }) {}

  async createTask(input: TaskSpecInput): Promise<CreateTaskResult> {
    this.fail();
    this.validate(input);
    return this.insert(input);
  }

  async createTasks(inputs: readonly TaskSpecInput[]): Promise<CreateTaskResult[]> {
    this.fail();
    inputs.forEach((input) => this.validate(input));
    return inputs.map((input) => this.insert(input));
  }

  async createTaskIds(inputs: readonly TaskSpecInput[]): Promise<CreatedTaskId[]> {
    const results = await this.createTasks(inputs);
    return results.map(({ task, created }) => ({ taskId: task.id, created }));
  }

  async getTask(taskId: string): Promise<TaskView> {
    this.fail();
    return this.find(taskId);
  }

  async listTasks(query: {
    status?: TaskStatus;
    limit?: number;
    cursor?: string;
  }): Promise<TaskPage> {
    this.fail();
    const all = [...this.tasks.values()].filter(
      (task) => query.status === undefined || task.status === query.status,
    );
    const start = query.cursor === undefined ? 0 : Number(query.cursor);
    const limit = query.limit ?? 100;
    const tasks = all.slice(start, start + limit);
    return start + limit < all.length ? { tasks, nextCursor: String(start + limit) } : { tasks };
  }

  async nextFireTimes(taskId: string, count: number): Promise<number[]> {
    const task = this.find(taskId);
    const schedule = task.spec.schedule;
    if (schedule.kind === 'once') return task.status === 'active' ? [schedule.runAtMs] : [];
    const start = Math.ceil((this.clock.nowMs() + 1) / 60_000) * 60_000;
    return Array.from({ length: count }, (_, index) => start + index * 60_000);
  }

  async updateTask(taskId: string, patch: TaskPatch): Promise<TaskView> {
    this.fail();
    const task = this.find(taskId);
    // null removes a field, as in the real service.
    const merged = Object.fromEntries(
      Object.entries({
        ...task.spec,
        ...patch,
        retry: { ...task.spec.retry, ...patch.retry },
      }).filter(([, value]) => value !== null),
    ) as unknown as TaskSpecInput;
    this.validate(merged);
    return this.put({ ...task, spec: merged as TaskSpec, updatedAtMs: this.clock.nowMs() });
  }

  async pauseTask(taskId: string): Promise<TaskView> {
    return this.transition(taskId, 'active', 'paused');
  }

  async resumeTask(taskId: string): Promise<TaskView> {
    return this.transition(taskId, 'paused', 'active');
  }

  async deleteTask(taskId: string): Promise<TaskView> {
    this.fail();
    const task = this.find(taskId);
    this.tasks.delete(taskId);
    return task;
  }

  async runTask(taskId: string): Promise<ManualFire> {
    this.fail();
    this.find(taskId);
    return { taskId, scheduledAtMs: this.clock.nowMs() };
  }

  async listExecutions(taskId: string, query: { limit?: number }): Promise<ExecutionPage> {
    this.fail();
    this.find(taskId);
    return {
      executions: this.executions.filter((e) => e.taskId === taskId).slice(0, query.limit),
    };
  }

  async listExecutionsByStatus(query: {
    status: ExecutionStatus;
    limit?: number;
  }): Promise<ExecutionPage> {
    this.fail();
    return {
      executions: this.executions.filter((e) => e.status === query.status).slice(0, query.limit),
    };
  }

  async rerunExecution(taskId: string, scheduledAtMs: number): Promise<ManualFire> {
    this.fail();
    const found = this.executions.some(
      (e) => e.taskId === taskId && e.scheduledAtMs === scheduledAtMs,
    );
    if (!found) throw new TaskNotFoundError(taskId);
    return { taskId, scheduledAtMs };
  }

  cluster(): ClusterView {
    return {
      id: 'n1',
      role: 'leader',
      leaderId: 'n1',
      leaderHttpAddress: '127.0.0.1:8000',
      leaderPeerAddress: '127.0.0.1:8899',
      term: 3,
      commitIndex: 42,
      appliedIndex: 42,
      members: [
        { id: 'n1', peerAddress: '127.0.0.1:8899', httpAddress: '127.0.0.1:8000', learner: false },
      ],
    };
  }

  async addMember(change: MemberChange): Promise<ClusterView> {
    this.fail();
    const view = this.cluster();
    const member = {
      id: change.id ?? change.peerAddress,
      peerAddress: change.peerAddress,
      learner: change.learner ?? true,
    };
    return { ...view, members: [...view.members, member] };
  }

  async removeMember(memberId: string): Promise<ClusterView> {
    this.fail();
    const view = this.cluster();
    return { ...view, members: view.members.filter((member) => member.id !== memberId) };
  }

  async transferLeadership(memberId?: string): Promise<ClusterView> {
    this.fail();
    return { ...this.cluster(), role: 'follower', leaderId: memberId ?? 'n2' };
  }

  isReady(): boolean {
    return this.ready;
  }

  private fail(): void {
    if (this.failWith !== undefined) throw this.failWith;
  }

  private find(taskId: string): TaskView {
    const task = this.tasks.get(taskId);
    if (task === undefined) throw new TaskNotFoundError(taskId);
    return task;
  }

  private put(task: TaskView): TaskView {
    this.tasks.set(task.id, task);
    return task;
  }

  private transition(taskId: string, from: TaskStatus, to: TaskStatus): TaskView {
    this.fail();
    const task = this.find(taskId);
    if (task.status !== from)
      throw new TaskStateConflictError(taskId, `task ${taskId} is ${task.status}, not ${from}`);
    return this.put({ ...task, status: to, updatedAtMs: this.clock.nowMs() });
  }

  /** The contract's checks the API maps; the real service does far more. */
  private validate(input: TaskSpecInput): void {
    const schedule = input.schedule;
    if (schedule.kind === 'cron') {
      const fields = schedule.expression.trim().split(/\s+/).filter(Boolean);
      const alias = fields.length === 1 && fields[0].startsWith('@');
      if (!alias && (fields.length < 5 || fields.length > 6))
        throw new InvalidTaskError(
          'cron_invalid',
          'format',
          `crontab needs 5 or 6 fields, got ${fields.length}`,
        );
      if (schedule.timezone !== undefined) {
        try {
          new Intl.DateTimeFormat(undefined, { timeZone: schedule.timezone });
        } catch {
          throw new InvalidTaskError(
            'timezone_invalid',
            'timezone',
            `unknown time zone ${schedule.timezone}`,
          );
        }
      }
    } else if (schedule.runAtMs < this.clock.nowMs() - PAST_TOLERANCE_MS) {
      throw new InvalidTaskError('time_value_invalid', 'format', 'the time is in the past');
    }
  }

  private insert(input: TaskSpecInput): CreateTaskResult {
    this.created.push(input);
    const spec = withDefaults(input);
    if (input.idempotencyKey !== undefined) {
      const existing = [...this.tasks.values()].find(
        (task) => task.spec.idempotencyKey === input.idempotencyKey,
      );
      if (existing !== undefined) {
        if (JSON.stringify(existing.spec) !== JSON.stringify(spec))
          throw new IdempotencyConflictError(input.idempotencyKey, existing.id);
        return { task: existing, created: false };
      }
    }
    const id = String(this.nextId++);
    const now = this.clock.nowMs();
    const task: TaskView = {
      id,
      spec,
      status: 'active',
      createdAtMs: now,
      updatedAtMs: now,
      runCount: 0,
      failureCount: 0,
      ...(spec.schedule.kind === 'once' ? { nextFireAtMs: spec.schedule.runAtMs } : {}),
    };
    return { task: this.put(task), created: true };
  }
}

function withDefaults(input: TaskSpecInput): TaskSpec {
  return {
    ...input,
    timeoutMs: input.timeoutMs ?? 10_000,
    retry: { maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 60_000, ...input.retry },
    jitterMs: input.jitterMs ?? 0,
    overlap: input.overlap ?? 'allow',
    misfire: input.misfire ?? 'fire_once',
  };
}
