/**
 * Wire format of the peer port.
 *
 * A connection carries a stream of frames:
 *
 *     frame = [u32 length, big-endian][u8 kind][body: length - 1 bytes]
 *
 * `length` counts the kind byte and the body, never itself, so the smallest frame is 5 bytes
 * (length 1, empty body) and a frame spans `4 + length` bytes. A frame larger than the
 * connection's limit (`handshakeFrameBytesMax` until the handshake completes, `frameBytesMax`
 * after) or of an unknown kind is refused as soon as its 5-byte header has arrived, before its body
 * is buffered, and the connection that sent it is closed.
 *
 * Kinds and bodies (integers big-endian, strings UTF-8):
 *
 *   1  Hello     dialer → acceptor   hello body (see hello-message.ts)
 *   2  HelloAck  acceptor → dialer   hello body, carrying the acceptor's proof of the secret
 *   3  Auth      dialer → acceptor   the dialer's proof (32 bytes; empty without a secret)
 *   4  Welcome   acceptor → dialer   empty: the acceptor checked everything, the connection is open
 *   5  Refuse    either way          [u8 refusal code][reason text]; the sender then closes
 *  16  Message   dialer → acceptor   one-way opaque payload
 *  17  Request   dialer → acceptor   [u32 request id][opaque payload]
 *  18  Response  acceptor → dialer   [u32 request id][opaque payload]
 *  19  RespError acceptor → dialer   [u32 request id][u16 code length][code][message text]
 *  32  Ping      dialer → acceptor   empty; answered by a Pong
 *  33  Pong      acceptor → dialer   empty
 *
 * Directions are fixed because each node sends its messages and requests on its own outbound
 * connection and only receives on the connections it accepted (see peer-transport.ts); a frame
 * arriving in the wrong direction or state is a protocol error. Future protocol versions must keep
 * this outer format, the hello's magic-and-version prefix and the Refuse body, so that a version
 * mismatch is still reported in words.
 */
import { MalformedFrameError } from './transport.errors';

export enum FrameKind {
  Hello = 1,
  HelloAck = 2,
  Auth = 3,
  Welcome = 4,
  Refuse = 5,
  Message = 16,
  Request = 17,
  Response = 18,
  ResponseError = 19,
  Ping = 32,
  Pong = 33,
}

/** Bytes of the length field. */
export const FRAME_LENGTH_BYTES = 4;
/** Bytes before the body: length and kind. */
export const FRAME_HEADER_BYTES = 5;
/** Bytes of the request id that opens Request, Response and ResponseError bodies. */
export const REQUEST_ID_BYTES = 4;

const FRAME_KINDS: ReadonlySet<number> = new Set(
  Object.values(FrameKind).filter((value): value is number => typeof value === 'number'),
);

export function isFrameKind(value: number): value is FrameKind {
  return FRAME_KINDS.has(value);
}

/** One frame: header and body in one buffer, ready to be queued and written. */
export function encodeFrame(kind: FrameKind, body: Uint8Array = EMPTY): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame[FRAME_LENGTH_BYTES] = kind;
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** A Request, Response or ResponseError frame: the request id, then `body`. */
export function encodeFrameWithRequestId(
  kind: FrameKind,
  requestId: number,
  body: Uint8Array,
): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + REQUEST_ID_BYTES + body.length);
  frame.writeUInt32BE(1 + REQUEST_ID_BYTES + body.length, 0);
  frame[FRAME_LENGTH_BYTES] = kind;
  frame.writeUInt32BE(requestId, FRAME_HEADER_BYTES);
  frame.set(body, FRAME_HEADER_BYTES + REQUEST_ID_BYTES);
  return frame;
}

/** Splits a Request/Response body into its id and the payload after it (a view, not a copy). */
export function splitRequestId(body: Buffer): { requestId: number; payload: Buffer } {
  if (body.length < REQUEST_ID_BYTES) {
    throw new MalformedFrameError(`body of ${body.length} bytes is too short for a request id`);
  }
  return { requestId: body.readUInt32BE(0), payload: body.subarray(REQUEST_ID_BYTES) };
}

export interface DecodedFrame {
  kind: FrameKind;
  /** The body: a view of a received chunk when the frame lay in one, else a fresh copy. Never reused. */
  body: Buffer;
  /** Bytes the whole frame took on the wire, header included. */
  frameBytes: number;
}

/**
 * Incremental decoder for one connection. `push` each received chunk, then call `next` until it
 * returns undefined. Chunks are kept in a list, not appended to one growing buffer, so every byte
 * is copied at most once (only a frame that spans chunks is copied, into a buffer of its exact
 * size): decoding stays linear however the stream was split. After `next` throws, the stream is
 * unusable and the connection must be closed.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Index in `chunks` of the first chunk with unread bytes. */
  private head = 0;
  /** Bytes of `chunks[head]` already consumed. */
  private headOffset = 0;
  private buffered = 0;

  constructor(private frameBytesMax: number) {}

  /** Unread bytes held. Bounded by the limit plus one chunk, since a header is checked on arrival. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Raised once the handshake completes; frames already decoded are unaffected. */
  setFrameBytesMax(frameBytesMax: number): void {
    this.frameBytesMax = frameBytesMax;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  next(): DecodedFrame | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined;
    const length = this.peekUInt32();
    const kind = this.peekByte(FRAME_LENGTH_BYTES);
    if (length < 1) throw new MalformedFrameError('frame with length 0 (no kind byte)');
    const frameBytes = FRAME_LENGTH_BYTES + length;
    if (frameBytes > this.frameBytesMax) {
      throw new MalformedFrameError(
        `frame of ${frameBytes} bytes exceeds the limit of ${this.frameBytesMax}`,
      );
    }
    if (!isFrameKind(kind)) throw new MalformedFrameError(`unknown frame kind ${kind}`);
    if (this.buffered < frameBytes) return undefined;
    const frame = this.take(frameBytes);
    return { kind, body: frame.subarray(FRAME_HEADER_BYTES), frameBytes };
  }

  private peekUInt32(): number {
    let value = 0;
    for (let i = 0; i < FRAME_LENGTH_BYTES; i++) value = value * 256 + this.peekByte(i);
    return value;
  }

  /** Byte at `offset` from the read position; callers ensure it is buffered. */
  private peekByte(offset: number): number {
    let index = this.head;
    let position = this.headOffset + offset;
    while (position >= this.chunks[index].length) {
      position -= this.chunks[index].length;
      index++;
    }
    return this.chunks[index][position];
  }

  /** Consumes `bytes` (all buffered): a view when they lie in one chunk, else one exact-size copy. */
  private take(bytes: number): Buffer {
    const first = this.chunks[this.head];
    if (first.length - this.headOffset >= bytes) {
      const view = first.subarray(this.headOffset, this.headOffset + bytes);
      this.consume(bytes);
      return view;
    }
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[this.head];
      const n = Math.min(chunk.length - this.headOffset, bytes - filled);
      chunk.copy(out, filled, this.headOffset, this.headOffset + n);
      filled += n;
      this.consume(n);
    }
    return out;
  }

  /** Advances past `bytes` of the head chunk (never more than it holds). */
  private consume(bytes: number): void {
    this.buffered -= bytes;
    this.headOffset += bytes;
    if (this.headOffset < this.chunks[this.head].length) return;
    this.head++;
    this.headOffset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      // Drop consumed chunks in bulk: amortised O(1) per chunk, unlike Array.shift per chunk.
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
