/**
 * One xcron node as a user runs it (a real process, real HTTP, a real callback receiver): tasks
 * fire on time with their body and headers, crontabs repeat, delete stops them, bad input is
 * refused without storing anything, and a kill -9 right after an acknowledged create loses nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@xcron/testing';
import { CallbackReceiver } from './support/callback-receiver';
import { delay, eventually, XcronNode } from './support/xcron-node';

jest.setTimeout(90_000);

let dir: string;
let receiver: CallbackReceiver;
let node: XcronNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xcron-e2e-single-'));
  receiver = await CallbackReceiver.start();
  const [http, monitor, peer] = await freePorts(3);
  node = new XcronNode({ dir: join(dir, 'node'), ports: { http, monitor, peer }, peerHosts: [] });
  node.start();
  await node.waitReady();
});

afterAll(async () => {
  await node?.kill9();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

async function createSeedTask(body: unknown): Promise<string> {
  const answer = await node.request('POST', '/xcron/createTask', body);
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ code: 0, data: { task_id: expect.stringMatching(/^\d+$/) } });
  return answer.body.data.task_id as string;
}

it('fires a one-shot exactly once, with its body and headers, never early and within 1 s', async () => {
  const atSeconds = nowSeconds() + 3;
  const taskId = await createSeedTask({
    type: 2,
    format: String(atSeconds),
    callback: { url: receiver.url('/once'), body: { order: 42, note: 'héllo' } },
  });
  const callback = await eventually('the callback', () => receiver.forTask(taskId)[0], 10_000);
  expect(callback.path).toBe('/once');
  expect(JSON.parse(callback.body)).toEqual({ order: 42, note: 'héllo' });
  expect(callback.headers['content-type']).toMatch(/^application\/json/);
  expect(callback.headers['idempotency-key']).toBe(`${taskId}:${atSeconds * 1000}`);
  expect(callback.headers['x-xcron-scheduled-at']).toBe(String(atSeconds * 1000));
  expect(callback.headers['x-xcron-attempt']).toBe('1');
  expect(callback.arrivedAtMs).toBeGreaterThanOrEqual(atSeconds * 1000);
  expect(callback.arrivedAtMs - atSeconds * 1000).toBeLessThan(1_000);
  // Exactly once: nothing more arrives, and the task completed with one run.
  await delay(1_500);
  expect(receiver.forTask(taskId)).toHaveLength(1);
  const query = await node.request('GET', `/xcron/queryTask?task_id=${taskId}`);
  expect(query.body).toMatchObject({ code: 0, data: { task_id: taskId, type: 2, run_count: 1 } });
  // Once ready, the node warmed its callback path on a loopback server, not on the receiver.
  expect(node.output).toMatch(/callback path warmed up: 400 POST\(s\) to a loopback server/);
  expect(receiver.received.filter((c) => c.path.includes('warm-up'))).toEqual([]);
});

it('fires a 6-field crontab every second, and deleteTask stops it', async () => {
  const taskId = await createSeedTask({
    type: 1,
    format: '* * * * * *',
    callback: { url: receiver.url('/every-second'), body: { tick: true } },
  });
  await eventually(
    'three fires',
    () => (receiver.forTask(taskId).length >= 3 ? true : undefined),
    10_000,
  );
  const times = receiver.forTask(taskId).map((c) => Number(c.headers['x-xcron-scheduled-at']));
  // Consecutive seconds, each on a whole second.
  for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1_000);
  for (const time of times) expect(time % 1_000).toBe(0);

  const deleted = await node.request('POST', '/xcron/deleteTask', { task_id: taskId });
  expect(deleted.body).toMatchObject({ code: 0 });
  await delay(300); // a fire already on the wire at the delete may still land
  const count = receiver.forTask(taskId).length;
  await delay(2_500);
  expect(receiver.forTask(taskId).length).toBe(count);
  const query = await node.request('GET', `/xcron/queryTask?task_id=${taskId}`);
  expect(query.body.code).toBe(1030);
});

it('refuses every kind of bad input with its code and stores nothing', async () => {
  const before = (await node.request('GET', '/v1/tasks?limit=1000')).body.data.tasks.length;
  const url = receiver.url();
  const cases: [unknown, number][] = [
    [{ type: 1, format: '', callback: { url, body: {} } }, 1010],
    [{ type: 1, format: '* * * *', callback: { url, body: {} } }, 1010],
    [{ type: 1, format: '61 * * * *', callback: { url, body: {} } }, 1010],
    [{ type: 1, format: '* * * * * * *', callback: { url, body: {} } }, 1010],
    [{ type: 1, format: '* * * * *', timezone: 'Mars/Base', callback: { url, body: {} } }, 1070],
    [{ type: 2, format: String(nowSeconds() - 60), callback: { url, body: {} } }, 1002],
    [{ type: 2, format: 'tomorrow', callback: { url, body: {} } }, 1001],
    [{ type: 2, format: String(Date.now() + 60_000), callback: { url, body: {} } }, 1001],
    [{ type: 2, format: String(nowSeconds() + 60), callback: { body: {} } }, 1003],
    [
      { type: 2, format: String(nowSeconds() + 60), callback: { url: 'ftp://x/y', body: {} } },
      1003,
    ],
    [{ type: 3, format: '1', callback: { url, body: {} } }, 1020],
  ];
  for (const [body, code] of cases) {
    const answer = await node.request('POST', '/xcron/createTask', body);
    expect({ body, status: answer.status, code: answer.body.code }).toEqual({
      body,
      status: 200,
      code,
    });
    expect(typeof answer.body.message).toBe('string');
  }
  // Malformed JSON, and a body over the limit (64 KiB by default).
  const raw = async (payload: string) => {
    const response = await fetch(`${node.baseUrl}/xcron/createTask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });
    return { status: response.status, body: (await response.json()) as { code: number } };
  };
  expect(await raw('{"type": 2,')).toMatchObject({ status: 200, body: { code: 1000 } });
  const huge = JSON.stringify({
    type: 2,
    format: String(nowSeconds() + 60),
    callback: { url, body: 'x'.repeat(70_000) },
  });
  expect((await raw(huge)).body.code).toBe(1050);
  // /v1 refuses unknown fields and unknown ids with HTTP statuses.
  const unknownField = await node.request('POST', '/v1/tasks', {
    run_at_ms: Date.now() + 60_000,
    callback: { url, body: {} },
    colour: 'red',
  });
  expect(unknownField.status).toBe(400);
  expect((await node.request('GET', '/v1/tasks/12345')).status).toBe(404);
  expect((await node.request('GET', '/xcron/queryTask?task_id=12345')).body.code).toBe(1030);
  const after = (await node.request('GET', '/v1/tasks?limit=1000')).body.data.tasks.length;
  expect(after).toBe(before);
});

it('loses no acknowledged task when killed -9 right after createTask', async () => {
  const atSeconds = nowSeconds() + 10;
  const ids: string[] = [];
  for (let i = 0; i < 20; i++)
    ids.push(
      await createSeedTask({
        type: 2,
        format: String(atSeconds),
        callback: { url: receiver.url('/survivor'), body: { i } },
      }),
    );
  await node.kill9();
  node.start();
  await node.waitReady();
  for (const id of ids) {
    const query = await node.request('GET', `/xcron/queryTask?task_id=${id}`);
    expect(query.body).toMatchObject({ code: 0, data: { task_id: id } });
  }
  await eventually(
    'every survivor fires',
    () => (ids.every((id) => receiver.forTask(id).length === 1) ? true : undefined),
    30_000,
  );
  for (const id of ids)
    expect(receiver.forTask(id)[0].arrivedAtMs).toBeGreaterThanOrEqual(atSeconds * 1000);
});

it('on SIGTERM lets a callback on the wire finish, records it, and exits 0', async () => {
  receiver.delayMsFor = (callback) => (callback.path === '/slow' ? 1_500 : 0);
  const atSeconds = nowSeconds() + 2;
  const taskId = await createSeedTask({
    type: 2,
    format: String(atSeconds),
    callback: { url: receiver.url('/slow'), body: {} },
  });
  await eventually('the slow callback is on the wire', () => receiver.forTask(taskId)[0], 10_000);
  expect(await node.stop()).toBe(0);
  // The node waited for the answer before it went.
  expect(receiver.answered.some((callback) => callback.headers['x-xcron-task-id'] === taskId)).toBe(
    true,
  );
  receiver.delayMsFor = () => 0;
  node.start();
  await node.waitReady();
  const executions = await node.request('GET', `/v1/tasks/${taskId}/executions`);
  expect(executions.body.data.executions).toEqual([
    expect.objectContaining({ status: 'succeeded', http_status: 200, attempts: 1 }),
  ]);
  // Recorded before the stop: the restarted node does not send it again.
  await delay(1_000);
  expect(receiver.forTask(taskId)).toHaveLength(1);
});
