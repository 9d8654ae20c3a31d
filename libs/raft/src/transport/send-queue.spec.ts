import { SendQueue } from './send-queue';

const frame = (bytes: number, fill = 1): Buffer => Buffer.alloc(bytes, fill);

describe('SendQueue', () => {
  it('refuses frames beyond its frame count', () => {
    const queue = new SendQueue({ sendQueueFramesMax: 3, sendQueueBytesMax: 1_000_000 });
    expect([1, 2, 3, 4].map(() => queue.push({ frame: frame(10) }))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(queue.frames).toBe(3);
    expect(queue.bytes).toBe(30);
  });

  it('refuses frames beyond its byte budget, and takes them again once drained', () => {
    const queue = new SendQueue({ sendQueueFramesMax: 100, sendQueueBytesMax: 250 });
    expect(queue.push({ frame: frame(100) })).toBe(true);
    expect(queue.push({ frame: frame(100) })).toBe(true);
    expect(queue.push({ frame: frame(100) })).toBe(false);
    expect(queue.push({ frame: frame(50) })).toBe(true);
    queue.takeBatch(1_000);
    expect(queue.bytes).toBe(0);
    expect(queue.push({ frame: frame(100) })).toBe(true);
  });

  it('coalesces small frames into one buffer, in order, up to the batch size', () => {
    const queue = new SendQueue({ sendQueueFramesMax: 100, sendQueueBytesMax: 1_000_000 });
    for (let i = 1; i <= 5; i++) queue.push({ frame: frame(10, i) });
    const first = queue.takeBatch(30);
    expect(first?.frames).toBe(3);
    expect([...(first?.buffer ?? [])]).toEqual([...frame(10, 1), ...frame(10, 2), ...frame(10, 3)]);
    const second = queue.takeBatch(30);
    expect(second?.frames).toBe(2);
    expect(queue.takeBatch(30)).toBeUndefined();
  });

  it('returns a frame larger than the batch size alone and uncopied', () => {
    const queue = new SendQueue({ sendQueueFramesMax: 100, sendQueueBytesMax: 1_000_000 });
    const big = frame(500);
    queue.push({ frame: big });
    queue.push({ frame: frame(10) });
    const batch = queue.takeBatch(100);
    expect(batch?.buffer).toBe(big);
    expect(batch?.frames).toBe(1);
  });

  it('removes queued requests and keeps messages in order', () => {
    const queue = new SendQueue({ sendQueueFramesMax: 100, sendQueueBytesMax: 1_000_000 });
    queue.push({ frame: frame(10, 1) });
    queue.push({ frame: frame(20, 2), requestId: 1 });
    queue.push({ frame: frame(10, 3) });
    expect(queue.removeRequests()).toBe(1);
    expect(queue.frames).toBe(2);
    expect(queue.bytes).toBe(20);
    expect([...(queue.takeBatch(100)?.buffer ?? [])]).toEqual([...frame(10, 1), ...frame(10, 3)]);
  });

  it('stays consistent over many push/take cycles (head compaction)', () => {
    const queue = new SendQueue({ sendQueueFramesMax: 5_000, sendQueueBytesMax: 1_000_000 });
    let next = 0;
    let taken = 0;
    let outOfOrder = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3_000 && queue.push({ frame: Buffer.from([next % 256]) }); i++) next++;
      const batch = queue.takeBatch(2_500);
      for (const byte of batch?.buffer ?? []) if (byte !== taken++ % 256) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    expect(queue.frames).toBe(next - taken);
    expect(queue.bytes).toBe(next - taken);
  });
});
