/**
 * The headers of a callback POST. xcron's own headers always win: a user header with one of the
 * reserved names below is refused at task creation (`validateCallbackHeaders`) and dropped at
 * dispatch (a task stored before a rule was added still delivers, with xcron's values).
 */

export const HEADER_IDEMPOTENCY_KEY = 'idempotency-key';
export const HEADER_TASK_ID = 'x-xcron-task-id';
export const HEADER_SCHEDULED_AT = 'x-xcron-scheduled-at';
export const HEADER_ATTEMPT = 'x-xcron-attempt';
export const HEADER_SIGNATURE = 'x-xcron-signature';

/** Names xcron sets, or that belong to the transport (undici sets or refuses them). */
const RESERVED = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'expect',
  'te',
  'trailer',
  HEADER_IDEMPOTENCY_KEY,
]);

/** The usual attempt numbers' header values, made once (every attempt sets one). */
const ATTEMPT_TEXTS = Array.from({ length: 16 }, (_, attempt) => String(attempt));

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; no CR, LF or NUL.
const INVALID_VALUE = /[\0\r\n]/;
const MAX_HEADERS = 50;
const MAX_HEADER_BYTES = 8 * 1024;

/** Whether a user header named `name` would be dropped because xcron owns it. */
export function isReservedHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || lower.startsWith('x-xcron-');
}

/**
 * The problem with a task's extra headers, or undefined: at most 50, names are HTTP tokens and not
 * reserved (Content-Type, User-Agent, Idempotency-Key, X-Xcron-*, transport headers), values have
 * no CR/LF/NUL, 8 KiB in all.
 */
export function validateCallbackHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (headers === undefined) {
    return undefined;
  }
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) {
    return `at most ${MAX_HEADERS} callback headers are allowed`;
  }
  let bytes = 0;
  for (const name of names) {
    const problem = headerProblem(name, headers[name]);
    if (problem !== undefined) {
      return problem;
    }
    if (isReservedHeaderName(name)) {
      return `callback header "${name}" is set by xcron and cannot be overridden`;
    }
    bytes += name.length + headers[name].length;
  }
  if (bytes > MAX_HEADER_BYTES) {
    return `callback headers exceed ${MAX_HEADER_BYTES} bytes`;
  }
  return undefined;
}

function headerProblem(name: string, value: unknown): string | undefined {
  if (!TOKEN.test(name)) {
    return `callback header name "${name}" is not a valid HTTP token`;
  }
  if (typeof value !== 'string' || INVALID_VALUE.test(value)) {
    return `callback header "${name}" has an invalid value`;
  }
  return undefined;
}

/**
 * The flat [name, value, …] header array undici takes, built once per dispatch. The attempt
 * number and signature slots sit at the end and are rewritten in place before each attempt
 * (undici copies the headers when a request is created, so reuse is safe).
 */
export class CallbackHeaderList {
  readonly array: string[];
  readonly #attemptIndex: number;
  readonly #signatureIndex: number;

  private constructor(array: string[], attemptIndex: number, signatureIndex: number) {
    this.array = array;
    this.#attemptIndex = attemptIndex;
    this.#signatureIndex = signatureIndex;
  }

  /**
   * The header list of one fire, or a problem text when a user header is malformed (the delivery
   * then fails without sending: undici would refuse it anyway). Reserved user headers are dropped.
   */
  static build(
    taskId: string,
    scheduledAtMs: number,
    userAgent: string,
    userHeaders: Readonly<Record<string, string>> | undefined,
    signed: boolean,
  ): CallbackHeaderList | string {
    const scheduledAt = String(scheduledAtMs);
    if (userHeaders === undefined && !signed) {
      // Most fires: one array of its final size (pushing onto the literal below grew it ~3×).
      const array = [
        'content-type',
        'application/json',
        'user-agent',
        userAgent,
        HEADER_IDEMPOTENCY_KEY,
        `${taskId}:${scheduledAt}`,
        HEADER_TASK_ID,
        taskId,
        HEADER_SCHEDULED_AT,
        scheduledAt,
        HEADER_ATTEMPT,
        '1',
      ];
      return new CallbackHeaderList(array, array.length - 1, -1);
    }
    const array: string[] = [
      'content-type',
      'application/json',
      'user-agent',
      userAgent,
      HEADER_IDEMPOTENCY_KEY,
      `${taskId}:${scheduledAt}`,
      HEADER_TASK_ID,
      taskId,
      HEADER_SCHEDULED_AT,
      scheduledAt,
    ];
    if (userHeaders !== undefined) {
      for (const name in userHeaders) {
        if (!Object.prototype.hasOwnProperty.call(userHeaders, name)) {
          continue;
        }
        const value = userHeaders[name];
        const problem = headerProblem(name, value);
        if (problem !== undefined) {
          return problem;
        }
        if (!isReservedHeaderName(name)) {
          array.push(name, value);
        }
      }
    }
    array.push(HEADER_ATTEMPT, '1');
    const attemptIndex = array.length - 1;
    let signatureIndex = -1;
    if (signed) {
      array.push(HEADER_SIGNATURE, '');
      signatureIndex = array.length - 1;
    }
    return new CallbackHeaderList(array, attemptIndex, signatureIndex);
  }

  setAttempt(attempt: number): void {
    this.array[this.#attemptIndex] =
      attempt < ATTEMPT_TEXTS.length ? ATTEMPT_TEXTS[attempt] : String(attempt);
  }

  setSignature(value: string): void {
    if (this.#signatureIndex >= 0) {
      this.array[this.#signatureIndex] = value;
    }
  }
}
