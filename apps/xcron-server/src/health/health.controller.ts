import { Controller, Get } from '@nestjs/common';

export interface HealthStatus {
  readonly status: 'ok';
}

/**
 * Liveness for load balancers and orchestrators: 200 while the process serves HTTP. It says
 * nothing about Raft leadership; readiness with that belongs to a later /v1 route.
 */
@Controller()
export class HealthController {
  @Get('healthz')
  health(): HealthStatus {
    return { status: 'ok' };
  }
}
