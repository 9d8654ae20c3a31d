import { encodeFrameWithRequestId, FrameKind } from './frame-codec';
import { string16, utf8Truncated, WireReader } from './wire-reader';

/** Longest error code carried back (codes are short identifiers such as "NOT_LEADER"). */
const ERROR_CODE_BYTES_MAX = 256;

export interface ErrorResponse {
  requestId: number;
  /** The thrown error's string `code`, or '' when it had none. */
  code: string;
  message: string;
}

/** A ResponseError frame: [u32 request id][u16 code length][code][message], message cut to `messageBytesMax`. */
export function encodeErrorResponse(response: ErrorResponse, messageBytesMax: number): Buffer {
  const body = Buffer.concat([
    string16(response.code, ERROR_CODE_BYTES_MAX),
    utf8Truncated(response.message, messageBytesMax),
  ]);
  return encodeFrameWithRequestId(FrameKind.ResponseError, response.requestId, body);
}

/** Throws MalformedFrameError when the body is not a well-formed error response. */
export function decodeErrorResponse(body: Buffer): ErrorResponse {
  const reader = new WireReader(body, 'error response');
  const requestId = reader.u32();
  const code = reader.string16('error code', ERROR_CODE_BYTES_MAX);
  return { requestId, code, message: reader.restAsString() };
}
