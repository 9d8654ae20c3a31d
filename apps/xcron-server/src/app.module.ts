import { Module, type DynamicModule } from '@nestjs/common';
import { SchedulerModule } from '@xcron/scheduler/nest';
import { ApiModule } from './api';
import { resolveNodeIdentity, type NodeIdentity } from './cluster/node-identity';
import { schedulerOptionsFrom } from './cluster/scheduler-options';
import { ConfigModule } from './config/config.module';
import type { XcronOptions } from './config/config.schema';
import { HealthModule } from './health/health.module';

/**
 * Composes the server's modules; each feature lives in its own module. The node itself is
 * SchedulerModule — the same module another Nest app imports to embed a node.
 */
@Module({})
export class AppModule {
  static forRoot(
    options: XcronOptions,
    identity: NodeIdentity = resolveNodeIdentity(options),
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options),
        HealthModule,
        SchedulerModule.forRoot(schedulerOptionsFrom(options, identity)),
        ApiModule.forRoot({
          ...(options.apiToken !== '' ? { apiToken: options.apiToken } : {}),
        }),
      ],
    };
  }
}
