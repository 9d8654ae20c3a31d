import { BATCH_BODY_LIMIT_BYTES_DEFAULT, BATCH_TASKS_MAX_DEFAULT } from './api.limits';

/** What ApiModule.forRoot takes; every field has a safe default. */
export interface ApiOptions {
  /**
   * When set (non-empty), every /xcron and /v1 request must carry `Authorization: Bearer <token>`;
   * /healthz and /readyz stay open. Unset: no authentication.
   */
  readonly apiToken?: string;
  /** Largest body of POST /v1/tasks:batch (the server-wide body limit applies to every other route). */
  readonly batchBodyLimitBytes?: number;
  /** Most tasks in one POST /v1/tasks:batch. */
  readonly batchTasksMax?: number;
}

/**
 * ApiOptions with defaults filled in. (Callback hosts are not an API option: the scheduler checks
 * every task against the server config's `allowed_callback_hosts`.)
 */
export interface ResolvedApiOptions {
  readonly apiToken: string | undefined;
  readonly batchBodyLimitBytes: number;
  readonly batchTasksMax: number;
}

export function resolveApiOptions(options: ApiOptions = {}): ResolvedApiOptions {
  return {
    apiToken:
      options.apiToken === undefined || options.apiToken === '' ? undefined : options.apiToken,
    batchBodyLimitBytes: options.batchBodyLimitBytes ?? BATCH_BODY_LIMIT_BYTES_DEFAULT,
    batchTasksMax: options.batchTasksMax ?? BATCH_TASKS_MAX_DEFAULT,
  };
}

/** Nest injection token of the ResolvedApiOptions. */
export const API_OPTIONS = Symbol('xcron.ApiOptions');
