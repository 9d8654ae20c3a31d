import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskQueue } from './disk-queue';
import { QUEUE_LIMITS } from './queue.constants';
import { QueueErrorCode } from './queue.errors';
import type { QueueLogger } from './queue.options';
import { SimulatedFileSystem } from './testing';

/**
 * The performance paths of the queue, checked for what they must not change: checksums written at
 * seal time over groups that span chunks and segments, early writeback (more durable, never
 * claimed), the synchronous write of small `always` groups, and the per-record iterator.
 */

const DIR = '/data/journal';

function recordingLogger(): QueueLogger & { errors: string[] } {
  const errors: string[] = [];
  return { info: () => undefined, warn: () => undefined, error: (m) => errors.push(m), errors };
}

function payloadOf(seq: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (seq * 31 + i * 7) & 0xff;
  return out;
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DiskQueue fast paths', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('checksums every frame of a group that spans write chunks, a large record and segment rolls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xcron-queue-fast-'));
    dirs.push(dir);
    const segmentBytes = 1536 * 1024;
    let queue = await DiskQueue.open(dir, { syncMode: 'none', segmentBytes });
    const sizes: number[] = [];
    for (let i = 0; i < 5000; i++) sizes.push(i === 2500 ? 1200 * 1024 : (i * 37) % 900);
    // One tick: a single group of several megabytes, more than one write chunk per segment.
    const appended: Array<Promise<number>> = [];
    for (let i = 0; i < 2000; i++) appended.push(queue.append(payloadOf(i + 1, sizes[i])));
    appended.push(queue.appendBatch(sizes.slice(2000).map((size, i) => payloadOf(2001 + i, size))));
    expect((await Promise.all(appended)).slice(-2)).toEqual([2000, 5000]);
    const total = sizes.reduce((sum, size) => sum + size + 16, 0);
    expect(total).toBeGreaterThan(3 * QUEUE_LIMITS.writeChunkBytes);
    await queue.close();

    queue = await DiskQueue.open(dir, { syncMode: 'none', segmentBytes });
    expect(await queue.verify()).toMatchObject({ records: 5000 });
    expect((await queue.verify()).segments).toBeGreaterThan(2);
    let seq = 0;
    for await (const record of queue.records()) {
      seq += 1;
      expect(record.seq).toBe(seq);
      if (!record.payload.equals(payloadOf(seq, sizes[seq - 1])))
        throw new Error(`payload of ${seq} differs`);
    }
    expect(seq).toBe(5000);
    await queue.close();
  });

  it('writes back the active segment early under none: more durable, but durableSeq not claimed', async () => {
    const fs = new SimulatedFileSystem({ seed: 11 });
    const options = {
      syncMode: 'none' as const,
      segmentBytes: 64 * 1024,
      writebackBytes: 4096,
      logger: recordingLogger(),
    };
    let queue = await DiskQueue.open(DIR, { fileSystem: fs.processScope(), ...options });
    fs.resetCounters();
    await queue.appendBatch(Array.from({ length: 10 }, (_, i) => payloadOf(i + 1, 100)));
    await nextMacrotask();
    expect(fs.datasyncCount).toBe(0); // 1,160 bytes: below writebackBytes
    await queue.appendBatch(Array.from({ length: 40 }, (_, i) => payloadOf(i + 11, 100)));
    await nextMacrotask();
    expect(fs.datasyncCount).toBe(1);
    expect(queue.durableSeq).toBe(0);
    // A power loss that keeps nothing unsynced keeps what the writeback covered.
    fs.powerLoss({ keepUnsynced: 'none' });
    queue = await DiskQueue.open(DIR, { fileSystem: fs.processScope(), ...options });
    expect(queue.lastSeq).toBe(50);
    expect(await queue.verify()).toMatchObject({ records: 50 });
    await queue.close();
  });

  it('treats a failed early writeback as a failed write: appends stop, the next sync reports it', async () => {
    const fs = new SimulatedFileSystem({ seed: 12 });
    const logger = recordingLogger();
    const queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      syncMode: 'interval',
      syncIntervalMs: 60_000,
      writebackBytes: 4096,
      logger,
    });
    fs.failNext('datasync', 'EIO');
    // The write itself succeeds; the background fdatasync after it fails.
    expect(
      await queue.appendBatch(Array.from({ length: 50 }, (_, i) => payloadOf(i + 1, 100))),
    ).toBe(50);
    await nextMacrotask();
    expect(logger.errors.some((line) => line.includes('EIO'))).toBe(true);
    expect(() => queue.append(payloadOf(51, 10))).toThrow(
      expect.objectContaining({ code: QueueErrorCode.Failed }),
    );
    await expect(queue.sync()).rejects.toMatchObject({ code: 'EIO' });
    expect(queue.durableSeq).toBe(0);
    await queue.close().catch(() => undefined);
  });

  it('writes small groups of sync always in one writev and one fdatasync each', async () => {
    const fs = new SimulatedFileSystem({ seed: 13 });
    const queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      logger: recordingLogger(),
    });
    fs.resetCounters();
    const seqs = await Promise.all(
      Array.from({ length: 64 }, (_, i) => queue.append(payloadOf(i + 1, 200))),
    );
    expect(seqs).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(fs.counters).toMatchObject({ writev: 1, datasync: 1 });
    expect(queue.durableSeq).toBe(64);
    fs.powerLoss({ keepUnsynced: 'none' });
    const reopened = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      logger: recordingLogger(),
    });
    expect(reopened.lastSeq).toBe(64);
    await reopened.close();
  });

  it('keeps group commits whole whether appenders come straight back or take a few hops', async () => {
    for (const extraHops of [0, 3]) {
      const fs = new SimulatedFileSystem({ seed: 15 });
      const queue = await DiskQueue.open(DIR, {
        fileSystem: fs.processScope(),
        logger: recordingLogger(),
      });
      fs.resetCounters();
      const rounds = 20;
      // Half the appenders await their append and append again at once; the other half take
      // `extraHops` more microtasks first (the early flush must not cut their group short).
      const appender = async (index: number): Promise<void> => {
        for (let round = 0; round < rounds; round++) {
          await queue.append(payloadOf(round * 16 + index, 50));
          for (let hop = 0; hop < (index % 2) * extraHops; hop++) await Promise.resolve();
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, index) => appender(index)));
      expect(queue.durableSeq).toBe(16 * rounds);
      expect(fs.counters.datasync).toBe(rounds);
      await queue.close();
    }
  });

  it('closes the segment it was reading when a records() loop breaks early', async () => {
    const fs = new SimulatedFileSystem({ seed: 14 });
    const queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      syncMode: 'none',
      segmentBytes: 4096,
      logger: recordingLogger(),
    });
    await queue.appendBatch(Array.from({ length: 100 }, (_, i) => payloadOf(i + 1, 100)));
    const handlesBefore = fs.openHandleCount;
    const seen: number[] = [];
    for await (const record of queue.records(40)) {
      seen.push(record.seq);
      if (record.seq === 45) break;
    }
    expect(seen).toEqual([40, 41, 42, 43, 44, 45]);
    expect(fs.openHandleCount).toBe(handlesBefore);
    await queue.close();
  });
});
