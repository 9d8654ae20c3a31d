/**
 * @xcron/dispatcher: callback delivery (fastq + undici, retry with backoff, timeouts, signing).
 * Framework-free: no Nest here.
 */
export { CallbackDispatcher } from './callback-dispatcher';
export { resolveCallbackUrl } from './callback-targets';
export type { CallbackTarget } from './callback-targets';
export { CancelSignal } from './cancel-signal';
export type { DeliverySignal } from './cancel-signal';
export type { CallbackDispatcherOptions, DispatcherStats } from './callback-dispatcher';
export type {
  CallbackRequest,
  CallbackRetryPolicy,
  DeliveryResult,
  DeliveryStatus,
} from './callback-request';
export type { AttemptInfo, DispatcherMetrics } from './metrics';
export type { Clock, Sleep } from './ports';
export { realSleep, systemClock } from './ports';
export { backoffCapMs, backoffDelayMs, parseRetryAfterMs } from './backoff';
export { honoursRetryAfter, isRetryableStatus, isSuccessStatus } from './retry-classification';
export {
  callbackHostOf,
  hostMatchesPattern,
  isCallbackHostAllowed,
  isCallbackUrlAllowed,
  normalizeHost,
  parseCallbackUrl,
  validateAllowedHostPattern,
  validateCallbackUrl,
} from './callback-url';
export {
  HEADER_ATTEMPT,
  HEADER_IDEMPOTENCY_KEY,
  HEADER_SCHEDULED_AT,
  HEADER_SIGNATURE,
  HEADER_TASK_ID,
  isReservedHeaderName,
  validateCallbackHeaders,
} from './callback-headers';
export {
  computeCallbackSignature,
  formatSignatureHeader,
  parseSignatureHeader,
  verifyCallbackSignature,
} from './signature';
export type { ParsedSignatureHeader, VerifySignatureOptions } from './signature';
export { DispatcherClosedError, describeTransportError } from './errors';
export { XCRON_USER_AGENT, XCRON_VERSION } from './version';
export { DispatchWarmUp } from './dispatch-warm-up';
export type { DispatchWarmUpOptions, DispatchWarmUpReport } from './dispatch-warm-up';
