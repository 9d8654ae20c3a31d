import type { Entry, HardState, SnapshotMeta } from '../core/types';

/**
 * What a node finds on disk at start-up: enough to build `RaftStartState` (with the newest snapshot
 * file from the SnapshotStore when compaction went past `snapshot`).
 *
 * Invariant: `entries` are contiguous and start at `max(snapshot.index, compactedIndex) + 1`.
 */
export interface RaftPersistentState {
  clusterId: string;
  hardState: HardState;
  /**
   * The newest snapshot meta given to bootstrap() or save(): the bootstrap membership at index 0,
   * or the leader's snapshot a follower installed.
   */
  snapshot: SnapshotMeta;
  /**
   * Entries at or below this index were dropped by compact() (0 when never compacted). When it is
   * above `snapshot.index`, a snapshot file at or above it must cover the gap (the driver checks:
   * the log store cannot know the membership there).
   */
  compactedIndex: number;
  /** Contiguous, after `max(snapshot.index, compactedIndex)`. */
  entries: Entry[];
}

export interface RaftStorageUpdate {
  hardState?: HardState;
  /** A snapshot the node installed (from the leader), applied before `entries`. */
  snapshot?: SnapshotMeta;
  /** Contiguous; replace every stored entry from `entries[0].index` on. */
  entries: readonly Entry[];
  /**
   * False: write without waiting for stable storage (no fsync). Only for an update that carries a
   * hard state alone (no entries, no snapshot) whose term, vote and joining are those last saved —
   * a new commit index (Ready.mustSync). A later synced save makes it durable with itself (the
   * store writes in order); a power loss before that may lose it. Default true.
   */
  sync?: boolean;
}

/**
 * The node driver's durable Raft state: the log, the hard state, the cluster id and the latest
 * snapshot meta (the snapshot's data lives in the SnapshotStore). One node owns one store.
 *
 * Calls may overlap (e.g. a lazy compact() while a save() is in flight): an implementation runs
 * them one at a time, in call order.
 *
 * Errors: `StorageError` with `StorageErrorCode.InvalidArgument` for calls that break this
 * contract, `LimitExceeded` past RAFT_STORAGE_LIMITS, `Corruption` (a `StorageCorruptionError`
 * naming the store and the key) for records that do not decode, `NotEmpty` from bootstrap(),
 * `OpenFailed` when opening, `Closed` after close(). A failed save() leaves the store as it was
 * before it (the batch is atomic).
 */
export interface RaftLogStorage {
  /** Everything persisted, or undefined when the store is empty (first start). */
  load(): Promise<RaftPersistentState | undefined>;

  /**
   * First start: records the cluster id, the bootstrap membership as a snapshot meta (normally at
   * index 0) and a hard state (default zero; a joining node's carries `joining`), in one durable
   * write. Refuses (NotEmpty) if not empty.
   */
  bootstrap(clusterId: string, initial: SnapshotMeta, hardState?: HardState): Promise<void>;

  /**
   * One durable write (a single batch, synced before the promise resolves), applied in this order:
   * - the hard state, if given;
   * - the snapshot meta, if given: entries at or below its index are dropped; entries above it are
   *   kept only when the stored log holds the snapshot's last entry (same index and term), else they
   *   are dropped too (the log conflicts with the leader's snapshot, as the core's restore assumes);
   *   its index may not be below the stored snapshot's;
   * - the entries: they replace every stored entry from `entries[0].index` on, so a follower's
   *   truncated suffix disappears in the same write. `entries[0].index` must be above
   *   `max(snapshot.index, compactedIndex)` and at most one past the last stored index.
   * Resolves once everything is on stable storage (unless `sync` is false); nothing of it is
   * visible to load() before.
   */
  save(update: RaftStorageUpdate): Promise<void>;

  /**
   * Drops entries at or below `index`, after the state machine wrote a snapshot at or above it (a
   * durable snapshot file). May be lazy (not synced: a crash may bring the entries back, which is
   * harmless); idempotent: an index at or below the current compaction point is a no-op. `index`
   * may not be past the last stored index.
   */
  compact(index: number): Promise<void>;

  /**
   * Optional: reclaims the disk space still held by entries compact() dropped at or below `index`
   * (LevelDB keeps deleted records in its table files until a compaction of their range). Runs
   * beside the other calls, not after them: it must not hold back a save().
   */
  reclaimSpace?(index: number): Promise<void>;

  /** Waits for running calls and releases the store; later calls fail with Closed. Idempotent. */
  close(): Promise<void>;
}
