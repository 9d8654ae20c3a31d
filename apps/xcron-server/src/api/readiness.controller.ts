import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';

export interface ReadinessStatus {
  readonly status: 'ready' | 'not_ready';
}

/**
 * GET /readyz: 200 `{status: "ready"}` when this node is a member of a cluster with a known leader
 * and has replayed its journal (SchedulerApi.isReady), else 503 `{status: "not_ready"}`. Open
 * (no token), like /healthz, for load balancers and orchestrators.
 */
@Controller()
export class ReadinessController {
  constructor(@Inject(SCHEDULER_API) private readonly scheduler: SchedulerApi) {}

  @Get('readyz')
  readyz(@Res({ passthrough: true }) reply: FastifyReply): ReadinessStatus {
    if (this.scheduler.isReady()) return { status: 'ready' };
    reply.status(503);
    return { status: 'not_ready' };
  }
}
