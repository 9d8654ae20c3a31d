/**
 * Boots a small Nest app on Fastify with ApiModule and a SchedulerApi double, for `inject()` tests
 * (no port). Built with NestFactory rather than Test.createTestingModule so that the Fastify
 * instance exists while providers are built (see BatchBodyLimit).
 */
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';
import { ApiModule } from '../api.module';
import type { ApiOptions } from '../api.options';

@Global()
@Module({})
class SchedulerDoubleModule {
  static with(scheduler: SchedulerApi): DynamicModule {
    return {
      module: SchedulerDoubleModule,
      providers: [{ provide: SCHEDULER_API, useValue: scheduler }],
      exports: [SCHEDULER_API],
    };
  }
}

export async function createApiTestApp(
  scheduler: SchedulerApi,
  options: ApiOptions = {},
  bodyLimitBytes = 64 * 1024,
): Promise<NestFastifyApplication> {
  @Module({ imports: [SchedulerDoubleModule.with(scheduler), ApiModule.forRoot(options)] })
  class ApiTestModule {}
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiTestModule,
    new FastifyAdapter({ bodyLimit: bodyLimitBytes }),
    { logger: false, abortOnError: false },
  );
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
