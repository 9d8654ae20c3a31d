import type { Dispatcher } from 'undici';
import type { AttemptDeadlines, DeadlineEntry, DeadlineList } from './attempt-deadlines';
import { describeTransportError, isRetryableTransportError } from './errors';
import { honoursRetryAfter } from './retry-classification';

/** Who is told, exactly once, that an attempt has settled. */
export interface AttemptOwner {
  attemptSettled(attempt: HttpAttempt): void;
}

type Controller = Dispatcher.DispatchController;

/**
 * One HTTP attempt, as an undici dispatch handler (the controller API of undici 7).
 *
 * Why `dispatch` and not `request`: `request` wraps every response in a Readable stream and a
 * promise that must then be drained (`body.dump()`), and keeps a response-headers object and an
 * AbortSignal listener per call. A dispatch handler sees the status, then the chunks, which it
 * counts and drops: no stream, no buffering, one small object per attempt. The outcome is decided
 * by the status line; the body is only drained so the connection can be reused.
 *
 * Settling rules (each attempt settles once; later undici callbacks are ignored):
 * - The response completed: outcome = its status.
 * - The body is larger than `maxBodyBytes`, or the deadline passes while it streams: the
 *   connection is destroyed (cheaper than reading megabytes) and the outcome is still the status.
 * - The deadline passes after the request was handed to a connection but before an answer:
 *   `timedOut` (the receiver may have got it).
 * - The deadline passes while the request still waits for a pooled connection: a timeout that was
 *   never sent (`timedOut` false); undici aborts it when a connection frees up.
 * - A transport error before an answer: `error`, `retryable` per the error.
 */
export class HttpAttempt implements Dispatcher.DispatchHandler, DeadlineEntry {
  /** 0 until a final (≥ 200) status arrives. */
  statusCode = 0;
  retryAfter: string | undefined = undefined;
  /** Set when the attempt failed without a status. */
  error: string | undefined = undefined;
  /** False for a transport error that can never succeed (e.g. undici refused the request). */
  errorRetryable = true;
  /** Given up after being sent, without an answer: a possible duplicate. */
  timedOut = false;
  /** The request was handed to a connection (undici's onRequestStart). */
  sent = false;
  settled = false;
  /** AttemptDeadlines' links (see DeadlineEntry). */
  deadlineAtMs = 0;
  deadlinePrevious: DeadlineEntry | null = null;
  deadlineNext: DeadlineEntry | null = null;
  deadlineList: DeadlineList | null = null;

  readonly owner: AttemptOwner;
  readonly context: unknown;
  readonly startedAtMs: number;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #deadlines: AttemptDeadlines;
  #controller: Controller | null = null;
  #bodyBytes = 0;

  constructor(
    owner: AttemptOwner,
    context: unknown,
    startedAtMs: number,
    timeoutMs: number,
    maxBodyBytes: number,
    deadlines: AttemptDeadlines,
  ) {
    this.#deadlines = deadlines;
    this.owner = owner;
    this.context = context;
    this.startedAtMs = startedAtMs;
    this.#timeoutMs = timeoutMs;
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** Sends through `dispatcher`; the owner hears of the outcome (possibly synchronously). */
  start(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): void {
    this.#deadlines.add(this, this.#timeoutMs);
    dispatcher.dispatch(options, this);
  }

  /** Gives up now (drain): a sent attempt without an answer counts as a possible duplicate. */
  abort(reason: string): void {
    if (this.settled) {
      return;
    }
    if (this.statusCode === 0) {
      this.error = reason;
      this.timedOut = this.sent;
    }
    this.#settle(reason);
  }

  /** @internal the deadline passed (AttemptDeadlines). */
  deadline(): void {
    if (this.settled) {
      return;
    }
    if (this.statusCode === 0) {
      this.timedOut = this.sent;
      this.error = this.sent
        ? `timeout after ${this.#timeoutMs} ms`
        : `timeout after ${this.#timeoutMs} ms waiting for a connection`;
    }
    this.#settle('deadline');
  }

  onRequestStart(controller: Controller): void {
    if (this.settled) {
      // Timed out (or drained) while waiting for a connection: never send it.
      controller.abort(new Error('attempt already given up'));
      return;
    }
    this.#controller = controller;
    this.sent = true;
  }

  onResponseStart(
    _controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.settled || statusCode < 200) {
      return;
    }
    this.statusCode = statusCode;
    if (honoursRetryAfter(statusCode)) {
      const value = headers['retry-after'];
      this.retryAfter = Array.isArray(value) ? value[0] : value;
    }
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.settled) {
      return;
    }
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#maxBodyBytes) {
      this.#settle('response body too large');
    }
  }

  onResponseEnd(): void {
    this.#settle();
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    if (this.settled) {
      return;
    }
    if (this.statusCode === 0) {
      this.error = describeTransportError(error);
      this.errorRetryable = isRetryableTransportError(error);
    }
    this.#settle();
  }

  /** Settles once; with `destroyReason`, also aborts the request (destroying its connection). */
  #settle(destroyReason?: string): void {
    if (this.settled) {
      return;
    }
    // Flag first: aborting calls onResponseError synchronously, which must then be a no-op.
    this.settled = true;
    this.#deadlines.remove(this);
    const controller = this.#controller;
    this.#controller = null;
    if (destroyReason !== undefined && controller !== null && !controller.aborted) {
      controller.abort(new Error(destroyReason));
    }
    this.owner.attemptSettled(this);
  }
}
