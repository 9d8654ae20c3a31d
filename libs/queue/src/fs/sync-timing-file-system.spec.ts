import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskQueue } from '../disk-queue';
import { SimulatedFileSystem } from '../testing/simulated-file-system';
import { NodeFileSystem } from './node-file-system';
import { SyncTimingFileSystem } from './sync-timing-file-system';

const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('SyncTimingFileSystem', () => {
  it('times the fdatasyncs and directory fsyncs of a queue on real files, which reads back the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xcron-queue-timing-'));
    const observed: number[] = [];
    const fileSystem = new SyncTimingFileSystem(new NodeFileSystem(), (ms) => observed.push(ms));
    try {
      let queue = await DiskQueue.open(dir, {
        fileSystem,
        syncMode: 'always',
        logger: silentLogger,
      });
      const before = observed.length; // opening created a segment: its directory fsync counts
      expect(before).toBeGreaterThanOrEqual(1);
      await queue.append(Buffer.from('one'));
      await queue.append(Buffer.from('two'));
      // One fdatasync per append under `always`.
      expect(observed.length - before).toBe(2);
      for (const ms of observed) expect(ms).toBeGreaterThanOrEqual(0);
      await queue.close();
      queue = await DiskQueue.open(dir, { fileSystem, logger: silentLogger });
      const read: string[] = [];
      for await (const record of queue.records()) read.push(record.payload.toString());
      expect(read).toEqual(['one', 'two']);
      await queue.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the durability of what it wraps: synced records survive a power loss, unsynced ones do not', async () => {
    const fs = new SimulatedFileSystem({ seed: 3 });
    const open = (): Promise<DiskQueue> =>
      DiskQueue.open('/q', {
        fileSystem: new SyncTimingFileSystem(fs.processScope(), () => undefined),
        syncMode: 'none',
        logger: silentLogger,
      });
    let queue = await open();
    await queue.appendBatch([Buffer.from('a'), Buffer.from('b')]);
    await queue.sync();
    await queue.appendBatch([Buffer.from('c')]);
    fs.powerLoss({ keepUnsynced: 'none' });
    queue = await open();
    expect(queue.lastSeq).toBe(2);
    await queue.close();
  });
});
