import { createHash } from 'node:crypto';

/** Ids count milliseconds from here: 41 bits of them last until 2093. */
const ID_EPOCH_MS = Date.UTC(2024, 0, 1);
const NODE_BITS = 10n;
const SEQUENCE_BITS = 12n;
const SEQUENCE_MAX = (1 << Number(SEQUENCE_BITS)) - 1;
const NODE_NUMBER_MAX = (1 << Number(NODE_BITS)) - 1;

/** A node's 10-bit number, derived from its id (two nodes may share one: apply refuses a taken id and the node mints another). */
export function nodeNumberOf(nodeId: string): number {
  const digest = createHash('sha256').update(nodeId).digest();
  return ((digest[0] << 8) | digest[1]) & NODE_NUMBER_MAX;
}

/**
 * Task ids minted by the node that takes a request, before proposing it — unique without
 * coordination (time, node number, sequence, as sonyflake does), below 2^63 and increasing in
 * time, so a listing by id is a listing by age.
 */
export class TaskIdGenerator {
  private lastMs = 0;
  private sequence = 0;
  /**
   * The id of sequence 0 in the millisecond `baseMs`, as its decimal digits above the last six
   * (`baseHighText`) and the number the last six make (`baseLow`): a batch mints 1,000 ids in a
   * few milliseconds, and this makes each a string concatenation instead of four BigInts and a
   * BigInt's toString.
   */
  private baseMs = -1;
  private baseHighText = '';
  private baseLow = 0;

  constructor(
    private readonly nodeNumber: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!Number.isInteger(nodeNumber) || nodeNumber < 0 || nodeNumber > NODE_NUMBER_MAX)
      throw new RangeError(`node number must be 0..${NODE_NUMBER_MAX}, got ${nodeNumber}`);
  }

  next(): string {
    let ms = Math.max(this.nowMs() - ID_EPOCH_MS, 0);
    if (ms <= this.lastMs) {
      // Same millisecond (or the clock stepped back): go on from the last one, borrowing the next
      // millisecond when its sequence runs out.
      ms = this.lastMs;
      if (this.sequence === SEQUENCE_MAX) {
        ms += 1;
        this.sequence = 0;
      } else this.sequence += 1;
    } else this.sequence = 0;
    this.lastMs = ms;
    if (ms !== this.baseMs) {
      const base = idOf(ms, this.nodeNumber, 0);
      this.baseMs = ms;
      this.baseHighText = base < LOW_DIGITS_UNIT ? '' : String(base / LOW_DIGITS_UNIT);
      this.baseLow = Number(base % LOW_DIGITS_UNIT);
    }
    // The sequence fills the low 12 bits, which are 0 in the base: adding it is or-ing it.
    const low = this.baseLow + this.sequence;
    if (this.baseHighText === '' || low >= LOW_DIGITS)
      return idOf(ms, this.nodeNumber, this.sequence).toString();
    return this.baseHighText + String(LOW_DIGITS + low).slice(1);
  }
}

const LOW_DIGITS = 1_000_000;
const LOW_DIGITS_UNIT = BigInt(LOW_DIGITS);

/** The id of (ms since the epoch, node number, sequence). */
export function idOf(ms: number, nodeNumber: number, sequence: number): bigint {
  return (
    (BigInt(ms) << (NODE_BITS + SEQUENCE_BITS)) |
    (BigInt(nodeNumber) << SEQUENCE_BITS) |
    BigInt(sequence)
  );
}

/** Whether `text` is a task id as the API gives them out (a decimal integer below 2^63). */
export function isTaskId(text: string): boolean {
  return /^(0|[1-9][0-9]{0,18})$/.test(text) && BigInt(text) < 1n << 63n;
}
