import { fork } from 'node:child_process';
import { Pool } from 'undici';
import { CallbackDispatcher } from '../callback-dispatcher';

const N = Number(process.env.N ?? 20000);
const C = Number(process.env.C ?? 64);
const body = JSON.stringify({ task: 'x', payload: 'y'.repeat(100) });

async function run(name: string, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        await one(next++);
      }
    }),
  );
  const rate = N / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${name}: ${Math.round(rate)} callbacks/s, client CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs/callback`,
  );
  return rate;
}

(async () => {
  const child = fork('/tmp/xbench/server.js');
  const port: number = await new Promise((r) => child.once('message', (m) => r(m as number)));
  const origin = `http://127.0.0.1:${port}`;
  const headers = {
    'content-type': 'application/json',
    'idempotency-key': '1:2',
    'x-xcron-task-id': '1',
    'x-xcron-scheduled-at': '2',
    'x-xcron-attempt': '1',
  };
  const pool = new Pool(origin, { connections: C, pipelining: 1 });
  const rawRequest = async () => {
    const r = await pool.request({ path: '/h', method: 'POST', headers, body });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error();
  };
  const rawDispatch = () =>
    new Promise<void>((resolve, reject) => {
      pool.dispatch(
        { path: '/h', method: 'POST', headers, body },
        {
          onRequestStart() {},
          onResponseStart() {},
          onResponseData() {},
          onResponseEnd: () => resolve(),
          onResponseError: (_c, e) => reject(e),
        },
      );
    });
  const d = new CallbackDispatcher({
    concurrency: C,
    signingSecret: process.env.SIGN ? 'secret' : undefined,
  });
  const req = {
    taskId: '123456789',
    scheduledAtMs: 1_700_000_000_000,
    url: `${origin}/h`,
    bodyJson: body,
    timeoutMs: 5000,
    retry: { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1000 },
  };
  const viaDispatcher = async () => {
    const r = await d.dispatch(req);
    if (r.status !== 'succeeded') throw new Error(r.error);
  };
  // warm-up
  for (const f of [rawRequest, rawDispatch, viaDispatcher]) {
    for (let i = 0; i < 2000; i++) await f();
  }
  for (let round = 0; round < 4; round++) {
    const a = await run('raw undici pool.request + body.dump', rawRequest);
    const b = await run('raw undici pool.dispatch (handler)', rawDispatch);
    const c = await run('CallbackDispatcher.dispatch', viaDispatcher);
    console.log(
      `ratio dispatcher/raw request ${(c / a).toFixed(2)}, raw dispatch/raw request ${(b / a).toFixed(2)}`,
    );
  }
  await d.close();
  await pool.destroy();
  child.kill();
})();
