/**
 * What goes over the wire: real node:http receivers on 127.0.0.1, real undici.
 */
import { CallbackDispatcher } from './callback-dispatcher';
import type { CallbackRequest } from './callback-request';
import { verifyCallbackSignature } from './signature';
import { CallbackReceiver } from './testing/callback-receiver';
import { XCRON_USER_AGENT } from './version';

const NOW = 1_767_225_600_000;

function request(url: string, overrides: Partial<CallbackRequest> = {}): CallbackRequest {
  return {
    taskId: '7340032123',
    scheduledAtMs: 1_767_225_000_000,
    url,
    bodyJson: '{"order":42,"note":"héllo"}',
    timeoutMs: 2_000,
    retry: { maxAttempts: 1, initialBackoffMs: 10, maxBackoffMs: 100 },
    ...overrides,
  };
}

describe('CallbackDispatcher delivery', () => {
  let receiver: CallbackReceiver;
  let dispatcher: CallbackDispatcher;

  beforeEach(async () => {
    receiver = await CallbackReceiver.start();
  });

  afterEach(async () => {
    await dispatcher?.close();
    await receiver.close();
  });

  it('POSTs the body byte for byte with the xcron headers and the user headers', async () => {
    dispatcher = new CallbackDispatcher();
    const result = await dispatcher.dispatch(
      request(receiver.url('/hooks/order?x=1'), {
        headers: {
          Authorization: 'Bearer abc',
          'X-Custom': 'yes',
          'Content-Type': 'text/plain',
          'Idempotency-Key': 'forged',
          'X-Xcron-Attempt': '99',
        },
      }),
    );
    expect(result).toEqual({
      status: 'succeeded',
      httpStatus: 200,
      attempts: 1,
      durationMs: expect.any(Number),
      timedOutAttempts: 0,
    });
    expect(receiver.requests).toHaveLength(1);
    const [got] = receiver.requests;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/hooks/order?x=1');
    expect(got.body.toString('utf8')).toBe('{"order":42,"note":"héllo"}');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(got.body)));
    expect(got.headers['user-agent']).toBe(XCRON_USER_AGENT);
    expect(got.headers['idempotency-key']).toBe('7340032123:1767225000000');
    expect(got.headers['x-xcron-task-id']).toBe('7340032123');
    expect(got.headers['x-xcron-scheduled-at']).toBe('1767225000000');
    expect(got.headers['x-xcron-attempt']).toBe('1');
    expect(got.headers['authorization']).toBe('Bearer abc');
    expect(got.headers['x-custom']).toBe('yes');
    expect(got.headers['x-xcron-signature']).toBeUndefined();
  });

  it('signs every attempt so the receiver helper verifies it, and refuses tampering', async () => {
    let now = NOW;
    dispatcher = new CallbackDispatcher({
      signingSecret: 's3cret',
      clock: { nowMs: () => now++ },
      sleep: () => Promise.resolve(),
    });
    let calls = 0;
    receiver.handler = (_req, res) => {
      res.statusCode = ++calls === 1 ? 503 : 200;
      res.end();
    };
    const result = await dispatcher.dispatch(
      request(receiver.url(), { retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 } }),
    );
    expect(result.status).toBe('succeeded');
    expect(receiver.requests).toHaveLength(2);
    const stamps = receiver.requests.map((r) => {
      const header = r.headers['x-xcron-signature'] as string;
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyCallbackSignature('s3cret', header, r.body, { nowMs: NOW })).toBe(true);
      expect(verifyCallbackSignature('wrong', header, r.body, { nowMs: NOW })).toBe(false);
      expect(
        verifyCallbackSignature('s3cret', header, r.body.toString() + ' ', { nowMs: NOW }),
      ).toBe(false);
      expect(verifyCallbackSignature('s3cret', header, r.body, { nowMs: NOW + 10 * 60_000 })).toBe(
        false,
      );
      return Number(/t=(\d+)/.exec(header)?.[1]);
    });
    // t is each attempt's own send time.
    expect(stamps[1]).toBeGreaterThan(stamps[0]);
  });

  it('reuses one keep-alive connection for sequential callbacks to an origin', async () => {
    dispatcher = new CallbackDispatcher();
    for (let i = 0; i < 30; i++) {
      const result = await dispatcher.dispatch(request(receiver.url(`/n/${i}`)));
      expect(result.status).toBe('succeeded');
    }
    expect(receiver.requests).toHaveLength(30);
    // undici hands a connection back to its pool one event-loop turn after a response ends
    // (pipelining 1), so back-to-back callbacks alternate between two connections.
    expect(receiver.connections).toBeLessThanOrEqual(2);
  });

  it('drains a moderate response body and keeps the connection', async () => {
    dispatcher = new CallbackDispatcher({ maxResponseBodyBytes: 16 * 1024 });
    receiver.handler = (_req, res) => res.end('x'.repeat(12 * 1024));
    for (let i = 0; i < 5; i++) {
      expect((await dispatcher.dispatch(request(receiver.url()))).status).toBe('succeeded');
    }
    expect(receiver.connections).toBeLessThanOrEqual(2);
  });

  it('cuts a huge response body short without failing the delivery or later ones', async () => {
    dispatcher = new CallbackDispatcher({ maxResponseBodyBytes: 16 * 1024 });
    const huge = Buffer.alloc(8 * 1024 * 1024, 'x');
    receiver.handler = (req, res) => {
      if (req.path === '/huge') {
        res.setHeader('content-length', huge.length);
        res.write(huge.subarray(0, 64 * 1024));
        // The rest never needs to be read.
        res.on('error', () => undefined);
        res.end(huge.subarray(64 * 1024));
        return;
      }
      res.end('ok');
    };
    const big = await dispatcher.dispatch(request(receiver.url('/huge')));
    expect(big).toMatchObject({ status: 'succeeded', httpStatus: 200, attempts: 1 });
    expect(big.durationMs).toBeLessThan(1_000);
    for (let i = 0; i < 10; i++) {
      expect((await dispatcher.dispatch(request(receiver.url('/small')))).status).toBe('succeeded');
    }
    // The big answer's connection was closed; the later ones share (at most two) new ones, not
    // one each (the undici Agent bug OriginPools avoids).
    expect(receiver.requests[0].connection).toBe(0);
    expect(receiver.connections).toBeLessThanOrEqual(3);
  });

  it('reports each attempt and the result to the metrics sink; a throwing sink is ignored', async () => {
    const attempts: unknown[] = [];
    const results: unknown[] = [];
    dispatcher = new CallbackDispatcher({
      sleep: () => Promise.resolve(),
      metrics: {
        onAttempt: (info) => {
          attempts.push(info);
          throw new Error('sink bug');
        },
        onResult: (result, req) => results.push([result.status, req.taskId]),
      },
    });
    let calls = 0;
    receiver.handler = (_req, res) => {
      res.statusCode = ++calls === 1 ? 500 : 204;
      res.end();
    };
    const result = await dispatcher.dispatch(
      request(receiver.url(), { retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1 } }),
    );
    expect(result).toMatchObject({ status: 'succeeded', httpStatus: 204, attempts: 2 });
    expect(attempts).toEqual([
      expect.objectContaining({
        taskId: '7340032123',
        attempt: 1,
        httpStatus: 500,
        error: 'HTTP 500',
        timedOut: false,
      }),
      expect.objectContaining({
        taskId: '7340032123',
        attempt: 2,
        httpStatus: 204,
        error: undefined,
      }),
    ]);
    expect(results).toEqual([['succeeded', '7340032123']]);
  });
});
