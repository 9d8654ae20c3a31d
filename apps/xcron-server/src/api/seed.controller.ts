import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';
import { ApiAuthGuard } from './api-auth.guard';
import { unwrap } from './controller-helpers';
import { newRequestId, success, type Envelope } from './envelope';
import { parseSeedTaskIdBody, parseSeedTaskIdQuery } from './parse/seed.parser';
import { presentSeedTask } from './present/presenters';

/**
 * The original xcron's routes: always HTTP 200, the outcome in the envelope's `code` (errors are
 * answered by ApiExceptionFilter). `POST /xcron/createTask` is served by CreateTaskRoutes.
 */
@Controller('xcron')
@UseGuards(ApiAuthGuard)
export class SeedController {
  constructor(@Inject(SCHEDULER_API) private readonly scheduler: SchedulerApi) {}

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
