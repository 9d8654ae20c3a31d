/**
 * Test-only: a real HTTP callback receiver on 127.0.0.1 (node:http, port 0) that records what
 * arrives, counts TCP connections and concurrent requests, and answers through a swappable
 * handler. Excluded from the library build.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** 0-based index of the TCP connection it came on. */
  readonly connection: number;
}

/** Answers one request; may be async (a held request stays "in flight" until it resolves). */
export type ReceiverHandler = (request: ReceivedRequest, response: ServerResponse) => unknown;

export class CallbackReceiver {
  readonly requests: ReceivedRequest[] = [];
  connections = 0;
  inFlight = 0;
  maxInFlight = 0;
  handler: ReceiverHandler = (_request, response) => response.end('ok');

  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #socketIds = new WeakMap<Socket, number>();
  #waiters: { count: number; resolve: () => void }[] = [];
  #port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          connection: this.#socketIds.get(req.socket) ?? -1,
        };
        this.requests.push(received);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        res.on('close', () => {
          this.inFlight--;
        });
        this.#wake();
        void Promise.resolve(this.handler(received, res)).catch(() => res.destroy());
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#socketIds.set(socket, this.connections++);
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(handler?: ReceiverHandler): Promise<CallbackReceiver> {
    const receiver = new CallbackReceiver();
    if (handler !== undefined) {
      receiver.handler = handler;
    }
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    receiver.#port = (receiver.#server.address() as AddressInfo).port;
    return receiver;
  }

  get port(): number {
    return this.#port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  /** Resolves once `count` requests in all have arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #wake(): void {
    const n = this.requests.length;
    this.#waiters = this.#waiters.filter((w) => {
      if (n >= w.count) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A gate a held handler awaits; `open()` releases everyone waiting. */
export class Gate {
  #open = false;
  #waiters: (() => void)[] = [];

  wait(): Promise<void> {
    if (this.#open) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  open(): void {
    this.#open = true;
    for (const wake of this.#waiters.splice(0)) {
      wake();
    }
  }
}

/**
 * A Sleep port for tests: records each requested delay and resolves at once (or, with `hold`,
 * only when its signal aborts or `release()` is called).
 */
export class FakeSleep {
  readonly delays: number[] = [];
  hold = false;
  #pending: (() => void)[] = [];

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> => {
    this.delays.push(ms);
    if (!this.hold || signal.aborted) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#pending.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  };

  release(): void {
    for (const wake of this.#pending.splice(0)) {
      wake();
    }
  }
}

/** Resolves when `predicate` holds (checked every 5 ms), or rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error('condition not reached in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
