import { Inflights } from './inflights';

/**
 * The leader's view of one follower (etcd's Progress):
 * - probe: the leader does not know where the follower's log matches; one Append at a time;
 * - replicate: it does; Appends are pipelined up to the inflight limits;
 * - snapshot: a snapshot is being sent; nothing else until it is reported done or failed.
 * Invariant: match < next.
 */
export class Progress {
  match = 0;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot' = 'probe';
  /** In probe: an Append was sent and no answer came yet (cleared by a heartbeat answer). */
  probeSent = false;
  pendingSnapshot = 0;
  /** Send an Append (even an empty one) at the next flush: the follower may be missing entries. */
  appendWanted = false;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  readonly inflights: Inflights;

  constructor(lastIndex: number, inflightCountMax: number, inflightBytesMax: number) {
    this.next = lastIndex + 1;
    this.inflights = new Inflights(inflightCountMax, inflightBytesMax);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState('replicate');
  }

  becomeSnapshot(index: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = index;
  }

  /** An acknowledgement up to `index`: returns true when it moved the match forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the Append at `rejected`; `hint` is where the leader should retry (fast
   * backtracking). Returns false when the rejection is stale and ignored.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1; // pipelining went wrong: fall back to probing from the match
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** True when the leader should not send another Append now. */
  get paused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full;
      case 'snapshot':
        return true;
    }
  }

  /** Notes an Append carrying entries up to `lastIndex` was sent. */
  sentEntries(lastIndex: number, bytes: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  private resetState(state: Progress['state']): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
