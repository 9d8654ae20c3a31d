import { Module, type DynamicModule } from '@nestjs/common';
import { SchedulerModule } from '@xcron/scheduler/nest';
import { ApiModule } from './api';
import { resolveNodeIdentity, type NodeIdentity } from './cluster/node-identity';
import { schedulerOptionsFrom } from './cluster/scheduler-options';
import { ConfigModule } from './config/config.module';
import type { XcronOptions } from './config/config.schema';
import { HealthModule } from './health/health.module';
import { MetricsModule, XcronMetrics } from './metrics';

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
    // Made here: its hooks are part of the scheduler's options, its listener is MetricsModule.
    const metrics = new XcronMetrics();
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options),
        HealthModule,
        SchedulerModule.forRoot(schedulerOptionsFrom(options, identity, metrics.hooks)),
        MetricsModule.forRoot(metrics),
        ApiModule.forRoot({
          ...(options.apiToken !== '' ? { apiToken: options.apiToken } : {}),
        }),
      ],
    };
  }
}
