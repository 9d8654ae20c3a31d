import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';
import { SCHEDULER_API } from '../scheduler-api';
import { Scheduler } from '../scheduler';
import type { SchedulerModuleOptions } from './scheduler-module-options';
import { SchedulerService } from './scheduler.service';
import { SCHEDULER_INSTANCE, SCHEDULER_OPTIONS } from './scheduler.tokens';

export interface SchedulerModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => SchedulerModuleOptions | Promise<SchedulerModuleOptions>;
  inject?: FactoryProvider['inject'];
}

/**
 * An xcron node inside a Nest app: `SchedulerModule.forRoot(options)` (or `forRootAsync` to build
 * the options from other providers, e.g. a config service) starts the node — Raft, journal,
 * dispatcher — while the app boots, and provides SchedulerService (also under SCHEDULER_API).
 * Global: one node per app.
 */
@Module({})
export class SchedulerModule {
  static forRoot(options: SchedulerModuleOptions): DynamicModule {
    return SchedulerModule.build([{ provide: SCHEDULER_OPTIONS, useValue: options }], []);
  }

  static forRootAsync(options: SchedulerModuleAsyncOptions): DynamicModule {
    return SchedulerModule.build(
      [
        {
          provide: SCHEDULER_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
    );
  }

  private static build(
    optionsProviders: Provider[],
    imports: ModuleMetadata['imports'],
  ): DynamicModule {
    return {
      module: SchedulerModule,
      global: true,
      imports,
      providers: [
        ...optionsProviders,
        {
          provide: SCHEDULER_INSTANCE,
          useFactory: (options: SchedulerModuleOptions) => Scheduler.start(options),
          inject: [SCHEDULER_OPTIONS],
        },
        SchedulerService,
        { provide: SCHEDULER_API, useExisting: SchedulerService },
      ],
      exports: [SchedulerService, SCHEDULER_API, SCHEDULER_INSTANCE],
    };
  }
}
