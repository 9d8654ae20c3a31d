import type { FireAdmission } from './wheel-fire-timer';

export interface DispatchAdmissionDeps {
  /** Attempts waiting for a dispatcher slot now. */
  queued(): number;
  /** Calls `wake` once fewer than `limit` attempts wait (CallbackDispatcher.whenQueueBelow). */
  whenQueueBelow(limit: number, wake: () => void): void;
  /** How long ago the leader last heard from a majority (RaftNode.quorumContactAgeMs). */
  quorumContactAgeMs(): number;
  /** At most this many attempts wait for a slot before due fires are held back. */
  readonly queuedMax: number;
  /** Fires are held while the leader has not heard from a majority for longer than this. */
  quorumContactMaxAgeMs(): number;
  /** While they are held for want of a majority, whether to go on is asked again this often. */
  readonly quorumRecheckMs: number;
  /** Told when holding for want of a majority starts (with the age) and when it ends. */
  onQuorumHold?(held: boolean, ageMs: number): void;
  /** Calls `wake` after `delayMs` (default: an unref'd setTimeout; tests pass their own). */
  schedule?(delayMs: number, wake: () => void): void;
}

function unrefTimeout(delayMs: number, wake: () => void): void {
  setTimeout(wake, delayMs).unref();
}

/**
 * When the leader's due fires may go to the dispatcher (the FireAdmission of its timer):
 * - while a concurrency's worth of attempts already waits for a slot, the fires wait in the
 *   timer (as numbers, not as queued deliveries), and go on once that queue is half as long;
 * - while the leader has not heard from a majority of the voters for longer than
 *   `quorumContactMaxAgeMs()`, they wait too. A leader cut off from its peers stays leader until
 *   check-quorum (a whole election timeout), and the records of the fires it would send meanwhile
 *   can never commit: the next leader sends them all again. Holding them turns those duplicates
 *   into fires the next leader sends once (or this one, if the partition heals in time), a little
 *   late. A sole voter never holds.
 */
export class DispatchAdmission implements FireAdmission {
  private holding = false;

  constructor(private readonly deps: DispatchAdmissionDeps) {}

  room(): number {
    const ageMs = this.deps.quorumContactAgeMs();
    if (ageMs > this.deps.quorumContactMaxAgeMs()) {
      if (!this.holding) {
        this.holding = true;
        this.deps.onQuorumHold?.(true, ageMs);
      }
      return 0;
    }
    if (this.holding) {
      this.holding = false;
      this.deps.onQuorumHold?.(false, ageMs);
    }
    return this.deps.queuedMax - this.deps.queued();
  }

  whenRoom(wake: () => void): void {
    if (this.deps.quorumContactAgeMs() > this.deps.quorumContactMaxAgeMs()) {
      (this.deps.schedule ?? unrefTimeout)(this.deps.quorumRecheckMs, wake);
      return;
    }
    this.deps.whenQueueBelow(Math.ceil(this.deps.queuedMax / 2), wake);
  }
}
