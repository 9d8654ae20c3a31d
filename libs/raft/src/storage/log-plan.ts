import { EntryType, type Entry, type HardState, type SnapshotMeta } from '../core/types';
import type { RaftStorageUpdate } from './raft-storage';
import { RAFT_STORAGE_LIMITS } from './storage.constants';
import { invalidArgument, limitExceeded } from './storage.errors';

/**
 * The rules of RaftLogStorage, shared by every implementation so that the in-memory double and the
 * classic-level store cannot drift apart: each store only turns a plan into its own writes.
 */

/** Where the stored log is. Invariant: floor(position) <= lastIndex. */
export interface LogPosition {
  snapshotIndex: number;
  snapshotTerm: number;
  compactedIndex: number;
  /** Index of the last stored entry, or the floor when no entry is stored. */
  lastIndex: number;
}

/** Entries at or below the floor are covered by a snapshot; stored entries are (floor, lastIndex]. */
export function logFloor(position: LogPosition): number {
  return Math.max(position.snapshotIndex, position.compactedIndex);
}

/** An inclusive range of stored entry indexes to delete. */
export interface IndexRange {
  from: number;
  to: number;
}

export interface SavePlan {
  /** Deleted before the entries are written (so an index both deleted and written ends up written). */
  deletes: IndexRange[];
  position: LogPosition;
}

/**
 * Validates `update` against the stored `position` and returns what to delete and where the log
 * ends up. `storedTermAtSnapshot` is the term the store holds at `update.snapshot.index` (undefined
 * when it holds no entry there, or when no snapshot is given).
 */
export function planSave(
  position: LogPosition,
  update: RaftStorageUpdate,
  storedTermAtSnapshot: number | undefined,
): SavePlan {
  if (update.hardState) checkHardState(update.hardState);
  if (update.sync === false && (update.entries.length > 0 || update.snapshot !== undefined)) {
    // Entries and snapshots are acknowledged to the leader once saved: they must be durable.
    throw invalidArgument('only a hard state alone may be saved without sync');
  }
  checkEntries(update.entries);
  const deletes: IndexRange[] = [];
  let next = { ...position };
  if (update.snapshot) {
    const snapshot = update.snapshot;
    checkSnapshotMeta(snapshot);
    if (snapshot.index < position.snapshotIndex) {
      throw invalidArgument(
        `snapshot at ${snapshot.index} is older than the stored one at ${position.snapshotIndex}`,
      );
    }
    const floor = logFloor(position);
    // Inside the compacted range the log is committed, so any valid snapshot there matches it.
    const matches = snapshot.index <= floor || storedTermAtSnapshot === snapshot.term;
    const dropTo = matches ? Math.min(snapshot.index, position.lastIndex) : position.lastIndex;
    if (dropTo > floor) deletes.push({ from: floor + 1, to: dropTo });
    next = {
      snapshotIndex: snapshot.index,
      snapshotTerm: snapshot.term,
      compactedIndex: position.compactedIndex,
      lastIndex: matches ? Math.max(position.lastIndex, snapshot.index) : snapshot.index,
    };
  }
  if (update.entries.length > 0) {
    const first = update.entries[0].index;
    const last = first + update.entries.length - 1;
    const floor = logFloor(next);
    if (first <= floor) {
      throw invalidArgument(`entry ${first} is at or below the snapshot/compaction point ${floor}`);
    }
    if (first > next.lastIndex + 1) {
      throw invalidArgument(
        `entry ${first} leaves a gap after the last stored entry ${next.lastIndex}`,
      );
    }
    if (next.lastIndex > last) deletes.push({ from: last + 1, to: next.lastIndex });
    next = { ...next, lastIndex: last };
  }
  return { deletes, position: next };
}

export interface CompactPlan {
  deletes: IndexRange[];
  position: LogPosition;
}

/** What compact(index) deletes; undefined when there is nothing to do (idempotent). */
export function planCompact(position: LogPosition, index: number): CompactPlan | undefined {
  checkIndex(index, 'compaction index');
  const floor = logFloor(position);
  if (index <= floor) return undefined;
  if (index > position.lastIndex) {
    throw invalidArgument(
      `cannot compact to ${index}: the last stored entry is ${position.lastIndex}`,
    );
  }
  return {
    deletes: [{ from: floor + 1, to: index }],
    position: { ...position, compactedIndex: index },
  };
}

export function checkIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > RAFT_STORAGE_LIMITS.indexMax) {
    throw invalidArgument(
      `${what} ${value} is not an integer in [0, ${RAFT_STORAGE_LIMITS.indexMax}]`,
    );
  }
}

export function checkHardState(hardState: HardState): void {
  checkIndex(hardState.term, 'hard state term');
  checkIndex(hardState.commit, 'hard state commit');
  if (typeof hardState.vote !== 'string') throw invalidArgument('hard state vote is not a string');
  if (Buffer.byteLength(hardState.vote) > RAFT_STORAGE_LIMITS.nodeIdBytesMax) {
    throw limitExceeded(
      `vote of ${Buffer.byteLength(hardState.vote)} bytes exceeds the node id limit`,
    );
  }
  if (hardState.joining !== undefined) {
    if (typeof hardState.joining !== 'string')
      throw invalidArgument('hard state joining is not a string');
    if (Buffer.byteLength(hardState.joining) > RAFT_STORAGE_LIMITS.nodeIdBytesMax)
      throw limitExceeded('joining incarnation exceeds the node id limit');
  }
}

export function checkSnapshotMeta(snapshot: SnapshotMeta): void {
  checkIndex(snapshot.index, 'snapshot index');
  checkIndex(snapshot.term, 'snapshot term');
  if (!Array.isArray(snapshot.membership?.members)) {
    throw invalidArgument('snapshot meta without a membership');
  }
}

export function checkClusterId(clusterId: string): void {
  const bytes = Buffer.byteLength(clusterId);
  if (bytes === 0) throw invalidArgument('cluster id is empty');
  if (bytes > RAFT_STORAGE_LIMITS.clusterIdBytesMax) {
    throw limitExceeded(
      `cluster id of ${bytes} bytes exceeds ${RAFT_STORAGE_LIMITS.clusterIdBytesMax}`,
    );
  }
}

/** Entries of one save: contiguous, valid numbers, within the batch limits. */
export function checkEntries(entries: readonly Entry[]): void {
  if (entries.length > RAFT_STORAGE_LIMITS.saveEntriesMax) {
    throw limitExceeded(
      `save of ${entries.length} entries exceeds ${RAFT_STORAGE_LIMITS.saveEntriesMax}`,
    );
  }
  let dataBytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    checkIndex(entry.index, 'entry index');
    checkIndex(entry.term, 'entry term');
    if (entry.index === 0) throw invalidArgument('entry index 0 (the log starts at 1)');
    if (i > 0 && entry.index !== entries[i - 1].index + 1) {
      throw invalidArgument(`entries not contiguous: ${entries[i - 1].index} then ${entry.index}`);
    }
    if (i > 0 && entry.term < entries[i - 1].term) {
      throw invalidArgument(`entry ${entry.index} has a term below its predecessor's`);
    }
    if (entry.type !== EntryType.Normal && entry.type !== EntryType.ConfChange) {
      throw invalidArgument(`entry ${entry.index} has unknown type ${String(entry.type)}`);
    }
    if (entry.data.length > RAFT_STORAGE_LIMITS.entryDataBytesMax) {
      throw limitExceeded(
        `entry ${entry.index} of ${entry.data.length} bytes exceeds ${RAFT_STORAGE_LIMITS.entryDataBytesMax}`,
      );
    }
    dataBytes += entry.data.length;
  }
  if (dataBytes > RAFT_STORAGE_LIMITS.saveDataBytesMax) {
    throw limitExceeded(
      `save of ${dataBytes} bytes exceeds ${RAFT_STORAGE_LIMITS.saveDataBytesMax}`,
    );
  }
}
