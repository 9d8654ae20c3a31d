import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { XcronOptions } from './config/config.schema';
import { HealthModule } from './health/health.module';

/** Composes the server's modules; each feature lives in its own module. */
@Module({})
export class AppModule {
  static forRoot(options: XcronOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(options), HealthModule],
    };
  }
}
