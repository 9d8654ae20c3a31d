import { Module, type DynamicModule } from '@nestjs/common';
import type { XcronOptions } from './config.schema';
import { XCRON_CONFIG } from './config.token';

/**
 * Puts the options loaded by `main.ts` into Nest. The file is read before Nest starts, so a bad
 * config stops the process with a one-line message instead of a failed dependency graph. Global,
 * because nearly every module needs some setting.
 */
@Module({})
export class ConfigModule {
  static forRoot(options: XcronOptions): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: XCRON_CONFIG, useValue: options }],
      exports: [XCRON_CONFIG],
    };
  }
}
