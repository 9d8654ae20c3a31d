import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ApiOptions } from './api.options';

/** `ApiModule.forRoot(options)` and `ApiModule.forRootAsync({imports, inject, useFactory})`. */
export const {
  ConfigurableModuleClass: ApiConfigurableModule,
  MODULE_OPTIONS_TOKEN: API_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<ApiOptions>().setClassMethodName('forRoot').build();
