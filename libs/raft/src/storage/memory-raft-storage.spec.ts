import { MemoryRaftStorage } from './memory-raft-storage';
import { entries, INITIAL } from './testing/raft-storage-fixtures';

// The shared contract runs in raft-storage-contract.spec.ts; this file holds the double's own tests.

describe('MemoryRaftStorage', () => {
  it('copies entries in and out, so callers cannot change what was saved', async () => {
    const storage = new MemoryRaftStorage();
    await storage.bootstrap('c', INITIAL);
    const written = entries(1, 1, 1);
    await storage.save({ entries: written });
    written[0].data[0] = 0;
    const loaded = (await storage.load())!.entries;
    loaded[0].data[1] = 0;
    expect((await storage.load())!.entries).toEqual(entries(1, 1, 1));
  });
});
