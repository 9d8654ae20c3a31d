import type { RaftLogStorage, RaftPersistentState, RaftStorageUpdate } from './raft-storage';
import type { HardState, SnapshotMeta } from '../core/types';

/**
 * A RaftLogStorage that reports how long each synced save took (the write and its fsync, the
 * time a leader's commit and a follower's acknowledgement wait on the disk) to `observe`, for an
 * fsync-duration metric. Unsynced saves (a bare commit index) are not reported: they measure no
 * disk. Everything else is the inner store's, unchanged.
 */
export class SyncTimingRaftStorage implements RaftLogStorage {
  readonly reclaimSpace?: (index: number) => Promise<void>;

  constructor(
    private readonly inner: RaftLogStorage,
    private readonly observe: (durationMs: number) => void,
  ) {
    if (inner.reclaimSpace !== undefined) this.reclaimSpace = inner.reclaimSpace.bind(inner);
  }

  load(): Promise<RaftPersistentState | undefined> {
    return this.inner.load();
  }

  bootstrap(clusterId: string, initial: SnapshotMeta, hardState?: HardState): Promise<void> {
    return this.inner.bootstrap(clusterId, initial, hardState);
  }

  async save(update: RaftStorageUpdate): Promise<void> {
    if (update.sync === false) return this.inner.save(update);
    const startedMs = performance.now();
    await this.inner.save(update);
    this.observe(performance.now() - startedMs);
  }

  compact(index: number): Promise<void> {
    return this.inner.compact(index);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
