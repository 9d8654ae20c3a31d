/**
 * Closed-loop HTTP load of bench/server.bench.ts: `concurrency` clients, each sending its next
 * POST as soon as the previous one is answered, spread round-robin over one undici Pool per
 * target (one keep-alive connection per client). Bounded by a duration and a request count.
 */
import { Pool } from 'undici';

export interface LoadOptions {
  readonly origins: readonly string[];
  readonly path: string;
  readonly bodies: readonly string[];
  readonly concurrency: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  /** Answers whose text does not contain this are counted as refused (default `"code":0`). */
  readonly okMarker?: string;
  readonly timeoutMs?: number;
}

export interface LoadResult {
  readonly ok: number;
  readonly refused: number;
  readonly errors: number;
  readonly ms: number;
  readonly perS: number;
  readonly latencies: Float64Array;
  readonly latencyCount: number;
  readonly firstProblem: string | undefined;
}

export class LoadClients {
  private readonly pools: Pool[];

  constructor(
    readonly origins: readonly string[],
    readonly concurrency: number,
  ) {
    this.pools = origins.map(
      (origin, i) =>
        new Pool(origin, {
          connections: Math.ceil((concurrency - i) / origins.length),
          pipelining: 1,
        }),
    );
  }

  async run(options: Omit<LoadOptions, 'origins' | 'concurrency'>): Promise<LoadResult> {
    const marker = options.okMarker ?? '"code":0';
    const timeoutMs = options.timeoutMs ?? 30_000;
    const latencies = new Float64Array(options.maxRequests);
    let issued = 0;
    let ok = 0;
    let refused = 0;
    let errors = 0;
    let firstProblem: string | undefined;
    const started = performance.now();
    const deadline = started + options.durationMs;
    const worker = async (index: number): Promise<void> => {
      const pool = this.pools[index % this.pools.length];
      while (issued < options.maxRequests && performance.now() < deadline) {
        const n = issued++;
        const body = options.bodies[n % options.bodies.length];
        const sent = performance.now();
        try {
          const response = await pool.request({
            method: 'POST',
            path: options.path,
            body,
            headers: { 'content-type': 'application/json' },
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          });
          const text = await response.body.text();
          latencies[n] = performance.now() - sent;
          if (response.statusCode < 300 && text.includes(marker)) ok++;
          else {
            refused++;
            firstProblem ??= `HTTP ${response.statusCode}: ${text.slice(0, 300)}`;
          }
        } catch (error) {
          latencies[n] = performance.now() - sent;
          errors++;
          firstProblem ??= String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, (_, i) => worker(i)));
    const ms = performance.now() - started;
    return {
      ok,
      refused,
      errors,
      ms,
      perS: ok / (ms / 1000),
      latencies,
      latencyCount: Math.min(issued, options.maxRequests),
      firstProblem,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }
}

/** One POST with a JSON body; the parsed answer (or the text when it is not JSON). */
export async function postJson(
  pool: Pool,
  path: string,
  body: string,
  timeoutMs = 60_000,
): Promise<{ status: number; body: unknown }> {
  const response = await pool.request({
    method: 'POST',
    path,
    body,
    headers: { 'content-type': 'application/json' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await response.body.text();
  try {
    return { status: response.statusCode, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.statusCode, body: text };
  }
}
