/**
 * The callback receiver of bench/server.bench.ts: a plain node:http server on 127.0.0.1 that
 * answers 200 at once and records, per callback, its arrival (unix ms, `Date.now()`, the clock the
 * scheduled time is on), `X-Xcron-Scheduled-At`, `Idempotency-Key` and when the TCP connection it
 * came on was opened (to tell a new leader's connections from the old one's).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Arrival {
  readonly arrivedMs: number;
  readonly scheduledMs: number;
  readonly key: string;
  readonly connectedMs: number;
}

export class Receiver {
  arrivals: Arrival[] = [];
  private readonly connectedAt = new WeakMap<Socket, number>();
  private waiters: { count: number; resolve: () => void }[] = [];
  private limit = 5_000_000;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const holder: { receiver?: Receiver } = {};
    const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) =>
      holder.receiver?.handle(request, response),
    );
    server.on('connection', (socket: Socket) =>
      holder.receiver?.connectedAt.set(socket, Date.now()),
    );
    server.maxRequestsPerSocket = 0;
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', 4096, done));
    holder.receiver = new Receiver(server);
    return holder.receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Forgets every arrival (between phases); `limit` bounds how many the next phase keeps. */
  reset(limit = 5_000_000): void {
    this.arrivals = [];
    this.limit = limit;
    this.waiters = [];
  }

  /** Resolves true once `count` callbacks arrived since the last reset, false after `timeoutMs`. */
  waitForCount(count: number, timeoutMs: number): Promise<boolean> {
    if (this.arrivals.length >= count) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push({ count, resolve: done });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    request.on('data', () => undefined);
    request.on('end', () => {
      const arrivedMs = Date.now();
      if (this.arrivals.length < this.limit) {
        this.arrivals.push({
          arrivedMs,
          scheduledMs: Number(request.headers['x-xcron-scheduled-at']),
          key: String(request.headers['idempotency-key']),
          connectedMs: this.connectedAt.get(request.socket) ?? 0,
        });
        if (this.waiters.length > 0) {
          const n = this.arrivals.length;
          const ready = this.waiters.filter((waiter) => n >= waiter.count);
          if (ready.length > 0) {
            this.waiters = this.waiters.filter((waiter) => n < waiter.count);
            for (const waiter of ready) waiter.resolve();
          }
        }
      }
      response.statusCode = 200;
      response.end('ok');
    });
  }
}
