/**
 * What the dispatcher is asked to deliver and what it answers. These types are the dispatcher's
 * own: dependencies point apps → scheduler → dispatcher, so it cannot import the scheduler's task
 * model. `CallbackRetryPolicy` is structurally the scheduler's `RetryPolicy`, so a `TaskSpec.retry`
 * can be passed as it is.
 */

import type { DeliverySignal } from './cancel-signal';

/** Attempts and backoff of one fire's delivery. */
export interface CallbackRetryPolicy {
  /** Attempts in all, the first included (1 = no retry). An integer ≥ 1. */
  readonly maxAttempts: number;
  /** Backoff cap before the 2nd attempt, doubled for every further attempt. ≥ 0. */
  readonly initialBackoffMs: number;
  /** The backoff never exceeds this (a Retry-After is capped by it too). ≥ 0. */
  readonly maxBackoffMs: number;
}

/** One fire of one task: POST `bodyJson` to `url`, retrying per `retry`. */
export interface CallbackRequest {
  readonly taskId: string;
  /** The fire's scheduled time (unix ms, jitter not included); part of the Idempotency-Key. */
  readonly scheduledAtMs: number;
  /** http: or https: URL (see `validateCallbackUrl`). */
  readonly url: string;
  /** The POST body, already serialized JSON text; sent byte for byte and signed as such. */
  readonly bodyJson: string;
  /**
   * Extra request headers. Names xcron sets itself (Content-Type, User-Agent, Idempotency-Key,
   * X-Xcron-*) and transport headers (Host, Content-Length, Connection, …) are dropped at dispatch;
   * `validateCallbackHeaders` refuses them at task creation.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per attempt, covering the wait for a connection, connect, request, headers and body. */
  readonly timeoutMs: number;
  readonly retry: CallbackRetryPolicy;
  /**
   * Aborted when the task is deleted (or the fire is no longer wanted): no further attempt starts
   * and a pending backoff wait ends at once. An attempt already on the wire is not cut short (it
   * is bounded by `timeoutMs`); if it succeeds the result is 'succeeded', otherwise 'cancelled'.
   * An AbortSignal will do; a caller with a signal per fire should use the cheaper CancelSignal.
   */
  readonly signal?: DeliverySignal;
}

/**
 * - `succeeded`: a 2xx answer.
 * - `failed`: final failure: attempts exhausted, a non-retryable answer (most 4xx, 3xx), or the
 *   request was refused before sending (invalid or not-allowed URL). A dead letter.
 * - `cancelled`: stopped by the request's signal or by `drain()` before a final outcome. Not a
 *   delivery verdict: the scheduler should not record it as failed.
 */
export type DeliveryStatus = 'succeeded' | 'failed' | 'cancelled';

export interface DeliveryResult {
  readonly status: DeliveryStatus;
  /** The last attempt's HTTP status, if an answer came. */
  readonly httpStatus?: number;
  /** Attempts started (0 when nothing was sent). */
  readonly attempts: number;
  /** From the first attempt's start to the last attempt's end (0 when nothing was sent). */
  readonly durationMs: number;
  /** Short reason of the last failure: "HTTP 503", "timeout after 5000 ms", "ECONNREFUSED", … */
  readonly error?: string;
  /**
   * Attempts given up after the request had been handed to a connection (timed out, or aborted
   * by `drain`) without an answer: the receiver may have got them, so each is a possible duplicate.
   * An attempt that timed out while still waiting for a pooled connection was never sent and is
   * not counted.
   */
  readonly timedOutAttempts: number;
}
