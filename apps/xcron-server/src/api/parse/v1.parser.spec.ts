import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { ApiError } from '../api.error';
import {
  parseExecutionsQuery,
  parseListTasksQuery,
  parseMemberChange,
  parsePageQuery,
  parseReadQuery,
  parseScheduledAtMs,
  parseTransferLeadership,
  parseV1Batch,
  parseV1CreateTask,
  parseV1PatchTask,
} from './v1.parser';

const RUN_AT_MS = 1_900_000_000_123;
const base = { run_at_ms: RUN_AT_MS, callback: { url: 'https://cb.test/h', body: { a: 1 } } };

function refused(result: unknown): [string, string | undefined] {
  if (!(result instanceof InvalidTaskError)) throw new Error(`accepted: ${JSON.stringify(result)}`);
  return [result.reason, result.field];
}

describe('parseV1CreateTask', () => {
  it('reads a one-shot in unix ms or RFC 3339', () => {
    expect(parseV1CreateTask(base)).toEqual({
      schedule: { kind: 'once', runAtMs: RUN_AT_MS },
      callback: base.callback,
    });
    const rfc = { ...base, run_at_ms: undefined, run_at: '2030-03-17T17:46:40.123Z' };
    expect(parseV1CreateTask(rfc)).toMatchObject({
      schedule: { kind: 'once', runAtMs: Date.UTC(2030, 2, 17, 17, 46, 40, 123) },
    });
    const offset = { ...rfc, run_at: '2030-03-17T18:46:40.123456+01:00' };
    expect(parseV1CreateTask(offset)).toMatchObject({
      schedule: { runAtMs: Date.UTC(2030, 2, 17, 17, 46, 40, 123) },
    });
  });

  it('reads a crontab with every optional field', () => {
    expect(
      parseV1CreateTask({
        cron: '0 1 * * *',
        timezone: 'Asia/Tokyo',
        callback: { url: 'http://cb.test', body: null, headers: { 'X-A': 'b' } },
        name: 'n',
        timeout_ms: 1,
        retry: { max_attempts: 1 },
        start_at: '2030-01-01T00:00:00Z',
        end_at_ms: 1_950_000_000_000,
        expire_at_ms: 1_960_000_000_000,
        jitter_ms: 0,
        overlap: 'buffer_one',
        misfire: 'skip',
        idempotency_key: 'order-7',
      }),
    ).toEqual({
      schedule: { kind: 'cron', expression: '0 1 * * *', timezone: 'Asia/Tokyo' },
      callback: { url: 'http://cb.test', body: null, headers: { 'X-A': 'b' } },
      name: 'n',
      timeoutMs: 1,
      retry: { maxAttempts: 1 },
      startAtMs: Date.UTC(2030, 0, 1),
      endAtMs: 1_950_000_000_000,
      expireAtMs: 1_960_000_000_000,
      jitterMs: 0,
      overlap: 'buffer_one',
      misfire: 'skip',
      idempotencyKey: 'order-7',
    });
  });

  it.each([
    ['an unknown field', { ...base, type: 2 }, 'request_invalid', 'type'],
    [
      'an unknown callback field',
      { ...base, callback: { url: 'http://x.test', bdy: 1 } },
      'request_invalid',
      'callback.bdy',
    ],
    [
      'an unknown retry field',
      { ...base, retry: { attempts: 2 } },
      'request_invalid',
      'retry.attempts',
    ],
    ['no schedule', { callback: base.callback }, 'request_invalid', 'cron'],
    ['cron and run_at_ms', { ...base, cron: '* * * * *' }, 'request_invalid', 'cron'],
    [
      'run_at and run_at_ms',
      { ...base, run_at: '2030-01-01T00:00:00Z' },
      'request_invalid',
      'run_at',
    ],
    ['a time zone without cron', { ...base, timezone: 'UTC' }, 'request_invalid', 'timezone'],
    ['cron as a number', { cron: 5, callback: base.callback }, 'request_invalid', 'cron'],
    [
      'run_at_ms as a string',
      { ...base, run_at_ms: '1900000000000' },
      'request_invalid',
      'run_at_ms',
    ],
    ['run_at_ms with a fraction', { ...base, run_at_ms: 1.5 }, 'time_format_invalid', 'run_at_ms'],
    ['run_at_ms after 9999', { ...base, run_at_ms: 1e15 }, 'time_format_invalid', 'run_at_ms'],
    [
      'run_at without an offset',
      { callback: base.callback, run_at: '2030-01-01T00:00:00' },
      'time_format_invalid',
      'run_at',
    ],
    [
      'run_at as a date only',
      { callback: base.callback, run_at: '2030-01-01' },
      'time_format_invalid',
      'run_at',
    ],
    [
      'run_at on 30 February',
      { callback: base.callback, run_at: '2030-02-30T00:00:00Z' },
      'time_format_invalid',
      'run_at',
    ],
    [
      'run_at at 24:00',
      { callback: base.callback, run_at: '2030-02-03T24:00:00Z' },
      'time_format_invalid',
      'run_at',
    ],
    [
      'run_at as unix seconds',
      { callback: base.callback, run_at: 1900000000 },
      'request_invalid',
      'run_at',
    ],
    [
      'start_at and start_at_ms',
      { ...base, start_at: '2030-01-01T00:00:00Z', start_at_ms: 1 },
      'request_invalid',
      'start_at',
    ],
    ['no callback', { run_at_ms: RUN_AT_MS }, 'callback_url_invalid', 'callback.url'],
    [
      'a non-http callback',
      { ...base, callback: { url: 'file:///etc/passwd' } },
      'callback_url_invalid',
      'callback.url',
    ],
  ])('refuses %s', (_case, body, reason, field) => {
    expect(refused(parseV1CreateTask(body))).toEqual([reason, field]);
  });
});

describe('parseV1PatchTask', () => {
  it('reads the fields given, and only those', () => {
    expect(parseV1PatchTask({ cron: '@hourly', overlap: 'skip' })).toEqual({
      schedule: { kind: 'cron', expression: '@hourly' },
      overlap: 'skip',
    });
    expect(parseV1PatchTask({ retry: { max_backoff_ms: 5 } })).toEqual({
      retry: { maxBackoffMs: 5 },
    });
  });

  it('reads a time zone without cron as the zone alone (the crontab kept), not with run_at', () => {
    expect(parseV1PatchTask({ timezone: 'Europe/Berlin' })).toEqual({ timezone: 'Europe/Berlin' });
    expect(parseV1PatchTask({ cron: '@hourly', timezone: 'Asia/Tokyo' })).toEqual({
      schedule: { kind: 'cron', expression: '@hourly', timezone: 'Asia/Tokyo' },
    });
    expect(refused(parseV1PatchTask({ timezone: 'UTC', run_at_ms: 5 }))).toEqual([
      'request_invalid',
      'timezone',
    ]);
  });

  it('reads null as "remove" for name and the start, end and expire times', () => {
    expect(parseV1PatchTask({ name: null, end_at: null, expire_at_ms: null })).toEqual({
      name: null,
      endAtMs: null,
      expireAtMs: null,
    });
    expect(refused(parseV1PatchTask({ end_at: null, end_at_ms: 5 }))[0]).toBe('request_invalid');
    expect(refused(parseV1PatchTask({ jitter_ms: null }))).toEqual([
      'request_invalid',
      'jitter_ms',
    ]);
  });

  it('refuses idempotency_key, unknown fields and an empty patch', () => {
    expect(refused(parseV1PatchTask({ idempotency_key: 'x' }))).toEqual([
      'request_invalid',
      'idempotency_key',
    ]);
    expect(refused(parseV1PatchTask({ status: 'paused' }))).toEqual(['request_invalid', 'status']);
    expect(refused(parseV1PatchTask({}))[0]).toBe('request_invalid');
    expect(refused(parseV1PatchTask([]))[0]).toBe('request_invalid');
  });
});

describe('parseV1Batch', () => {
  const options = { tasksMax: 3 };

  it('reads every task', () => {
    const result = parseV1Batch(
      { tasks: [base, { ...base, cron: '* * * * * *', run_at_ms: undefined }] },
      options,
    );
    expect(result).toHaveLength(2);
  });

  it('names the failing task in the field', () => {
    const result = parseV1Batch({ tasks: [base, { ...base, callback: { url: 'x' } }] }, options);
    expect(refused(result)).toEqual(['callback_url_invalid', 'tasks[1].callback.url']);
    expect(refused(parseV1Batch({ tasks: [base, 'x'] }, options))).toEqual([
      'request_invalid',
      'tasks[1]',
    ]);
    expect(refused(parseV1Batch({ tasks: [{ ...base, nope: 1 }] }, options))).toEqual([
      'request_invalid',
      'tasks[0].nope',
    ]);
  });

  it('refuses an empty batch, a missing array, extra fields and too many tasks', () => {
    expect(refused(parseV1Batch({ tasks: [] }, options))).toEqual(['request_invalid', 'tasks']);
    expect(refused(parseV1Batch({}, options))).toEqual(['request_invalid', 'tasks']);
    expect(refused(parseV1Batch({ tasks: [base], atomic: true }, options))).toEqual([
      'request_invalid',
      'atomic',
    ]);
    const tooMany = parseV1Batch({ tasks: [base, base, base, base] }, options);
    expect(tooMany).toBeInstanceOf(ApiError);
    expect(tooMany).toMatchObject({ kind: 'body_too_large', code: 1050 });
  });

  // The batch path builds a field's path only for an error, and takes a known callback URL
  // without a second check: the answers must be those of the one-task parser, field for field.
  describe('answers as POST /v1/tasks does, task by task', () => {
    const url = 'https://cb.test/h';
    const cases: [string, Record<string, unknown>][] = [
      ['the common task', base],
      ['a body left out', { run_at_ms: RUN_AT_MS, callback: { url } }],
      ['a null body', { run_at_ms: RUN_AT_MS, callback: { url, body: null } }],
      ['headers', { ...base, callback: { url, body: 1, headers: { 'X-A': 'a' } } }],
      ['bad headers', { ...base, callback: { url, headers: { 'X-A': 1 } } }],
      ['an unknown callback field', { ...base, callback: { url, body: {}, extra: 1 } }],
      ['a URL not seen before', { ...base, callback: { url: 'http://other.test/p' } }],
      ['an invalid URL', { ...base, callback: { url: 'ftp://x.test/' } }],
      ['a URL of another type', { ...base, callback: { url: 7 } }],
      ['a callback of another type', { ...base, callback: [url] }],
      ['no callback', { run_at_ms: RUN_AT_MS }],
      ['a fractional time', { ...base, run_at_ms: 1.5 }],
      ['a negative time', { ...base, run_at_ms: -1 }],
      ['a time past 9999', { ...base, run_at_ms: 253_402_300_800_000 }],
      ['a time as a string', { ...base, run_at_ms: '1' }],
      ['both spellings of a time', { ...base, run_at: '2030-01-01T00:00:00Z' }],
      ['an RFC 3339 time', { callback: base.callback, run_at: '2030-01-01T00:00:00Z' }],
      ['no schedule', { callback: base.callback }],
      ['a timezone without cron', { ...base, timezone: 'UTC' }],
      ['a crontab', { callback: base.callback, cron: '* * * * *', timezone: 'UTC' }],
      [
        'every option',
        {
          ...base,
          name: 'n',
          timeout_ms: 5,
          retry: { max_attempts: 2 },
          jitter_ms: 1,
          overlap: 'skip',
          misfire: 'skip',
          idempotency_key: 'k',
          expire_at_ms: RUN_AT_MS + 1,
        },
      ],
      ['a bad name', { ...base, name: '' }],
      ['a bad timeout', { ...base, timeout_ms: 0 }],
      ['a bad retry', { ...base, retry: { max_attempts: 0 } }],
      ['a bad jitter', { ...base, jitter_ms: -1 }],
      ['a bad overlap', { ...base, overlap: 'never' }],
      ['a bad misfire', { ...base, misfire: 1 }],
      ['a bad key', { ...base, idempotency_key: 2 }],
      ['a bad start', { ...base, start_at_ms: 'x' }],
      ['a bad end', { ...base, end_at: 'yesterday' }],
      ['a bad expiry', { ...base, expire_at_ms: 2.5, expire_at: '2030-01-01T00:00:00Z' }],
      ['an unknown field', { ...base, zzz: 1 }],
      [
        'fields given as undefined',
        {
          ...base,
          name: undefined,
          timezone: undefined,
          start_at_ms: undefined,
          callback: { url, body: undefined, headers: undefined },
        },
      ],
    ];
    it.each(cases)('%s', (_name, task) => {
      // Once to make the URL known (the fast path), once to use it.
      parseV1Batch({ tasks: [base] }, options);
      const single = parseV1CreateTask(task);
      const batch = parseV1Batch({ tasks: [base, task] }, options);
      if (single instanceof InvalidTaskError) {
        expect(batch).toBeInstanceOf(InvalidTaskError);
        const error = batch as InvalidTaskError;
        expect([error.reason, error.field, error.message.replaceAll('tasks[1].', '')]).toEqual([
          single.reason,
          single.field === undefined ? undefined : `tasks[1].${single.field}`,
          single.message,
        ]);
      } else expect(batch).toEqual([parseV1CreateTask(base), single]);
    });
  });
});

describe('query parsers', () => {
  it('reads a page: limit default 100, max 1000', () => {
    expect(parsePageQuery({})).toEqual({ limit: 100 });
    expect(parsePageQuery(undefined)).toEqual({ limit: 100 });
    expect(parsePageQuery({ limit: '1000', cursor: 'abc', consistency: 'stale' })).toEqual({
      limit: 1000,
      cursor: 'abc',
      consistency: 'stale',
    });
    for (const limit of ['0', '1001', '-1', '1.5', 'ten', ''])
      expect(refused(parsePageQuery({ limit }))).toEqual(['request_invalid', 'limit']);
    expect(refused(parsePageQuery({ limit: ['1', '2'] }))).toEqual(['request_invalid', 'limit']);
    expect(refused(parsePageQuery({ cursor: '' }))).toEqual(['request_invalid', 'cursor']);
    expect(refused(parsePageQuery({ consistency: 'eventual' }))).toEqual([
      'request_invalid',
      'consistency',
    ]);
    expect(refused(parsePageQuery({ status: 'active' }))).toEqual(['request_invalid', 'status']);
  });

  it('filters tasks by status and executions by status (default failed)', () => {
    expect(parseListTasksQuery({ status: 'paused' })).toEqual({ limit: 100, status: 'paused' });
    expect(refused(parseListTasksQuery({ status: 'failed' }))).toEqual([
      'request_invalid',
      'status',
    ]);
    expect(parseExecutionsQuery({})).toEqual({ limit: 100, status: 'failed' });
    expect(parseExecutionsQuery({ status: 'skipped', limit: '5' })).toEqual({
      limit: 5,
      status: 'skipped',
    });
    expect(refused(parseExecutionsQuery({ status: 'paused' }))).toEqual([
      'request_invalid',
      'status',
    ]);
  });

  it('reads the consistency of a single read and refuses anything else', () => {
    expect(parseReadQuery({})).toEqual({});
    expect(parseReadQuery({ consistency: 'linearizable' })).toEqual({
      consistency: 'linearizable',
    });
    expect(refused(parseReadQuery({ limit: '1' }))).toEqual(['request_invalid', 'limit']);
  });

  it('reads a scheduled time of a rerun path', () => {
    expect(parseScheduledAtMs('1900000000000')).toBe(1_900_000_000_000);
    expect(parseScheduledAtMs('abc')).toBeUndefined();
    expect(parseScheduledAtMs('1e12')).toBeUndefined();
    expect(parseScheduledAtMs('99999999999999999')).toBeUndefined();
  });
});

describe('cluster bodies', () => {
  it('reads a member change', () => {
    expect(parseMemberChange({ peer_address: '10.0.0.4:8899' })).toEqual({
      peerAddress: '10.0.0.4:8899',
    });
    expect(parseMemberChange({ peer_address: 'n4:8899', id: 'n4', learner: true })).toEqual({
      peerAddress: 'n4:8899',
      id: 'n4',
      learner: true,
    });
  });

  it.each([
    ['no address', {}],
    ['an address without a port', { peer_address: '10.0.0.4' }],
    ['a URL', { peer_address: 'http://10.0.0.4:8899' }],
    ['learner as a string', { peer_address: 'n4:8899', learner: 'yes' }],
    ['an unknown field', { peer_address: 'n4:8899', voter: true }],
  ])('refuses a member change with %s', (_case, body) => {
    expect(refused(parseMemberChange(body))[0]).toBe('request_invalid');
  });

  it('reads a leadership transfer, with or without a target', () => {
    expect(parseTransferLeadership(undefined)).toEqual({});
    expect(parseTransferLeadership({})).toEqual({});
    expect(parseTransferLeadership({ member_id: 'n2' })).toEqual({ memberId: 'n2' });
    expect(refused(parseTransferLeadership({ to: 'n2' }))).toEqual(['request_invalid', 'to']);
  });
});
