/**
 * The answer envelope of every /xcron and /v1 route: `{uuid, code, message?, data?}`. `uuid` is a
 * fresh id per answer (the server logs an unexpected error with it); `code` 0 is success.
 */
import { randomUUID } from 'node:crypto';
import { SUCCESS_CODE } from './api.codes';
import type { ApiError } from './api.error';

export interface Envelope {
  readonly uuid: string;
  readonly code: number;
  readonly message?: string;
  readonly data?: unknown;
}

export const SUCCESS_MESSAGE = 'success';

export function newRequestId(): string {
  return randomUUID();
}

/** `{uuid, code: 0, message: "success", data}` (no `data` key when undefined). */
export function success(data?: unknown): Envelope {
  return data === undefined
    ? { uuid: newRequestId(), code: SUCCESS_CODE, message: SUCCESS_MESSAGE }
    : { uuid: newRequestId(), code: SUCCESS_CODE, message: SUCCESS_MESSAGE, data };
}

export function failure(error: ApiError, uuid: string = newRequestId()): Envelope {
  return error.data === undefined
    ? { uuid, code: error.code, message: error.message }
    : { uuid, code: error.code, message: error.message, data: error.data };
}
