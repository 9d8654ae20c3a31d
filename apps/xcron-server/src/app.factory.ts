import type { LogLevel, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { NodeIdentity } from './cluster/node-identity';
import type { XcronOptions } from './config/config.schema';

const LOG_LEVELS: Readonly<Record<XcronOptions['env'], LogLevel[]>> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  prod: ['fatal', 'error', 'warn', 'log'],
};

/**
 * Builds the Nest app on Fastify from validated options, without listening: `main.ts` listens,
 * tests use `inject()` or listen on a port of their own.
 */
export async function createXcronApp(
  options: XcronOptions,
  identity?: NodeIdentity,
  /** For tests: e.g. `{ logger: false }` to keep their output quiet. */
  overrides: Pick<NestApplicationOptions, 'logger'> = {},
): Promise<NestFastifyApplication> {
  // Fastify refuses a larger body with 413 before any route sees it.
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimitBytes });
  return NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options, identity), adapter, {
    logger: LOG_LEVELS[options.env],
    // Without this, Nest calls process.abort() on a wiring error: a core dump instead of an exit code.
    abortOnError: false,
    ...overrides,
  });
}
