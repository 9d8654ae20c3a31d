import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';
import { ApiAuthGuard } from './api-auth.guard';
import { ApiError } from './api.error';
import { NEXT_FIRE_TIMES_COUNT } from './api.limits';
import { API_OPTIONS, type ResolvedApiOptions } from './api.options';
import { pathTaskId, unwrap } from './controller-helpers';
import { success, type Envelope } from './envelope';
import {
  parseListTasksQuery,
  parsePageQuery,
  parseReadQuery,
  parseScheduledAtMs,
  parseV1Batch,
  parseV1PatchTask,
} from './parse/v1.parser';
import { JSON_CONTENT_TYPE, batchAnswer } from './present/batch-answer';
import { presentExecution, presentManualFire, presentTask } from './present/presenters';

/**
 * /v1 tasks: HTTP statuses, the envelope as body, snake_case, times in `*_ms`. `POST /v1/tasks` is
 * served by CreateTaskRoutes.
 */
@Controller('v1')
@UseGuards(ApiAuthGuard)
export class V1TasksController {
  constructor(
    @Inject(SCHEDULER_API) private readonly scheduler: SchedulerApi,
    @Inject(API_OPTIONS) private readonly options: ResolvedApiOptions,
  ) {}

  /**
   * `{tasks: [...]}` → one createTaskIds call (one Raft entry); 201 when any task was created.
   * The answer is `success({tasks})` written as JSON text (batchAnswer): the same bytes.
   */
  @Post('tasks::batch')
  async createBatch(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const inputs = unwrap(parseV1Batch(body, { tasksMax: this.options.batchTasksMax }));
    const answer = batchAnswer(await this.scheduler.createTaskIds(inputs));
    reply.status(answer.anyCreated ? 201 : 200);
    reply.type(JSON_CONTENT_TYPE);
    return answer.json;
  }

  @Get('tasks')
  async list(@Query() query: unknown): Promise<Envelope> {
    const page = await this.scheduler.listTasks(unwrap(parseListTasksQuery(query)));
    return success({
      tasks: page.tasks.map((task) => presentTask(task)),
      ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
    });
  }

  /** The task with its next NEXT_FIRE_TIMES_COUNT fire times (`next_fire_times_ms`). */
  @Get('tasks/:id')
  async get(@Param('id') rawId: string, @Query() query: unknown): Promise<Envelope> {
    const id = pathTaskId(rawId);
    const read = unwrap(parseReadQuery(query));
    const [task, next] = await Promise.all([
      this.scheduler.getTask(id, read),
      this.scheduler.nextFireTimes(id, NEXT_FIRE_TIMES_COUNT, read),
    ]);
    return success(presentTask(task, next));
  }

  @Patch('tasks/:id')
  async update(@Param('id') rawId: string, @Body() body: unknown): Promise<Envelope> {
    const id = pathTaskId(rawId);
    const patch = unwrap(parseV1PatchTask(body));
    return success(presentTask(await this.scheduler.updateTask(id, patch)));
  }

  /** 200 with the task as it was before the delete. */
  @Delete('tasks/:id')
  async delete(@Param('id') rawId: string): Promise<Envelope> {
    return success(presentTask(await this.scheduler.deleteTask(pathTaskId(rawId))));
  }

  @Post('tasks/:id/pause')
  @HttpCode(200)
  async pause(@Param('id') rawId: string): Promise<Envelope> {
    return success(presentTask(await this.scheduler.pauseTask(pathTaskId(rawId))));
  }

  @Post('tasks/:id/resume')
  @HttpCode(200)
  async resume(@Param('id') rawId: string): Promise<Envelope> {
    return success(presentTask(await this.scheduler.resumeTask(pathTaskId(rawId))));
  }

  /** 202: a manual fire is queued; `data` names it (`task_id`, `scheduled_at_ms`). */
  @Post('tasks/:id/run')
  @HttpCode(202)
  async run(@Param('id') rawId: string): Promise<Envelope> {
    return success(presentManualFire(await this.scheduler.runTask(pathTaskId(rawId))));
  }

  @Get('tasks/:id/executions')
  async executions(@Param('id') rawId: string, @Query() query: unknown): Promise<Envelope> {
    const id = pathTaskId(rawId);
    const page = await this.scheduler.listExecutions(id, unwrap(parsePageQuery(query)));
    return success({
      executions: page.executions.map(presentExecution),
      ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
    });
  }

  /** 202: the recorded fire `<id>:<scheduled_at_ms>` (usually a dead letter) is sent again. */
  @Post('tasks/:id/executions/:scheduledAtMs/rerun')
  @HttpCode(202)
  async rerun(
    @Param('id') rawId: string,
    @Param('scheduledAtMs') rawScheduledAtMs: string,
  ): Promise<Envelope> {
    const id = pathTaskId(rawId);
    const scheduledAtMs = parseScheduledAtMs(rawScheduledAtMs);
    if (scheduledAtMs === undefined)
      throw new ApiError('task_not_found', `no execution of task ${id} at ${rawScheduledAtMs}`, {
        task_id: id,
      });
    return success(presentManualFire(await this.scheduler.rerunExecution(id, scheduledAtMs)));
  }
}
