/**
 * Durable storage of a Raft node: the log store port (`RaftLogStorage`) with its classic-level and
 * in-memory implementations, and the snapshot files. Framework-free, like the rest of libs/raft.
 */
export type { RaftLogStorage, RaftPersistentState, RaftStorageUpdate } from './raft-storage';
export { MemoryRaftStorage } from './memory-raft-storage';
export { ClassicLevelRaftStorage } from './classic-level-raft-storage';
export { SyncTimingRaftStorage } from './sync-timing-raft-storage';
export { SnapshotStore } from './snapshot-store';
export type {
  SnapshotExpectation,
  SnapshotInfo,
  SnapshotReceiver,
  SnapshotStoreLogger,
  SnapshotStoreOptions,
  StoredSnapshot,
} from './snapshot-store';
export { RAFT_STORAGE_LIMITS, SNAPSHOT_LIMITS } from './storage.constants';
export { StorageCorruptionError, StorageError, StorageErrorCode } from './storage.errors';
