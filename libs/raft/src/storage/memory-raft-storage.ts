import type { Entry, HardState, SnapshotMeta } from '../core/types';
import {
  checkClusterId,
  checkHardState,
  checkSnapshotMeta,
  planCompact,
  planSave,
  type IndexRange,
  type LogPosition,
} from './log-plan';
import type { RaftLogStorage, RaftPersistentState, RaftStorageUpdate } from './raft-storage';
import { SerialRunner } from './serial-runner';
import { closedError, StorageError, StorageErrorCode } from './storage.errors';

interface MemoryState {
  clusterId: string;
  hardState: HardState;
  snapshot: SnapshotMeta;
  position: LogPosition;
  /** Stored entries by index: exactly (floor, lastIndex]. */
  entries: Map<number, Entry>;
}

/**
 * RaftLogStorage in memory, for tests of the driver: the same rules as the classic-level store
 * (both follow log-plan.ts), every write "durable" as soon as it resolves. Entries are copied in and
 * out, so a caller mutating its arrays cannot change what was "persisted".
 */
export class MemoryRaftStorage implements RaftLogStorage {
  private state: MemoryState | undefined;
  private closed = false;
  private readonly serial = new SerialRunner();

  load(): Promise<RaftPersistentState | undefined> {
    if (this.closed) return Promise.reject(closedError('the in-memory raft store'));
    return this.serial.run(async () => {
      const state = this.state;
      if (state === undefined) return undefined;
      const entries: Entry[] = [];
      const floor = Math.max(state.position.snapshotIndex, state.position.compactedIndex);
      for (let index = floor + 1; index <= state.position.lastIndex; index++) {
        entries.push(copyEntry(state.entries.get(index)!));
      }
      return {
        clusterId: state.clusterId,
        hardState: { ...state.hardState },
        snapshot: structuredClone(state.snapshot),
        compactedIndex: state.position.compactedIndex,
        entries,
      };
    });
  }

  bootstrap(
    clusterId: string,
    initial: SnapshotMeta,
    hardState: HardState = { term: 0, vote: '', commit: 0 },
  ): Promise<void> {
    if (this.closed) return Promise.reject(closedError('the in-memory raft store'));
    return this.serial.run(async () => {
      checkClusterId(clusterId);
      checkSnapshotMeta(initial);
      checkHardState(hardState);
      if (this.state !== undefined) {
        throw new StorageError(StorageErrorCode.NotEmpty, 'the in-memory raft store is not empty');
      }
      this.state = {
        clusterId,
        hardState: { ...hardState },
        snapshot: structuredClone(initial),
        position: {
          snapshotIndex: initial.index,
          snapshotTerm: initial.term,
          compactedIndex: 0,
          lastIndex: initial.index,
        },
        entries: new Map(),
      };
    });
  }

  save(update: RaftStorageUpdate): Promise<void> {
    if (this.closed) return Promise.reject(closedError('the in-memory raft store'));
    return this.serial.run(async () => {
      const state = this.bootstrapped();
      const snapshotIndex = update.snapshot?.index;
      const storedTerm = snapshotIndex === undefined ? undefined : termAt(state, snapshotIndex);
      const plan = planSave(state.position, update, storedTerm);
      deleteRanges(state.entries, plan.deletes);
      for (const entry of update.entries) state.entries.set(entry.index, copyEntry(entry));
      if (update.hardState) state.hardState = { ...update.hardState };
      if (update.snapshot) state.snapshot = structuredClone(update.snapshot);
      state.position = plan.position;
    });
  }

  compact(index: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError('the in-memory raft store'));
    return this.serial.run(async () => {
      const state = this.bootstrapped();
      const plan = planCompact(state.position, index);
      if (plan === undefined) return;
      deleteRanges(state.entries, plan.deletes);
      state.position = plan.position;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.serial.drain();
  }

  private bootstrapped(): MemoryState {
    if (this.state === undefined) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        'the raft store is not bootstrapped',
      );
    }
    return this.state;
  }
}

function termAt(state: MemoryState, index: number): number | undefined {
  if (index === state.position.snapshotIndex) return state.position.snapshotTerm;
  return state.entries.get(index)?.term;
}

function deleteRanges(entries: Map<number, Entry>, ranges: readonly IndexRange[]): void {
  for (const range of ranges) {
    for (let index = range.from; index <= range.to; index++) entries.delete(index);
  }
}

function copyEntry(entry: Entry): Entry {
  return {
    index: entry.index,
    term: entry.term,
    type: entry.type,
    data: new Uint8Array(entry.data),
  };
}
