import fc from 'fast-check';
import { compileSchedule } from './schedule';

/**
 * Checks compileSchedule against a brute-force reading of the documented DST rule, minute by
 * minute, for crontabs that restrict only minute and hour: a minute fires when its wall time
 * matches and that wall time did not already occur (fall back), or when it is the first matching
 * wall time of a spring-forward gap, shifted by the jump.
 */

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

/** Wall time minus UTC at instantMs, by Intl, independent of the code under test. */
function offsetMs(zone: string, instantMs: number): number {
  const key = `${zone} ${instantMs}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const part = (type: string): number =>
    Number(formatter!.formatToParts(instantMs).find((p) => p.type === type)!.value);
  const offset =
    Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute')) -
    instantMs;
  offsetCache.set(key, offset);
  return offset;
}

function referenceNextAfter(
  zone: string,
  matchesWall: (hour: number, minute: number) => boolean,
  afterMs: number,
): number | undefined {
  const matches = (wallMs: number): boolean => {
    const wall = new Date(wallMs);
    return matchesWall(wall.getUTCHours(), wall.getUTCMinutes());
  };
  for (
    let candidateMs = Math.floor(afterMs / MS_PER_MINUTE) * MS_PER_MINUTE + MS_PER_MINUTE;
    candidateMs <= afterMs + 50 * MS_PER_HOUR;
    candidateMs += MS_PER_MINUTE
  ) {
    const nowOffsetMs = offsetMs(zone, candidateMs);
    const earlierOffsetMs = offsetMs(zone, candidateMs - 3 * MS_PER_HOUR);
    const stepMs = earlierOffsetMs - nowOffsetMs;
    const secondPass = stepMs > 0 && offsetMs(zone, candidateMs - stepMs) === earlierOffsetMs;
    if (!secondPass && matches(candidateMs + nowOffsetMs)) return candidateMs;
    const jumpMs = nowOffsetMs - earlierOffsetMs;
    const shiftedFromGap = jumpMs > 0 && offsetMs(zone, candidateMs - jumpMs) === earlierOffsetMs;
    if (shiftedFromGap && matches(candidateMs + earlierOffsetMs)) {
      // Only the gap's first matching wall time fires; the gap starts at the jump instant's wall.
      let gapStartMs = candidateMs;
      while (offsetMs(zone, gapStartMs - MS_PER_MINUTE) !== earlierOffsetMs)
        gapStartMs -= MS_PER_MINUTE;
      let firstInGap = true;
      for (
        let wallMs = gapStartMs + earlierOffsetMs;
        wallMs < candidateMs + earlierOffsetMs;
        wallMs += MS_PER_MINUTE
      ) {
        if (matches(wallMs)) firstInGap = false;
      }
      if (firstInGap) return candidateMs;
    }
  }
  return undefined;
}

interface FieldChoice {
  readonly text: string;
  readonly matches: (value: number) => boolean;
}

function fieldArbitrary(max: number): fc.Arbitrary<FieldChoice> {
  const value = fc.integer({ min: 0, max });
  return fc.oneof(
    fc.constant({ text: '*', matches: () => true }),
    value.map((v) => ({ text: `${v}`, matches: (x: number) => x === v })),
    fc
      .integer({ min: 2, max: 7 })
      .map((step) => ({ text: `*/${step}`, matches: (x: number) => x % step === 0 })),
    fc.tuple(value, value).map(([a, b]) => {
      const [low, high] = a <= b ? [a, b] : [b, a];
      return { text: `${low}-${high}`, matches: (x: number) => x >= low && x <= high };
    }),
    fc
      .uniqueArray(value, { minLength: 2, maxLength: 2 })
      .map(([a, b]) => ({ text: `${a},${b}`, matches: (x: number) => x === a || x === b })),
  );
}

describe('crontab schedules against a brute-force reference of the DST rule', () => {
  const cases: Array<[string, number[]]> = [
    ['America/New_York', [Date.UTC(2025, 2, 9, 7), Date.UTC(2025, 10, 2, 6)]],
    ['Europe/Berlin', [Date.UTC(2025, 2, 30, 1), Date.UTC(2025, 9, 26, 1)]],
    ['America/Santiago', [Date.UTC(2025, 3, 6, 3), Date.UTC(2025, 8, 7, 4)]],
    ['Australia/Sydney', [Date.UTC(2025, 3, 5, 16), Date.UTC(2025, 9, 4, 16)]],
    ['Asia/Kolkata', [Date.UTC(2025, 5, 1)]],
  ];

  it.each(cases)('%s', (zone, transitionsMs) => {
    fc.assert(
      fc.property(
        fieldArbitrary(59),
        fieldArbitrary(23),
        fc.constantFrom(...transitionsMs),
        fc.integer({ min: -26 * 60, max: 4 * 60 }),
        (minute, hour, transitionMs, deltaMinutes) => {
          const afterMs = transitionMs + deltaMinutes * MS_PER_MINUTE + 17_000;
          const schedule = compileSchedule({
            kind: 'cron',
            expression: `${minute.text} ${hour.text} * * *`,
            timezone: zone,
          });
          const expected = referenceNextAfter(
            zone,
            (h, m) => hour.matches(h) && minute.matches(m),
            afterMs,
          );
          expect(schedule.nextAfter(afterMs)).toBe(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
