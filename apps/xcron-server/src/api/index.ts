export { ApiModule } from './api.module';
export type { ApiOptions } from './api.options';
export { renderSeedCodeTable, API_ERRORS } from './api.codes';
