import { BATCH_BODY_LIMIT_BYTES_DEFAULT, BATCH_TASKS_MAX_DEFAULT } from './api.limits';

/** What ApiModule.forRoot takes; every field has a safe default. */
export interface ApiOptions {
  /**
   * When set (non-empty), every /xcron and /v1 request must carry `Authorization: Bearer <token>`;
   * /healthz and /readyz stay open. Unset: no authentication.
   */
  readonly apiToken?: string;
  /**
   * Hosts callback URLs may name: `example.com` (that host name), `example.com:8080` (that host and
   * port) or `*.example.com` (any subdomain). Empty or unset: any host.
   */
  readonly callbackHosts?: readonly string[];
  /** Largest body of POST /v1/tasks:batch (the server-wide body limit applies to every other route). */
  readonly batchBodyLimitBytes?: number;
  /** Most tasks in one POST /v1/tasks:batch. */
  readonly batchTasksMax?: number;
}

/** ApiOptions with defaults filled in and the allow-list prepared for lookups. */
export interface ResolvedApiOptions {
  readonly apiToken: string | undefined;
  readonly callbackHosts: CallbackHostAllowList | undefined;
  readonly batchBodyLimitBytes: number;
  readonly batchTasksMax: number;
}

export interface CallbackHostAllowList {
  /** Exact host names and host:port pairs, lower case. */
  readonly exact: ReadonlySet<string>;
  /** `.example.com` for `*.example.com`. */
  readonly suffixes: readonly string[];
}

export function resolveApiOptions(options: ApiOptions = {}): ResolvedApiOptions {
  const hosts = (options.callbackHosts ?? []).map((host) => host.trim().toLowerCase());
  const allowList: CallbackHostAllowList | undefined =
    hosts.length === 0
      ? undefined
      : {
          exact: new Set(hosts.filter((host) => !host.startsWith('*.'))),
          suffixes: hosts.filter((host) => host.startsWith('*.')).map((host) => host.slice(1)),
        };
  return {
    apiToken:
      options.apiToken === undefined || options.apiToken === '' ? undefined : options.apiToken,
    callbackHosts: allowList,
    batchBodyLimitBytes: options.batchBodyLimitBytes ?? BATCH_BODY_LIMIT_BYTES_DEFAULT,
    batchTasksMax: options.batchTasksMax ?? BATCH_TASKS_MAX_DEFAULT,
  };
}

/** Nest injection token of the ResolvedApiOptions. */
export const API_OPTIONS = Symbol('xcron.ApiOptions');
