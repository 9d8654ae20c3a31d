import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsExporter } from './metrics-exporter.service';
import { XcronMetrics } from './xcron-metrics';

/**
 * Prometheus metrics on monitor_port. The XcronMetrics instance is made before the modules are
 * (AppModule.forRoot), because its hooks go into SchedulerModule's options; this module serves it.
 */
@Module({})
export class MetricsModule {
  static forRoot(metrics: XcronMetrics): DynamicModule {
    return {
      module: MetricsModule,
      providers: [{ provide: XcronMetrics, useValue: metrics }, MetricsExporter],
      exports: [XcronMetrics],
    };
  }
}
