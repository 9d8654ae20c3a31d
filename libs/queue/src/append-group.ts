import { QUEUE_LIMITS } from './queue.constants';
import type { Segment } from './segment';

/** Bytes bound for one segment in one group, laid out from `startOffsetBytes`. */
export interface SegmentWrite {
  segment: Segment;
  startOffsetBytes: number;
  /** Filled parts of the chunks, in order. */
  buffers: Buffer[];
  bytes: number;
}

interface Waiter {
  resolve(seq: number): void;
  reject(error: unknown): void;
  seq: number;
}

/**
 * Appends gathered between two flushes (group commit): they share one vectored write per segment and,
 * under the `always` policy, one fdatasync. Frames are encoded straight into pooled chunks.
 */
export class AppendGroup {
  readonly writes: SegmentWrite[] = [];
  readonly waiters: Waiter[] = [];
  bytes = 0;
  lastSeq = 0;
  private chunk: Buffer | undefined;
  private chunkUsed = 0;

  constructor(private readonly chunkPool: ChunkPool) {}

  /** Room for `length` bytes at the end of `segment`'s write; returns the chunk and the offset in it. */
  reserve(segment: Segment, length: number): { target: Buffer; offset: number } {
    let write = this.writes[this.writes.length - 1];
    if (write === undefined || write.segment !== segment) {
      this.sealChunk();
      write = { segment, startOffsetBytes: segment.sizeBytes, buffers: [], bytes: 0 };
      this.writes.push(write);
    }
    if (this.chunk === undefined || this.chunk.length - this.chunkUsed < length) {
      this.sealChunk();
      this.chunk = this.chunkPool.take(length);
      this.chunkUsed = 0;
    }
    const offset = this.chunkUsed;
    this.chunkUsed += length;
    write.bytes += length;
    this.bytes += length;
    return { target: this.chunk, offset };
  }

  wait(seq: number): Promise<number> {
    return new Promise<number>((resolve, reject) => this.waiters.push({ resolve, reject, seq }));
  }

  /** Ends the chunk being filled; call before writing the group out. */
  seal(): void {
    this.sealChunk();
  }

  resolveAll(): void {
    for (const waiter of this.waiters) waiter.resolve(waiter.seq);
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.waiters) waiter.reject(error);
  }

  /** Returns the chunks to the pool once the operating system has copied them. */
  release(): void {
    for (const write of this.writes) {
      for (const buffer of write.buffers) this.chunkPool.give(buffer);
      write.buffers.length = 0;
    }
  }

  private sealChunk(): void {
    if (this.chunk === undefined) return;
    const write = this.writes[this.writes.length - 1];
    if (this.chunkUsed > 0) write.buffers.push(this.chunk.subarray(0, this.chunkUsed));
    else this.chunkPool.give(this.chunk);
    this.chunk = undefined;
    this.chunkUsed = 0;
  }
}

/** Reuses write chunks so that a busy queue does not allocate a megabyte per group commit. */
export class ChunkPool {
  private readonly free: ArrayBuffer[] = [];
  private static readonly keptMax = 8;

  take(minBytes: number): Buffer {
    const size = Math.max(QUEUE_LIMITS.writeChunkBytes, minBytes);
    const reusable = size === QUEUE_LIMITS.writeChunkBytes ? this.free.pop() : undefined;
    return reusable !== undefined ? Buffer.from(reusable) : Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    const backing = buffer.buffer;
    if (
      backing instanceof ArrayBuffer &&
      backing.byteLength === QUEUE_LIMITS.writeChunkBytes &&
      this.free.length < ChunkPool.keptMax
    ) {
      this.free.push(backing);
    }
  }
}
