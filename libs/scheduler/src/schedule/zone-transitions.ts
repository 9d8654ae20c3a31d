/**
 * Where a time zone changes its clocks, by UTC year. Turning back: the instants whose wall time
 * already occurred once (the second pass through the repeated hour); cron-parser alone fires that
 * hour twice for expressions whose hour field matches it by wildcard or step (`0 * * * *`).
 * Jumping forward: the instants just after the jump, where the jumped-over wall times fire, which
 * cron-parser only finds when it starts before the jump. The cron schedule corrects both (see
 * cron-schedule.ts).
 *
 * Offsets come from Intl, one formatter per zone. A year is scanned once at one-day steps (about
 * 370 Intl calls, ~4 ms) and every change pinned to the second by bisection; two offset changes
 * less than a day apart would be missed, which no zone has had since 1970.
 */

/**
 * An offset change at startMs by endMs - startMs. Back: instants in [startMs, endMs) show a wall
 * time the zone already showed before startMs. Forward: instants in [startMs, endMs) are the first
 * after the wall times that were skipped.
 */
export interface ClockChangeSpan {
  readonly direction: 'back' | 'forward';
  /** The instant of the change. */
  readonly startMs: number;
  /** startMs plus the size of the change. */
  readonly endMs: number;
}

const MS_PER_SECOND = 1_000;
const MS_PER_DAY = 86_400_000;
/** Years outside this range are left alone (cron-parser itself gives up long before 9999). */
const FIRST_SCANNED_YEAR = 1971;
const LAST_SCANNED_YEAR = 9_999;
/** Zones whose tables are kept; there are fewer than 600 IANA names. */
const MAX_ZONES = 1_000;

export class ZoneClockChanges {
  private readonly formatter: Intl.DateTimeFormat;
  private readonly spansByUtcYear = new Map<number, readonly ClockChangeSpan[]>();

  constructor(readonly timeZone: string) {
    this.formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The span (see ClockChangeSpan) that contains instantMs, if any. */
  spanContaining(instantMs: number): ClockChangeSpan | undefined {
    const year = new Date(instantMs).getUTCFullYear();
    // A span starting late on 31 December may reach into the next year.
    return this.findIn(year, instantMs) ?? this.findIn(year - 1, instantMs);
  }

  /** Local wall time minus UTC, in ms, at instantMs (whole seconds). */
  offsetMs(instantMs: number): number {
    const wholeSecondMs = Math.floor(instantMs / MS_PER_SECOND) * MS_PER_SECOND;
    const fields: Record<string, number> = {};
    for (const part of this.formatter.formatToParts(wholeSecondMs)) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const wallAsUtcMs = Date.UTC(
      fields.year,
      fields.month - 1,
      fields.day,
      fields.hour,
      fields.minute,
      fields.second,
    );
    return wallAsUtcMs - wholeSecondMs;
  }

  private findIn(utcYear: number, instantMs: number): ClockChangeSpan | undefined {
    for (const span of this.spansOf(utcYear)) {
      if (instantMs >= span.startMs && instantMs < span.endMs) return span;
    }
    return undefined;
  }

  private spansOf(utcYear: number): readonly ClockChangeSpan[] {
    let spans = this.spansByUtcYear.get(utcYear);
    if (spans === undefined) {
      spans = this.scanYear(utcYear);
      this.spansByUtcYear.set(utcYear, spans);
    }
    return spans;
  }

  private scanYear(utcYear: number): readonly ClockChangeSpan[] {
    if (utcYear < FIRST_SCANNED_YEAR || utcYear > LAST_SCANNED_YEAR) return [];
    const spans: ClockChangeSpan[] = [];
    const yearEndMs = Date.UTC(utcYear + 1, 0, 1);
    let earlierMs = Date.UTC(utcYear, 0, 1);
    let earlierOffsetMs = this.offsetMs(earlierMs);
    while (earlierMs < yearEndMs) {
      const laterMs = Math.min(earlierMs + MS_PER_DAY, yearEndMs);
      const laterOffsetMs = this.offsetMs(laterMs);
      if (laterOffsetMs !== earlierOffsetMs) {
        const startMs = this.firstInstantWithOffset(earlierMs, laterMs, laterOffsetMs);
        spans.push({
          direction: laterOffsetMs < earlierOffsetMs ? 'back' : 'forward',
          startMs,
          endMs: startMs + Math.abs(earlierOffsetMs - laterOffsetMs),
        });
      }
      earlierMs = laterMs;
      earlierOffsetMs = laterOffsetMs;
    }
    return spans;
  }

  /** Bisects (lowMs, highMs] for the first whole second already at offsetMs (highMs is). */
  private firstInstantWithOffset(lowMs: number, highMs: number, offsetMs: number): number {
    let low = lowMs / MS_PER_SECOND;
    let high = highMs / MS_PER_SECOND;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.offsetMs(middle * MS_PER_SECOND) === offsetMs) high = middle;
      else low = middle;
    }
    return high * MS_PER_SECOND;
  }
}

const clockChangesByZone = new Map<string, ZoneClockChanges>();

/** The shared table of a zone (the tables only grow by a few spans per year looked at). */
export function zoneClockChanges(timeZone: string): ZoneClockChanges {
  let table = clockChangesByZone.get(timeZone);
  if (table === undefined) {
    if (clockChangesByZone.size >= MAX_ZONES) clockChangesByZone.clear();
    table = new ZoneClockChanges(timeZone);
    clockChangesByZone.set(timeZone, table);
  }
  return table;
}
