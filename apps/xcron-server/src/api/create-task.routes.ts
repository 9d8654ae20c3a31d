import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SCHEDULER_API, type SchedulerApi } from '@xcron/scheduler/scheduler-api';
import { assertAuthorized } from './api-auth.guard';
import { API_OPTIONS, type ResolvedApiOptions } from './api.options';
import { bearerTokenCheck, type TokenCheck } from './bearer-token';
import { unwrap } from './controller-helpers';
import { success, type Envelope } from './envelope';
import { parseSeedCreateTask } from './parse/seed.parser';
import { parseV1CreateTask } from './parse/v1.parser';
import { presentTask } from './present/presenters';

export const SEED_CREATE_TASK_URL = '/xcron/createTask';
export const V1_CREATE_TASK_URL = '/v1/tasks';

/**
 * The two routes that create one task, served by Fastify directly rather than by a Nest
 * controller. They are the API's hottest routes, and Nest's router (guard and interceptor
 * plumbing, its response controller) is per-request work they do not need: about 7% more
 * creates/s on one node without it (bench:server part 1, A/B). They answer exactly as the
 * controllers did:
 * - the bearer token is checked as ApiAuthGuard checks it, after the body is parsed;
 * - an error is thrown, so it reaches Fastify's error handler, which Nest has set (at
 *   `registerRouter`, before any `onModuleInit`) to run the global ApiExceptionFilter: the same
 *   envelope and status as every other /xcron and /v1 route;
 * - Fastify's onRequest hooks (Nest's 503 while closing, CORS) apply, as to every route.
 * Nest middleware, global guards, interceptors and pipes do not: the API module uses none.
 */
@Injectable()
export class CreateTaskRoutes implements OnModuleInit {
  private readonly authorized: TokenCheck;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SCHEDULER_API) private readonly scheduler: SchedulerApi,
    @Inject(API_OPTIONS) options: ResolvedApiOptions,
  ) {
    this.authorized = bearerTokenCheck(options.apiToken);
  }

  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (typeof instance?.post !== 'function')
      throw new Error(
        'the xcron API module needs the Fastify adapter (@nestjs/platform-fastify): POST /xcron/createTask and POST /v1/tasks are Fastify routes',
      );
    instance.post(SEED_CREATE_TASK_URL, (request) => this.createSeed(request));
    instance.post(V1_CREATE_TASK_URL, (request, reply) => this.createV1(request, reply));
  }

  /** `{type, format, callback, …}` → HTTP 200 `{uuid, code: 0, message: "success", data: {task_id}}`. */
  private async createSeed(request: FastifyRequest): Promise<Envelope> {
    assertAuthorized(this.authorized, request);
    const { task } = await this.scheduler.createTask(unwrap(parseSeedCreateTask(request.body)));
    return success({ task_id: task.id });
  }

  /** 201 with the task; 200 with the existing task when its idempotency_key returned it. */
  private async createV1(request: FastifyRequest, reply: FastifyReply): Promise<Envelope> {
    assertAuthorized(this.authorized, request);
    const { task, created } = await this.scheduler.createTask(
      unwrap(parseV1CreateTask(request.body)),
    );
    reply.status(created ? 201 : 200);
    return success(presentTask(task));
  }
}
