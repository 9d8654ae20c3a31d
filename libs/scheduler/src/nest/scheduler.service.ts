import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type {
  BatchCreateIdResult,
  BatchCreateResult,
  CreateTaskResult,
  ExecutionPage,
  ManualFire,
  MemberChange,
  ReadOptions,
  SchedulerApi,
  TaskPage,
} from '../scheduler-api';
import type { Scheduler } from '../scheduler';
import type {
  ClusterView,
  ExecutionView,
  TaskPatch,
  TaskSpecInput,
  TaskStatus,
  TaskView,
} from '../task/task.model';
import { SCHEDULER_INSTANCE, SCHEDULER_OPTIONS } from './scheduler.tokens';
import type { SchedulerModuleOptions } from './scheduler-module-options';

/**
 * The node's scheduler for Nest: inject it to create, read and change tasks from your own code
 * (the same operations as the HTTP API, with the same errors). It stops the node when the app
 * shuts down: fires on the wire get `shutdownDrainMs` to finish, then Raft and the journal close.
 */
@Injectable()
export class SchedulerService implements SchedulerApi, OnApplicationShutdown {
  constructor(
    @Inject(SCHEDULER_INSTANCE) readonly scheduler: Scheduler,
    @Inject(SCHEDULER_OPTIONS) private readonly options: SchedulerModuleOptions,
  ) {}

  createTask(input: TaskSpecInput): Promise<CreateTaskResult> {
    return this.scheduler.createTask(input);
  }
  createTasks(inputs: readonly TaskSpecInput[]): Promise<BatchCreateResult[]> {
    return this.scheduler.createTasks(inputs);
  }
  createTaskIds(inputs: readonly TaskSpecInput[]): Promise<BatchCreateIdResult[]> {
    return this.scheduler.createTaskIds(inputs);
  }
  getTask(taskId: string, options?: ReadOptions): Promise<TaskView> {
    return this.scheduler.getTask(taskId, options);
  }
  listTasks(
    query: { status?: TaskStatus; limit?: number; cursor?: string } & ReadOptions,
  ): Promise<TaskPage> {
    return this.scheduler.listTasks(query);
  }
  nextFireTimes(taskId: string, count: number, options?: ReadOptions): Promise<number[]> {
    return this.scheduler.nextFireTimes(taskId, count, options);
  }
  updateTask(taskId: string, patch: TaskPatch): Promise<TaskView> {
    return this.scheduler.updateTask(taskId, patch);
  }
  pauseTask(taskId: string): Promise<TaskView> {
    return this.scheduler.pauseTask(taskId);
  }
  resumeTask(taskId: string): Promise<TaskView> {
    return this.scheduler.resumeTask(taskId);
  }
  deleteTask(taskId: string): Promise<TaskView> {
    return this.scheduler.deleteTask(taskId);
  }
  runTask(taskId: string): Promise<ManualFire> {
    return this.scheduler.runTask(taskId);
  }
  listExecutions(
    taskId: string,
    query: { limit?: number; cursor?: string } & ReadOptions,
  ): Promise<ExecutionPage> {
    return this.scheduler.listExecutions(taskId, query);
  }
  listExecutionsByStatus(
    query: { status: ExecutionView['status']; limit?: number; cursor?: string } & ReadOptions,
  ): Promise<ExecutionPage> {
    return this.scheduler.listExecutionsByStatus(query);
  }
  rerunExecution(taskId: string, scheduledAtMs: number): Promise<ManualFire> {
    return this.scheduler.rerunExecution(taskId, scheduledAtMs);
  }
  cluster(): ClusterView {
    return this.scheduler.cluster();
  }
  addMember(change: MemberChange): Promise<ClusterView> {
    return this.scheduler.addMember(change);
  }
  removeMember(memberId: string): Promise<ClusterView> {
    return this.scheduler.removeMember(memberId);
  }
  transferLeadership(memberId?: string): Promise<ClusterView> {
    return this.scheduler.transferLeadership(memberId);
  }
  isReady(): boolean {
    return this.scheduler.isReady();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.stop(this.options.shutdownDrainMs);
  }
}
