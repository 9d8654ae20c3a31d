import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One callback as the receiver got it. */
export interface ReceivedCallback {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Arrival, unix ms (the receiver's clock). */
  readonly arrivedAtMs: number;
}

/**
 * A real HTTP server on 127.0.0.1 that records every POST it gets and answers with the status
 * `statusFor` picks (200 by default): the other end of xcron's callbacks in end-to-end tests.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  statusFor: (callback: ReceivedCallback) => number = () => 200;
  /** How long to hold a callback before answering (a slow receiver). */
  delayMsFor: (callback: ReceivedCallback) => number = () => 0;
  /** Callbacks answered (after their delay), in order. */
  readonly answered: ReceivedCallback[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly host: string,
  ) {}

  /** Listens on `host` (default 127.0.0.1; chaos:server's namespaced nodes call it elsewhere). */
  static async start(host = '127.0.0.1'): Promise<CallbackReceiver> {
    const server = createServer();
    const receiver = new CallbackReceiver(server, host);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const callback: ReceivedCallback = {
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          arrivedAtMs: Date.now(),
        };
        receiver.record(callback);
        const answer = (): void => {
          response.statusCode = receiver.statusFor(callback);
          response.end('ok');
          receiver.answered.push(callback);
        };
        const delayMs = receiver.delayMsFor(callback);
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
    await new Promise<void>((done) => server.listen(0, host, done));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://${this.host}:${this.port}${path}`;
  }

  /** Callbacks for one task, in arrival order. */
  forTask(taskId: string): ReceivedCallback[] {
    return this.received.filter((callback) => callback.headers['x-xcron-task-id'] === taskId);
  }

  /** Resolves once `count` callbacks in all have arrived, or rejects after `timeoutMs`. */
  waitForCount(count: number, timeoutMs: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(
          new Error(`${this.received.length} of ${count} callbacks arrived within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ count, resolve: done });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }

  private record(callback: ReceivedCallback): void {
    this.received.push(callback);
    const ready = this.waiters.filter((waiter) => this.received.length >= waiter.count);
    this.waiters = this.waiters.filter((waiter) => this.received.length < waiter.count);
    for (const waiter of ready) waiter.resolve();
  }
}
