import { Pool } from 'undici';

export interface OriginPoolsOptions {
  /** Connections per origin. */
  readonly connections: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** How often pools without any connection are closed and forgotten. */
  readonly sweepIntervalMs: number;
}

/**
 * One keep-alive undici Pool per origin.
 *
 * Why not an undici Agent (which is exactly this map): in undici 7 (7.30.2 checked) the Agent
 * deletes and closes an origin's pool when its connection count drops to 0, but the listeners of
 * the closed pool stay attached and look the origin up by key, so the closed pool's later
 * 'disconnect' decrements — and closes — its replacement. After one connection to an origin drops
 * (a huge response cut short, a timeout, a server restart), every later callback to that origin
 * opened a new TCP connection. A plain map of Pools has no such bookkeeping: a Pool's clients
 * reconnect on their own. Pools with no connection left are swept now and then, so a scheduler
 * calling many one-off origins does not keep a Pool object for each forever.
 */
export class OriginPools {
  readonly #pools = new Map<string, Pool>();
  readonly #options: Pool.Options;
  readonly #sweeper: NodeJS.Timeout;
  #destroyed = false;

  constructor(options: OriginPoolsOptions) {
    this.#options = {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // undici lets a server's "Keep-Alive: timeout=N" hint replace keepAliveTimeout, up to
      // keepAliveMaxTimeout (default 10 min): cap it, so the hint can only shorten idle time.
      keepAliveMaxTimeout: options.keepAliveTimeoutMs,
      connect: { timeout: options.connectTimeoutMs },
      // Each attempt has its own deadline (HttpAttempt: the wait for a connection, connect,
      // request, headers and body together), which aborts it. undici's own header and body
      // timers (300 s by default, as long as the longest timeout_ms a task may have) were a second
      // pair per request, a timer made and cleared for every callback, that never fired first.
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
    };
    this.#sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs);
    this.#sweeper.unref();
  }

  /** The pool of `origin` ("http://host:port"), created on first use. */
  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      if (this.#destroyed) {
        throw new Error('connection pools are destroyed');
      }
      pool = new Pool(origin, this.#options);
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  get size(): number {
    return this.#pools.size;
  }

  /** Closes and forgets the pools that have no connection and no request. */
  sweep(): void {
    for (const [origin, pool] of this.#pools) {
      const stats = pool.stats;
      if (stats.connected === 0 && stats.size === 0 && stats.pending === 0) {
        this.#pools.delete(origin);
        void pool.close().catch(() => undefined);
      }
    }
  }

  /** Destroys every pool (aborting what is still on the wire). */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    clearInterval(this.#sweeper);
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}
