import { createServer, type AddressInfo } from 'node:net';
import { PeerTransport, type PeerHelloInfo } from '../peer-transport';
import type { TransportLimits } from '../transport.constants';
import type { PeerEndpoint, PeerTransportOptions, TransportLogger } from '../transport.options';
import { EventLog } from './event-log';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export class RecordingLogger implements TransportLogger {
  readonly lines = new EventLog<LogLine>();
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  waitFor(pattern: RegExp, timeoutMs = 5_000): Promise<LogLine> {
    return this.lines.waitFor(
      (line) => pattern.test(line.message),
      timeoutMs,
      `a log line matching ${pattern}`,
    );
  }
  matching(pattern: RegExp): LogLine[] {
    return this.lines.items.filter((line) => pattern.test(line.message));
  }
}

export interface ReceivedMessage {
  from: string;
  text: string;
}

/** Limits small enough that backoff, idle checks and handshakes play out within a test. */
export const FAST_LIMITS: Partial<TransportLimits> = {
  backoffMsMin: 10,
  backoffMsMax: 100,
  handshakeTimeoutMs: 2_000,
  pingIntervalMs: 200,
  idleTimeoutMs: 1_000,
  refusalLingerMs: 200,
};

export interface TestNode {
  id: string;
  transport: PeerTransport;
  logger: RecordingLogger;
  inbox: EventLog<ReceivedMessage>;
  hellos: EventLog<PeerHelloInfo>;
  endpoint: PeerEndpoint;
}

/**
 * A set of transports on 127.0.0.1 that find each other through one shared directory (the
 * driver's membership, in miniature). `stopAll` closes everything a test opened.
 */
export class TestCluster {
  readonly directory = new Map<string, PeerEndpoint>();
  private readonly nodes = new Set<TestNode>();

  async startNode(id: string, overrides: Partial<PeerTransportOptions> = {}): Promise<TestNode> {
    const logger = new RecordingLogger();
    const port = overrides.listenPort ?? 0;
    const transport = new PeerTransport({
      nodeId: id,
      listenHost: '127.0.0.1',
      listenPort: port,
      advertisedPeerAddress: `${id}.peer.test:8899`,
      advertisedHttpAddress: `http://${id}.test:8000`,
      clusterId: 'cluster-test',
      resolvePeer: (peerId) => this.directory.get(peerId),
      logger,
      random: () => 0.5,
      ...overrides,
      limits: { ...FAST_LIMITS, ...overrides.limits },
    });
    const inbox = new EventLog<ReceivedMessage>();
    transport.onMessage((from, payload) =>
      inbox.push({ from, text: Buffer.from(payload).toString('utf8') }),
    );
    const hellos = new EventLog<PeerHelloInfo>();
    transport.onPeerHello((info) => hellos.push(info));
    const endpoint = await transport.start();
    this.directory.set(id, endpoint);
    const node = { id, transport, logger, inbox, hellos, endpoint };
    this.nodes.add(node);
    return node;
  }

  async stopNode(node: TestNode): Promise<void> {
    this.nodes.delete(node);
    await node.transport.stop();
  }

  async stopAll(): Promise<void> {
    const nodes = [...this.nodes];
    this.nodes.clear();
    await Promise.all(nodes.map((node) => node.transport.stop()));
  }
}

export function text(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

/** A port that nothing listens on (bound, read, released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Rejects with `what` if `promise` has not settled within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
