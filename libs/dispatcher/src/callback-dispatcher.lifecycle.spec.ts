/**
 * Concurrency bound, drain/close, allow-list and refused requests, against real receivers.
 */
import { CallbackDispatcher } from './callback-dispatcher';
import type { CallbackRequest, DeliveryResult } from './callback-request';
import { DispatcherClosedError } from './errors';
import { CallbackReceiver, FakeSleep, Gate, until } from './testing/callback-receiver';

function request(url: string, overrides: Partial<CallbackRequest> = {}): CallbackRequest {
  return {
    taskId: '5',
    scheduledAtMs: 2_000,
    url,
    bodyJson: '{"k":1}',
    timeoutMs: 2_000,
    retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 10 },
    ...overrides,
  };
}

describe('CallbackDispatcher concurrency and lifecycle', () => {
  let receiver: CallbackReceiver;
  let dispatcher: CallbackDispatcher;
  let sleep: FakeSleep;
  let gate: Gate;

  beforeEach(async () => {
    gate = new Gate();
    receiver = await CallbackReceiver.start();
    sleep = new FakeSleep();
  });

  afterEach(async () => {
    gate.open();
    sleep.release();
    await dispatcher.close();
    await receiver.close();
  });

  it('keeps at most `concurrency` attempts on the wire; the rest queue', async () => {
    dispatcher = new CallbackDispatcher({ concurrency: 3, sleep: sleep.sleep });
    receiver.handler = async (_req, res) => {
      await gate.wait();
      res.end();
    };
    const all = Array.from({ length: 10 }, (_, i) =>
      dispatcher.dispatch(request(receiver.url(`/${i}`))),
    );
    await receiver.waitForRequests(3);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a 4th would have arrived by now
    expect(receiver.requests).toHaveLength(3);
    expect(dispatcher.stats()).toEqual({ queued: 7, inFlight: 3, waitingRetry: 0 });
    gate.open();
    const results = await Promise.all(all);
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(receiver.maxInFlight).toBe(3);
    expect(receiver.requests).toHaveLength(10);
    expect(dispatcher.stats()).toEqual({ queued: 0, inFlight: 0, waitingRetry: 0 });
  });

  it('whenQueueBelow wakes its waiter once, when the queue gets shorter than the limit', async () => {
    dispatcher = new CallbackDispatcher({ concurrency: 2, sleep: sleep.sleep });
    const held: (() => void)[] = [];
    receiver.handler = (_req, res) => held.push(() => res.end());
    const all = Array.from({ length: 6 }, (_, i) =>
      dispatcher.dispatch(request(receiver.url(`/${i}`))),
    );
    await receiver.waitForRequests(2);
    expect(dispatcher.queued).toBe(4);
    let wakes = 0;
    dispatcher.whenQueueBelow(3, () => wakes++);
    held.shift()?.();
    await receiver.waitForRequests(3);
    expect(dispatcher.queued).toBe(3);
    expect(wakes).toBe(0);
    held.shift()?.();
    await receiver.waitForRequests(4);
    expect(dispatcher.queued).toBe(2);
    expect(wakes).toBe(1);
    // Already below: woken in a microtask, not synchronously.
    dispatcher.whenQueueBelow(5, () => wakes++);
    expect(wakes).toBe(1);
    await Promise.resolve();
    expect(wakes).toBe(2);
    // A cancelled queued delivery shortens the queue too: drain wakes the waiter.
    dispatcher.whenQueueBelow(1, () => wakes++);
    await dispatcher.drain(0);
    expect(wakes).toBe(3);
    for (const release of held.splice(0)) release();
    const results = await Promise.all(all);
    // The two still queued at the drain were never sent.
    expect(results.filter((r) => r.status === 'cancelled' && r.attempts === 0)).toHaveLength(2);
  });

  it('a timeout while waiting for a pooled connection is not a possible duplicate', async () => {
    dispatcher = new CallbackDispatcher({ connectionsPerOrigin: 1, sleep: sleep.sleep });
    receiver.handler = async (req, res) => {
      if (req.path === '/held') {
        await gate.wait();
      }
      res.end();
    };
    const held = dispatcher.dispatch(request(receiver.url('/held')));
    await receiver.waitForRequests(1);
    const starved = await dispatcher.dispatch(
      request(receiver.url('/starved'), {
        timeoutMs: 60,
        retry: { maxAttempts: 1, initialBackoffMs: 0, maxBackoffMs: 0 },
      }),
    );
    expect(starved).toMatchObject({
      status: 'failed',
      attempts: 1,
      timedOutAttempts: 0,
      error: 'timeout after 60 ms waiting for a connection',
    });
    gate.open();
    expect((await held).status).toBe('succeeded');
    // The given-up request was never written; the pool still delivers afterwards.
    expect((await dispatcher.dispatch(request(receiver.url('/after')))).status).toBe('succeeded');
    expect(receiver.requests.map((r) => r.path)).toEqual(['/held', '/after']);
  });

  it('frees the slot during a backoff wait: another delivery runs meanwhile', async () => {
    dispatcher = new CallbackDispatcher({ concurrency: 1, sleep: sleep.sleep });
    sleep.hold = true;
    receiver.handler = (req, res) => {
      res.statusCode = req.path === '/flaky' && receiver.requests.length === 1 ? 500 : 200;
      res.end();
    };
    const flaky = dispatcher.dispatch(request(receiver.url('/flaky')));
    await until(() => dispatcher.stats().waitingRetry === 1);
    const other = await dispatcher.dispatch(request(receiver.url('/other')));
    expect(other.status).toBe('succeeded');
    sleep.release();
    expect(await flaky).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/flaky', '/other', '/flaky']);
  });

  it('cancels a queued delivery whose signal aborts, without sending it', async () => {
    dispatcher = new CallbackDispatcher({ concurrency: 1, sleep: sleep.sleep });
    receiver.handler = async (_req, res) => {
      await gate.wait();
      res.end();
    };
    const first = dispatcher.dispatch(request(receiver.url('/first')));
    const controller = new AbortController();
    const second = dispatcher.dispatch(
      request(receiver.url('/second'), { signal: controller.signal }),
    );
    await receiver.waitForRequests(1);
    expect(dispatcher.stats().queued).toBe(1);
    controller.abort();
    expect(await second).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(dispatcher.stats().queued).toBe(0);
    gate.open();
    expect((await first).status).toBe('succeeded');
    expect(receiver.requests.map((r) => r.path)).toEqual(['/first']);
  });

  it('drain: refuses new work, cancels waits and queued work, lets in-flight attempts finish', async () => {
    dispatcher = new CallbackDispatcher({ concurrency: 1, sleep: sleep.sleep });
    sleep.hold = true;
    receiver.handler = async (req, res) => {
      if (req.path === '/flaky') {
        res.statusCode = 500;
      } else {
        await gate.wait();
      }
      res.end();
    };
    const waiting = dispatcher.dispatch(request(receiver.url('/flaky')));
    await until(() => dispatcher.stats().waitingRetry === 1);
    const inFlight = dispatcher.dispatch(request(receiver.url('/slow')));
    const queued = dispatcher.dispatch(request(receiver.url('/queued')));
    await receiver.waitForRequests(2);
    expect(dispatcher.stats()).toEqual({ queued: 1, inFlight: 1, waitingRetry: 1 });

    const drained = dispatcher.drain(2_000);
    await expect(dispatcher.dispatch(request(receiver.url()))).rejects.toThrow(
      DispatcherClosedError,
    );
    expect(await waiting).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      error: 'cancelled: dispatcher draining',
    });
    expect(await queued).toMatchObject({ status: 'cancelled', attempts: 0 });
    gate.open();
    expect(await inFlight).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await drained).toEqual({ unfinished: 0 });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/flaky', '/slow']);
  });

  it('drain: aborts attempts still on the wire after the timeout and counts them', async () => {
    dispatcher = new CallbackDispatcher({ sleep: sleep.sleep });
    receiver.handler = async (_req, res) => {
      await gate.wait();
      res.end();
    };
    const results: Promise<DeliveryResult>[] = [
      dispatcher.dispatch(request(receiver.url('/a'))),
      dispatcher.dispatch(request(receiver.url('/b'))),
    ];
    await receiver.waitForRequests(2);
    const started = Date.now();
    expect(await dispatcher.drain(80)).toEqual({ unfinished: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    for (const result of await Promise.all(results)) {
      expect(result).toMatchObject({
        status: 'cancelled',
        attempts: 1,
        timedOutAttempts: 1,
        error: 'cancelled: dispatcher draining',
      });
    }
    expect(dispatcher.stats()).toEqual({ queued: 0, inFlight: 0, waitingRetry: 0 });
  });

  it('drain with nothing running resolves at once; close is idempotent and rejects later dispatches', async () => {
    dispatcher = new CallbackDispatcher();
    expect(await dispatcher.drain(10_000)).toEqual({ unfinished: 0 });
    await dispatcher.close();
    await dispatcher.close();
    await expect(dispatcher.dispatch(request(receiver.url()))).rejects.toThrow(
      /draining or closed/,
    );
  });

  it('refuses a host outside the allow-list without sending', async () => {
    dispatcher = new CallbackDispatcher({ allowedHosts: ['*.example.com', 'localhost'] });
    const result = await dispatcher.dispatch(request(receiver.url()));
    expect(result).toEqual({
      status: 'failed',
      attempts: 0,
      durationMs: 0,
      timedOutAttempts: 0,
      error: 'callback host "127.0.0.1" is not in the allow-list',
    });
    expect(receiver.requests).toHaveLength(0);
    const allowed = new CallbackDispatcher({ allowedHosts: ['127.0.0.1'] });
    try {
      expect((await allowed.dispatch(request(receiver.url()))).status).toBe('succeeded');
    } finally {
      await allowed.close();
    }
  });

  it('refuses invalid URLs and malformed user headers without sending', async () => {
    const results: unknown[] = [];
    dispatcher = new CallbackDispatcher({ metrics: { onResult: (r) => results.push(r.status) } });
    expect(await dispatcher.dispatch(request('ftp://127.0.0.1/x'))).toMatchObject({
      status: 'failed',
      attempts: 0,
      error: 'invalid callback URL: callback URL scheme must be http or https, got ftp',
    });
    expect(
      await dispatcher.dispatch(request(`http://u:p@127.0.0.1:${receiver.port}/`)),
    ).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/credentials/),
    });
    expect(
      await dispatcher.dispatch(
        request(receiver.url(), { headers: { 'X-Evil': 'a\r\nInjected: 1' } }),
      ),
    ).toMatchObject({
      status: 'failed',
      attempts: 0,
      error: expect.stringMatching(/invalid value/),
    });
    expect(receiver.requests).toHaveLength(0);
    expect(results).toEqual(['failed', 'failed', 'failed']);
  });

  it('rejects malformed numbers (a programming error) with RangeError', async () => {
    dispatcher = new CallbackDispatcher();
    await expect(dispatcher.dispatch(request(receiver.url(), { timeoutMs: 0 }))).rejects.toThrow(
      RangeError,
    );
    await expect(
      dispatcher.dispatch(
        request(receiver.url(), {
          retry: { maxAttempts: 0, initialBackoffMs: 1, maxBackoffMs: 1 },
        }),
      ),
    ).rejects.toThrow(/maxAttempts/);
    expect(() => new CallbackDispatcher({ concurrency: 0 })).toThrow(RangeError);
  });
});
