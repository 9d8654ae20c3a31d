import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';
import { ApiAuthGuard } from './api-auth.guard';
import { unwrap } from './controller-helpers';
import { newRequestId, success, type Envelope } from './envelope';
import {
  parseSeedCreateTask,
  parseSeedTaskIdBody,
  parseSeedTaskIdQuery,
} from './parse/seed.parser';
import { presentSeedTask } from './present/presenters';

/**
 * The original xcron's routes: always HTTP 200, the outcome in the envelope's `code` (errors are
 * answered by ApiExceptionFilter).
 */
@Controller('xcron')
@UseGuards(ApiAuthGuard)
export class SeedController {
  constructor(@Inject(SCHEDULER_API) private readonly scheduler: SchedulerApi) {}

  /** `{type, format, callback, …}` → `{uuid, code: 0, message: "success", data: {task_id}}`. */
  @Post('createTask')
  @HttpCode(200)
  async createTask(@Body() body: unknown): Promise<Envelope> {
    const input = unwrap(parseSeedCreateTask(body));
    const { task } = await this.scheduler.createTask(input);
    return success({ task_id: task.id });
  }

  /** `{task_id}` → `{uuid, code: 0}`. */
  @Post('deleteTask')
  @HttpCode(200)
  async deleteTask(@Body() body: unknown): Promise<Envelope> {
    await this.scheduler.deleteTask(unwrap(parseSeedTaskIdBody(body)));
    return { uuid: newRequestId(), code: 0 };
  }

  /** `?task_id=` → the task in `data`. */
  @Get('queryTask')
  async queryTask(@Query() query: unknown): Promise<Envelope> {
    const task = await this.scheduler.getTask(unwrap(parseSeedTaskIdQuery(query)));
    return success(presentSeedTask(task));
  }
}
