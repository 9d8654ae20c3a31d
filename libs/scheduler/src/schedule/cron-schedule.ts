import type { CronExpression } from 'cron-parser';
import type { Schedule } from './schedule';
import { type ZoneClockChanges, zoneClockChanges } from './zone-transitions';

/** Bounds the skips past repeated hours in one call (one is all a real zone needs). */
const MAX_REPEATED_SPANS_SKIPPED = 8;

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
