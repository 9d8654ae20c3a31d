import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiAuthGuard } from './api-auth.guard';
import { ApiExceptionFilter } from './api-exception.filter';
import { API_MODULE_OPTIONS, ApiConfigurableModule } from './api.module-definition';
import { API_OPTIONS, resolveApiOptions, type ApiOptions } from './api.options';
import { BatchBodyLimit } from './batch-body-limit';
import { CreateTaskRoutes } from './create-task.routes';
import { ReadinessController } from './readiness.controller';
import { SeedController } from './seed.controller';
import { V1ClusterController } from './v1-cluster.controller';
import { V1TasksController } from './v1-tasks.controller';

/**
 * The HTTP API: the seed's /xcron routes, /v1, /readyz. Written against SchedulerApi, injected
 * with SCHEDULER_API, which must be resolvable here: provided by a global module, or by a module
 * given in `forRootAsync({imports})`.
 *
 * Registers ApiExceptionFilter globally (APP_FILTER): Fastify's own errors (body too large,
 * malformed JSON, wrong Content-Type, unknown route) reach only global filters. It handles /xcron,
 * /v1 and /readyz requests and leaves every other route to Nest's default handling.
 */
@Module({
  controllers: [SeedController, V1TasksController, V1ClusterController, ReadinessController],
  providers: [
    {
      provide: API_OPTIONS,
      useFactory: (options: ApiOptions) => resolveApiOptions(options),
      inject: [API_MODULE_OPTIONS],
    },
    ApiAuthGuard,
    BatchBodyLimit,
    CreateTaskRoutes,
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
  ],
})
export class ApiModule extends ApiConfigurableModule {}
