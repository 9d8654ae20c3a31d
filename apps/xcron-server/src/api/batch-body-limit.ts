import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { API_OPTIONS, type ResolvedApiOptions } from './api.options';

/** The batch route as Nest hands it to Fastify (`::` is Fastify's escaped literal colon). */
export const BATCH_ROUTE_URLS: ReadonlySet<string> = new Set([
  '/v1/tasks::batch',
  '/v1/tasks:batch',
]);

/**
 * Gives POST /v1/tasks:batch its own body limit (1,000 tasks do not fit in the server-wide 64 KiB).
 * Nest cannot set a route's `bodyLimit`, so this adds a Fastify `onRoute` hook that does. It must
 * run before Nest registers the routes (at `app.init()`): providers are built earlier, in
 * `NestFactory.create`, which is why this is a constructor. With `Test.createTestingModule` the
 * adapter is not known yet at that time: the batch route then keeps the server-wide limit.
 */
@Injectable()
export class BatchBodyLimit {
  constructor(adapterHost: HttpAdapterHost, @Inject(API_OPTIONS) options: ResolvedApiOptions) {
    const instance = adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (typeof instance?.addHook !== 'function') {
      new Logger('Api').warn(
        'no Fastify instance while the API module starts: POST /v1/tasks:batch keeps the server-wide body limit',
      );
      return;
    }
    instance.addHook('onRoute', (route: RouteOptions) => {
      if (BATCH_ROUTE_URLS.has(route.url)) route.bodyLimit = options.batchBodyLimitBytes;
    });
  }
}
