import { InvalidTaskError, type InvalidTaskReason } from './task.errors';
import type { TaskSpecInput } from './task.model';
import { normalizeTaskSpec, patchTaskSpec, TASK_DEFAULTS, type TaskSpecContext } from './task-spec';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const context: TaskSpecContext = { nowMs: NOW, callbackBodyBytesMax: 1024 };
const callback = { url: 'https://hooks.example.com/x', body: { a: 1 } };

function refusal(input: Partial<TaskSpecInput>, ctx: TaskSpecContext = context) {
  try {
    normalizeTaskSpec(
      { schedule: { kind: 'cron', expression: '* * * * *' }, callback, ...input } as TaskSpecInput,
      ctx,
    );
  } catch (error) {
    if (error instanceof InvalidTaskError)
      return { reason: error.reason, field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected an InvalidTaskError');
}

describe('normalizeTaskSpec', () => {
  it('fills in the defaults', () => {
    const spec = normalizeTaskSpec(
      { schedule: { kind: 'once', runAtMs: NOW + 1_000 }, callback },
      context,
    );
    expect(spec).toEqual({
      schedule: { kind: 'once', runAtMs: NOW + 1_000 },
      callback,
      timeoutMs: TASK_DEFAULTS.timeoutMs,
      retry: TASK_DEFAULTS.retry,
      jitterMs: 0,
      overlap: 'allow',
      misfire: 'fire_once',
    });
  });

  it.each<[string, Partial<TaskSpecInput>, InvalidTaskReason, string | undefined]>([
    [
      'a one-shot more than 1 s in the past',
      { schedule: { kind: 'once', runAtMs: NOW - 1_001 } },
      'time_value_invalid',
      'run_at',
    ],
    [
      'an invalid crontab',
      { schedule: { kind: 'cron', expression: '61 * * * *' } },
      'cron_invalid',
      'format',
    ],
    ['an empty crontab', { schedule: { kind: 'cron', expression: '' } }, 'cron_invalid', 'format'],
    [
      'an unknown zone',
      { schedule: { kind: 'cron', expression: '* * * * *', timezone: 'Mars/Base' } },
      'timezone_invalid',
      'timezone',
    ],
    [
      'a non-http URL',
      { callback: { url: 'ftp://x/y', body: {} } },
      'callback_url_invalid',
      'callback.url',
    ],
    [
      'a URL with credentials',
      { callback: { url: 'https://u:p@x.example/y', body: {} } },
      'callback_url_invalid',
      'callback.url',
    ],
    ['no callback', { callback: undefined }, 'callback_url_invalid', 'callback'],
    [
      'a body over the limit',
      { callback: { url: callback.url, body: 'x'.repeat(2_000) } },
      'body_too_large',
      'callback.body',
    ],
    [
      'a reserved header',
      { callback: { ...callback, headers: { 'Idempotency-Key': 'mine' } } },
      'request_invalid',
      'callback.headers',
    ],
    [
      'a header with a line break',
      { callback: { ...callback, headers: { 'x-a': 'b\r\nc: d' } } },
      'request_invalid',
      'callback.headers',
    ],
    ['a timeout out of range', { timeoutMs: 10 }, 'request_invalid', 'timeout_ms'],
    [
      'max_backoff below initial',
      { retry: { initialBackoffMs: 5_000, maxBackoffMs: 1_000 } },
      'request_invalid',
      'retry.max_backoff_ms',
    ],
    [
      'end before start',
      { startAtMs: NOW + 10_000, endAtMs: NOW + 5_000 },
      'time_value_invalid',
      'end_at',
    ],
    ['an end in the past', { endAtMs: NOW - 1 }, 'time_value_invalid', 'end_at'],
    [
      'a crontab that never fires in its window',
      { schedule: { kind: 'cron', expression: '0 0 1 1 *' }, endAtMs: NOW + 60_000 },
      'cron_invalid',
      'format',
    ],
    ['an unknown overlap policy', { overlap: 'sometimes' as never }, 'request_invalid', 'overlap'],
  ])('refuses %s', (_name, input, reason, field) => {
    expect(refusal(input)).toMatchObject({ reason, field });
  });

  it('refuses a host outside the allow-list and takes one inside it', () => {
    const allowList = { ...context, allowedCallbackHosts: ['*.example.com'] };
    expect(
      refusal({ callback: { url: 'https://evil.test/x', body: {} } }, allowList),
    ).toMatchObject({
      reason: 'callback_url_invalid',
    });
    expect(() =>
      normalizeTaskSpec(
        { schedule: { kind: 'cron', expression: '* * * * *' }, callback },
        allowList,
      ),
    ).not.toThrow();
  });

  it('patches a spec as a whole, keeping the idempotency key', () => {
    const spec = normalizeTaskSpec(
      { schedule: { kind: 'cron', expression: '* * * * *' }, callback, idempotencyKey: 'k' },
      context,
    );
    const patched = patchTaskSpec(spec, { retry: { maxAttempts: 7 }, jitterMs: 50 }, context);
    expect(patched).toMatchObject({
      idempotencyKey: 'k',
      jitterMs: 50,
      retry: { ...TASK_DEFAULTS.retry, maxAttempts: 7 },
    });
    expect(() => patchTaskSpec(spec, { timeoutMs: -1 }, context)).toThrow(InvalidTaskError);
  });

  it('moves a crontab to another zone with timezone alone, and refuses that for a one-shot', () => {
    const cron = normalizeTaskSpec(
      { schedule: { kind: 'cron', expression: '30 9 * * *', timezone: 'UTC' }, callback },
      context,
    );
    expect(patchTaskSpec(cron, { timezone: 'Europe/Berlin' }, context).schedule).toEqual({
      kind: 'cron',
      expression: '30 9 * * *',
      timezone: 'Europe/Berlin',
    });
    expect(() => patchTaskSpec(cron, { timezone: 'Mars/Olympus' }, context)).toThrow(
      expect.objectContaining({ reason: 'timezone_invalid' }),
    );
    const once = normalizeTaskSpec(
      { schedule: { kind: 'once', runAtMs: context.nowMs + 60_000 }, callback },
      context,
    );
    expect(() => patchTaskSpec(once, { timezone: 'Europe/Berlin' }, context)).toThrow(
      expect.objectContaining({ reason: 'request_invalid', field: 'timezone' }),
    );
  });
});
