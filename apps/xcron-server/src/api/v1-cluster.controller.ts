import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';
import { ApiAuthGuard } from './api-auth.guard';
import { unwrap } from './controller-helpers';
import { success, type Envelope } from './envelope';
import {
  parseExecutionsQuery,
  parseMemberChange,
  parseTransferLeadership,
} from './parse/v1.parser';
import { presentCluster, presentExecution } from './present/presenters';

/** /v1 routes that are not about one task: executions by status, cluster status and membership. */
@Controller('v1')
@UseGuards(ApiAuthGuard)
export class V1ClusterController {
  constructor(@Inject(SCHEDULER_API) private readonly scheduler: SchedulerApi) {}

  /** `?status=failed` (the default: the dead letters), newest first. */
  @Get('executions')
  async executions(@Query() query: unknown): Promise<Envelope> {
    const page = await this.scheduler.listExecutionsByStatus(unwrap(parseExecutionsQuery(query)));
    return success({
      executions: page.executions.map(presentExecution),
      ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
    });
  }

  @Get('cluster')
  cluster(): Envelope {
    return success(presentCluster(this.scheduler.cluster()));
  }

  @Post('cluster/members')
  @HttpCode(200)
  async addMember(@Body() body: unknown): Promise<Envelope> {
    return success(presentCluster(await this.scheduler.addMember(unwrap(parseMemberChange(body)))));
  }

  @Delete('cluster/members/:id')
  async removeMember(@Param('id') memberId: string): Promise<Envelope> {
    return success(presentCluster(await this.scheduler.removeMember(memberId)));
  }

  @Post('cluster/transfer-leadership')
  @HttpCode(200)
  async transferLeadership(@Body() body: unknown): Promise<Envelope> {
    const { memberId } = unwrap(parseTransferLeadership(body));
    return success(presentCluster(await this.scheduler.transferLeadership(memberId)));
  }
}
