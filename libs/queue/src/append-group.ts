import { QUEUE_LIMITS } from './queue.constants';
import { encodeFrameBody, writeFrameChecksums } from './record-frame';
import type { Segment } from './segment';

/** Bytes bound for one segment in one group, laid out from `startOffsetBytes`. */
export interface SegmentWrite {
  segment: Segment;
  startOffsetBytes: number;
  /** Filled parts of the chunks, in order. */
  buffers: Buffer[];
  /**
   * Per buffer, the offset of its first frame (after a segment header, if any), or its length when it
   * holds none. Frames run from there to the end of the buffer; their checksums are not written yet:
   * `writeChecksums` does that, just before the buffer is written (see AppendGroup.frame).
   */
  frameStarts: number[];
  bytes: number;
}

/** Writes the checksums of the frames of `write.buffers[index]`; call once, before writing it. */
export function writeChecksums(write: SegmentWrite, index: number): void {
  const buffer = write.buffers[index];
  writeFrameChecksums(buffer, write.frameStarts[index], buffer.length);
}

/** An empty chunk: a group starts with it, so the first `reserve` always takes a real one. */
const NO_CHUNK = Buffer.alloc(0);

/**
 * `new Promise` hands its resolve function to an executor; a module-level executor that parks it here
 * saves a closure per append (there is no Promise.withResolvers before Node 22).
 */
let parkedResolve: ((seq: number) => void) | undefined;
function parkResolve(resolve: (seq: number) => void): void {
  parkedResolve = resolve;
}

/**
 * Appends gathered between two flushes (group commit): they share the writes of each segment (one
 * per write chunk) and, under the `always` policy, one fdatasync. Frames are encoded straight into
 * pooled chunks.
 *
 * The hot path allocates nothing per append but the promise it returns: `reserve` returns an offset
 * into `chunk` rather than an object, and waiters are two parallel arrays (resolve function, seq).
 */
export class AppendGroup {
  readonly writes: SegmentWrite[] = [];
  bytes = 0;
  lastSeq = 0;
  /** The chunk that the last `reserve` made room in; its offset is what `reserve` returned. */
  chunk: Buffer = NO_CHUNK;
  private chunkUsed = 0;
  private readonly resolvers: Array<(seq: number) => void> = [];
  private readonly seqs: number[] = [];
  /** Offset of the first frame in `chunk` (after a segment header, if any); -1 while it has none. */
  private framesStart = -1;

  constructor(private readonly chunkPool: ChunkPool) {}

  /** Room for `length` bytes at the end of `segment`'s write: returns their offset in `chunk`. */
  reserve(segment: Segment, length: number): number {
    let write = this.writes[this.writes.length - 1];
    if (write === undefined || write.segment !== segment) {
      this.sealChunk();
      write = {
        segment,
        startOffsetBytes: segment.sizeBytes,
        buffers: [],
        frameStarts: [],
        bytes: 0,
      };
      this.writes.push(write);
    }
    if (this.chunk.length - this.chunkUsed < length) {
      this.sealChunk();
      this.chunk = this.chunkPool.take(length);
    }
    const offset = this.chunkUsed;
    this.chunkUsed += length;
    write.bytes += length;
    this.bytes += length;
    return offset;
  }

  /**
   * Encodes the frame of record `seq`, all but its checksum, into room that `reserve` made at
   * `offset` of `chunk`. The checksums of a chunk's frames are written in one pass just before the
   * chunk is written (`writeChecksums`): computed per append, amid the caller's code, each checksum
   * found the CRC tables (8 KiB) evicted from the L1 cache and the payload just copied in still in
   * flight, about twice the cost of the same checksums done back to back (measured); and the pass
   * over one chunk can run while the previous chunk is being written. Either way a checksum is
   * computed from the bytes in the chunk, the ones that reach the disk.
   */
  frame(offset: number, seq: number, payload: Uint8Array): void {
    encodeFrameBody(this.chunk, offset, seq, payload);
    if (this.framesStart < 0) this.framesStart = offset;
  }

  /** A promise that `resolveAll` fulfils with `seq`, or `rejectAll` rejects. */
  wait(seq: number): Promise<number> {
    const promise = new Promise<number>(parkResolve);
    this.resolvers.push(parkedResolve as (seq: number) => void);
    this.seqs.push(seq);
    return promise;
  }

  get waiterCount(): number {
    return this.resolvers.length;
  }

  /** Ends the chunk being filled; call before writing the group out (and its checksums). */
  seal(): void {
    this.sealChunk();
  }

  resolveAll(): void {
    const { resolvers, seqs } = this;
    for (let i = 0; i < resolvers.length; i++) resolvers[i](seqs[i]);
  }

  rejectAll(error: unknown): void {
    if (this.resolvers.length === 0) return;
    // Resolving a promise with a rejected one rejects it with the same reason: no reject functions
    // need keeping. The shared promise itself is marked handled; each waiter's stays the caller's.
    const rejected = Promise.reject(error);
    rejected.catch(() => undefined);
    for (const resolve of this.resolvers) (resolve as (value: unknown) => void)(rejected);
  }

  /** Returns the chunks to the pool once the operating system has copied them. */
  release(): void {
    for (const write of this.writes) {
      for (const buffer of write.buffers) this.chunkPool.give(buffer);
      write.buffers.length = 0;
    }
  }

  private sealChunk(): void {
    if (this.chunk === NO_CHUNK) return;
    const write = this.writes[this.writes.length - 1];
    if (this.chunkUsed > 0) {
      write.buffers.push(this.chunk.subarray(0, this.chunkUsed));
      // Frames are contiguous from the first one to the end of what is used: a segment header only
      // ever opens a fresh chunk.
      write.frameStarts.push(this.framesStart >= 0 ? this.framesStart : this.chunkUsed);
    } else {
      this.chunkPool.give(this.chunk);
    }
    this.framesStart = -1;
    this.chunk = NO_CHUNK;
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
