import fastq from 'fastq';
import type { Dispatcher } from 'undici';
import { AttemptDeadlines } from './attempt-deadlines';
import { backoffDelayMs, parseRetryAfterMs } from './backoff';
import { CallbackHeaderList } from './callback-headers';
import type { CallbackRequest, DeliveryResult } from './callback-request';
import { resolveCallbackUrl } from './callback-targets';
import { isCallbackHostAllowed } from './callback-url';
import { DeliveryJob } from './delivery-job';
import { DispatcherClosedError } from './errors';
import { HttpAttempt, type AttemptOwner } from './http-attempt';
import type { DispatcherMetrics } from './metrics';
import { OriginPools } from './origin-pools';
import { realSleep, systemClock, type Clock, type Sleep } from './ports';
import { isRetryableStatus, isSuccessStatus } from './retry-classification';
import { formatSignatureHeader } from './signature';
import { XCRON_USER_AGENT } from './version';

export interface CallbackDispatcherOptions {
  /** Attempts on the wire at once, over all origins; more wait in a FIFO queue. Default 256. */
  readonly concurrency?: number;
  /**
   * Connections per origin (one keep-alive pool per origin). Default: `concurrency`, so the
   * global bound is the only one and nothing waits inside undici. Lower it to spare receivers;
   * time spent waiting for a pooled connection then counts toward an attempt's timeout (such an
   * attempt was never sent, so it is not counted as a possible duplicate).
   */
  readonly connectionsPerOrigin?: number;
  /**
   * How long an idle connection is kept. Default 4,000 ms: below Node's server default (5 s), so
   * the receiver does not close a socket just as we reuse it. A server's `Keep-Alive: timeout=`
   * hint may lower it, never raise it.
   */
  readonly keepAliveTimeoutMs?: number;
  /** TCP (+TLS) connect timeout, also bounded by each request's `timeoutMs`. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /**
   * Response body bytes read (and dropped) so the connection can be reused; beyond this the
   * connection is closed instead. The status decides the outcome either way. Default 16 KiB.
   */
  readonly maxResponseBodyBytes?: number;
  /** When set, every attempt carries X-Xcron-Signature (HMAC-SHA256). */
  readonly signingSecret?: string | Buffer;
  /** Allowed callback hosts (see `isCallbackUrlAllowed`); undefined = every host. */
  readonly allowedHosts?: readonly string[];
  /** Default `xcron/<version>`. */
  readonly userAgent?: string;
  readonly metrics?: DispatcherMetrics;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Floats in [0, 1) for the backoff jitter. Default Math.random. */
  readonly random?: () => number;
}

export interface DispatcherStats {
  /** Attempts waiting for a concurrency slot. */
  readonly queued: number;
  /** Attempts on the wire. */
  readonly inFlight: number;
  /** Deliveries waiting out a backoff (they hold no slot). */
  readonly waitingRetry: number;
}

const CANCELLED = 'cancelled';
/** addEventListener's options, made once rather than per fire. */
const ONCE = { once: true } as const;
const DRAINING = 'cancelled: dispatcher draining';
const ABORTED_BY_DRAIN = 'aborted: dispatcher draining';

/**
 * Callback delivery: POSTs each fire's body to its URL with the xcron headers, at most
 * `concurrency` attempts at a time, retrying per the fire's policy (see `isRetryableStatus`), over
 * one keep-alive undici Pool per origin (see OriginPools). Framework-free; the server wraps it.
 *
 * Each queue entry is one attempt, not one delivery: a backoff wait happens outside the queue
 * (a timer through the `sleep` port), after which the delivery re-enters the queue at the back.
 */
export class CallbackDispatcher implements AttemptOwner {
  readonly #pools: OriginPools;
  readonly #queue: fastq.queue<DeliveryJob, void>;
  readonly #deadlines = new AttemptDeadlines();
  readonly #jobs = new Set<DeliveryJob>();
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #metrics: DispatcherMetrics | undefined;
  readonly #signingSecret: string | Buffer | undefined;
  readonly #allowedHosts: readonly string[] | undefined;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  #queued = 0;
  #inFlight = 0;
  #waitingRetry = 0;
  #closing = false;
  #closed: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** See whenQueueBelow: one waiter, woken once the queue is shorter than its limit. */
  #queueWaiter: { readonly limit: number; readonly wake: () => void } | null = null;

  constructor(options: CallbackDispatcherOptions = {}) {
    const concurrency = options.concurrency ?? 256;
    requirePositiveInteger('concurrency', concurrency);
    const connections = options.connectionsPerOrigin ?? concurrency;
    requirePositiveInteger('connectionsPerOrigin', connections);
    this.#maxBodyBytes = options.maxResponseBodyBytes ?? 16 * 1024;
    requireNonNegative('maxResponseBodyBytes', this.#maxBodyBytes);
    this.#pools = new OriginPools({
      connections,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 4_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      sweepIntervalMs: 60_000,
    });
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? realSleep;
    this.#random = options.random ?? Math.random;
    this.#metrics = options.metrics;
    this.#signingSecret = options.signingSecret;
    this.#allowedHosts = options.allowedHosts;
    this.#userAgent = options.userAgent ?? XCRON_USER_AGENT;
    this.#queue = fastq(this.#work, concurrency);
  }

  /**
   * Delivers one fire; resolves when it has a final outcome (never rejects for delivery
   * problems). Rejects with DispatcherClosedError after drain()/close(), and with RangeError for a
   * malformed request (bad timeout or retry numbers: the scheduler validates those at creation).
   */
  dispatch(request: CallbackRequest): Promise<DeliveryResult> {
    if (this.#closing) {
      return Promise.reject(new DispatcherClosedError());
    }
    const problem = requestProblem(request);
    if (problem !== undefined) {
      return Promise.reject(new RangeError(problem));
    }
    if (request.signal?.aborted) {
      return Promise.resolve(this.#refuse(request, 'cancelled', CANCELLED));
    }
    const target = resolveCallbackUrl(request.url);
    if ('problem' in target) {
      return Promise.resolve(
        this.#refuse(request, 'failed', `invalid callback URL: ${target.problem}`),
      );
    }
    if (
      this.#allowedHosts !== undefined &&
      !isCallbackHostAllowed(target.host, this.#allowedHosts)
    ) {
      return Promise.resolve(
        this.#refuse(request, 'failed', `callback host "${target.host}" is not in the allow-list`),
      );
    }
    const headers = CallbackHeaderList.build(
      request.taskId,
      request.scheduledAtMs,
      this.#userAgent,
      request.headers,
      this.#signingSecret !== undefined,
    );
    if (typeof headers === 'string') {
      return Promise.resolve(this.#refuse(request, 'failed', headers));
    }
    const body = Buffer.from(request.bodyJson);
    const options: Dispatcher.DispatchOptions = {
      origin: target.origin,
      path: target.path,
      method: 'POST',
      headers: headers.array,
      body,
    };
    return new Promise<DeliveryResult>((resolve) => {
      const job = new DeliveryJob(request, options, headers, body, resolve);
      this.#jobs.add(job);
      const signal = request.signal;
      if (signal !== undefined) {
        job.onSignalAbort = () => this.#stop(job, CANCELLED);
        signal.addEventListener('abort', job.onSignalAbort, ONCE);
      }
      this.#enqueue(job);
    });
  }

  stats(): DispatcherStats {
    return { queued: this.#queued, inFlight: this.#inFlight, waitingRetry: this.#waitingRetry };
  }

  /** Attempts waiting for a concurrency slot (stats().queued without building an object). */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Calls `wake` once, as soon as fewer than `limit` attempts wait for a slot (at once, in a later
   * microtask, if that is so already). A caller that holds its work back while the queue is long
   * (the scheduler's due fires) hands it out when there is room, instead of queueing thousands of
   * deliveries whose objects then outlive the young generation. One waiter at a time: a new call
   * replaces the previous one. `wake` may run inside the dispatcher's own bookkeeping: it should
   * only schedule the caller's work (setImmediate), not dispatch at once.
   */
  whenQueueBelow(limit: number, wake: () => void): void {
    if (this.#queued < limit) {
      this.#queueWaiter = null;
      queueMicrotask(wake);
      return;
    }
    this.#queueWaiter = { limit, wake };
  }

  /**
   * For SIGTERM. From now on dispatch() rejects. Deliveries waiting for a slot or a backoff end at
   * once as 'cancelled' (nothing of theirs is on the wire). Attempts on the wire get up to
   * `timeoutMs` to finish (a success is still 'succeeded'; nothing is retried); the rest are then
   * aborted ('cancelled'; counted in timedOutAttempts as possible duplicates). Resolves with how
   * many attempts had to be aborted.
   */
  async drain(timeoutMs: number): Promise<{ unfinished: number }> {
    this.#closing = true;
    for (const job of [...this.#jobs]) {
      this.#stop(job, DRAINING);
    }
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      let wake: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#idleWaiters.push(resolve);
        timer = setTimeout(resolve, Math.max(0, timeoutMs));
      });
      clearTimeout(timer);
      this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
    }
    let unfinished = 0;
    for (const job of [...this.#jobs]) {
      if (job.current !== null) {
        unfinished++;
        job.current.abort(ABORTED_BY_DRAIN);
      }
    }
    return { unfinished };
  }

  /** Drains with no grace (if not drained yet) and destroys the connection pools. Idempotent. */
  close(): Promise<void> {
    if (this.#closed === null) {
      this.#closed = (async () => {
        if (this.#jobs.size > 0) {
          await this.drain(0);
        }
        this.#closing = true;
        await this.#pools.destroy();
      })();
    }
    return this.#closed;
  }

  /** fastq worker: one attempt of `job`; `done` frees the slot when the attempt settles. */
  readonly #work = (job: DeliveryJob, done: fastq.done<void>): void => {
    if (job.state !== 'queued') {
      done(null); // stopped while queued: already resolved
      return;
    }
    this.#queued--;
    this.#inFlight++;
    job.state = 'inflight';
    this.#wakeQueueWaiter();
    const attemptNo = ++job.attempts;
    const startedAtMs = this.#clock.nowMs();
    if (job.firstStartMs < 0) {
      job.firstStartMs = startedAtMs;
    }
    job.headers.setAttempt(attemptNo);
    if (this.#signingSecret !== undefined) {
      job.headers.setSignature(formatSignatureHeader(this.#signingSecret, startedAtMs, job.body));
    }
    job.releaseSlot = done;
    const attempt = new HttpAttempt(
      this,
      job,
      startedAtMs,
      job.request.timeoutMs,
      this.#maxBodyBytes,
      this.#deadlines,
    );
    job.current = attempt;
    attempt.start(this.#pools.get(job.options.origin as string), job.options);
  };

  /** @internal called by HttpAttempt, once per attempt. */
  attemptSettled(attempt: HttpAttempt): void {
    const job = attempt.context as DeliveryJob;
    const done = job.releaseSlot;
    job.releaseSlot = null;
    job.current = null;
    this.#inFlight--;
    const endMs = this.#clock.nowMs();
    job.lastEndMs = endMs;
    const status = attempt.statusCode;
    job.lastStatus = status === 0 ? undefined : status;
    job.lastError =
      status === 0 ? attempt.error : isSuccessStatus(status) ? undefined : `HTTP ${status}`;
    if (attempt.timedOut) {
      job.timedOutAttempts++;
    }
    this.#reportAttempt(job, attempt, endMs - attempt.startedAtMs);
    done?.(null);
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) {
        wake();
      }
    }

    if (status !== 0 && isSuccessStatus(status)) {
      this.#finish(job, 'succeeded', undefined);
      return;
    }
    const retryable = status === 0 ? attempt.errorRetryable : isRetryableStatus(status);
    if (!retryable || job.attempts >= job.request.retry.maxAttempts) {
      this.#finish(job, 'failed', job.lastError);
      return;
    }
    if (job.stopReason !== undefined) {
      this.#finish(job, 'cancelled', job.stopReason);
      return;
    }
    const retryAfterMs = parseRetryAfterMs(attempt.retryAfter, endMs);
    const delayMs =
      retryAfterMs !== undefined
        ? Math.min(job.request.retry.maxBackoffMs, retryAfterMs)
        : backoffDelayMs(job.request.retry, job.attempts, this.#random);
    this.#wait(job, delayMs);
  }

  #wakeQueueWaiter(): void {
    const waiter = this.#queueWaiter;
    if (waiter !== null && this.#queued < waiter.limit) {
      this.#queueWaiter = null;
      waiter.wake();
    }
  }

  #enqueue(job: DeliveryJob): void {
    job.state = 'queued';
    this.#queued++;
    this.#queue.push(job);
  }

  #wait(job: DeliveryJob, delayMs: number): void {
    job.state = 'waiting';
    this.#waitingRetry++;
    const controller = new AbortController();
    job.waitController = controller;
    this.#sleep(delayMs, controller.signal).then(
      () => this.#afterWait(job, controller),
      () => this.#afterWait(job, controller),
    );
  }

  #afterWait(job: DeliveryJob, controller: AbortController): void {
    if (job.state !== 'waiting' || job.waitController !== controller) {
      return; // stopped during the wait: already resolved
    }
    job.waitController = null;
    this.#waitingRetry--;
    this.#enqueue(job);
  }

  /** The signal aborted, or drain: no further attempt; a waiting or queued delivery ends now. */
  #stop(job: DeliveryJob, reason: string): void {
    if (job.state === 'done') {
      return;
    }
    job.stopReason ??= reason;
    if (job.state === 'queued' || job.state === 'waiting') {
      this.#finish(job, 'cancelled', job.stopReason);
    }
    // 'inflight': attemptSettled sees stopReason.
  }

  #finish(job: DeliveryJob, status: DeliveryResult['status'], error: string | undefined): void {
    if (job.state === 'queued') {
      this.#queued--; // its queue entry is skipped by #work
      this.#wakeQueueWaiter();
    } else if (job.state === 'waiting') {
      this.#waitingRetry--;
      job.waitController?.abort();
      job.waitController = null;
    }
    job.state = 'done';
    this.#jobs.delete(job);
    if (job.onSignalAbort !== null) {
      job.request.signal?.removeEventListener('abort', job.onSignalAbort);
      job.onSignalAbort = null;
    }
    const result = job.toResult(status, error);
    this.#reportResult(result, job.request);
    job.resolve(result);
  }

  /** A delivery that ends before any attempt (refused URL or header, aborted signal). */
  #refuse(request: CallbackRequest, status: 'failed' | 'cancelled', error: string): DeliveryResult {
    const result: DeliveryResult = {
      status,
      attempts: 0,
      durationMs: 0,
      error,
      timedOutAttempts: 0,
    };
    this.#reportResult(result, request);
    return result;
  }

  #reportAttempt(job: DeliveryJob, attempt: HttpAttempt, durationMs: number): void {
    const sink = this.#metrics?.onAttempt;
    if (sink === undefined) {
      return;
    }
    try {
      sink.call(this.#metrics, {
        taskId: job.request.taskId,
        attempt: job.attempts,
        httpStatus: job.lastStatus,
        error: job.lastError,
        durationMs,
        timedOut: attempt.timedOut,
      });
    } catch {
      // A metrics sink must not break delivery.
    }
  }

  #reportResult(result: DeliveryResult, request: CallbackRequest): void {
    const sink = this.#metrics?.onResult;
    if (sink === undefined) {
      return;
    }
    try {
      sink.call(this.#metrics, result, request);
    } catch {
      // A metrics sink must not break delivery.
    }
  }
}

function requestProblem(request: CallbackRequest): string | undefined {
  const { timeoutMs, retry } = request;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    return `timeoutMs must be a positive number, got ${timeoutMs}`;
  }
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    return `retry.maxAttempts must be an integer ≥ 1, got ${retry.maxAttempts}`;
  }
  if (!(Number.isFinite(retry.initialBackoffMs) && retry.initialBackoffMs >= 0)) {
    return `retry.initialBackoffMs must be a number ≥ 0, got ${retry.initialBackoffMs}`;
  }
  if (!(Number.isFinite(retry.maxBackoffMs) && retry.maxBackoffMs >= 0)) {
    return `retry.maxBackoffMs must be a number ≥ 0, got ${retry.maxBackoffMs}`;
  }
  if (!Number.isFinite(request.scheduledAtMs)) {
    return `scheduledAtMs must be a number, got ${request.scheduledAtMs}`;
  }
  return undefined;
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer ≥ 1, got ${value}`);
  }
}

function requireNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${name} must be a number ≥ 0, got ${value}`);
  }
}
