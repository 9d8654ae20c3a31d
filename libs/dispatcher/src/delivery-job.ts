import type { Dispatcher } from 'undici';
import type { CallbackHeaderList } from './callback-headers';
import type { CallbackRequest, DeliveryResult, DeliveryStatus } from './callback-request';
import type { HttpAttempt } from './http-attempt';

/**
 * Where a delivery is: waiting for a concurrency slot, with an attempt on the wire, waiting out a
 * backoff (holding no slot), or finished.
 */
export type JobState = 'queued' | 'inflight' | 'waiting' | 'done';

/** The state of one `dispatch()` call across its attempts. Owned by the CallbackDispatcher. */
export class DeliveryJob {
  state: JobState = 'queued';
  attempts = 0;
  timedOutAttempts = 0;
  firstStartMs = -1;
  lastEndMs = -1;
  lastStatus: number | undefined = undefined;
  lastError: string | undefined = undefined;
  /** Set when the signal aborted or the dispatcher drains: no further attempt may start. */
  stopReason: string | undefined = undefined;
  current: HttpAttempt | null = null;
  /** fastq's callback of the current attempt: frees its concurrency slot. */
  releaseSlot: ((err: Error | null) => void) | null = null;
  waitController: AbortController | null = null;
  onSignalAbort: (() => void) | null = null;

  readonly request: CallbackRequest;
  readonly options: Dispatcher.DispatchOptions;
  readonly headers: CallbackHeaderList;
  readonly body: Buffer;
  readonly resolve: (result: DeliveryResult) => void;

  constructor(
    request: CallbackRequest,
    options: Dispatcher.DispatchOptions,
    headers: CallbackHeaderList,
    body: Buffer,
    resolve: (result: DeliveryResult) => void,
  ) {
    this.request = request;
    this.options = options;
    this.headers = headers;
    this.body = body;
    this.resolve = resolve;
  }

  toResult(status: DeliveryStatus, error: string | undefined): DeliveryResult {
    const durationMs = this.firstStartMs < 0 ? 0 : Math.max(0, this.lastEndMs - this.firstStartMs);
    const result: {
      status: DeliveryStatus;
      httpStatus?: number;
      attempts: number;
      durationMs: number;
      error?: string;
      timedOutAttempts: number;
    } = { status, attempts: this.attempts, durationMs, timedOutAttempts: this.timedOutAttempts };
    if (this.lastStatus !== undefined) {
      result.httpStatus = this.lastStatus;
    }
    if (error !== undefined) {
      result.error = error;
    }
    return result;
  }
}
