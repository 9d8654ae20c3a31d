import type { CallbackRequest, DeliveryResult } from './callback-request';

/** One finished attempt, as the metrics sink sees it. */
export interface AttemptInfo {
  readonly taskId: string;
  /** 1-based. */
  readonly attempt: number;
  readonly httpStatus?: number;
  readonly error?: string;
  readonly durationMs: number;
  /** Given up without an answer after it was sent: a possible duplicate. */
  readonly timedOut: boolean;
}

/**
 * Where the dispatcher reports what it did (the server feeds Prometheus from it). Calls are
 * synchronous and on the hot path: keep them cheap. An exception thrown here is swallowed.
 */
export interface DispatcherMetrics {
  onAttempt?(info: AttemptInfo): void;
  onResult?(result: DeliveryResult, request: CallbackRequest): void;
}
