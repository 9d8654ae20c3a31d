/** One encoded frame waiting to be written; `requestId` marks a Request frame. */
export interface QueuedFrame {
  frame: Buffer;
  requestId?: number;
}

/** Frames taken for one socket write. */
export interface WriteBatch {
  buffer: Buffer;
  frames: number;
}

export interface SendQueueLimits {
  sendQueueFramesMax: number;
  sendQueueBytesMax: number;
}

/**
 * Per-peer FIFO of encoded frames, bounded by count and by bytes. `push` refuses (returns false)
 * instead of growing past either bound: the caller counts the drop, and Raft retransmits what
 * mattered. It absorbs bursts while a connection is down or waiting for 'drain'.
 */
export class SendQueue {
  private items: QueuedFrame[] = [];
  /** Index of the oldest item; consumed items before it are dropped in bulk (no O(n) shift per frame). */
  private head = 0;
  private queuedBytes = 0;

  constructor(private readonly limits: SendQueueLimits) {}

  get frames(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  push(item: QueuedFrame): boolean {
    if (this.frames >= this.limits.sendQueueFramesMax) return false;
    if (this.queuedBytes + item.frame.length > this.limits.sendQueueBytesMax) return false;
    this.items.push(item);
    this.queuedBytes += item.frame.length;
    return true;
  }

  /**
   * The oldest frames, coalesced into one buffer of at most `bytesMax` bytes so that many small
   * frames cost one write system call. A frame larger than `bytesMax` is returned alone, uncopied.
   */
  takeBatch(bytesMax: number): WriteBatch | undefined {
    if (this.frames === 0) return undefined;
    const first = this.items[this.head].frame;
    let end = this.head + 1;
    let total = first.length;
    while (end < this.items.length && total + this.items[end].frame.length <= bytesMax) {
      total += this.items[end].frame.length;
      end++;
    }
    const frames = end - this.head;
    const buffer = frames === 1 ? first : Buffer.allocUnsafe(total);
    if (frames > 1) {
      let offset = 0;
      for (let i = this.head; i < end; i++) {
        this.items[i].frame.copy(buffer, offset);
        offset += this.items[i].frame.length;
      }
    }
    this.advance(end, total);
    return { buffer, frames };
  }

  /** Removes queued Request frames (their callers were told the connection failed); returns how many. */
  removeRequests(): number {
    const kept = this.items.slice(this.head).filter((item) => item.requestId === undefined);
    const removed = this.frames - kept.length;
    this.items = kept;
    this.head = 0;
    this.queuedBytes = kept.reduce((sum, item) => sum + item.frame.length, 0);
    return removed;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private advance(end: number, bytes: number): void {
    for (let i = this.head; i < end; i++) this.items[i] = EMPTY_ITEM; // release the buffers now
    this.head = end;
    this.queuedBytes -= bytes;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY_ITEM: QueuedFrame = { frame: Buffer.alloc(0) };
