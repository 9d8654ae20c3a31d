import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorKind } from './api.codes';
import { ApiError, toApiError } from './api.error';
import { apiNamespaceOf } from './api-namespace';
import { failure, newRequestId } from './envelope';

/** What Fastify's own errors (body parsing, routing) and Nest's HttpExceptions mean to the API. */
const KIND_OF_HTTP_STATUS: Readonly<Record<number, ApiErrorKind>> = {
  401: 'unauthorized',
  404: 'route_not_found',
  405: 'route_not_found',
  413: 'body_too_large',
  415: 'media_type_unsupported',
};

/** Fastify's messages for a few errors, in the API's words. */
const MESSAGE_OF_FASTIFY_CODE: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is larger than the limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Content-Type must be application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Content-Type is application/json but the body is empty',
};

function fastifyCode(exception: HttpException): string | undefined {
  const cause = exception.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/**
 * An HttpException is Nest's or Fastify's (mapped by the adapter): a body too large, malformed
 * JSON, a wrong Content-Type, an unknown route. 4xx become the matching API error; 5xx are
 * unexpected.
 */
export function apiErrorOfHttpException(exception: HttpException): ApiError {
  const status = exception.getStatus();
  if (status >= 500) return toApiError(exception);
  const kind = KIND_OF_HTTP_STATUS[status] ?? 'request_invalid';
  const code = fastifyCode(exception);
  const message =
    (code === undefined ? undefined : MESSAGE_OF_FASTIFY_CODE[code]) ??
    (kind === 'request_invalid'
      ? `request not parseable: ${exception.message}`
      : exception.message);
  return new ApiError(kind, message);
}

/**
 * Answers every error of an /xcron or /v1 request with the envelope: seed routes with HTTP 200 (an
 * unknown route excepted: 404), /v1 with the code table's status. Never Fastify's error shape,
 * never a stack trace; an unexpected error is logged here with the answer's uuid. Errors of other
 * routes (/healthz, unknown paths) keep Nest's default handling.
 */
@Catch()
export class ApiExceptionFilter extends BaseExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  constructor(private readonly adapterHost: HttpAdapterHost) {
    super(adapterHost.httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const namespace = apiNamespaceOf(request.url);
    if (namespace === undefined) return super.catch(exception, host);

    const error =
      exception instanceof HttpException
        ? apiErrorOfHttpException(exception)
        : toApiError(exception);
    const uuid = newRequestId();
    if (error.kind === 'internal') {
      const detail =
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(`${uuid} ${request.method} ${request.url}: ${detail}`);
    }
    const reply = http.getResponse<FastifyReply>();
    const status =
      namespace === 'seed' && error.kind !== 'route_not_found' ? 200 : error.httpStatus;
    const adapter = this.adapterHost.httpAdapter;
    if (status === 401) adapter.setHeader(reply, 'WWW-Authenticate', 'Bearer');
    adapter.reply(reply, failure(error, uuid), status);
  }
}
