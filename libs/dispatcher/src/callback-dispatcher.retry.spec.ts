/**
 * Retries, the 4xx policy, timeouts, refused connections, Retry-After and cancellation, against
 * real receivers. Backoff waits go through a FakeSleep (recorded, not waited).
 */
import { CallbackDispatcher } from './callback-dispatcher';
import type { CallbackRequest } from './callback-request';
import { CancelSignal, type DeliverySignal } from './cancel-signal';
import { CallbackReceiver, closedPort, FakeSleep, Gate, until } from './testing/callback-receiver';

function request(url: string, overrides: Partial<CallbackRequest> = {}): CallbackRequest {
  return {
    taskId: '99',
    scheduledAtMs: 1_000,
    url,
    bodyJson: '{}',
    timeoutMs: 2_000,
    retry: { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1_000 },
    ...overrides,
  };
}

/** Answers the n-th request (1-based) with statuses[n-1] (the last one repeats). */
function statuses(
  ...codes: number[]
): (req: unknown, res: import('node:http').ServerResponse) => void {
  let n = 0;
  return (_req, res) => {
    res.statusCode = codes[Math.min(n++, codes.length - 1)];
    res.end();
  };
}

describe('CallbackDispatcher retries', () => {
  let receiver: CallbackReceiver;
  let dispatcher: CallbackDispatcher;
  let sleep: FakeSleep;

  beforeEach(async () => {
    receiver = await CallbackReceiver.start();
    sleep = new FakeSleep();
    dispatcher = new CallbackDispatcher({ sleep: sleep.sleep, random: () => 0.5 });
  });

  afterEach(async () => {
    sleep.release();
    await dispatcher.close();
    await receiver.close();
  });

  it('retries a 500 and succeeds on the third attempt, with attempt headers 1, 2, 3', async () => {
    receiver.handler = statuses(500, 502, 200);
    const result = await dispatcher.dispatch(request(receiver.url()));
    expect(result).toMatchObject({
      status: 'succeeded',
      httpStatus: 200,
      attempts: 3,
      timedOutAttempts: 0,
    });
    expect(result.error).toBeUndefined();
    expect(receiver.requests.map((r) => r.headers['x-xcron-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(receiver.requests.map((r) => r.headers['idempotency-key']))).toEqual(
      new Set(['99:1000']),
    );
    // Equal jitter with random 0.5: 3/4 of the caps 100 and 200.
    expect(sleep.delays).toEqual([75, 150]);
  });

  it('gives up after maxAttempts with the last status', async () => {
    receiver.handler = statuses(503);
    const result = await dispatcher.dispatch(request(receiver.url()));
    expect(result).toMatchObject({
      status: 'failed',
      httpStatus: 503,
      attempts: 3,
      error: 'HTTP 503',
    });
    expect(receiver.requests).toHaveLength(3);
  });

  it.each([400, 401, 403, 404, 409, 410, 422, 301])('does not retry HTTP %i', async (code) => {
    receiver.handler = statuses(code);
    const result = await dispatcher.dispatch(request(receiver.url()));
    expect(result).toMatchObject({
      status: 'failed',
      httpStatus: code,
      attempts: 1,
      error: `HTTP ${code}`,
    });
    expect(sleep.delays).toEqual([]);
  });

  it.each([408, 425, 429])('retries HTTP %i', async (code) => {
    receiver.handler = statuses(code, 200);
    const result = await dispatcher.dispatch(request(receiver.url()));
    expect(result).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('honours Retry-After seconds on 429 and 503, capped by maxBackoffMs', async () => {
    let n = 0;
    receiver.handler = (_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '0' }).end();
      } else if (n === 2) {
        res.writeHead(503, { 'retry-after': '30' }).end();
      } else {
        res.end();
      }
    };
    const result = await dispatcher.dispatch(
      request(receiver.url(), {
        retry: { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 2_500 },
      }),
    );
    expect(result).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(sleep.delays).toEqual([0, 2_500]);
  });

  it('honours an HTTP-date Retry-After against the injected clock; ignores it on a 500', async () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    await dispatcher.close();
    dispatcher = new CallbackDispatcher({
      sleep: sleep.sleep,
      random: () => 0,
      clock: { nowMs: () => now },
    });
    let n = 0;
    receiver.handler = (_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(503, { 'retry-after': new Date(now + 3_000).toUTCString() }).end();
      } else if (n === 2) {
        res.writeHead(500, { 'retry-after': '1' }).end();
      } else {
        res.end();
      }
    };
    await dispatcher.dispatch(
      request(receiver.url(), {
        retry: { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 5_000 },
      }),
    );
    // 3 s from the date; then the 500's header is ignored: equal jitter, random 0, cap 200.
    expect(sleep.delays).toEqual([3_000, 100]);
  });

  it('times out a held attempt, retries it, and counts the possible duplicate', async () => {
    const gate = new Gate();
    let n = 0;
    receiver.handler = async (_req, res) => {
      if (++n === 1) {
        await gate.wait(); // never answered in time
      }
      res.end();
    };
    const result = await dispatcher.dispatch(request(receiver.url(), { timeoutMs: 150 }));
    gate.open();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 2, timedOutAttempts: 1 });
    expect(result.durationMs).toBeGreaterThanOrEqual(140);
    expect(receiver.requests).toHaveLength(2);
  });

  it('fails with "timeout after N ms" when every attempt times out', async () => {
    const gate = new Gate();
    receiver.handler = async (_req, res) => {
      await gate.wait();
      res.end();
    };
    const result = await dispatcher.dispatch(
      request(receiver.url(), {
        timeoutMs: 60,
        retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 },
      }),
    );
    gate.open();
    expect(result).toEqual({
      status: 'failed',
      attempts: 2,
      durationMs: expect.any(Number),
      error: 'timeout after 60 ms',
      timedOutAttempts: 2,
    });
  });

  it('fails with ECONNREFUSED after maxAttempts against a closed port', async () => {
    const port = await closedPort();
    const result = await dispatcher.dispatch(request(`http://127.0.0.1:${port}/hook`));
    expect(result).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'ECONNREFUSED',
      timedOutAttempts: 0,
    });
    expect(result.httpStatus).toBeUndefined();
    expect(sleep.delays).toHaveLength(2);
  });

  // The scheduler passes a CancelSignal per fire; an AbortSignal works the same.
  const signalKinds: [string, () => { signal: DeliverySignal; cancel(): void }][] = [
    [
      'AbortSignal',
      () => {
        const controller = new AbortController();
        return { signal: controller.signal, cancel: () => controller.abort() };
      },
    ],
    [
      'CancelSignal',
      () => {
        const signal = new CancelSignal();
        return { signal, cancel: () => signal.cancel() };
      },
    ],
  ];

  it.each(signalKinds)(
    'stops during a backoff wait when the signal (%s) aborts: cancelled, the wait holds no slot',
    async (_kind, makeSignal) => {
      receiver.handler = statuses(500);
      sleep.hold = true;
      const { signal, cancel } = makeSignal();
      const pending = dispatcher.dispatch(request(receiver.url(), { signal }));
      await until(() => dispatcher.stats().waitingRetry === 1);
      expect(dispatcher.stats()).toEqual({ queued: 0, inFlight: 0, waitingRetry: 1 });
      cancel();
      const result = await pending;
      expect(result).toMatchObject({
        status: 'cancelled',
        attempts: 1,
        httpStatus: 500,
        error: 'cancelled',
      });
      expect(dispatcher.stats()).toEqual({ queued: 0, inFlight: 0, waitingRetry: 0 });
      expect(receiver.requests).toHaveLength(1);
    },
  );

  it.each(signalKinds)(
    'does not send at all when the signal (%s) is already aborted',
    async (_kind, makeSignal) => {
      const { signal, cancel } = makeSignal();
      cancel();
      const result = await dispatcher.dispatch(request(receiver.url(), { signal }));
      expect(result).toEqual({
        status: 'cancelled',
        attempts: 0,
        durationMs: 0,
        error: 'cancelled',
        timedOutAttempts: 0,
      });
      expect(receiver.requests).toHaveLength(0);
    },
  );

  it('lets an attempt on the wire finish when the signal aborts: a success stands, nothing is retried', async () => {
    const gate = new Gate();
    receiver.handler = async (req, res) => {
      await gate.wait();
      res.statusCode = req.path === '/ok' ? 200 : 500;
      res.end();
    };
    const a = new AbortController();
    const b = new AbortController();
    const ok = dispatcher.dispatch(request(receiver.url('/ok'), { signal: a.signal }));
    const bad = dispatcher.dispatch(request(receiver.url('/bad'), { signal: b.signal }));
    await receiver.waitForRequests(2);
    a.abort();
    b.abort();
    gate.open();
    expect(await ok).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await bad).toMatchObject({ status: 'cancelled', attempts: 1, httpStatus: 500 });
    expect(receiver.requests).toHaveLength(2);
  });
});
