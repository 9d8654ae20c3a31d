import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the listener serves: the exposition text and its content type. */
export interface MetricsRenderer {
  render(): Promise<string>;
  readonly contentType: string;
}

export const METRICS_PATH = '/metrics';

/**
 * The monitor_port listener: a plain node:http server apart from the API's (its own port, no
 * auth, no body parsing), answering `GET /metrics` (and HEAD) with the Prometheus text format.
 * Anything else is 404 (405 for another method on /metrics).
 */
export class MetricsServer {
  private constructor(private readonly server: Server) {}

  /** Listens on host:port (port 0: any free one); rejects with the listen error (EADDRINUSE, …). */
  static async listen(
    metrics: MetricsRenderer,
    host: string,
    port: number,
    onError: (error: unknown) => void = () => undefined,
  ): Promise<MetricsServer> {
    const server = createServer((request, response) => serve(metrics, request, response, onError));
    // A scraper's idle keep-alive socket must not hold up close().
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', onError);
    return new MetricsServer(server);
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }
}

function serve(
  metrics: MetricsRenderer,
  request: IncomingMessage,
  response: ServerResponse,
  onError: (error: unknown) => void,
): void {
  const path = (request.url ?? '').split('?', 1)[0];
  if (path !== METRICS_PATH) return plain(response, 404, 'not found: metrics are at /metrics\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return plain(response, 405, 'method not allowed\n');
  }
  metrics.render().then(
    (text) => {
      response.writeHead(200, { 'Content-Type': metrics.contentType });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => {
      onError(error);
      plain(response, 500, 'metrics unavailable\n');
    },
  );
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(text);
}
