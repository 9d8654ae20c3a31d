import type { FileHandle } from './fs/file-system';
import { FRAME_HEADER_BYTES } from './queue.constants';
import { checkFrame, loadU32, readSeq, validFrameBytes } from './record-frame';

/** One record as read from a segment; `payload` is a view into a read buffer that is never reused. */
export interface FrameRecord {
  seq: number;
  payload: Buffer;
  offsetBytes: number;
  frameBytes: number;
}

/** Why reading stopped before the end: a record cut short, or bytes that are not a valid record. */
export interface FrameProblem {
  kind: 'incomplete' | 'bad';
  offsetBytes: number;
  /** Bytes the frame at `offsetBytes` claims to span (the header's size when its length is implausible). */
  declaredBytes: number;
  reason: string;
}

export interface FrameBatch {
  records: FrameRecord[];
  /** Set on the last batch when reading stopped at a problem instead of at `endOffsetBytes`. */
  problem?: FrameProblem;
}

export interface FrameReadOptions {
  startOffsetBytes: number;
  endOffsetBytes: number;
  readBufferBytes: number;
  recordBytesMax: number;
}

/**
 * Reads the frames between two offsets of a segment with a bounded buffer: one read of at most
 * `readBufferBytes` at a time (more only for a single record larger than that). Checks each frame's
 * length and checksum; order of sequences is the caller's concern.
 */
export async function* readFrameBatches(
  handle: FileHandle,
  options: FrameReadOptions,
): AsyncGenerator<FrameBatch> {
  const { readBufferBytes, recordBytesMax } = options;
  let endOffset = options.endOffsetBytes;
  let buffer = Buffer.allocUnsafe(readBufferBytes);
  let bufferStart = options.startOffsetBytes; // file offset of buffer[0]
  let filled = 0;
  while (bufferStart + filled < endOffset) {
    const want = Math.min(buffer.length - filled, endOffset - (bufferStart + filled));
    const got = await handle.read(buffer, filled, want, bufferStart + filled);
    if (got === 0) endOffset = bufferStart + filled; // the file is shorter than expected
    filled += got;
    const atEnd = bufferStart + filled >= endOffset;
    const records: FrameRecord[] = [];
    let cursor = 0;
    while (cursor < filled) {
      // Fast path: a whole frame with a good checksum, read without any per-check object.
      const frameBytes = validFrameBytes(buffer, cursor, filled - cursor, recordBytesMax);
      if (frameBytes > 0) {
        records.push({
          seq: readSeq(buffer, cursor + 8),
          // Buffer.from(arrayBuffer, …) makes the same view as subarray, measured 20% cheaper.
          payload: Buffer.from(
            buffer.buffer,
            buffer.byteOffset + cursor + FRAME_HEADER_BYTES,
            frameBytes - FRAME_HEADER_BYTES,
          ),
          offsetBytes: bufferStart + cursor,
          frameBytes,
        });
        cursor += frameBytes;
        continue;
      }
      const check = checkFrame(buffer, cursor, filled - cursor, recordBytesMax);
      const offsetBytes = bufferStart + cursor;
      if (check.kind === 'ok') {
        throw new Error(`assertion failed: the frame at ${offsetBytes} checks both bad and good`);
      }
      if (check.kind === 'bad') {
        yield {
          records,
          problem: {
            kind: 'bad',
            offsetBytes,
            declaredBytes: check.declaredBytes,
            reason: check.reason,
          },
        };
        return;
      }
      if (atEnd) {
        const remaining = filled - cursor;
        yield {
          records,
          problem: {
            kind: 'incomplete',
            offsetBytes,
            declaredBytes: check.declaredBytes,
            reason: `record cut short: it needs ${check.declaredBytes} bytes, ${remaining} remain`,
          },
        };
        return;
      }
      break; // the frame continues past what is buffered: read more
    }
    if (records.length > 0) yield { records };
    // Records handed out are views of `buffer`: move the unread tail into a fresh buffer.
    const tail = filled - cursor;
    const nextSize = Math.max(readBufferBytes, nextFrameBytes(buffer, cursor, tail));
    const next = Buffer.allocUnsafe(nextSize);
    buffer.copy(next, 0, cursor, filled);
    buffer = next;
    bufferStart += cursor;
    filled = tail;
  }
}

/** Size of the frame starting at `offset` when its header is buffered, so one buffer can hold it whole. */
function nextFrameBytes(buffer: Buffer, offset: number, available: number): number {
  return available >= 4 ? FRAME_HEADER_BYTES + loadU32(buffer, offset) : 0;
}
