import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './api.error';
import { API_OPTIONS, type ResolvedApiOptions } from './api.options';
import { bearerTokenCheck, type TokenCheck } from './bearer-token';

/**
 * Guards the /xcron and /v1 controllers when `apiToken` is set: `Authorization: Bearer <token>`,
 * compared in constant time. /healthz and /readyz are not guarded (probes carry no token).
 * CreateTaskRoutes, which are not controllers, call assertAuthorized themselves.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  private readonly check: TokenCheck;

  constructor(@Inject(API_OPTIONS) options: ResolvedApiOptions) {
    this.check = bearerTokenCheck(options.apiToken);
  }

  canActivate(context: ExecutionContext): boolean {
    assertAuthorized(this.check, context.switchToHttp().getRequest<FastifyRequest>());
    return true;
  }
}

/** Throws `unauthorized` unless the request's Authorization header passes `check`. */
export function assertAuthorized(check: TokenCheck, request: FastifyRequest): void {
  if (!check(request.headers.authorization))
    throw new ApiError('unauthorized', 'missing or wrong Authorization: Bearer <api token>');
}
