import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Scheduler } from '@xcron/scheduler';
import { SCHEDULER_INSTANCE } from '@xcron/scheduler/nest';
import type { XcronOptions } from '../config/config.schema';
import { XCRON_CONFIG } from '../config/config.token';
import { MetricsServer } from './metrics-server';
import { XcronMetrics } from './xcron-metrics';

/**
 * Serves the node's metrics on monitor_port (bound to http_host) from app start to shutdown: it
 * gives XcronMetrics the running node for its scrape-time gauges and opens the listener once every
 * module is up; on shutdown it closes the listener.
 */
@Injectable()
export class MetricsExporter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: MetricsServer | undefined;

  constructor(
    @Inject(XcronMetrics) private readonly metrics: XcronMetrics,
    @Inject(XCRON_CONFIG) private readonly options: XcronOptions,
    @Inject(SCHEDULER_INSTANCE) private readonly scheduler: Scheduler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.metrics.observe(this.scheduler);
    const { httpHost, monitorPort } = this.options;
    try {
      this.server = await MetricsServer.listen(this.metrics, httpHost, monitorPort, (error) =>
        this.logger.warn(`metrics: ${String(error)}`),
      );
    } catch (error) {
      this.metrics.close();
      throw monitorPortError(httpHost, monitorPort, error);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.metrics.close();
    await this.server?.close();
    this.server = undefined;
  }
}

/** A busy or unusable monitor_port is the operator's to fix: name the keys, no stack trace. */
function monitorPortError(host: string, port: number, cause: unknown): Error {
  const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
  const error = new Error(`cannot listen on http_host ${host}, monitor_port ${port}: ${code}`, {
    cause,
  });
  error.stack = error.message;
  return error;
}
