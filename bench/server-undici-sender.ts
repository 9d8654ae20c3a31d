/**
 * Child of bench/server.bench.ts: the raw undici ceiling of callback delivery. On request
 * `{count, concurrency, url, bodyBytes}` it POSTs `count` JSON bodies (with the headers a callback
 * carries) to `url` over one undici Pool of `concurrency` keep-alive connections, at most
 * `concurrency` in flight, and answers `{ms, ok, failed}` (ms: first send to last answer).
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';

interface SendRequest {
  id: number;
  count: number;
  concurrency: number;
  url: string;
  bodyBytes: number;
}

const pools = new Map<string, Pool>();

async function send(request: SendRequest): Promise<{ ms: number; ok: number; failed: number }> {
  const url = new URL(request.url);
  const key = `${url.origin}#${request.concurrency}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = new Pool(url.origin, { connections: request.concurrency, pipelining: 1 });
    pools.set(key, pool);
  }
  const body = JSON.stringify({ data: randomBytes(request.bodyBytes).toString('base64') });
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < request.count) {
      const index = next++;
      try {
        const response = await pool.request({
          method: 'POST',
          path: url.pathname,
          body,
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `raw-${index}:0`,
            'x-xcron-task-id': `raw-${index}`,
            'x-xcron-scheduled-at': String(Date.now()),
            'x-xcron-attempt': '1',
          },
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await response.body.dump();
        if (response.statusCode < 300) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.concurrency, request.count) }, worker));
  return { ms: performance.now() - started, ok, failed };
}

process.on('message', (raw) => {
  const request = raw as SendRequest;
  send(request).then(
    (result) => process.send?.({ id: request.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: request.id, ok: false, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
