import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackDispatcher } from './callback-dispatcher';

export interface DispatchWarmUpOptions {
  /** POSTs sent in all. */
  readonly requests: number;
  /** POSTs on the wire at once. Default 16. */
  readonly concurrency?: number;
  /** Signs the warm-up POSTs too, so the signing code is warm when callbacks are signed. */
  readonly signingSecret?: string | Buffer;
}

export interface DispatchWarmUpReport {
  readonly requests: number;
  readonly failed: number;
  readonly ms: number;
}

const WARM_UP_BODY = JSON.stringify({ warmUp: true, padding: 'x'.repeat(96) });

/**
 * Runs the callback path — CallbackDispatcher on undici, whose HTTP parser is WebAssembly — against
 * a throw-away HTTP server on 127.0.0.1 with a dispatcher of its own (no metrics, no allow-list),
 * so that V8 has compiled that code before the first real fires go out. A fresh node fired its
 * first second of callbacks several times slower than the rest (bench:server lateness, 5,000
 * one-shots over 5 s: p99 58-90 ms cold, 15-22 ms after 400 warm-up POSTs, same machine and run
 * order); a follower warms up too, so it fires at full speed when it takes over from a leader.
 */
export class DispatchWarmUp {
  #server: Server | undefined;
  #dispatcher: CallbackDispatcher | undefined;
  #stopped = false;

  /** Sends the POSTs; resolves early (with what was done) once stop() is called. */
  async run(options: DispatchWarmUpOptions): Promise<DispatchWarmUpReport> {
    const started = performance.now();
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200).end());
    });
    server.keepAliveTimeout = 10_000;
    this.#server = server;
    let sent = 0;
    let failed = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/xcron-warm-up`;
      const dispatcher = new CallbackDispatcher({
        concurrency: options.concurrency ?? 16,
        ...(options.signingSecret !== undefined ? { signingSecret: options.signingSecret } : {}),
      });
      this.#dispatcher = dispatcher;
      const sender = async (): Promise<void> => {
        while (sent < options.requests && !this.#stopped) {
          const n = sent++;
          const result = await dispatcher.dispatch({
            taskId: String(1_000_000 + n),
            scheduledAtMs: Date.now(),
            url,
            bodyJson: WARM_UP_BODY,
            headers: { 'x-warm-up': String(n) },
            timeoutMs: 5_000,
            retry: { maxAttempts: 1, initialBackoffMs: 0, maxBackoffMs: 0 },
          });
          if (result.status !== 'succeeded') failed++;
        }
      };
      await Promise.all(Array.from({ length: options.concurrency ?? 16 }, sender));
    } finally {
      await this.stop();
    }
    return { requests: sent, failed, ms: performance.now() - started };
  }

  /** Stops sending and closes the dispatcher and the server. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const dispatcher = this.#dispatcher;
    const server = this.#server;
    this.#dispatcher = undefined;
    this.#server = undefined;
    await dispatcher?.close();
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
