import { validateCallbackHeaders, validateCallbackUrl } from '@xcron/dispatcher';
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { parseSeedCreateTask, parseSeedTaskIdBody, parseSeedTaskIdQuery } from './seed.parser';

const FUTURE_S = 1_900_000_000;
const base = {
  type: 2,
  format: String(FUTURE_S),
  callback: { url: 'http://cb.test/hook', body: { a: 1 } },
};

function reasonOf(body: unknown): [string, string | undefined] {
  const result = parseSeedCreateTask(body);
  if (!(result instanceof InvalidTaskError)) throw new Error(`accepted: ${JSON.stringify(result)}`);
  return [result.reason, result.field];
}

describe('parseSeedCreateTask', () => {
  it('reads a one-shot in unix seconds (digits string or JSON integer)', () => {
    const expected = {
      schedule: { kind: 'once', runAtMs: FUTURE_S * 1000 },
      callback: { url: 'http://cb.test/hook', body: { a: 1 } },
    };
    expect(parseSeedCreateTask(base)).toEqual(expected);
    expect(parseSeedCreateTask({ ...base, format: FUTURE_S })).toEqual(expected);
  });

  it('reads a crontab, with a time zone, leaving the expression to the scheduler', () => {
    expect(
      parseSeedCreateTask({ ...base, type: 1, format: '*/5 * * * *', timezone: 'Europe/Paris' }),
    ).toEqual({
      schedule: { kind: 'cron', expression: '*/5 * * * *', timezone: 'Europe/Paris' },
      callback: base.callback,
    });
    // "" and a wrong field count are the scheduler's (cron_invalid, 1010): passed through.
    expect(parseSeedCreateTask({ ...base, type: 1, format: '' })).toMatchObject({
      schedule: { kind: 'cron', expression: '' },
    });
  });

  it('reads every optional field, times in unix seconds', () => {
    const result = parseSeedCreateTask({
      ...base,
      type: 1,
      format: '0 1 * * *',
      name: 'nightly',
      callback: { ...base.callback, headers: { 'X-Tenant': 'a' } },
      timeout_ms: 5000,
      retry: { max_attempts: 5, initial_backoff_ms: 100, max_backoff_ms: 10_000 },
      start_at: '1800000000',
      end_at: 1900000000,
      expire_at: '1950000000',
      jitter_ms: 250,
      overlap: 'skip',
      misfire: 'fire_all',
      idempotency_key: 'k-1',
      some_future_field: true,
    });
    expect(result).toEqual({
      name: 'nightly',
      schedule: { kind: 'cron', expression: '0 1 * * *' },
      callback: { url: 'http://cb.test/hook', body: { a: 1 }, headers: { 'X-Tenant': 'a' } },
      timeoutMs: 5000,
      retry: { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 10_000 },
      startAtMs: 1_800_000_000_000,
      endAtMs: 1_900_000_000_000,
      expireAtMs: 1_950_000_000_000,
      jitterMs: 250,
      overlap: 'skip',
      misfire: 'fire_all',
      idempotencyKey: 'k-1',
    });
  });

  it('defaults a missing callback body to {} and keeps any JSON body', () => {
    expect(parseSeedCreateTask({ ...base, callback: { url: 'https://x.test' } })).toMatchObject({
      callback: { url: 'https://x.test', body: {} },
    });
    expect(
      parseSeedCreateTask({ ...base, callback: { url: 'https://x.test', body: [1, 'a'] } }),
    ).toMatchObject({
      callback: { body: [1, 'a'] },
    });
  });

  it.each([
    ['a non-object body', 'x', 'request_invalid', undefined],
    ['null', null, 'request_invalid', undefined],
    ['an array', [base], 'request_invalid', undefined],
    ['a missing type', { ...base, type: undefined }, 'request_invalid', 'type'],
    ['type as a string', { ...base, type: '2' }, 'request_invalid', 'type'],
    ['type 3', { ...base, type: 3 }, 'type_unsupported', 'type'],
    ['type 0', { ...base, type: 0 }, 'type_unsupported', 'type'],
    ['a missing format', { ...base, format: undefined }, 'request_invalid', 'format'],
    [
      'a crontab format that is a number',
      { ...base, type: 1, format: 5 },
      'request_invalid',
      'format',
    ],
    [
      'a one-shot that is not numeric',
      { ...base, format: 'tomorrow' },
      'time_format_invalid',
      'format',
    ],
    [
      'a one-shot with a fraction',
      { ...base, format: '1900000000.5' },
      'time_format_invalid',
      'format',
    ],
    [
      'a one-shot number with a fraction',
      { ...base, format: 1900000000.5 },
      'time_format_invalid',
      'format',
    ],
    ['a negative one-shot', { ...base, format: -5 }, 'time_format_invalid', 'format'],
    [
      'a one-shot in milliseconds',
      { ...base, format: '1900000000000' },
      'time_format_invalid',
      'format',
    ],
    [
      'a one-shot number in milliseconds',
      { ...base, format: 1900000000000 },
      'time_format_invalid',
      'format',
    ],
    ['an empty one-shot', { ...base, format: '' }, 'time_format_invalid', 'format'],
    ['a one-shot with spaces', { ...base, format: ' 1900000000' }, 'time_format_invalid', 'format'],
    ['a one-shot as a boolean', { ...base, format: true }, 'request_invalid', 'format'],
    ['a time zone on a one-shot', { ...base, timezone: 'UTC' }, 'request_invalid', 'timezone'],
    [
      'a missing callback',
      { ...base, callback: undefined },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'a callback that is a string',
      { ...base, callback: 'http://x' },
      'request_invalid',
      'callback',
    ],
    ['a missing URL', { ...base, callback: { body: {} } }, 'callback_url_invalid', 'callback.url'],
    ['an empty URL', { ...base, callback: { url: '' } }, 'callback_url_invalid', 'callback.url'],
    [
      'a relative URL',
      { ...base, callback: { url: '/hook' } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'an ftp URL',
      { ...base, callback: { url: 'ftp://x.test/a' } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'a javascript: URL',
      { ...base, callback: { url: 'javascript:alert(1)' } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'a URL that is a number',
      { ...base, callback: { url: 5 } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'a URL over 2048 characters',
      { ...base, callback: { url: `http://x.test/${'a'.repeat(2048)}` } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'a URL with credentials',
      { ...base, callback: { url: 'https://user:secret@x.test/hook' } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'headers that are an array',
      { ...base, callback: { url: 'http://x.test', headers: [] } },
      'request_invalid',
      'callback.headers',
    ],
    [
      'a header value that is a number',
      { ...base, callback: { url: 'http://x.test', headers: { a: 1 } } },
      'request_invalid',
      'callback.headers.a',
    ],
    [
      'a header with a line break',
      { ...base, callback: { url: 'http://x.test', headers: { a: 'b\r\nc: d' } } },
      'request_invalid',
      'callback.headers',
    ],
    [
      'a header name with a space',
      { ...base, callback: { url: 'http://x.test', headers: { 'a b': 'c' } } },
      'request_invalid',
      'callback.headers',
    ],
    [
      'an X-Xcron-* header',
      { ...base, callback: { url: 'http://x.test', headers: { 'X-Xcron-Task-Id': '1' } } },
      'request_invalid',
      'callback.headers',
    ],
    [
      'a Content-Type header',
      { ...base, callback: { url: 'http://x.test', headers: { 'Content-Type': 'text/plain' } } },
      'request_invalid',
      'callback.headers',
    ],
    [
      'more than 50 headers',
      {
        ...base,
        callback: {
          url: 'http://x.test',
          headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`h${i}`, 'v'])),
        },
      },
      'request_invalid',
      'callback.headers',
    ],
    [
      'an Idempotency-Key header',
      { ...base, callback: { url: 'http://x.test', headers: { 'idempotency-key': '1' } } },
      'request_invalid',
      'callback.headers',
    ],
    ['a name that is empty', { ...base, name: '' }, 'request_invalid', 'name'],
    ['timeout_ms of 0', { ...base, timeout_ms: 0 }, 'request_invalid', 'timeout_ms'],
    ['timeout_ms as a string', { ...base, timeout_ms: '100' }, 'request_invalid', 'timeout_ms'],
    ['jitter_ms negative', { ...base, jitter_ms: -1 }, 'request_invalid', 'jitter_ms'],
    ['retry as a number', { ...base, retry: 3 }, 'request_invalid', 'retry'],
    [
      'retry.max_attempts 0',
      { ...base, retry: { max_attempts: 0 } },
      'request_invalid',
      'retry.max_attempts',
    ],
    ['an unknown overlap', { ...base, overlap: 'queue' }, 'request_invalid', 'overlap'],
    ['an unknown misfire', { ...base, misfire: 'never' }, 'request_invalid', 'misfire'],
    [
      'an idempotency_key over 200 characters',
      { ...base, idempotency_key: 'k'.repeat(201) },
      'request_invalid',
      'idempotency_key',
    ],
    ['end_at in milliseconds', { ...base, end_at: 1900000000000 }, 'time_format_invalid', 'end_at'],
  ])('refuses %s', (_case, body, reason, field) => {
    expect(reasonOf(body)).toEqual([reason, field]);
  });

  it('takes the largest second of 9999 and refuses the next', () => {
    expect(parseSeedCreateTask({ ...base, format: 253402300799 })).toMatchObject({
      schedule: { runAtMs: 253402300799000 },
    });
    expect(reasonOf({ ...base, format: 253402300800 })[0]).toBe('time_format_invalid');
  });

  it("refuses a callback URL or headers with the dispatcher's problem text", () => {
    const url = 'ftp://x.test/a';
    const headers = { 'X-Xcron-Attempt': '1' };
    const urlError = parseSeedCreateTask({ ...base, callback: { url } });
    const headersError = parseSeedCreateTask({ ...base, callback: { ...base.callback, headers } });
    expect(urlError).toBeInstanceOf(InvalidTaskError);
    expect(headersError).toBeInstanceOf(InvalidTaskError);
    expect((urlError as InvalidTaskError).message).toBe(validateCallbackUrl(url));
    expect((headersError as InvalidTaskError).message).toBe(validateCallbackHeaders(headers));
  });

  // The API has no callback host allow-list: the scheduler checks every task against the server
  // config's `allowed_callback_hosts` (see libs/scheduler's task-spec tests).
});

describe('seed task ids', () => {
  it('takes decimal strings below 2^63 and safe JSON integers', () => {
    expect(parseSeedTaskIdBody({ task_id: '289057701458138645' })).toBe('289057701458138645');
    expect(parseSeedTaskIdBody({ task_id: '9223372036854775807' })).toBe('9223372036854775807');
    expect(parseSeedTaskIdBody({ task_id: 42 })).toBe('42');
    expect(parseSeedTaskIdBody({ task_id: '007' })).toBe('7');
    expect(parseSeedTaskIdQuery({ task_id: '12' })).toBe('12');
  });

  it.each([
    ['missing', {}],
    ['2^63', { task_id: '9223372036854775808' }],
    ['20 digits', { task_id: '12345678901234567890' }],
    // What JSON.parse makes of 289057701458138645: a number past 2^53 that lost its last digits.
    ['an unsafe JSON number', JSON.parse('{"task_id": 289057701458138645}') as unknown],
    ['negative', { task_id: -1 }],
    ['a fraction', { task_id: 1.5 }],
    ['letters', { task_id: 'abc' }],
    ['empty', { task_id: '' }],
    ['signed', { task_id: '+5' }],
  ])('refuses a task_id that is %s (1000)', (_case, body) => {
    const result = parseSeedTaskIdBody(body);
    expect(result).toBeInstanceOf(InvalidTaskError);
    expect(result).toMatchObject({ reason: 'request_invalid', field: 'task_id' });
  });

  it('refuses a body that is not an object', () => {
    expect(parseSeedTaskIdBody('5')).toMatchObject({ reason: 'request_invalid' });
    expect(parseSeedTaskIdQuery(undefined)).toMatchObject({
      reason: 'request_invalid',
      field: 'task_id',
    });
  });
});
