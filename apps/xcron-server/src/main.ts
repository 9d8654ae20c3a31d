/**
 * xcron-server entry point: read the command line, load and validate xcron.toml, then serve.
 * Exit codes: 0 after SIGTERM/SIGINT, 1 on a run-time failure, 2 on a bad command line or config.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createXcronApp } from './app.factory';
import { NodeIdentityError, resolveNodeIdentity, type NodeIdentity } from './cluster/node-identity';
import { ConfigError } from './config/config.error';
import { loadConfig } from './config/config.loader';
import type { XcronOptions } from './config/config.schema';
import { parseServerArgs, USAGE } from './server.args';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;
/** Longest wait for a clean shutdown before the process gives up on it and exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Errors of `listen` that mean "fix http_host / http_port", as opposed to a bug. */
const LISTEN_ERRORS: ReadonlySet<string> = new Set([
  'EADDRINUSE',
  'EACCES',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

async function main(): Promise<void> {
  const args = parseServerArgs(process.argv.slice(2), process.env);
  if (args.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.kind === 'usage-error') {
    process.stderr.write(`xcron: ${args.message}\n${USAGE}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }

  let options: XcronOptions;
  try {
    options = loadConfig(args.configFile, { logger: new Logger('Config') });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The operator's mistake, not a crash: one line, no stack trace.
    process.stderr.write(`xcron: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }

  let identity: NodeIdentity;
  try {
    identity = resolveNodeIdentity(options);
  } catch (error) {
    if (!(error instanceof NodeIdentityError)) throw error;
    process.stderr.write(`xcron: ${args.configFile}: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }

  const app = await createXcronApp(options, identity);
  // Nest closes the app (module shutdown hooks, the HTTP server) on these signals; useProcessExit
  // makes the process then exit 0 instead of re-raising the signal (which would end it with 143).
  app.enableShutdownHooks([...SHUTDOWN_SIGNALS], { useProcessExit: true });
  armShutdownWatchdog(new Logger('Shutdown'));
  try {
    await app.listen({ port: options.httpPort, host: options.httpHost });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !LISTEN_ERRORS.has(code)) throw error;
    // A setting or a busy port, not a bug: say which keys to look at, without a stack trace.
    new Logger('xcron-server').fatal(
      `cannot listen on http_host ${options.httpHost}, http_port ${options.httpPort}: ${code}`,
    );
    process.exit(EXIT_FAILURE);
  }

  const address = app.getHttpServer().address() as AddressInfo;
  new Logger('xcron-server').log(describeNode(options, identity, address));
}

/** The start-up line: where this node can be reached and where it keeps its data. */
function describeNode(options: XcronOptions, identity: NodeIdentity, http: AddressInfo): string {
  const host = http.family === 'IPv6' ? `[${http.address}]` : http.address;
  const peers =
    options.peerHosts.length === 0 ? 'none (single node)' : options.peerHosts.join(', ');
  return (
    `listening: http http://${host}:${http.port}, metrics http://${host}:${options.monitorPort}/metrics; node ${identity.nodeId} on peer_port ${options.peerPort}; ` +
    `peers ${peers}; raft_dir ${options.raftDir}; env ${options.env}; pid ${process.pid}`
  );
}

/**
 * Nest ignores a second signal while it shuts down, and a hook that never settles would keep the
 * node alive: so exit 1 after SHUTDOWN_TIMEOUT_MS, or at once on a second signal (a second Ctrl-C).
 */
function armShutdownWatchdog(logger: Logger): void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn(`${signal} again during shutdown: exiting now`);
      process.exit(EXIT_FAILURE);
    }
    shuttingDown = true;
    logger.log(`${signal} received: closing`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms: exiting`);
      process.exit(EXIT_FAILURE);
    }, SHUTDOWN_TIMEOUT_MS).unref();
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
}

main().catch((error: unknown) => {
  new Logger('xcron-server').fatal(
    error instanceof Error ? (error.stack ?? error.message) : String(error),
  );
  process.exit(EXIT_FAILURE);
});
