import type { Message, NodeId } from '../../core/types';
import type { SeededRandom } from '@xcron/testing';

/** A message in flight, with the snapshot bytes a Snapshot message carries beside it. */
export interface Envelope {
  message: Message;
  snapshotData?: Uint8Array;
  deliverAtMs: number;
  /** Tie-breaker that keeps delivery order deterministic. */
  order: number;
}

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Delivery delay bounds; a spread makes messages overtake each other (reordering). */
  delayMsMin: number;
  delayMsMax: number;
  /** Probability that a message is held back far longer (a stalled route): up to `slowDelayMsMax`. */
  slowRate?: number;
  slowDelayMsMax?: number;
}

export const RELIABLE_NETWORK: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  delayMsMin: 1,
  delayMsMax: 1,
};

/**
 * The simulated network: per-message delay, loss, duplication and reordering from the seeded PRNG,
 * and partitions as a set of cut directed links (asymmetric when only one direction is cut).
 */
export class SimNetwork {
  private inFlight: Envelope[] = [];
  private readonly cut = new Set<string>();
  /** Links that lose every message until a time (a connection that dropped and is being redialed). */
  private readonly blips = new Map<string, number>();
  private order = 0;
  /** The simulated time of the last `takeDue` (blips end by it). */
  private nowMs = 0;
  faults: NetworkFaults;
  readonly counts = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    byType: new Map<string, number>(),
  };

  constructor(
    private readonly random: SeededRandom,
    faults: NetworkFaults,
    /** Told of every message that will never arrive (so a leader can learn a snapshot was lost). */
    private readonly onLost: (message: Message) => void = () => undefined,
  ) {
    this.faults = faults;
  }

  send(message: Message, nowMs: number, snapshotData?: Uint8Array): void {
    this.counts.sent += 1;
    this.counts.byType.set(message.type, (this.counts.byType.get(message.type) ?? 0) + 1);
    if (this.random.chance(this.faults.dropRate)) {
      this.counts.dropped += 1;
      this.onLost(message);
      return;
    }
    this.enqueue(message, nowMs, snapshotData);
    if (this.random.chance(this.faults.duplicateRate)) {
      this.counts.duplicated += 1;
      this.enqueue(message, nowMs, snapshotData);
    }
  }

  /** Messages due by `nowMs`, in delivery order; those on a cut link are lost. */
  takeDue(nowMs: number): Envelope[] {
    this.nowMs = nowMs;
    if (this.inFlight.length === 0) return [];
    const due: Envelope[] = [];
    const later: Envelope[] = [];
    for (const envelope of this.inFlight)
      (envelope.deliverAtMs <= nowMs ? due : later).push(envelope);
    this.inFlight = later;
    due.sort((a, b) => a.deliverAtMs - b.deliverAtMs || a.order - b.order);
    const delivered: Envelope[] = [];
    for (const envelope of due) {
      if (!this.isCut(envelope.message.from, envelope.message.to)) delivered.push(envelope);
      else {
        this.counts.dropped += 1;
        this.onLost(envelope.message);
      }
    }
    this.counts.delivered += delivered.length;
    return delivered;
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(linkKey(from, to));
  }

  isCut(from: NodeId, to: NodeId): boolean {
    const key = linkKey(from, to);
    if (this.cut.has(key)) return true;
    const until = this.blips.get(key);
    if (until === undefined) return false;
    if (until > this.nowMs) return true;
    this.blips.delete(key);
    return false;
  }

  /** `from` -> `to` loses every message until `untilMs`, unlike a cut it ends on its own. */
  blip(from: NodeId, to: NodeId, untilMs: number): void {
    this.blips.set(linkKey(from, to), untilMs);
  }

  heal(): void {
    this.cut.clear();
    this.blips.clear();
  }

  get partitioned(): boolean {
    return this.cut.size > 0;
  }

  /** Forgets messages sent by a crashed node that have not arrived yet (its connections died with it). */
  dropFrom(id: NodeId): void {
    const kept: Envelope[] = [];
    for (const envelope of this.inFlight) {
      if (envelope.message.from !== id) kept.push(envelope);
      else this.onLost(envelope.message);
    }
    this.inFlight = kept;
  }

  private enqueue(message: Message, nowMs: number, snapshotData?: Uint8Array): void {
    const { delayMsMin, delayMsMax, slowRate = 0, slowDelayMsMax = 0 } = this.faults;
    let delay = delayMsMin + this.random.nextInt(delayMsMax - delayMsMin + 1);
    if (slowRate > 0 && this.random.chance(slowRate))
      delay += this.random.nextInt(slowDelayMsMax + 1);
    this.inFlight.push({ message, snapshotData, deliverAtMs: nowMs + delay, order: this.order++ });
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}->${to}`;
}
