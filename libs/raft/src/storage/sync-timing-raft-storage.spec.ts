import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevelRaftStorage } from './classic-level-raft-storage';
import { MemoryRaftStorage } from './memory-raft-storage';
import { SyncTimingRaftStorage } from './sync-timing-raft-storage';
import { entries, INITIAL } from './testing/raft-storage-fixtures';

// The RaftLogStorage contract of the decorator runs in raft-storage-contract.spec.ts.

describe('SyncTimingRaftStorage', () => {
  it('reports each synced save of a classic-level log, and no unsynced one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xcron-raft-timing-'));
    const inner = await ClassicLevelRaftStorage.open(dir);
    const observed: number[] = [];
    const storage = new SyncTimingRaftStorage(inner, (ms) => observed.push(ms));
    try {
      await storage.bootstrap('c', INITIAL);
      await storage.save({
        hardState: { term: 1, vote: '', commit: 0 },
        entries: entries(1, 3, 1),
      });
      await storage.save({ hardState: { term: 1, vote: '', commit: 2 }, entries: [], sync: false });
      await storage.save({ entries: entries(4, 4, 1), sync: true });
      expect(observed).toHaveLength(2);
      for (const ms of observed) expect(ms).toBeGreaterThan(0);
      expect((await storage.load())!.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
      expect((await storage.load())!.hardState.commit).toBe(2);
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('offers reclaimSpace only when the store it wraps does', async () => {
    const memory = new MemoryRaftStorage();
    expect(new SyncTimingRaftStorage(memory, () => undefined).reclaimSpace).toBeUndefined();
    const dir = await mkdtemp(join(tmpdir(), 'xcron-raft-timing-'));
    const level = await ClassicLevelRaftStorage.open(dir);
    try {
      const timed = new SyncTimingRaftStorage(level, () => undefined);
      await timed.bootstrap('c', INITIAL);
      await timed.save({ entries: entries(1, 5, 1) });
      await timed.compact(3);
      await expect(timed.reclaimSpace!(3)).resolves.toBeUndefined();
      expect((await timed.load())!.entries.map((e) => e.index)).toEqual([4, 5]);
    } finally {
      await level.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
