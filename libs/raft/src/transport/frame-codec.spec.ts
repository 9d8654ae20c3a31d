import fc from 'fast-check';
import {
  encodeFrame,
  encodeFrameWithRequestId,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameKind,
  splitRequestId,
  type DecodedFrame,
} from './frame-codec';
import { MalformedFrameError } from './transport.errors';

const MiB = 1024 * 1024;

function drain(decoder: FrameDecoder): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) frames.push(frame);
  return frames;
}

function sampleFrames(): Buffer[] {
  return [
    encodeFrame(FrameKind.Message, Buffer.from('first')),
    encodeFrame(FrameKind.Ping),
    encodeFrameWithRequestId(FrameKind.Request, 7, Buffer.from('a request')),
    encodeFrame(FrameKind.Message, Buffer.alloc(3000, 0xab)),
    encodeFrame(FrameKind.Message, Buffer.from('')),
  ];
}

function summary(frames: DecodedFrame[]): Array<[FrameKind, string]> {
  return frames.map((frame) => [frame.kind, frame.body.toString('hex')]);
}

describe('frame codec', () => {
  it('encodes [u32 length][u8 kind][body] with length counting kind and body', () => {
    const frame = encodeFrame(FrameKind.Message, Buffer.from([1, 2, 3]));
    expect([...frame]).toEqual([0, 0, 0, 4, FrameKind.Message, 1, 2, 3]);
    const request = encodeFrameWithRequestId(FrameKind.Request, 0x01020304, Buffer.from([9]));
    expect([...request]).toEqual([0, 0, 0, 6, FrameKind.Request, 1, 2, 3, 4, 9]);
  });

  it('decodes many frames delivered in one chunk', () => {
    const decoder = new FrameDecoder(MiB);
    const frames = sampleFrames();
    decoder.push(Buffer.concat(frames));
    const decoded = drain(decoder);
    expect(decoded.map((f) => f.kind)).toEqual([
      FrameKind.Message,
      FrameKind.Ping,
      FrameKind.Request,
      FrameKind.Message,
      FrameKind.Message,
    ]);
    expect(decoded[0].body.toString()).toBe('first');
    expect(splitRequestId(decoded[2].body)).toEqual({
      requestId: 7,
      payload: Buffer.from('a request'),
    });
    expect(decoded.map((f) => f.frameBytes)).toEqual(frames.map((f) => f.length));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes frames split byte by byte across chunks', () => {
    const decoder = new FrameDecoder(MiB);
    const stream = Buffer.concat(sampleFrames());
    const decoded: DecodedFrame[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.push(stream.subarray(i, i + 1));
      decoded.push(...drain(decoder));
    }
    expect(summary(decoded)).toEqual(summary(drain(withAll(sampleFrames()))));
  });

  it('decodes the same frames however the stream is cut (property)', () => {
    const expected = summary(drain(withAll(sampleFrames())));
    const stream = Buffer.concat(sampleFrames());
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 40 }),
        (cuts) => {
          const points = [...new Set([0, ...cuts, stream.length])].sort((a, b) => a - b);
          const decoder = new FrameDecoder(MiB);
          const decoded: DecodedFrame[] = [];
          for (let i = 1; i < points.length; i++) {
            decoder.push(stream.subarray(points[i - 1], points[i]));
            decoded.push(...drain(decoder));
          }
          expect(summary(decoded)).toEqual(expected);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { seed: 20_240_601, numRuns: 300 },
    );
  });

  it('reassembles a large frame from many small chunks in linear time', () => {
    // 4 MiB in 1-byte chunks would be 4 M pushes; 64-byte chunks keep the test quick while a
    // quadratic decoder (re-concatenating per chunk) would copy ~130 GB and never finish.
    const body = Buffer.alloc(4 * MiB);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const stream = encodeFrame(FrameKind.Message, body);
    const decoder = new FrameDecoder(16 * MiB);
    let decoded: DecodedFrame | undefined;
    for (let offset = 0; offset < stream.length; offset += 64) {
      decoder.push(stream.subarray(offset, offset + 64));
      decoded ??= decoder.next();
    }
    expect(decoded?.body.equals(body)).toBe(true);
  });

  it('hands out a view, not a copy, when a frame lies in one chunk', () => {
    const chunk = encodeFrame(FrameKind.Message, Buffer.from('zero-copy'));
    const decoder = new FrameDecoder(MiB);
    decoder.push(chunk);
    const frame = decoder.next();
    expect(frame?.body.buffer).toBe(chunk.buffer);
  });

  it('refuses an oversized frame as soon as its header arrives, before the body', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.from([0, 0, 4, 0, FrameKind.Message]); // declares 1024 + 4 bytes
    decoder.push(header);
    expect(() => decoder.next()).toThrow(MalformedFrameError);
    expect(() => decoder.next()).toThrow(/exceeds the limit of 1024/);
  });

  it('accepts a frame of exactly the limit', () => {
    const decoder = new FrameDecoder(1024);
    decoder.push(encodeFrame(FrameKind.Message, Buffer.alloc(1024 - FRAME_HEADER_BYTES)));
    expect(decoder.next()?.frameBytes).toBe(1024);
  });

  it('refuses a zero length and an unknown kind', () => {
    const zero = new FrameDecoder(MiB);
    zero.push(Buffer.from([0, 0, 0, 0, 1]));
    expect(() => zero.next()).toThrow(/length 0/);
    const unknown = new FrameDecoder(MiB);
    unknown.push(Buffer.from([0, 0, 0, 1, 200]));
    expect(() => unknown.next()).toThrow(/unknown frame kind 200/);
  });

  it('applies a raised limit to frames not yet decoded', () => {
    const decoder = new FrameDecoder(1024);
    decoder.push(encodeFrame(FrameKind.Message, Buffer.alloc(2000)));
    expect(() => decoder.next()).toThrow(MalformedFrameError);
    const raised = new FrameDecoder(1024);
    raised.push(encodeFrame(FrameKind.Message, Buffer.alloc(2000)));
    raised.setFrameBytesMax(4096);
    expect(raised.next()?.body.length).toBe(2000);
  });

  it('rejects a request body too short for its id', () => {
    expect(() => splitRequestId(Buffer.from([1, 2]))).toThrow(MalformedFrameError);
  });
});

function withAll(frames: Buffer[]): FrameDecoder {
  const decoder = new FrameDecoder(MiB);
  decoder.push(Buffer.concat(frames));
  return decoder;
}
