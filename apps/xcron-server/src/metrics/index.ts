export { MetricsModule } from './metrics.module';
export { MetricsServer, METRICS_PATH } from './metrics-server';
export { XcronMetrics, type MetricsSource, type SchedulerMetricsHooks } from './xcron-metrics';
