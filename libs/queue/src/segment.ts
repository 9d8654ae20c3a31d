import { join } from 'node:path';
import type { FileHandle } from './fs/file-system';
import { QUEUE_LIMITS, SEGMENT_HEADER_BYTES, SEGMENT_SUFFIX } from './queue.constants';

const SEGMENT_NAME = /^(\d{20})\.seg$/;

export function segmentFileName(baseSeq: number): string {
  return `${String(baseSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** The base sequence named by a segment file name, or undefined for any other file. */
export function parseSegmentFileName(fileName: string): number | undefined {
  const match = SEGMENT_NAME.exec(fileName);
  if (!match) return undefined;
  const base = Number(match[1]);
  return Number.isSafeInteger(base) ? base : undefined;
}

/**
 * What the queue knows of one segment file. Records in it have sequences `>= baseSeq` and below the
 * next segment's base. Sizes count appended bytes, including those not yet written.
 *
 * Invariants: `writtenBytes <= sizeBytes`; `lastSeq >= baseSeq - 1` (equal when empty);
 * `indexSeqs` and `indexOffsets` have the same length and are strictly increasing.
 */
export class Segment {
  readonly fileName: string;
  readonly path: string;
  /** Bytes appended to this segment (header included), written or still pending. */
  sizeBytes = SEGMENT_HEADER_BYTES;
  /** Bytes handed to the operating system. */
  writtenBytes = SEGMENT_HEADER_BYTES;
  /** `writtenBytes` when the last early writeback (background fdatasync) of this segment started. */
  writebackStartBytes = 0;
  /** Highest sequence appended to this segment; baseSeq - 1 while it has no record. */
  lastSeq: number;
  recordCount = 0;
  /** False for a sealed segment found on open until a read or verify scans it. */
  indexed = false;
  /** Sparse index: the sequence and offset of the first record at or after every index interval. */
  readonly indexSeqs: number[] = [];
  readonly indexOffsets: number[] = [];
  /** The next record at or after this offset gets an index entry (the last entry's plus the interval). */
  private nextIndexOffset = 0;
  /** Open while this is the segment being appended to. */
  writeHandle: FileHandle | undefined;
  /** True until the file exists on disk (created by the flush that writes its first bytes). */
  pendingCreate = false;

  constructor(
    dir: string,
    readonly baseSeq: number,
  ) {
    this.fileName = segmentFileName(baseSeq);
    this.path = join(dir, this.fileName);
    this.lastSeq = baseSeq - 1;
  }

  get hasRecords(): boolean {
    return this.recordCount > 0;
  }

  /** Notes a record at `offsetBytes`, keeping one index entry per interval of bytes. */
  noteRecord(seq: number, offsetBytes: number, frameBytes: number): void {
    if (offsetBytes >= this.nextIndexOffset) {
      this.indexSeqs.push(seq);
      this.indexOffsets.push(offsetBytes);
      this.nextIndexOffset = offsetBytes + QUEUE_LIMITS.indexIntervalBytes;
    }
    this.lastSeq = seq;
    this.recordCount += 1;
    this.sizeBytes = offsetBytes + frameBytes;
  }

  /** Offset to start scanning from to find `seq`: the last index entry at or before it. */
  scanStartFor(seq: number): number {
    let low = 0;
    let high = this.indexSeqs.length - 1;
    let found = SEGMENT_HEADER_BYTES;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (this.indexSeqs[mid] <= seq) {
        found = this.indexOffsets[mid];
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  resetIndex(): void {
    this.indexSeqs.length = 0;
    this.indexOffsets.length = 0;
    this.nextIndexOffset = 0;
    this.recordCount = 0;
    this.lastSeq = this.baseSeq - 1;
    this.sizeBytes = SEGMENT_HEADER_BYTES;
    this.writtenBytes = SEGMENT_HEADER_BYTES;
  }
}
