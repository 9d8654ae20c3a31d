import type { Entry, SnapshotMeta } from '../core/types';

/**
 * What the node driver replicates. Apply must be deterministic: the same entries in the same order
 * give the same state and results on every node (no clock, no randomness, no I/O result inside).
 */
export interface StateMachine {
  /**
   * Applies committed entries in log order, no-ops and membership entries included (their `type`
   * says which; a state machine usually skips all but `EntryType.Normal` with data). Returns one
   * result per entry: the answer `propose()` resolves with on the node that proposed it.
   *
   * A durable state machine (`durableState`) is handed entries it already holds — after a restart,
   * Raft re-applies from its newest snapshot's index, and after a restore() from a stream that went
   * past the snapshot's index — and skips every entry at or below its own applied index (returning
   * an empty result for it).
   */
  apply(entries: readonly Entry[]): Promise<Uint8Array[]> | Uint8Array[];
  /**
   * The state as of the last applied entry, as bytes (a stream for large states). The driver
   * applies nothing more until a stream is written, unless `snapshotIsIsolated` says the stream
   * reads a view frozen at the call.
   *
   * With `durableState`, the driver calls it only to send a follower an InstallSnapshot (never
   * for a local snapshot), between two apply() calls, and streams it while applies go on: the
   * stream must read a view frozen at the call (`snapshotIsIsolated` must be true: RaftNode.start
   * refuses otherwise) and must carry the state machine's applied index, which may be past the
   * index of the snapshot meta it is sent with (see restore()).
   */
  snapshot(): AsyncIterable<Uint8Array> | Uint8Array;
  /** True when snapshot()'s stream is unaffected by later applies (e.g. copy-on-write). */
  readonly snapshotIsIsolated?: boolean;
  /**
   * Replaces the whole state by a snapshot's (the node fell behind, or starts from disk).
   *
   * The data may hold more than `meta` says: a leader with a durable state machine streams its
   * state as of its own applied index, which may be past `meta.index`. The state machine records
   * the applied index carried in the data, and skips the entries at or below it that Raft then
   * applies again (from `meta.index + 1`).
   *
   * A durable state machine must have made the restored state durable (fsync) before the promise
   * resolves, and must never report, across a crash in the middle of a restore, a persisted index
   * whose state it does not wholly hold: e.g. drop its applied index first, write the data, and
   * write the new applied index last, synced. (The snapshot file it was restored from may be
   * replaced by a data-less one as soon as the next local snapshot is taken.)
   */
  restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * Present when the state machine keeps its state durably on its own (a database written at
   * apply, as etcd's backend): its database is then the snapshot. Local snapshots record only the
   * meta (a snapshot file flagged `stateInMachine`, without data) after persist(); a follower that
   * needs an InstallSnapshot gets snapshot()'s stream; at start-up the state machine is not
   * restored when it already holds the newest snapshot (see docs/raft.md, "Durable state").
   */
  readonly durableState?: DurableState;
}

/** A state machine that keeps its state durably on its own (a database written at apply). */
export interface DurableState {
  /**
   * Index of the last entry its durable state holds (right after open: what it found on disk).
   * RaftNode.start reads it once, before anything is applied.
   */
  persistedIndex(): number;
  /**
   * Makes everything applied so far durable (fsync); resolves with the last applied index that is
   * now durable. Called while applies go on (it must not wait for them, nor they for it); the
   * index it resolves with is at least the applied index at the call.
   */
  persist(): Promise<number>;
}
