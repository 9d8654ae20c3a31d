import { encodeErrorResponse } from './error-response';
import { encodeFrameWithRequestId, FrameKind, splitRequestId } from './frame-codec';
import type { PeerConnection } from './peer-connection';
import type { TransportLimits } from './transport.constants';
import { describeError, TransportError, TransportErrorCode } from './transport.errors';
import type { TransportLogger } from './transport.options';

export type RequestHandler = (fromPeerId: string, payload: Uint8Array) => Promise<Uint8Array>;

export interface RequestResponderOptions {
  nodeId: string;
  limits: TransportLimits;
  payloadBytesMax: number;
  logger: TransportLogger;
}

/**
 * The acceptor side of requests: runs the handler for each Request frame and queues the answer on
 * the connection the request came on. A handler that throws or rejects becomes a ResponseError
 * carrying its message (and its string `code`, if any); it never costs the connection. Requests
 * in flight per connection are capped: beyond `requestsInFlightMax` the peer is told "overloaded".
 */
export class RequestResponder {
  handler: RequestHandler | undefined;

  constructor(private readonly options: RequestResponderOptions) {}

  /** Throws MalformedFrameError for a body too short for a request id (the connection closes). */
  handle(connection: PeerConnection, fromPeerId: string, body: Buffer): void {
    const { requestId, payload } = splitRequestId(body);
    const { nodeId, limits } = this.options;
    const handler = this.handler;
    if (handler === undefined) {
      const message = `node ${nodeId} has no request handler`;
      connection.enqueue(this.errorFrame(requestId, 'TRANSPORT_NO_REQUEST_HANDLER', message));
      return;
    }
    if (connection.inboundRequestsInFlight >= limits.requestsInFlightMax) {
      const message = `node ${nodeId} has ${limits.requestsInFlightMax} requests from ${fromPeerId} in flight`;
      connection.enqueue(this.errorFrame(requestId, TransportErrorCode.Overloaded, message));
      return;
    }
    connection.inboundRequestsInFlight++;
    void this.answer(connection, fromPeerId, requestId, () => handler(fromPeerId, payload)).finally(
      () => connection.inboundRequestsInFlight--,
    );
  }

  /** Never rejects: every outcome of the handler becomes a frame. */
  private async answer(
    connection: PeerConnection,
    fromPeerId: string,
    requestId: number,
    run: () => Promise<Uint8Array>,
  ): Promise<void> {
    let frame: Buffer;
    try {
      frame = encodeFrameWithRequestId(FrameKind.Response, requestId, this.checked(await run()));
    } catch (error) {
      frame = this.errorFrame(requestId, errorCodeOf(error), describeError(error));
    }
    if (!connection.enqueue(frame) && connection.isOpen) {
      this.options.logger.warn(
        `response to request ${requestId} from ${fromPeerId} dropped: send queue full`,
      );
    }
  }

  private checked(response: unknown): Uint8Array {
    if (!(response instanceof Uint8Array)) {
      throw new TypeError('request handler resolved with something other than a Uint8Array');
    }
    if (response.length > this.options.payloadBytesMax) {
      throw new TransportError(
        TransportErrorCode.PayloadTooLarge,
        `response of ${response.length} bytes exceeds payloadBytesMax ${this.options.payloadBytesMax}`,
      );
    }
    return response;
  }

  private errorFrame(requestId: number, code: string, message: string): Buffer {
    return encodeErrorResponse(
      { requestId, code, message },
      this.options.limits.errorMessageBytesMax,
    );
  }
}

function errorCodeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null || !('code' in error)) return '';
  return typeof error.code === 'string' ? error.code : '';
}
