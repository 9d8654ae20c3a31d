import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type SnapshotMeta } from '../core/types';
import { ClassicLevelRaftStorage } from './classic-level-raft-storage';
import { MemoryRaftStorage } from './memory-raft-storage';
import type { RaftLogStorage } from './raft-storage';
import { RAFT_STORAGE_LIMITS } from './storage.constants';
import { StorageErrorCode } from './storage.errors';
import { SyncTimingRaftStorage } from './sync-timing-raft-storage';
import { entries, entry, INITIAL, MEMBERSHIP } from './testing/raft-storage-fixtures';

/**
 * The RaftLogStorage contract, run against every implementation: the in-memory double must behave
 * like the real store, or driver tests built on it prove nothing.
 */
interface StorageUnderTest {
  storage: RaftLogStorage;
  /** The store as a restarted node sees it (classic-level: close and open again; memory: itself). */
  reopen(): Promise<RaftLogStorage>;
  cleanup(): Promise<void>;
}

async function memoryStorage(): Promise<StorageUnderTest> {
  const storage = new MemoryRaftStorage();
  return { storage, reopen: async () => storage, cleanup: () => storage.close() };
}

async function classicLevelStorage(): Promise<StorageUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'xcron-raft-log-'));
  let current = await ClassicLevelRaftStorage.open(dir);
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = await ClassicLevelRaftStorage.open(dir);
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The fsync-timing decorator over classic-level: it must keep the contract of what it wraps. */
async function syncTimingStorage(): Promise<StorageUnderTest> {
  const inner = await classicLevelStorage();
  const observe = (): void => undefined;
  return {
    storage: new SyncTimingRaftStorage(inner.storage, observe),
    reopen: async () => new SyncTimingRaftStorage(await inner.reopen(), observe),
    cleanup: inner.cleanup,
  };
}

describe.each([
  ['MemoryRaftStorage', memoryStorage],
  ['ClassicLevelRaftStorage', classicLevelStorage],
  ['SyncTimingRaftStorage', syncTimingStorage],
])('%s: RaftLogStorage contract', (_name, create) => {
  let subject: StorageUnderTest;
  let storage: RaftLogStorage;

  beforeEach(async () => {
    subject = await create();
    storage = subject.storage;
  });
  afterEach(async () => {
    await subject.cleanup();
  });

  async function reopen(): Promise<void> {
    storage = await subject.reopen();
  }

  it('loads undefined from a fresh store', async () => {
    expect(await storage.load()).toBeUndefined();
  });

  it('bootstraps a cluster id, the initial membership and a zero hard state', async () => {
    await storage.bootstrap('cluster-a', INITIAL);
    await reopen();
    expect(await storage.load()).toEqual({
      clusterId: 'cluster-a',
      hardState: { term: 0, vote: '', commit: 0 },
      snapshot: INITIAL,
      compactedIndex: 0,
      entries: [],
    });
  });

  it('bootstraps a joining node in one write, and keeps or clears its joining incarnation', async () => {
    const joiningMembership = {
      ...INITIAL,
      membership: {
        members: INITIAL.membership.members.map((m) => ({
          ...m,
          incarnation: 'inc-1',
          promoteWhenCaughtUp: true,
        })),
      },
    };
    await storage.bootstrap('c', joiningMembership, {
      term: 0,
      vote: '',
      commit: 0,
      joining: 'a1b2-incarnation',
    });
    await reopen();
    let state = await storage.load();
    expect(state?.hardState).toEqual({ term: 0, vote: '', commit: 0, joining: 'a1b2-incarnation' });
    expect(state?.snapshot).toEqual(joiningMembership);
    await storage.save({
      hardState: { term: 4, vote: 'n1', commit: 0, joining: 'a1b2-incarnation' },
      entries: [],
    });
    await reopen();
    expect((await storage.load())?.hardState).toEqual({
      term: 4,
      vote: 'n1',
      commit: 0,
      joining: 'a1b2-incarnation',
    });
    await storage.save({ hardState: { term: 4, vote: 'n1', commit: 0 }, entries: [] });
    await reopen();
    state = await storage.load();
    expect(state?.hardState).toEqual({ term: 4, vote: 'n1', commit: 0 });
  });

  it('refuses a second bootstrap', async () => {
    await storage.bootstrap('cluster-a', INITIAL);
    await reopen();
    await expect(storage.bootstrap('cluster-b', INITIAL)).rejects.toMatchObject({
      code: StorageErrorCode.NotEmpty,
    });
    expect((await storage.load())?.clusterId).toBe('cluster-a');
  });

  it('refuses a save before bootstrap', async () => {
    await expect(storage.save({ entries: entries(1, 1, 1) })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
  });

  it('round-trips the hard state and entries', async () => {
    await storage.bootstrap('c', INITIAL);
    const written = [
      ...entries(1, 3, 1),
      { index: 4, term: 2, type: EntryType.ConfChange, data: Uint8Array.of(0, 255, 7) },
      { index: 5, term: 2, type: EntryType.Normal, data: new Uint8Array(0) },
    ];
    await storage.save({ hardState: { term: 2, vote: 'n2', commit: 3 }, entries: written });
    await reopen();
    const state = await storage.load();
    expect(state?.hardState).toEqual({ term: 2, vote: 'n2', commit: 3 });
    expect(state?.entries).toEqual(written);
  });

  it('saves a hard state alone and keeps the entries', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({ entries: entries(1, 2, 1) });
    await storage.save({ hardState: { term: 3, vote: '', commit: 2 }, entries: [] });
    await reopen();
    const state = await storage.load();
    expect(state?.hardState).toEqual({ term: 3, vote: '', commit: 2 });
    expect(state?.entries).toEqual(entries(1, 2, 1));
  });

  it('saves a bare commit without sync (seen by load, kept across a clean reopen); entries or a snapshot never', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({
      hardState: { term: 1, vote: 'n1', commit: 0 },
      entries: entries(1, 3, 1),
    });
    await storage.save({ hardState: { term: 1, vote: 'n1', commit: 3 }, entries: [], sync: false });
    expect((await storage.load())?.hardState).toEqual({ term: 1, vote: 'n1', commit: 3 });
    await reopen();
    expect((await storage.load())?.hardState).toEqual({ term: 1, vote: 'n1', commit: 3 });
    await expect(storage.save({ entries: entries(4, 4, 1), sync: false })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
    await expect(
      storage.save({ snapshot: { ...INITIAL, index: 2, term: 1 }, entries: [], sync: false }),
    ).rejects.toMatchObject({ code: StorageErrorCode.InvalidArgument });
    expect((await storage.load())?.entries).toEqual(entries(1, 3, 1));
  });

  it('replaces a suffix (truncate and append in one save), also across a reopen', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({ entries: entries(1, 10, 1) });
    await reopen();
    // A follower learns that its entries from 6 on conflict with the new leader's.
    await storage.save({
      hardState: { term: 2, vote: 'n2', commit: 5 },
      entries: entries(6, 7, 2),
    });
    await reopen();
    expect((await storage.load())?.entries).toEqual([...entries(1, 5, 1), ...entries(6, 7, 2)]);
    // The last index after the truncation is 7: appending 8 must work, 9 must not.
    await expect(storage.save({ entries: entries(9, 9, 2) })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
    await storage.save({ entries: entries(8, 8, 2) });
    await reopen();
    expect((await storage.load())?.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('rejects entries that are not contiguous or leave a gap', async () => {
    await storage.bootstrap('c', INITIAL);
    await expect(storage.save({ entries: [entry(1, 1), entry(3, 1)] })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
    await expect(storage.save({ entries: entries(2, 3, 1) })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
    expect((await storage.load())?.entries).toEqual([]);
  });

  it('installs a snapshot that conflicts with the log: every stored entry goes', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({ entries: entries(1, 10, 1) });
    const snapshot: SnapshotMeta = { index: 5, term: 3, membership: MEMBERSHIP };
    await storage.save({ hardState: { term: 3, vote: '', commit: 5 }, snapshot, entries: [] });
    await reopen();
    const state = await storage.load();
    expect(state?.snapshot).toEqual(snapshot);
    expect(state?.entries).toEqual([]);
    await storage.save({ entries: entries(6, 6, 3) });
    expect((await storage.load())?.entries).toEqual(entries(6, 6, 3));
  });

  it('installs a snapshot that matches the log: entries above it stay', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({ entries: entries(1, 10, 1) });
    const snapshot: SnapshotMeta = { index: 5, term: 1, membership: MEMBERSHIP };
    await storage.save({ snapshot, entries: [] });
    await reopen();
    const state = await storage.load();
    expect(state?.snapshot).toEqual(snapshot);
    expect(state?.entries).toEqual(entries(6, 10, 1));
  });

  it('installs a snapshot and its following entries in one save', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({ entries: entries(1, 3, 1) });
    const snapshot: SnapshotMeta = { index: 20, term: 4, membership: MEMBERSHIP };
    await storage.save({ snapshot, entries: entries(21, 22, 4) });
    await reopen();
    const state = await storage.load();
    expect(state?.snapshot).toEqual(snapshot);
    expect(state?.entries).toEqual(entries(21, 22, 4));
    await expect(
      storage.save({ snapshot: { index: 10, term: 4, membership: MEMBERSHIP }, entries: [] }),
    ).rejects.toMatchObject({ code: StorageErrorCode.InvalidArgument });
  });

  it('compacts: drops entries up to the index, idempotently', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.save({ entries: entries(1, 10, 1) });
    await storage.compact(4);
    await storage.compact(4);
    await storage.compact(2);
    await reopen();
    let state = await storage.load();
    expect(state?.compactedIndex).toBe(4);
    expect(state?.entries).toEqual(entries(5, 10, 1));
    await expect(storage.compact(11)).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
    await expect(storage.save({ entries: entries(4, 4, 1) })).rejects.toMatchObject({
      code: StorageErrorCode.InvalidArgument,
    });
    await storage.compact(10);
    await storage.save({ entries: entries(11, 12, 1) });
    await reopen();
    state = await storage.load();
    expect(state?.compactedIndex).toBe(10);
    expect(state?.entries).toEqual(entries(11, 12, 1));
  });

  it('runs overlapping calls in call order', async () => {
    await storage.bootstrap('c', INITIAL);
    const calls = [
      storage.save({ entries: entries(1, 5, 1) }),
      storage.compact(3),
      storage.save({ entries: entries(6, 8, 1) }),
      storage.save({ entries: entries(5, 5, 2) }),
    ];
    await Promise.all(calls);
    const state = await storage.load();
    expect(state?.entries).toEqual([entry(4, 1), entry(5, 2)]);
  });

  it('refuses entries beyond the size limit, leaving the store unchanged', async () => {
    await storage.bootstrap('c', INITIAL);
    const big = {
      ...entry(1, 1),
      data: new Uint8Array(RAFT_STORAGE_LIMITS.entryDataBytesMax + 1),
    };
    await expect(storage.save({ entries: [big] })).rejects.toMatchObject({
      code: StorageErrorCode.LimitExceeded,
    });
    expect((await storage.load())?.entries).toEqual([]);
  });

  it('fails calls after close', async () => {
    await storage.bootstrap('c', INITIAL);
    await storage.close();
    await storage.close();
    await expect(storage.load()).rejects.toMatchObject({ code: StorageErrorCode.Closed });
    await expect(storage.save({ entries: [] })).rejects.toMatchObject({
      code: StorageErrorCode.Closed,
    });
  });
});
