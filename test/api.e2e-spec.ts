/**
 * The HTTP API against the real node (one in-process app: real Raft on a temp dir, real journal,
 * real dispatcher, a real callback receiver): the /v1 life cycle of a task — create with an
 * idempotency key, batch, PATCH, pause, resume, run now, executions, dead letters and their re-run,
 * delete — as a client sees it.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  startInProcessNode,
  type InProcessNode,
} from '../apps/xcron-server/src/testing/in-process-node';
import { CallbackReceiver } from './support/callback-receiver';
import { eventually, type HttpAnswer } from './support/xcron-node';

jest.setTimeout(60_000);

let node: InProcessNode;
let app: NestFastifyApplication;
let receiver: CallbackReceiver;

beforeAll(async () => {
  receiver = await CallbackReceiver.start();
  node = await startInProcessNode();
  app = node.app;
  await eventually('ready', async () =>
    (await call('GET', '/readyz')).status === 200 ? true : undefined,
  );
});

afterAll(async () => {
  await node?.dispose();
  await receiver?.close();
});

async function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<HttpAnswer> {
  const response = await app.inject({
    method,
    url,
    ...(body !== undefined
      ? { payload: body as object, headers: { 'content-type': 'application/json' } }
      : {}),
  });
  return { status: response.statusCode, body: response.json() };
}

it('returns the same task for a retried idempotency key, and 409 for other parameters', async () => {
  const task = {
    run_at_ms: Date.now() + 3_600_000,
    callback: { url: receiver.url('/idem'), body: { a: 1 } },
    idempotency_key: 'order-17',
  };
  const first = await call('POST', '/v1/tasks', task);
  expect(first.status).toBe(201);
  const again = await call('POST', '/v1/tasks', task);
  expect(again.status).toBe(200);
  expect(again.body.data.task_id).toBe(first.body.data.task_id);
  const other = await call('POST', '/v1/tasks', {
    ...task,
    callback: { url: receiver.url('/idem'), body: { a: 2 } },
  });
  expect(other.status).toBe(409);
  expect(other.body.code).toBe(1040);
});

it('refuses alone a batch task whose idempotency key belongs to other parameters', async () => {
  const url = receiver.url('/batch-idem');
  const first = await call('POST', '/v1/tasks', {
    run_at_ms: Date.now() + 3_600_000,
    callback: { url, body: { v: 1 } },
    idempotency_key: 'batch-key',
  });
  const batch = await call('POST', '/v1/tasks:batch', {
    tasks: [
      { run_at_ms: Date.now() + 3_600_000, callback: { url, body: { v: 'new' } } },
      {
        run_at_ms: Date.now() + 3_600_000,
        callback: { url, body: { v: 2 } },
        idempotency_key: 'batch-key',
      },
    ],
  });
  expect(batch.status).toBe(201);
  const [created, refused] = batch.body.data.tasks;
  expect(created).toMatchObject({ task_id: expect.any(String), created: true });
  expect(refused).toEqual({
    error: {
      code: 1040,
      message: expect.stringContaining('batch-key'),
      existing_task_id: first.body.data.task_id,
    },
  });
  expect((await call('GET', `/v1/tasks/${created.task_id}`)).status).toBe(200);
});

it('creates a batch in one request and lists it page by page', async () => {
  const tasks = Array.from({ length: 25 }, (_, i) => ({
    run_at_ms: Date.now() + 3_600_000 + i,
    callback: { url: receiver.url('/batch'), body: { i } },
  }));
  const created = await call('POST', '/v1/tasks:batch', { tasks });
  expect(created.status).toBe(201);
  expect(created.body.data.tasks).toHaveLength(25);
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await call('GET', `/v1/tasks?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    for (const t of page.body.data.tasks) seen.add(t.task_id);
    cursor = page.body.data.next_cursor;
  } while (cursor !== undefined);
  for (const { task_id } of created.body.data.tasks) expect(seen.has(task_id)).toBe(true);
  expect((await call('GET', '/v1/tasks?cursor=not-a-cursor')).status).toBe(400);
});

it('patches, pauses, resumes and runs a crontab now, and lists its executions', async () => {
  const created = await call('POST', '/v1/tasks', {
    cron: '0 0 1 1 *',
    callback: { url: receiver.url('/life'), body: { v: 1 } },
  });
  const id = created.body.data.task_id as string;
  const patched = await call('PATCH', `/v1/tasks/${id}`, {
    callback: { url: receiver.url('/life'), body: { v: 2 } },
  });
  expect(patched.status).toBe(200);
  expect(patched.body.data.callback.body).toEqual({ v: 2 });
  expect((await call('POST', `/v1/tasks/${id}/pause`)).body.data.status).toBe('paused');
  expect((await call('POST', `/v1/tasks/${id}/resume`)).body.data.status).toBe('active');
  const shown = await call('GET', `/v1/tasks/${id}`);
  expect(shown.body.data.next_fire_times_ms).toHaveLength(5);
  const run = await call('POST', `/v1/tasks/${id}/run`);
  expect(run.status).toBe(202);
  const callback = await eventually('the manual fire', () => receiver.forTask(id)[0], 10_000);
  expect(JSON.parse(callback.body)).toEqual({ v: 2 });
  const executions = await eventually('the execution record', async () => {
    const list = await call('GET', `/v1/tasks/${id}/executions`);
    return list.body.data.executions.length > 0 ? list.body.data.executions : undefined;
  });
  expect(executions[0]).toMatchObject({
    task_id: id,
    status: 'succeeded',
    http_status: 200,
    attempts: 1,
    manual: true,
  });
});

it('removes an optional field with null in a PATCH', async () => {
  const created = await call('POST', '/v1/tasks', {
    cron: '* * * * *',
    name: 'nightly',
    end_at_ms: Date.now() + 3_600_000,
    callback: { url: receiver.url('/clear'), body: {} },
  });
  const id = created.body.data.task_id as string;
  expect(created.body.data).toMatchObject({ name: 'nightly', end_at_ms: expect.any(Number) });
  const patched = await call('PATCH', `/v1/tasks/${id}`, { end_at_ms: null, name: null });
  expect(patched.status).toBe(200);
  expect(patched.body.data.end_at_ms).toBeUndefined();
  expect(patched.body.data.name).toBeUndefined();
  const both = await call('PATCH', `/v1/tasks/${id}`, {
    end_at: null,
    end_at_ms: Date.now() + 60_000,
  });
  expect(both.status).toBe(400);
});

it('records a failing callback as a dead letter and re-runs it', async () => {
  // The first delivery to /dead fails (500, no retry): a dead letter; the re-run succeeds.
  let deadDeliveries = 0;
  receiver.statusFor = (callback) =>
    callback.path === '/dead' && ++deadDeliveries === 1 ? 500 : 200;
  const created = await call('POST', '/v1/tasks', {
    run_at_ms: Date.now() + 300,
    callback: { url: receiver.url('/dead'), body: {} },
    retry: { max_attempts: 1 },
  });
  const id = created.body.data.task_id as string;
  const dead = await eventually('the dead letter', async () => {
    const list = await call('GET', '/v1/executions?status=failed');
    return list.body.data.executions.find((e: { task_id: string }) => e.task_id === id);
  });
  expect(dead).toMatchObject({ status: 'failed', http_status: 500, attempts: 1 });
  const rerun = await call('POST', `/v1/tasks/${id}/executions/${dead.scheduled_at_ms}/rerun`);
  expect(rerun.status).toBe(202);
  await eventually(
    'the re-run',
    () => (receiver.forTask(id).length >= 2 ? true : undefined),
    10_000,
  );
  const second = receiver.forTask(id)[1];
  // The same fire again: the same idempotency key.
  expect(second.headers['idempotency-key']).toBe(`${id}:${dead.scheduled_at_ms}`);
  receiver.statusFor = () => 200;
});

it('deletes a task and answers 404 for it afterwards', async () => {
  const created = await call('POST', '/v1/tasks', {
    run_at_ms: Date.now() + 3_600_000,
    callback: { url: receiver.url('/gone'), body: {} },
  });
  const id = created.body.data.task_id as string;
  expect((await call('DELETE', `/v1/tasks/${id}`)).status).toBe(200);
  expect((await call('GET', `/v1/tasks/${id}`)).status).toBe(404);
  expect((await call('DELETE', `/v1/tasks/${id}`)).status).toBe(404);
});

it('shows the single node as the leader of its cluster', async () => {
  const view = await call('GET', '/v1/cluster');
  expect(view.body.data).toMatchObject({
    role: 'leader',
    members: [expect.objectContaining({ learner: false })],
  });
  expect(view.body.data.leader_id).toBe(view.body.data.id);
  const unknown = await call('DELETE', '/v1/cluster/members/127.0.0.1%3A1');
  expect({ status: unknown.status, code: unknown.body.code }).toEqual({ status: 409, code: 1041 });
});
