import fc from 'fast-check';
import { InvalidTaskError } from '../task/task.errors';
import { compileSchedule, nextFireTimes, type Schedule } from './schedule';
import { parseCrontab } from './cron-expression';
import { CronSchedule } from './cron-schedule';

const cron = (expression: string, timezone?: string): Schedule =>
  compileSchedule({ kind: 'cron', expression, timezone });

/** "YYYY-MM-DD HH:MM:SS ZZZ" as a wall clock in timeZone shows instantMs. */
function wall(instantMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  }).formatToParts(instantMs);
  const get = (type: string): string => parts.find((part) => part.type === type)?.value ?? '?';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${get('timeZoneName')}`;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

function expectCronInvalid(
  expression: string,
  timezone: string | undefined,
  fragment: RegExp,
): void {
  let thrown: unknown;
  try {
    cron(expression, timezone);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidTaskError);
  const error = thrown as InvalidTaskError;
  expect(error.reason).toBe('cron_invalid');
  expect(error.field).toBe('format');
  expect(error.message).toMatch(fragment);
}

function expectZoneInvalid(timezone: string): void {
  let thrown: unknown;
  try {
    cron('* * * * *', timezone);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidTaskError);
  expect((thrown as InvalidTaskError).reason).toBe('timezone_invalid');
  expect((thrown as InvalidTaskError).field).toBe('timezone');
}

const T0 = Date.UTC(2025, 5, 11, 10, 20, 30, 400); // Wednesday 2025-06-11 10:20:30.400 UTC

describe('one-shot schedules', () => {
  it('fires at runAtMs only, strictly after afterMs', () => {
    const schedule = compileSchedule({ kind: 'once', runAtMs: 5_000 });
    expect(schedule.nextAfter(0)).toBe(5_000);
    expect(schedule.nextAfter(4_999)).toBe(5_000);
    expect(schedule.nextAfter(5_000)).toBeUndefined();
    expect(schedule.nextAfter(9_000)).toBeUndefined();
    expect(nextFireTimes(schedule, 0, 10)).toEqual([5_000]);
  });

  it.each([NaN, Infinity, -Infinity, 9e15])('refuses runAtMs %p', (runAtMs) => {
    expect(() => compileSchedule({ kind: 'once', runAtMs })).toThrow(InvalidTaskError);
  });
});

describe('crontab fields', () => {
  it('reads 5 fields with second 0', () => {
    expect(iso(cron('*/15 * * * *').nextAfter(T0))).toBe('2025-06-11T10:30:00.000Z');
    expect(iso(cron('0 12 * * *').nextAfter(T0))).toBe('2025-06-11T12:00:00.000Z');
    expect(iso(cron('0 0 1 * *').nextAfter(T0))).toBe('2025-07-01T00:00:00.000Z');
  });

  it('reads 6 fields with seconds first', () => {
    expect(iso(cron('*/10 * * * * *').nextAfter(T0))).toBe('2025-06-11T10:20:40.000Z');
    expect(iso(cron('5 0 12 * * *').nextAfter(T0))).toBe('2025-06-11T12:00:05.000Z');
    expect(iso(cron('* * * * * *').nextAfter(T0))).toBe('2025-06-11T10:20:31.000Z');
  });

  it('is strictly after afterMs, also when afterMs is itself a fire time', () => {
    const everyMinute = cron('* * * * *');
    const exact = Date.UTC(2025, 5, 11, 10, 21);
    expect(everyMinute.nextAfter(exact - 1)).toBe(exact);
    expect(everyMinute.nextAfter(exact)).toBe(exact + 60_000);
    expect(everyMinute.nextAfter(exact + 0.5)).toBe(exact + 60_000);
  });

  it('tolerates extra whitespace', () => {
    expect(cron('  0\t12  * *   * ').nextAfter(T0)).toBe(cron('0 12 * * *').nextAfter(T0));
  });

  it('reads month and weekday names, any case', () => {
    expect(iso(cron('0 9 * JAN MON').nextAfter(T0))).toBe('2026-01-05T09:00:00.000Z');
    expect(iso(cron('0 9 * * thu').nextAfter(T0))).toBe('2025-06-12T09:00:00.000Z');
    expect(iso(cron('0 9 * * MON-FRI').nextAfter(Date.UTC(2025, 5, 14)))).toBe(
      '2025-06-16T09:00:00.000Z',
    );
  });

  it('reads L, #, ? and 7 as Sunday', () => {
    expect(iso(cron('0 0 L * *').nextAfter(T0))).toBe('2025-06-30T00:00:00.000Z');
    expect(iso(cron('0 0 * * 1#1').nextAfter(T0))).toBe('2025-07-07T00:00:00.000Z');
    expect(iso(cron('0 0 ? * 7').nextAfter(T0))).toBe('2025-06-15T00:00:00.000Z');
  });

  it('matches day-of-month OR day-of-week when both are restricted (Vixie)', () => {
    // 13th of the month or a Friday: Friday 13 June comes first, then 13 June itself is the same day.
    expect(nextFireTimes(cron('0 0 13 * FRI'), T0, 3).map(iso)).toEqual([
      '2025-06-13T00:00:00.000Z',
      '2025-06-20T00:00:00.000Z',
      '2025-06-27T00:00:00.000Z',
    ]);
  });

  it('finds sparse matches years ahead (29 February, fifth Friday of February)', () => {
    expect(iso(cron('0 0 29 2 *').nextAfter(T0))).toBe('2028-02-29T00:00:00.000Z');
    expect(iso(cron('0 0 * 2 5#5').nextAfter(T0))).toBe('2036-02-29T00:00:00.000Z');
  });

  it('answers undefined when Date runs out', () => {
    expect(cron('0 0 1 1 *').nextAfter(8.64e15 - 1_000)).toBeUndefined();
    expect(cron('* * * * *').nextAfter(Infinity)).toBeUndefined();
    expect(() => cron('* * * * *').nextAfter(NaN)).toThrow(RangeError);
  });
});

describe('crontab aliases', () => {
  const cases: Array<[string, string]> = [
    ['@yearly', '2026-01-01T00:00:00.000Z'],
    ['@annually', '2026-01-01T00:00:00.000Z'],
    ['@monthly', '2025-07-01T00:00:00.000Z'],
    ['@weekly', '2025-06-15T00:00:00.000Z'],
    ['@daily', '2025-06-12T00:00:00.000Z'],
    ['@midnight', '2025-06-12T00:00:00.000Z'],
    ['@hourly', '2025-06-11T11:00:00.000Z'],
    ['@minutely', '2025-06-11T10:21:00.000Z'],
    ['@secondly', '2025-06-11T10:20:31.000Z'],
    ['@weekdays', '2025-06-12T00:00:00.000Z'],
    ['@weekends', '2025-06-14T00:00:00.000Z'],
    ['@HOURLY', '2025-06-11T11:00:00.000Z'],
  ];
  it.each(cases)('%s', (alias, firstFire) => {
    expect(iso(cron(alias).nextAfter(T0))).toBe(firstFire);
  });

  it('@weekdays skips the weekend', () => {
    expect(iso(cron('@weekdays').nextAfter(Date.UTC(2025, 5, 13, 1)))).toBe(
      '2025-06-16T00:00:00.000Z',
    );
  });

  it.each(['@reboot', '@every 5m', '@every', '@fortnightly', '@'])('refuses %s', (alias) => {
    expectCronInvalid(alias, undefined, /unknown alias/);
  });
});

describe('crontab validation', () => {
  it.each([
    ['', /has 0 fields; expected 5 .* or 6/],
    ['   ', /has 0 fields/],
    ['*', /has 1 field;/],
    ['* * * *', /has 4 fields/],
    ['* * * * * * *', /has 7 fields/],
    ['0 0 12 * * * 2025', /has 7 fields/],
  ])('refuses the field count of %p', (expression, fragment) => {
    expectCronInvalid(expression, undefined, fragment);
  });

  it.each([
    ['61 * * * *', /minute "61": .*got value 61 expected range 0-59/],
    ['* 24 * * *', /hour "24": .*expected range 0-23/],
    ['* * 0 * *', /day-of-month "0": .*expected range 1-31/],
    ['* * 32 * *', /day-of-month "32"/],
    ['* * * 13 *', /month "13"/],
    ['* * * * 8', /day-of-week "8"/],
    ['60 * * * * *', /second "60"/],
    ['1-70 * * * *', /minute "1-70"/],
    ['*/0 * * * *', /minute "\*\/0"/],
    ['5-1 * * * *', /minute "5-1": Invalid range/],
    ['a * * * *', /minute "a"/],
    ['1.5 * * * *', /minute "1.5"/],
    ['* * * FOO *', /month "FOO"/],
    ['* * * * FOO', /day-of-week "FOO"/],
  ])('refuses the out-of-range or malformed %p, naming the field', (expression, fragment) => {
    expectCronInvalid(expression, undefined, fragment);
  });

  it.each([
    ['0 0 15W * *', /day-of-month "15W".*W, nearest weekday, is not supported/],
    ['0 0 LW * *', /day-of-month "LW"/],
    ['0 0 L-2 * *', /day-of-month "L-2".*L-n, n days before the last, is not supported/],
    ['H * * * *', /minute "H": H \(hashed value\) is not supported/],
    ['0 H(0-5) * * *', /hour "H\(0-5\)"/],
    ['0 0 H/2 * * *', /hour "H\/2"/],
  ])('refuses the unsupported %p', (expression, fragment) => {
    expectCronInvalid(expression, undefined, fragment);
  });

  it('refuses a day that never occurs in the month', () => {
    expectCronInvalid('0 0 30 2 *', undefined, /day-of-month "30" never occurs in month "2"/);
    expectCronInvalid('0 0 31 4 *', undefined, /never occurs/);
  });

  it('quotes what the client wrote', () => {
    expectCronInvalid('61 * * * *', undefined, /^crontab "61 \* \* \* \*": minute/);
  });

  it('refuses very long input', () => {
    expectCronInvalid(`${'1,'.repeat(200)}2 * * * *`, undefined, /longer than 256/);
  });
});

describe('time zones', () => {
  it('defaults to UTC', () => {
    expect(cron('0 9 * * *').nextAfter(T0)).toBe(cron('0 9 * * *', 'UTC').nextAfter(T0));
  });

  it('reads wall times in the zone', () => {
    // June: New York is UTC-4, Berlin UTC+2, Kolkata UTC+5:30 all year.
    expect(iso(cron('0 9 * * *', 'America/New_York').nextAfter(T0))).toBe(
      '2025-06-11T13:00:00.000Z',
    );
    expect(iso(cron('0 9 * * *', 'Europe/Berlin').nextAfter(T0))).toBe('2025-06-12T07:00:00.000Z');
    expect(iso(cron('0 9 * * *', 'Asia/Kolkata').nextAfter(T0))).toBe('2025-06-12T03:30:00.000Z');
    expect(iso(cron('0 * * * *', 'Asia/Kolkata').nextAfter(T0))).toBe('2025-06-11T10:30:00.000Z');
    // January: New York is UTC-5.
    expect(iso(cron('0 9 * * *', 'America/New_York').nextAfter(Date.UTC(2025, 0, 10)))).toBe(
      '2025-01-10T14:00:00.000Z',
    );
  });

  it('reads the day in the zone', () => {
    // 23:30 UTC on Sunday is already Monday in Berlin.
    expect(iso(cron('30 1 * * MON', 'Europe/Berlin').nextAfter(Date.UTC(2025, 5, 15, 12)))).toBe(
      '2025-06-15T23:30:00.000Z',
    );
  });

  it('accepts any spelling ICU knows and canonicalizes it', () => {
    expect(cron('0 9 * * *', 'america/new_york').nextAfter(T0)).toBe(
      cron('0 9 * * *', 'America/New_York').nextAfter(T0),
    );
    expect(cron('0 9 * * *', 'Asia/Calcutta').nextAfter(T0)).toBe(
      cron('0 9 * * *', 'Asia/Kolkata').nextAfter(T0),
    );
    expect(cron('0 9 * * *', 'Etc/UTC').nextAfter(T0)).toBe(cron('0 9 * * *').nextAfter(T0));
  });

  it.each(['Mars/Base', '', '   ', '+05:30', 'UTC+5', 'Z', 'local'])('refuses %p', (zone) => {
    expectZoneInvalid(zone);
  });

  it('checks the zone before the expression', () => {
    expectZoneInvalid('Mars/Base');
    expect(() => cron('61 * * * *', 'Mars/Base')).toThrow(/timezone "Mars\/Base" is not an IANA/);
  });
});

describe('daylight saving time, America/New_York 2025', () => {
  const zone = 'America/New_York';
  // 9 March 2025: 02:00 EST -> 03:00 EDT. The local day runs 05:00Z to 04:00Z next day (23 h).
  const springDayStartMs = Date.UTC(2025, 2, 9, 5);
  const springDayEndMs = Date.UTC(2025, 2, 10, 4);
  // 2 November 2025: 02:00 EDT -> 01:00 EST. The local day runs 04:00Z to 05:00Z next day (25 h).
  const fallDayStartMs = Date.UTC(2025, 10, 2, 4);
  const fallDayEndMs = Date.UTC(2025, 10, 3, 5);

  /** Steps with nextAfter from each previous fire, as apply does. */
  const firesOnDay = (expression: string, startMs: number, endMs: number): number[] =>
    nextFireTimes(cron(expression, zone), startMs - 1, 1_000_000, endMs - 1);

  describe('spring forward', () => {
    it('fires a wall time in the gap shifted by the jump: 30 2 * * * at 03:30 EDT', () => {
      const fires = firesOnDay('30 2 * * *', springDayStartMs, springDayEndMs);
      expect(fires.map((ms) => wall(ms, zone))).toEqual(['2025-03-09 03:30:00 EDT']);
      expect(wall(cron('30 2 * * *', zone).nextAfter(fires[0])!, zone)).toBe(
        '2025-03-10 02:30:00 EDT',
      );
    });

    it('fires the jumped-over wall times once, at the first one moved by the jump: */15 2 * * *', () => {
      expect(
        firesOnDay('*/15 2 * * *', springDayStartMs, springDayEndMs).map((ms) => wall(ms, zone)),
      ).toEqual(['2025-03-09 03:00:00 EDT']);
      expect(
        firesOnDay('15,45 2 * * *', springDayStartMs, springDayEndMs).map((ms) => wall(ms, zone)),
      ).toEqual(['2025-03-09 03:15:00 EDT']);
    });

    it('gives the shifted fire also from an afterMs just after the jump', () => {
      const justAfterJumpMs = Date.UTC(2025, 2, 9, 7, 0, 17); // 03:00:17 EDT
      expect(wall(cron('45 2 * * *', zone).nextAfter(justAfterJumpMs)!, zone)).toBe(
        '2025-03-09 03:45:00 EDT',
      );
      expect(wall(cron('0 2 * * *', zone).nextAfter(justAfterJumpMs)!, zone)).toBe(
        '2025-03-10 02:00:00 EDT',
      );
    });

    it('merges a shifted match with a real one: 0 2,3 * * * fires once at 03:00', () => {
      expect(
        firesOnDay('0 2,3 * * *', springDayStartMs, springDayEndMs).map((ms) => wall(ms, zone)),
      ).toEqual(['2025-03-09 03:00:00 EDT']);
    });

    it.each([
      ['0 * * * *', 23],
      ['30 1 * * *', 1],
      ['*/15 * * * *', 92],
      ['* * * * *', 23 * 60],
      ['*/15 * * * * *', 23 * 240],
    ])('%s fires %i times on the 23-hour day', (expression, count) => {
      expect(firesOnDay(expression, springDayStartMs, springDayEndMs)).toHaveLength(count);
    });
  });

  describe('fall back', () => {
    it('fires 30 1 * * * once, in the first pass (EDT)', () => {
      const fires = firesOnDay('30 1 * * *', fallDayStartMs, fallDayEndMs);
      expect(fires.map((ms) => wall(ms, zone))).toEqual(['2025-11-02 01:30:00 EDT']);
    });

    it('fires 0 * * * * once per wall hour: 24 times, none at 01:00 EST', () => {
      const walls = firesOnDay('0 * * * *', fallDayStartMs, fallDayEndMs).map((ms) =>
        wall(ms, zone),
      );
      expect(walls).toHaveLength(24);
      expect(walls.slice(0, 3)).toEqual([
        '2025-11-02 00:00:00 EDT',
        '2025-11-02 01:00:00 EDT',
        '2025-11-02 02:00:00 EST',
      ]);
      expect(new Set(walls.map((text) => text.slice(0, 19))).size).toBe(24);
    });

    it.each([
      ['*/15 * * * * *', 24 * 240],
      ['* * * * *', 24 * 60],
      ['*/15 * * * *', 96],
      ['0 1-3 * * *', 3],
      ['0 */2 * * *', 12],
      ['@hourly', 24],
    ])('%s fires %i times on the 25-hour day, once per wall time', (expression, count) => {
      const fires = firesOnDay(expression, fallDayStartMs, fallDayEndMs);
      expect(fires).toHaveLength(count);
      expect(new Set(fires.map((ms) => wall(ms, zone).slice(0, 19))).size).toBe(count);
    });

    it('goes silent in the second pass for an every-15-seconds crontab', () => {
      const fires = firesOnDay('*/15 * * * * *', fallDayStartMs, fallDayEndMs);
      const lastFirstPass = fires.indexOf(Date.UTC(2025, 10, 2, 5, 59, 45));
      expect(wall(fires[lastFirstPass], zone)).toBe('2025-11-02 01:59:45 EDT');
      expect(wall(fires[lastFirstPass + 1], zone)).toBe('2025-11-02 02:00:00 EST');
      expect(fires[lastFirstPass + 1] - fires[lastFirstPass]).toBe(3_600_000 + 15_000);
    });

    it('does not fire again from an afterMs inside the second pass (pure in afterMs)', () => {
      const secondPassMs = Date.UTC(2025, 10, 2, 6, 10); // 01:10 EST
      expect(wall(secondPassMs, zone)).toBe('2025-11-02 01:10:00 EST');
      expect(wall(cron('30 1 * * *', zone).nextAfter(secondPassMs)!, zone)).toBe(
        '2025-11-03 01:30:00 EST',
      );
      expect(wall(cron('0 * * * *', zone).nextAfter(secondPassMs)!, zone)).toBe(
        '2025-11-02 02:00:00 EST',
      );
      expect(wall(cron('* * * * * *', zone).nextAfter(secondPassMs)!, zone)).toBe(
        '2025-11-02 02:00:00 EST',
      );
    });

    it('fires a first-pass match from an afterMs early in the first pass', () => {
      const firstPassMs = Date.UTC(2025, 10, 2, 5, 10); // 01:10 EDT
      expect(wall(cron('30 1 * * *', zone).nextAfter(firstPassMs)!, zone)).toBe(
        '2025-11-02 01:30:00 EDT',
      );
    });
  });
});

describe('daylight saving time elsewhere', () => {
  it('Europe/Berlin: 30 2 * * * fires at 03:30 CEST in spring and once in autumn', () => {
    const zone = 'Europe/Berlin';
    const spring = nextFireTimes(cron('30 2 * * *', zone), Date.UTC(2025, 2, 29), 3);
    expect(spring.map((ms) => wall(ms, zone))).toEqual([
      '2025-03-29 02:30:00 GMT+1',
      '2025-03-30 03:30:00 GMT+2',
      '2025-03-31 02:30:00 GMT+2',
    ]);
    const autumn = nextFireTimes(cron('30 2 * * *', zone), Date.UTC(2025, 9, 25), 3);
    expect(autumn.map((ms) => wall(ms, zone))).toEqual([
      '2025-10-25 02:30:00 GMT+2',
      '2025-10-26 02:30:00 GMT+2',
      '2025-10-27 02:30:00 GMT+1',
    ]);
  });

  it('America/Santiago: midnight does not exist on the spring day and fires at 01:00', () => {
    const zone = 'America/Santiago';
    const fires = nextFireTimes(cron('0 0 * * *', zone), Date.UTC(2025, 8, 5, 12), 3);
    expect(fires.map((ms) => wall(ms, zone))).toEqual([
      '2025-09-06 00:00:00 GMT-4',
      '2025-09-07 01:00:00 GMT-3',
      '2025-09-08 00:00:00 GMT-3',
    ]);
  });

  it('America/Santiago: the repeated 23:00 hour before midnight fires once', () => {
    const zone = 'America/Santiago';
    const fires = nextFireTimes(cron('30 23 * * *', zone), Date.UTC(2025, 3, 4, 12), 3);
    expect(fires.map((ms) => wall(ms, zone))).toEqual([
      '2025-04-04 23:30:00 GMT-3',
      '2025-04-05 23:30:00 GMT-3',
      '2025-04-06 23:30:00 GMT-4',
    ]);
  });

  it('Australia/Lord_Howe (half-hour jump): cron-parser skips a wall time in the gap (documented)', () => {
    // 5 October 2025: 02:00 -> 02:30. 02:15 does not exist that day and does not fire at all.
    const zone = 'Australia/Lord_Howe';
    const fires = nextFireTimes(cron('15 2 * * *', zone), Date.UTC(2025, 9, 3, 12), 2);
    expect(fires.map((ms) => wall(ms, zone))).toEqual([
      '2025-10-04 02:15:00 GMT+10:30',
      '2025-10-06 02:15:00 GMT+11',
    ]);
  });
});

describe('nextFireTimes', () => {
  it('gives up to count times, each after the previous', () => {
    expect(nextFireTimes(cron('0 * * * *'), T0, 3).map(iso)).toEqual([
      '2025-06-11T11:00:00.000Z',
      '2025-06-11T12:00:00.000Z',
      '2025-06-11T13:00:00.000Z',
    ]);
  });

  it('stops at untilMs (inclusive)', () => {
    const untilMs = Date.UTC(2025, 5, 11, 12);
    expect(nextFireTimes(cron('0 * * * *'), T0, 10, untilMs).map(iso)).toEqual([
      '2025-06-11T11:00:00.000Z',
      '2025-06-11T12:00:00.000Z',
    ]);
    expect(nextFireTimes(cron('0 * * * *'), T0, 10, untilMs - 1)).toHaveLength(1);
  });

  it('gives nothing for count 0', () => {
    expect(nextFireTimes(cron('* * * * *'), T0, 0)).toEqual([]);
  });
});

describe('sharing compiled crontabs', () => {
  it('gives independent answers from schedules sharing one parsed expression', () => {
    const a = cron('*/5 * * * * *', 'Europe/Berlin');
    const b = cron('*/5 * * * * *', 'Europe/Berlin');
    const aFirst = a.nextAfter(T0);
    expect(b.nextAfter(T0 + 3_600_000)).toBe(aFirst! + 3_600_000);
    expect(a.nextAfter(T0)).toBe(aFirst);
  });
});

describe('properties', () => {
  const expressions = [
    '* * * * *',
    '*/7 * * * *',
    '0 * * * *',
    '30 1 * * *',
    '30 2 * * *',
    '0 1-3 * * *',
    '*/15 * * * * *',
    '13,47 */3 * * * *',
    '0 0 L * *',
    '0 9 * * MON-FRI',
    '0 0 29 2 *',
    '@weekly',
    '@hourly',
    '0 0 13 * FRI',
  ];
  const zones = [
    undefined,
    'America/New_York',
    'Europe/Berlin',
    'Asia/Kolkata',
    'America/Santiago',
    'Australia/Sydney',
  ];
  // 2024-2026, where most of the afterMs values fall near a DST change so the rules get exercised.
  const transitionsMs = [
    Date.UTC(2025, 2, 9, 7),
    Date.UTC(2025, 10, 2, 6),
    Date.UTC(2025, 2, 30, 1),
    Date.UTC(2025, 9, 26, 1),
    Date.UTC(2025, 3, 6, 3),
    Date.UTC(2025, 8, 7, 4),
    Date.UTC(2025, 3, 5, 16),
    Date.UTC(2025, 9, 4, 16),
  ];
  const afterMsArbitrary = fc.oneof(
    fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2027, 0, 1) }),
    fc
      .tuple(
        fc.constantFrom(...transitionsMs),
        fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }),
      )
      .map(([transitionMs, deltaMs]) => transitionMs + deltaMs),
  );

  it('nextAfter is > afterMs, strictly increasing when stepped, and the same from any point in between', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...expressions),
        fc.constantFrom(...zones),
        afterMsArbitrary,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (expression, zone, afterMs, fraction) => {
          const schedule = cron(expression, zone);
          const firstMs = schedule.nextAfter(afterMs)!;
          expect(firstMs).toBeGreaterThan(afterMs);
          const secondMs = schedule.nextAfter(firstMs)!;
          expect(secondMs).toBeGreaterThan(firstMs);
          // Successor of a fixed set of instants: any point in [afterMs, firstMs) gives firstMs.
          const betweenMs = Math.floor(afterMs + (firstMs - afterMs) * fraction);
          expect(schedule.nextAfter(Math.min(betweenMs, firstMs - 1))).toBe(firstMs);
          expect(schedule.nextAfter(firstMs - 1)).toBe(firstMs);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('a crontab remembers its last answers (nextAfter is pure)', () => {
  it('answers any sequence of questions, repeated or not, as a schedule asked once each', () => {
    const cases: [string, string | undefined][] = [
      ['* * * * * *', undefined],
      ['30 2 * * *', 'Europe/Berlin'], // both DST transitions of the zone
      ['0 */5 1-3 * * *', 'America/New_York'],
    ];
    const base = Date.UTC(2026, 2, 28, 23, 0, 0);
    const hourMs = 3_600_000;
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.array(fc.integer({ min: 0, max: 24 * 250 }), { minLength: 1, maxLength: 40 }),
        ([expression, timezone], steps) => {
          const shared = cron(expression, timezone) as CronSchedule;
          for (const step of steps) {
            // Few distinct values, so that answers are asked again (from the memo) and evicted.
            const afterMs = base + (step % 12) * hourMs * 5 + (step % 3) * 1_000;
            const fresh = new CronSchedule(
              shared.crontab,
              shared.timeZone,
              parseCrontab(shared.crontab, shared.timeZone, expression),
            );
            expect(shared.nextAfter(afterMs)).toBe(fresh.nextAfter(afterMs));
          }
        },
      ),
      { seed: 20261127, numRuns: 60 },
    );
  });
});
