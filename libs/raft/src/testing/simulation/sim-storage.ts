import type { Entry, HardState, Ready, SnapshotMeta } from '../../core/types';

/**
 * One node's disk in the simulation: what survived every crash. A Ready's writes become durable
 * only when the simulated write completes (`commitReady`); a crash before that loses them whole,
 * like a classic-level batch whose log record did not reach the disk.
 */
export class SimStorage {
  /** The hard state on the disk: the last one written with a sync, or made durable by one. */
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  /**
   * A hard state written without a sync (a bare new commit, Ready.mustSync false): in the page
   * cache, not on the disk. The next synced write makes it durable (the log store writes in
   * order); a crash before that loses it (`crash`).
   */
  private unsyncedHardState: HardState | undefined;
  /** Unsynced hard states a crash threw away (the simulation's statistics). */
  unsyncedLost = 0;
  snapshot: SnapshotMeta;
  /** The snapshot file's data; undefined for a durable state machine's own (`stateInMachine`). */
  snapshotData: Uint8Array | undefined;
  /**
   * A durable state machine's own database (its serialized state, as the node driver's
   * `durableState`): what its last persist() or restore made durable. Undefined without one.
   */
  stateMachine: { data: Uint8Array; index: number } | undefined;
  /** Entries after the compaction point, contiguous. */
  entries: Entry[] = [];

  /** `hardState`: a joining node's (after a disk loss) carries `joining`. */
  constructor(bootstrap: SnapshotMeta, bootstrapData: Uint8Array, hardState?: HardState) {
    this.snapshot = bootstrap;
    this.snapshotData = bootstrapData;
    if (hardState) this.hardState = { ...hardState };
  }

  /**
   * Makes a Ready's hard state, snapshot and entries durable; a Ready that need not be synced (its
   * hard state changed only in the commit) leaves its hard state unsynced, until the next synced
   * write or a crash.
   */
  commitReady(ready: Ready, snapshotData: Uint8Array | undefined): void {
    if (!ready.mustSync) {
      if (ready.snapshot || ready.entries.length > 0)
        throw new Error('a Ready with entries or a snapshot written without a sync');
      if (ready.hardState) this.unsyncedHardState = { ...ready.hardState };
      return;
    }
    // The sync covers every write before this one.
    if (this.unsyncedHardState) this.hardState = this.unsyncedHardState;
    this.unsyncedHardState = undefined;
    if (ready.snapshot) {
      if (snapshotData === undefined) throw new Error('a snapshot to install without its data');
      this.snapshot = ready.snapshot;
      this.snapshotData = snapshotData;
      this.entries = this.entries.filter((e) => e.index > ready.snapshot!.index);
      if (this.entries.length > 0 && this.entries[0].index !== ready.snapshot.index + 1)
        this.entries = [];
    }
    if (ready.hardState) this.hardState = { ...ready.hardState };
    if (ready.entries.length > 0) {
      const first = ready.entries[0].index;
      this.entries = this.entries.filter((e) => e.index < first).concat(ready.entries);
    }
  }

  /**
   * A power loss: what was written without a sync is gone (the worst case; keeping it is what a
   * sync would have done anyway).
   */
  crash(): void {
    if (this.unsyncedHardState) this.unsyncedLost += 1;
    this.unsyncedHardState = undefined;
  }

  /**
   * A snapshot written by the node itself (temp file + fsync + rename: durable at once); `data`
   * undefined: the state lives in the state machine (durable state).
   */
  saveSnapshot(meta: SnapshotMeta, data: Uint8Array | undefined, compactIndex: number): void {
    this.snapshot = meta;
    this.snapshotData = data;
    this.entries = this.entries.filter((e) => e.index > compactIndex);
  }

  /** A durable state machine's persist() (or a restore made durable): its state as of `index`. */
  persistStateMachine(data: Uint8Array, index: number): void {
    this.stateMachine = { data, index };
  }

  /** Entries to restart from: those after the snapshot, which must be contiguous from it. */
  entriesAfterSnapshot(): Entry[] {
    const after = this.entries.filter((e) => e.index > this.snapshot.index);
    if (after.length > 0 && after[0].index !== this.snapshot.index + 1) {
      throw new Error(
        `storage gap: snapshot at ${this.snapshot.index}, next entry ${after[0].index}`,
      );
    }
    return after;
  }
}
