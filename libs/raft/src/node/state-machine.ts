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
   */
  apply(entries: readonly Entry[]): Promise<Uint8Array[]> | Uint8Array[];
  /**
   * The state as of the last applied entry, as bytes (a stream for large states). The driver
   * applies nothing more until a stream is written, unless `snapshotIsIsolated` says the stream
   * reads a view frozen at the call.
   */
  snapshot(): AsyncIterable<Uint8Array> | Uint8Array;
  /** True when snapshot()'s stream is unaffected by later applies (e.g. copy-on-write). */
  readonly snapshotIsIsolated?: boolean;
  /** Replaces the whole state by a snapshot's (the node fell behind, or starts from disk). */
  restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void>;
}
