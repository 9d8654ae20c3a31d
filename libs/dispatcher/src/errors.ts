/** Thrown (as a rejection) by `dispatch()` once `drain()` or `close()` has been called. */
export class DispatcherClosedError extends Error {
  override readonly name = 'DispatcherClosedError';
  constructor(message = 'callback dispatcher is draining or closed: no new dispatch accepted') {
    super(message);
  }
}

const MAX_ERROR_TEXT = 160;

/** Undici error codes that mean "this request can never be sent" rather than "try again". */
const PERMANENT_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

interface CodedError {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) {
    return undefined;
  }
  const e = error as CodedError;
  if (typeof e.code === 'string') {
    return e.code;
  }
  // Node's happy-eyeballs connect reports an AggregateError; its parts carry the codes.
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    return codeOf(e.errors[0]);
  }
  return undefined;
}

/**
 * A short text for a transport error: the system or TLS code when there is one ("ECONNREFUSED",
 * "ENOTFOUND", "CERT_HAS_EXPIRED"), else undici's message ("other side closed").
 */
export function describeTransportError(error: unknown): string {
  const code = codeOf(error);
  if (code !== undefined && !code.startsWith('UND_ERR')) {
    return code;
  }
  const message =
    typeof error === 'object' && error !== null && typeof (error as CodedError).message === 'string'
      ? ((error as CodedError).message as string)
      : String(error);
  const text = message === '' ? (code ?? 'request failed') : message;
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

/** Whether a transport error is worth another attempt (network trouble: yes; a bad request: no). */
export function isRetryableTransportError(error: unknown): boolean {
  const code = codeOf(error);
  return code === undefined || !PERMANENT_CODES.has(code);
}
