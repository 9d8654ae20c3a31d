/**
 * The API over HTTP (Fastify `inject`, no port) against the in-memory SchedulerApi double: routes,
 * statuses, the envelope, Fastify's own errors, the bearer token. The real scheduler's end-to-end
 * tests live in test/.
 */
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ClusterUnavailableError } from '@xcron/scheduler/task/task.errors';
import { InMemorySchedulerApi } from './testing/in-memory-scheduler-api';
import { createApiTestApp } from './testing/api-test-app';

const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SERVER_BODY_LIMIT_BYTES = 4096;
const BATCH_BODY_LIMIT_BYTES = 64 * 1024;

type InjectOptions = Parameters<NestFastifyApplication['inject']>[0];

const seedTask = (overrides: Record<string, unknown> = {}) => ({
  type: 2,
  format: String(NOW_S + 60),
  callback: { url: 'http://cb.test/hook', body: { order: 7 } },
  ...overrides,
});
const v1Task = (overrides: Record<string, unknown> = {}) => ({
  run_at_ms: NOW_MS + 60_000,
  callback: { url: 'http://cb.test/hook', body: { order: 7 } },
  ...overrides,
});

describe('HTTP API', () => {
  let app: NestFastifyApplication;
  let scheduler: InMemorySchedulerApi;

  const send = async (options: InjectOptions) => {
    const response = await app.inject(options);
    return { status: response.statusCode, body: response.json(), headers: response.headers };
  };
  const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    // No Content-Type without a body: Fastify refuses an empty body declared as JSON.
    send({
      method: 'POST',
      url,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });
  const get = (url: string) => send({ method: 'GET', url });

  beforeAll(async () => {
    scheduler = new InMemorySchedulerApi({ nowMs: () => NOW_MS });
    app = await createApiTestApp(
      scheduler,
      { batchBodyLimitBytes: BATCH_BODY_LIMIT_BYTES, batchTasksMax: 100 },
      SERVER_BODY_LIMIT_BYTES,
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  afterEach(() => {
    scheduler.failWith = undefined;
    scheduler.ready = true;
    jest.restoreAllMocks();
  });

  describe('seed routes: always HTTP 200, the outcome in code', () => {
    it('creates a one-shot: {uuid, code: 0, message: "success", data: {task_id}}', async () => {
      const { status, body } = await post('/xcron/createTask', seedTask());
      expect(status).toBe(200);
      expect(body).toEqual({
        uuid: expect.stringMatching(UUID),
        code: 0,
        message: 'success',
        data: { task_id: expect.stringMatching(/^[0-9]+$/) },
      });
      expect(scheduler.tasks.get(body.data.task_id)?.spec.schedule).toEqual({
        kind: 'once',
        runAtMs: (NOW_S + 60) * 1000,
      });
    });

    it('gives every answer a fresh uuid', async () => {
      const a = await post('/xcron/createTask', seedTask());
      const b = await post('/xcron/createTask', seedTask());
      expect(a.body.uuid).not.toBe(b.body.uuid);
    });

    it('creates a crontab with a JSON-number format refused and a string accepted', async () => {
      expect(
        (await post('/xcron/createTask', seedTask({ type: 1, format: '*/5 * * * * *' }))).body.code,
      ).toBe(0);
      expect((await post('/xcron/createTask', seedTask({ type: 1, format: 5 }))).body.code).toBe(
        1000,
      );
    });

    it.each([
      ['a one-shot in the past', seedTask({ format: String(NOW_S - 5) }), 1002],
      ['a one-shot not numeric', seedTask({ format: 'soon' }), 1001],
      ['a one-shot in milliseconds', seedTask({ format: String(NOW_MS + 60_000) }), 1001],
      ['a missing callback URL', seedTask({ callback: { body: {} } }), 1003],
      ['a non-http(s) callback URL', seedTask({ callback: { url: 'ftp://cb.test/x' } }), 1003],
      [
        'a callback URL with credentials',
        seedTask({ callback: { url: 'http://u:p@cb.test/x' } }),
        1003,
      ],
      [
        'a reserved callback header',
        seedTask({ callback: { url: 'http://cb.test/x', headers: { 'User-Agent': 'me' } } }),
        1000,
      ],
      [
        'a callback header value that is not a string',
        seedTask({ callback: { url: 'http://cb.test/x', headers: { 'X-A': 1 } } }),
        1000,
      ],
      ['an empty crontab', seedTask({ type: 1, format: '' }), 1010],
      ['a crontab with 4 fields', seedTask({ type: 1, format: '* * * *' }), 1010],
      ['a crontab with 7 fields', seedTask({ type: 1, format: '* * * * * * *' }), 1010],
      [
        'an unknown time zone',
        seedTask({ type: 1, format: '0 * * * *', timezone: 'Mars/Olympus' }),
        1070,
      ],
      ['type 3', seedTask({ type: 3 }), 1020],
      ['a body that is an array', [seedTask()], 1000],
      ['a missing format', seedTask({ format: undefined }), 1000],
    ])('answers %s with HTTP 200 and code %d, storing nothing', async (_case, payload, code) => {
      const before = scheduler.tasks.size;
      const { status, body } = await post('/xcron/createTask', payload);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        uuid: expect.stringMatching(UUID),
        code,
        message: expect.any(String),
      });
      expect(scheduler.tasks.size).toBe(before);
    });

    it("answers malformed JSON with code 1000, not Fastify's error shape", async () => {
      const response = await send({
        method: 'POST',
        url: '/xcron/createTask',
        headers: { 'content-type': 'application/json' },
        payload: '{"type": 2,',
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        uuid: expect.stringMatching(UUID),
        code: 1000,
        message: expect.any(String),
      });
    });

    it('answers a body over the server limit with code 1050', async () => {
      const payload = seedTask({
        callback: { url: 'http://cb.test', body: 'x'.repeat(SERVER_BODY_LIMIT_BYTES) },
      });
      const { status, body } = await post('/xcron/createTask', payload);
      expect(status).toBe(200);
      expect(body.code).toBe(1050);
    });

    it('answers "no leader" with 1004, and an unexpected error with 1004 without its details', async () => {
      scheduler.failWith = new ClusterUnavailableError('no leader', '10.0.0.2:8000');
      expect((await post('/xcron/createTask', seedTask())).body).toMatchObject({
        code: 1004,
        data: { leader: '10.0.0.2:8000' },
      });
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      scheduler.failWith = new Error('disk on fire at /var/secret');
      const { status, body } = await post('/xcron/createTask', seedTask());
      expect(status).toBe(200);
      expect(body.code).toBe(1004);
      expect(JSON.stringify(body)).not.toMatch(/secret|fire|at /);
      expect(logged).toHaveBeenCalledWith(expect.stringContaining(body.uuid));
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('disk on fire'));
    });

    it('deletes a task: {uuid, code: 0}; an unknown id is 1030', async () => {
      const id = (await post('/xcron/createTask', seedTask())).body.data.task_id;
      expect((await post('/xcron/deleteTask', { task_id: id })).body).toEqual({
        uuid: expect.stringMatching(UUID),
        code: 0,
      });
      expect((await post('/xcron/deleteTask', { task_id: id })).body.code).toBe(1030);
      expect((await post('/xcron/deleteTask', { task_id: 'abc' })).body.code).toBe(1000);
      expect((await post('/xcron/deleteTask', {})).body.code).toBe(1000);
    });

    it('queries a task with the original fields (create_time in unix seconds, as a string)', async () => {
      const id = (await post('/xcron/createTask', seedTask({ name: 'pay' }))).body.data.task_id;
      const { status, body } = await get(`/xcron/queryTask?task_id=${id}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        code: 0,
        message: 'success',
        data: {
          task_id: id,
          create_time: String(NOW_S),
          type: 2,
          format: String(NOW_S + 60),
          run_count: 0,
          callback: { url: 'http://cb.test/hook', body: { order: 7 } },
          status: 'active',
          next_fire_time: String(NOW_S + 60),
          name: 'pay',
        },
      });
      expect((await get('/xcron/queryTask?task_id=123')).body.code).toBe(1030);
      expect((await get('/xcron/queryTask')).body.code).toBe(1000);
    });

    it('answers an unknown seed route with 404 and the envelope', async () => {
      const { status, body } = await get('/xcron/createTask');
      expect(status).toBe(404);
      expect(body).toMatchObject({ code: 1080 });
    });
  });

  describe('/v1 tasks', () => {
    it('creates: 201 with the task; the same idempotency key: 200, same id; other parameters: 409', async () => {
      const task = v1Task({ idempotency_key: 'order-7' });
      const first = await post('/v1/tasks', task);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        code: 0,
        data: {
          task_id: expect.any(String),
          status: 'active',
          run_at_ms: NOW_MS + 60_000,
          callback: task.callback,
          timeout_ms: expect.any(Number),
          retry: { max_attempts: expect.any(Number) },
          overlap: 'allow',
          misfire: 'fire_once',
          created_at_ms: NOW_MS,
          idempotency_key: 'order-7',
        },
      });
      const again = await post('/v1/tasks', task);
      expect(again.status).toBe(200);
      expect(again.body.data.task_id).toBe(first.body.data.task_id);
      const conflict = await post('/v1/tasks', { ...task, run_at_ms: NOW_MS + 120_000 });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({
        code: 1040,
        data: { existing_task_id: first.body.data.task_id },
      });
    });

    it('refuses an unknown field with 400 naming it', async () => {
      const { status, body } = await post('/v1/tasks', v1Task({ colour: 'red' }));
      expect(status).toBe(400);
      expect(body).toMatchObject({ code: 1000, data: { field: 'colour' } });
      expect(body.message).toContain('colour');
    });

    it.each([
      ['a one-shot in the past', v1Task({ run_at_ms: NOW_MS - 5000 }), 1002],
      ['a time that is not RFC 3339', v1Task({ run_at_ms: undefined, run_at: 'tomorrow' }), 1001],
      ['a bad crontab', v1Task({ run_at_ms: undefined, cron: 'every minute' }), 1010],
      ['a bad zone', v1Task({ run_at_ms: undefined, cron: '@daily', timezone: 'Nowhere' }), 1070],
      ['a bad callback URL', v1Task({ callback: { url: 'mailto:a@b' } }), 1003],
      ['a callback URL with credentials', v1Task({ callback: { url: 'https://u@cb.test' } }), 1003],
      [
        'a callback header with a line break',
        v1Task({ callback: { url: 'http://cb.test/x', headers: { 'X-A': 'a\r\nb: c' } } }),
        1000,
      ],
      [
        'an X-Xcron-* callback header',
        v1Task({ callback: { url: 'http://cb.test/x', headers: { 'X-Xcron-Task-Id': '1' } } }),
        1000,
      ],
    ])('answers %s with 400 and code %d', async (_case, payload, code) => {
      const { status, body } = await post('/v1/tasks', payload);
      expect(status).toBe(400);
      expect(body.code).toBe(code);
    });

    it('reads a task with its next 5 fire times; unknown and malformed ids are 404', async () => {
      const id = (await post('/v1/tasks', v1Task({ run_at_ms: undefined, cron: '* * * * *' }))).body
        .data.task_id;
      const { status, body } = await get(`/v1/tasks/${id}?consistency=stale`);
      expect(status).toBe(200);
      expect(body.data).toMatchObject({ task_id: id, cron: '* * * * *' });
      expect(body.data.next_fire_times_ms).toHaveLength(5);
      expect((await get('/v1/tasks/424242')).status).toBe(404);
      expect((await get('/v1/tasks/not-an-id')).body).toMatchObject({ code: 1030 });
      expect((await get('/v1/tasks/99999999999999999999')).status).toBe(404);
      expect((await get(`/v1/tasks/${id}?consistency=maybe`)).status).toBe(400);
    });

    it('lists tasks by page and status', async () => {
      for (let i = 0; i < 3; i++) await post('/v1/tasks', v1Task());
      const page = await get('/v1/tasks?limit=2');
      expect(page.status).toBe(200);
      expect(page.body.data.tasks).toHaveLength(2);
      expect(page.body.data.next_cursor).toEqual(expect.any(String));
      const next = await get(
        `/v1/tasks?limit=2&cursor=${page.body.data.next_cursor}&status=active`,
      );
      expect(next.body.data.tasks.length).toBeGreaterThan(0);
      expect((await get('/v1/tasks?limit=1001')).status).toBe(400);
      expect((await get('/v1/tasks?status=sleeping')).status).toBe(400);
      expect((await get('/v1/tasks?sort=name')).body).toMatchObject({
        code: 1000,
        data: { field: 'sort' },
      });
    });

    it('patches, pauses, resumes, runs and deletes', async () => {
      const id = (await post('/v1/tasks', v1Task())).body.data.task_id;
      const patched = await send({
        method: 'PATCH',
        url: `/v1/tasks/${id}`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'renamed', retry: { max_attempts: 9 } }),
      });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toMatchObject({ name: 'renamed', retry: { max_attempts: 9 } });
      expect((await post(`/v1/tasks/${id}/pause`)).body.data.status).toBe('paused');
      expect((await post(`/v1/tasks/${id}/pause`)).status).toBe(409);
      const resumed = await post(`/v1/tasks/${id}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body.data.status).toBe('active');
      const run = await post(`/v1/tasks/${id}/run`);
      expect(run.status).toBe(202);
      expect(run.body.data).toEqual({ task_id: id, scheduled_at_ms: NOW_MS });
      const deleted = await send({ method: 'DELETE', url: `/v1/tasks/${id}` });
      expect(deleted.status).toBe(200);
      expect(deleted.body.data.task_id).toBe(id);
      expect((await send({ method: 'DELETE', url: `/v1/tasks/${id}` })).status).toBe(404);
    });

    it('lists executions, the dead letters, and re-runs one', async () => {
      const id = (await post('/v1/tasks', v1Task())).body.data.task_id;
      scheduler.executions.push({
        taskId: id,
        scheduledAtMs: NOW_MS - 1000,
        status: 'failed',
        httpStatus: 500,
        attempts: 3,
        durationMs: 1200,
        node: 'n1',
        finishedAtMs: NOW_MS,
        error: 'HTTP 500',
      });
      const executions = await get(`/v1/tasks/${id}/executions?limit=10`);
      expect(executions.status).toBe(200);
      expect(executions.body.data.executions).toEqual([
        {
          task_id: id,
          scheduled_at_ms: NOW_MS - 1000,
          status: 'failed',
          http_status: 500,
          attempts: 3,
          duration_ms: 1200,
          node: 'n1',
          finished_at_ms: NOW_MS,
          error: 'HTTP 500',
        },
      ]);
      const dead = await get('/v1/executions?status=failed');
      expect(dead.body.data.executions.map((e: { task_id: string }) => e.task_id)).toContain(id);
      const rerun = await post(`/v1/tasks/${id}/executions/${NOW_MS - 1000}/rerun`);
      expect(rerun.status).toBe(202);
      expect(rerun.body.data).toEqual({ task_id: id, scheduled_at_ms: NOW_MS - 1000 });
      expect((await post(`/v1/tasks/${id}/executions/${NOW_MS}/rerun`)).status).toBe(404);
      expect((await post(`/v1/tasks/${id}/executions/soon/rerun`)).status).toBe(404);
    });
  });

  describe('POST /v1/tasks:batch', () => {
    it('is routed despite the colon, and creates every task in one createTaskIds call', async () => {
      const spy = jest.spyOn(scheduler, 'createTaskIds');
      const { status, body, headers } = await post('/v1/tasks:batch', {
        tasks: [v1Task(), v1Task({ name: 'b' })],
      });
      expect(status).toBe(201);
      expect(headers['content-type']).toBe('application/json; charset=utf-8');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(body.data.tasks).toEqual([
        { task_id: expect.any(String), created: true },
        { task_id: expect.any(String), created: true },
      ]);
    });

    it('answers 200 with created: false when every task was found by its idempotency key', async () => {
      const task = v1Task({ idempotency_key: 'batch-7' });
      const first = await post('/v1/tasks:batch', { tasks: [task] });
      expect(first.status).toBe(201);
      const again = await post('/v1/tasks:batch', { tasks: [task] });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({
        uuid: expect.any(String),
        code: 0,
        message: 'success',
        data: { tasks: [{ task_id: first.body.data.tasks[0].task_id, created: false }] },
      });
    });

    it('names the failing task and stores none of them', async () => {
      const before = scheduler.tasks.size;
      const { status, body } = await post('/v1/tasks:batch', {
        tasks: [v1Task(), v1Task({ callback: { url: 'nope' } })],
      });
      expect(status).toBe(400);
      expect(body).toMatchObject({ code: 1003, data: { field: 'tasks[1].callback.url' } });
      expect(scheduler.tasks.size).toBe(before);
    });

    it('has its own body limit, above the server-wide one', async () => {
      const tasks = Array.from({ length: 50 }, () => v1Task());
      const payloadBytes = JSON.stringify({ tasks }).length;
      expect(payloadBytes).toBeGreaterThan(SERVER_BODY_LIMIT_BYTES);
      expect((await post('/v1/tasks:batch', { tasks })).status).toBe(201);
      expect(
        (await post('/v1/tasks', { ...v1Task(), name: 'x'.repeat(SERVER_BODY_LIMIT_BYTES) }))
          .status,
      ).toBe(413);
      const huge = {
        tasks: [
          v1Task({ callback: { url: 'http://x.test', body: 'x'.repeat(BATCH_BODY_LIMIT_BYTES) } }),
        ],
      };
      const tooLarge = await post('/v1/tasks:batch', huge);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.code).toBe(1050);
    });

    it('refuses more tasks than batchTasksMax with 413', async () => {
      const tasks = Array.from({ length: 101 }, () => ({
        run_at_ms: NOW_MS + 1000,
        callback: { url: 'http://a.b' },
      }));
      const { status, body } = await post('/v1/tasks:batch', { tasks });
      expect(status).toBe(413);
      expect(body.code).toBe(1050);
    });
  });

  describe('/v1 errors keep the envelope', () => {
    it('malformed JSON: 400', async () => {
      const response = await send({
        method: 'POST',
        url: '/v1/tasks',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        uuid: expect.stringMatching(UUID),
        code: 1000,
        message: expect.any(String),
      });
    });

    it('an empty body declared as JSON: 400 saying so', async () => {
      const response = await send({
        method: 'POST',
        url: '/v1/tasks/1/pause',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: 1000,
        message: expect.stringContaining('empty'),
      });
    });

    it('a Content-Type that is not JSON: 415', async () => {
      const response = await send({
        method: 'POST',
        url: '/v1/tasks',
        headers: { 'content-type': 'application/xml' },
        payload: '<task/>',
      });
      expect(response.status).toBe(415);
      expect(response.body.code).toBe(1090);
    });

    it('no leader: 503 with the leader to retry at', async () => {
      scheduler.failWith = new ClusterUnavailableError('no leader elected', '10.0.0.3:8000');
      const { status, body } = await post('/v1/tasks', v1Task());
      expect(status).toBe(503);
      expect(body).toMatchObject({
        code: 1004,
        message: 'no leader elected',
        data: { leader: '10.0.0.3:8000' },
      });
    });

    it('an unexpected error: 500, logged, no stack trace sent', async () => {
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      scheduler.failWith = new TypeError("Cannot read properties of undefined (reading 'x')");
      const { status, body } = await get('/v1/tasks');
      expect(status).toBe(500);
      expect(body.code).toBe(1004);
      expect(JSON.stringify(body)).not.toContain('properties');
    });

    it("an unknown /v1 route: 404 with the envelope; other routes keep Nest's answer", async () => {
      const unknown = await get('/v1/nothing');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ uuid: expect.stringMatching(UUID), code: 1080 });
      const outside = await get('/elsewhere');
      expect(outside.status).toBe(404);
      expect(outside.body).toMatchObject({ statusCode: 404 });
    });
  });

  describe('cluster and readiness', () => {
    it('shows the cluster in snake_case', async () => {
      const { status, body } = await get('/v1/cluster');
      expect(status).toBe(200);
      expect(body.data).toEqual({
        id: 'n1',
        role: 'leader',
        leader_id: 'n1',
        leader_http_address: '127.0.0.1:8000',
        leader_peer_address: '127.0.0.1:8899',
        term: 3,
        commit_index: 42,
        applied_index: 42,
        members: [
          {
            id: 'n1',
            peer_address: '127.0.0.1:8899',
            http_address: '127.0.0.1:8000',
            learner: false,
          },
        ],
      });
    });

    it('adds and removes members and transfers leadership', async () => {
      const added = await post('/v1/cluster/members', {
        peer_address: '127.0.0.1:8902',
        learner: true,
      });
      expect(added.status).toBe(200);
      expect(added.body.data.members).toContainEqual({
        id: '127.0.0.1:8902',
        peer_address: '127.0.0.1:8902',
        learner: true,
      });
      expect((await post('/v1/cluster/members', { peer_address: 'nope' })).status).toBe(400);
      const removed = await send({ method: 'DELETE', url: '/v1/cluster/members/n1' });
      expect(removed.status).toBe(200);
      expect(removed.body.data.members).toEqual([]);
      const moved = await send({ method: 'POST', url: '/v1/cluster/transfer-leadership' });
      expect(moved.status).toBe(200);
      expect(moved.body.data.role).toBe('follower');
      expect(
        (await post('/v1/cluster/transfer-leadership', { member_id: 'n3' })).body.data.leader_id,
      ).toBe('n3');
    });

    it('GET /readyz: 200 when ready, 503 when not', async () => {
      expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
      scheduler.ready = false;
      expect(await get('/readyz')).toMatchObject({ status: 503, body: { status: 'not_ready' } });
    });
  });
});

describe('HTTP API with an api token', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createApiTestApp(new InMemorySchedulerApi({ nowMs: () => NOW_MS }), {
      apiToken: 't0ken',
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  const createV1 = (authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: {
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      payload: JSON.stringify(v1Task()),
    });

  it('refuses /v1 without the token: 401 with WWW-Authenticate, the envelope as body', async () => {
    for (const authorization of [undefined, 'Bearer wrong', 'Basic t0ken', 't0ken']) {
      const response = await createV1(authorization);
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json()).toMatchObject({ code: 1060 });
    }
    expect((await createV1('Bearer t0ken')).statusCode).toBe(201);
  });

  it('refuses the seed routes without the token with HTTP 200 and code 1060', async () => {
    const response = await app.inject({ method: 'GET', url: '/xcron/queryTask?task_id=1' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ code: 1060 });
  });

  it('leaves /readyz open', async () => {
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
