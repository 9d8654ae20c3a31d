import type { CronExpression } from 'cron-parser';
import type { Schedule } from './schedule';
import { type ZoneClockChanges, zoneClockChanges } from './zone-transitions';

/** Bounds the skips past repeated hours in one call (one is all a real zone needs). */
const MAX_REPEATED_SPANS_SKIPPED = 8;
/** Answers remembered per schedule (see nextAfter). */
const MEMO_ENTRIES = 4;

/**
 * A crontab in a zone. nextAfter asks cron-parser for the first match after afterMs and corrects
 * it around clock changes so that the answer is the successor of afterMs in one fixed set of fire
 * instants (see schedule.ts for the rule):
 * - cron-parser puts a jumped-over wall time after the jump only when it starts before the jump;
 *   from an afterMs just after the jump, ask from just before it too.
 * - where the zone turned its clocks back, skip matches whose wall time already occurred.
 * The parsed expression may be shared with other schedules: each call resets it.
 */
export class CronSchedule implements Schedule {
  private readonly clockChanges: ZoneClockChanges | undefined;
  /**
   * The last few (afterMs → answer) pairs; NaN = no entry / no answer. A schedule is shared by
   * every task with the same crontab and zone, and those tasks fire together: 1,000 tasks on
   * `* * * * * *` ask for the successor of the same second 1,000 times a second (at each apply
   * of a record and at each plan), and cron-parser takes 10-40 µs an answer. nextAfter is pure,
   * so a remembered answer is the answer.
   */
  private readonly memoAfterMs = new Float64Array(MEMO_ENTRIES).fill(Number.NaN);
  private readonly memoNextMs = new Float64Array(MEMO_ENTRIES).fill(Number.NaN);
  private memoNextSlot = 0;

  constructor(
    /** Canonical 6 fields. */
    readonly crontab: string,
    /** Canonical IANA name. */
    readonly timeZone: string,
    private readonly expression: CronExpression,
  ) {
    this.clockChanges = timeZone === 'UTC' ? undefined : zoneClockChanges(timeZone);
  }

  nextAfter(afterMs: number): number | undefined {
    if (Number.isNaN(afterMs)) throw new RangeError('nextAfter: afterMs is NaN');
    for (let i = 0; i < MEMO_ENTRIES; i++) {
      if (this.memoAfterMs[i] !== afterMs) continue;
      const nextMs = this.memoNextMs[i];
      return Number.isNaN(nextMs) ? undefined : nextMs;
    }
    const nextMs = this.computeNextAfter(afterMs);
    const slot = this.memoNextSlot;
    this.memoAfterMs[slot] = afterMs;
    this.memoNextMs[slot] = nextMs ?? Number.NaN;
    this.memoNextSlot = (slot + 1) % MEMO_ENTRIES;
    return nextMs;
  }

  private computeNextAfter(afterMs: number): number | undefined {
    let fromMs = afterMs;
    const around = this.clockChanges?.spanContaining(afterMs);
    if (around?.direction === 'forward') {
      const fromBeforeJumpMs = this.cronParserNextAfter(around.startMs - 1);
      if (fromBeforeJumpMs !== undefined && fromBeforeJumpMs > afterMs) return fromBeforeJumpMs;
    }
    for (let skipped = 0; skipped <= MAX_REPEATED_SPANS_SKIPPED; skipped++) {
      const candidateMs = this.cronParserNextAfter(fromMs);
      if (candidateMs === undefined) return undefined;
      const repeated = this.clockChanges?.spanContaining(candidateMs);
      if (repeated?.direction !== 'back') return candidateMs;
      // Every wall time of [startMs, endMs) first occurred before startMs: go on from the end.
      fromMs = repeated.endMs - 1;
    }
    return undefined;
  }

  private cronParserNextAfter(afterMs: number): number | undefined {
    try {
      this.expression.reset(new Date(afterMs));
      return this.expression.next().getTime();
    } catch {
      // "loop limit exceeded" (no match within cron-parser's search) or a date out of Date's range.
      return undefined;
    }
  }
}
