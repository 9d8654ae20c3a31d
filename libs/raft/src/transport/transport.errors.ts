/** Error codes of the peer transport; every error it raises on purpose is a TransportError with one. */
export enum TransportErrorCode {
  InvalidArgument = 'TRANSPORT_INVALID_ARGUMENT',
  ListenFailed = 'TRANSPORT_LISTEN_FAILED',
  NotRunning = 'TRANSPORT_NOT_RUNNING',
  Stopped = 'TRANSPORT_STOPPED',
  UnknownPeer = 'TRANSPORT_UNKNOWN_PEER',
  PayloadTooLarge = 'TRANSPORT_PAYLOAD_TOO_LARGE',
  QueueFull = 'TRANSPORT_QUEUE_FULL',
  Overloaded = 'TRANSPORT_OVERLOADED',
  RequestTimeout = 'TRANSPORT_REQUEST_TIMEOUT',
  ConnectionLost = 'TRANSPORT_CONNECTION_LOST',
  RemoteHandlerFailed = 'TRANSPORT_REMOTE_HANDLER_FAILED',
  MalformedFrame = 'TRANSPORT_MALFORMED_FRAME',
}

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** No response within the caller's timeout. The peer may still have handled (or yet handle) it. */
export class RequestTimeoutError extends TransportError {
  constructor(
    readonly peerId: string,
    readonly timeoutMs: number,
  ) {
    super(
      TransportErrorCode.RequestTimeout,
      `request to ${peerId} timed out after ${timeoutMs} ms`,
    );
    this.name = 'RequestTimeoutError';
  }
}

/**
 * The connection a request was (or was about to be) sent on failed or closed before the response
 * came. Whether the peer handled the request is unknown.
 */
export class ConnectionLostError extends TransportError {
  constructor(
    readonly peerId: string,
    readonly reason: string,
  ) {
    super(
      TransportErrorCode.ConnectionLost,
      `connection to ${peerId} lost before the response: ${reason}`,
    );
    this.name = 'ConnectionLostError';
  }
}

/** The peer's request handler threw or rejected; its message (and code, if a string) came back. */
export class RemoteHandlerError extends TransportError {
  constructor(
    readonly peerId: string,
    readonly remoteMessage: string,
    readonly remoteCode: string | undefined,
  ) {
    super(
      TransportErrorCode.RemoteHandlerFailed,
      `request handler of ${peerId} failed: ${remoteMessage}`,
    );
    this.name = 'RemoteHandlerError';
  }
}

/** `stop()` was called: pending requests and later calls get this. */
export class TransportStoppedError extends TransportError {
  constructor() {
    super(TransportErrorCode.Stopped, 'peer transport stopped');
    this.name = 'TransportStoppedError';
  }
}

/** Bytes received that are not a valid frame or frame body; the connection that sent them is closed. */
export class MalformedFrameError extends TransportError {
  constructor(reason: string) {
    super(TransportErrorCode.MalformedFrame, reason);
    this.name = 'MalformedFrameError';
  }
}

export function invalidArgument(message: string): TransportError {
  return new TransportError(TransportErrorCode.InvalidArgument, message);
}

/** A thrown value as text, for logs and for error messages carried back to a requester. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
