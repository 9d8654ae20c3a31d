import type { Entry } from './types';
import { assert } from './assert';

/**
 * The replicated log as one node holds it in memory: entries after a compaction base, plus the
 * positions that say how far they are persisted, committed and applied.
 *
 * Invariants (checked by `checkInvariants`):
 *   base <= applied <= committed <= lastIndex;  base <= stable <= lastIndex;
 *   entries are contiguous from base + 1 and their terms never decrease.
 * Entries up to `stable` are on the driver's disk; entries up to `committed` are known to be on a
 * majority's; only entries that are both committed and stable are handed out to apply.
 */
export class RaftLog {
  private entries: Entry[] = [];
  /** Index and term of the last entry folded into a snapshot (0, 0 for an empty log). */
  private baseIndex = 0;
  private baseTerm = 0;
  committed = 0;
  applied = 0;
  /** Last index persisted by the driver. */
  stable = 0;
  /** A snapshot replaced the log and the state machine has not installed it yet. */
  snapshotPending = false;

  get firstIndex(): number {
    return this.baseIndex + 1;
  }

  get lastIndex(): number {
    return this.baseIndex + this.entries.length;
  }

  get lastTerm(): number {
    return this.termAt(this.lastIndex) ?? 0;
  }

  get snapshotBase(): { index: number; term: number } {
    return { index: this.baseIndex, term: this.baseTerm };
  }

  /** The term of entry `index`, or undefined when it is compacted away or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.baseIndex) return this.baseTerm;
    if (index < this.baseIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.baseIndex - 1].term;
  }

  entryAt(index: number): Entry | undefined {
    if (index <= this.baseIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.baseIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /** Leader side: appends new entries at the end. */
  appendAsLeader(entries: Entry[]): void {
    for (const entry of entries) {
      assert(
        entry.index === this.lastIndex + 1,
        `leader appends ${entry.index} after ${this.lastIndex}`,
      );
      this.entries.push(entry);
    }
  }

  /**
   * Follower side (§5.3): if the entry before `entries` matches, appends them, deleting any
   * conflicting suffix. Returns the index of the last new entry, or undefined when the previous
   * entry does not match. Returns the truncation point (or undefined) in `truncatedFrom`.
   */
  tryAppend(
    prevIndex: number,
    prevTerm: number,
    entries: readonly Entry[],
  ): { lastNewIndex: number; truncatedFrom?: number } | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNewIndex = prevIndex + entries.length;
    const conflict = entries.find(
      (entry) => entry.index > this.baseIndex && this.termAt(entry.index) !== entry.term,
    );
    if (conflict === undefined) return { lastNewIndex };
    let truncatedFrom: number | undefined;
    if (conflict.index <= this.lastIndex) {
      assert(
        conflict.index > this.committed,
        `conflict at ${conflict.index} below commit ${this.committed}`,
      );
      this.entries.length = conflict.index - this.baseIndex - 1;
      this.stable = Math.min(this.stable, conflict.index - 1);
      truncatedFrom = conflict.index;
    }
    for (const entry of entries) if (entry.index >= conflict.index) this.entries.push(entry);
    return { lastNewIndex, truncatedFrom };
  }

  /**
   * Fast backtracking: the largest index at or below `index` whose term is at most `term`. Both a
   * leader and a follower use it to skip a whole term of conflicting entries per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex);
    while (i > this.baseIndex) {
      const t = this.termAt(i) ?? 0;
      if (t <= term) return { index: i, term: t };
      i -= 1;
    }
    return { index: this.baseIndex, term: this.baseTerm };
  }

  /** Entries in [from, to], at most `bytesMax` of data (but at least one entry). */
  slice(from: number, to: number, bytesMax: number): Entry[] {
    assert(from > this.baseIndex, `slice from ${from} is compacted (base ${this.baseIndex})`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = from; i <= Math.min(to, this.lastIndex); i++) {
      const entry = this.entries[i - this.baseIndex - 1];
      bytes += entry.data.length;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.stable - this.baseIndex);
  }

  /** Entries persisted through `index` (of `term`): ignored if the log changed under the write. */
  stableTo(index: number, term: number): void {
    if (this.termAt(index) === term && index > this.stable) this.stable = index;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex, `commit ${index} beyond last index ${this.lastIndex}`);
    this.committed = index;
  }

  /** Committed entries not yet applied, up to `limit` (stable, unless a test injects a bug). */
  toApply(limit: number, bytesMax: number): Entry[] {
    const upTo = Math.min(this.committed, limit);
    if (upTo <= this.applied) return [];
    return this.slice(this.applied + 1, upTo, bytesMax);
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, `applied ${index} beyond commit ${this.committed}`);
    if (index > this.applied) this.applied = index;
  }

  /** Drops entries up to `index` (already applied and covered by a snapshot). */
  compact(index: number): void {
    if (index <= this.baseIndex) return;
    assert(index <= this.applied, `compact ${index} beyond applied ${this.applied}`);
    const term = this.termAt(index);
    assert(term !== undefined, `compact ${index}: no such entry`);
    this.entries = this.entries.slice(index - this.baseIndex);
    this.baseIndex = index;
    this.baseTerm = term;
  }

  /** Replaces the whole log by a snapshot's position (a follower installs the leader's snapshot). */
  restore(index: number, term: number): void {
    this.entries = [];
    this.baseIndex = index;
    this.baseTerm = term;
    this.committed = index;
    this.stable = index;
    // `applied` stays where the state machine is until the driver installed the snapshot.
    this.snapshotPending = true;
  }

  /**
   * The driver installed a snapshot at `index`: the state machine is there now. Another snapshot
   * may have been restored since (`newerPending`), which still waits for its turn.
   */
  snapshotInstalled(index: number, newerPending: boolean): void {
    this.snapshotPending = newerPending;
    this.applied = index;
  }

  /** Loads what the driver persisted (restart). */
  load(
    baseIndex: number,
    baseTerm: number,
    entries: readonly Entry[],
    committed: number,
    applied: number,
  ): void {
    this.baseIndex = baseIndex;
    this.baseTerm = baseTerm;
    this.entries = [...entries];
    this.stable = this.lastIndex;
    this.committed = Math.min(Math.max(committed, baseIndex), this.lastIndex);
    // A state machine may hold more than the persisted commit says (the commit is persisted lazily).
    this.committed = Math.max(this.committed, Math.min(applied, this.lastIndex));
    this.applied = Math.min(Math.max(applied, baseIndex), this.committed);
  }

  checkInvariants(): void {
    assert(
      this.snapshotPending || this.baseIndex <= this.applied,
      `applied ${this.applied} below base ${this.baseIndex}`,
    );
    assert(
      this.applied <= this.committed,
      `applied ${this.applied} beyond commit ${this.committed}`,
    );
    assert(
      this.committed <= this.lastIndex,
      `commit ${this.committed} beyond last ${this.lastIndex}`,
    );
    assert(
      this.stable >= this.baseIndex && this.stable <= this.lastIndex,
      `stable ${this.stable} out of range`,
    );
    let previousTerm = this.baseTerm;
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i];
      assert(entry.index === this.baseIndex + 1 + i, `entry ${entry.index} at position ${i}`);
      assert(entry.term >= previousTerm, `term goes back at ${entry.index}`);
      previousTerm = entry.term;
    }
  }
}
