import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeFrame, FRAME_HEADER_BYTES, FrameKind, REQUEST_ID_BYTES } from './frame-codec';
import { AcceptorHandshake, DialerHandshake, type LocalIdentity } from './handshake';
import type { PeerHello } from './hello-message';
import { OutboundLink } from './outbound-link';
import { PeerConnection, type ConnectionEvents } from './peer-connection';
import { RepeatedLogFilter } from './repeated-log-filter';
import { RequestResponder, type RequestHandler } from './request-responder';
import { SendQueue } from './send-queue';
import {
  describeError,
  invalidArgument,
  TransportError,
  TransportErrorCode,
  TransportStoppedError,
} from './transport.errors';
import {
  resolveTransportOptions,
  type PeerEndpoint,
  type PeerTransportOptions,
  type ResolvedTransportOptions,
} from './transport.options';
import {
  PeerCountersRegistry,
  type PeerStats,
  type TransportCounters,
  type TransportStats,
} from './transport-stats';

/** What `onPeerHello` reports each time a connection with a peer completes its handshake. */
export interface PeerHelloInfo extends PeerHello {
  /** `outbound`: this node dialed; `inbound`: the peer did. */
  direction: 'inbound' | 'outbound';
  /** The socket's remote address, "host:port". */
  remoteAddress: string;
  /** Whether `resolvePeer` knows the id. Unknown ids are let in; the driver decides membership. */
  knownPeer: boolean;
  /** Whether the peer proved the cluster secret (false when none is configured). */
  authenticated: boolean;
}

export type MessageHandler = (fromPeerId: string, payload: Uint8Array) => void;
export type { RequestHandler };
export type PeerHelloHandler = (info: PeerHelloInfo) => void;
/** Told that a peer may have become unreachable; `peerReachability` says what is known. */
export type PeerLinkDownHandler = (peerId: string) => void;

/** What this node knows, right now, of its connections with one peer. */
export interface PeerReachability {
  /** The peer's own connection to this node (what its messages arrive on) is open. */
  inboundOpen: boolean;
  /**
   * This node's last attempt to connect to the peer was refused (ECONNREFUSED: nothing listens at
   * its address — its process is gone) and no connection to it opened since.
   */
  connectRefused: boolean;
}

export interface RequestOptions {
  /** Defaults to `limits.requestTimeoutMsDefault`. */
  timeoutMs?: number;
}

/**
 * The peer port: long-lived TCP connections between the nodes of a cluster, carrying opaque
 * payloads for the layers above — one-way messages (Raft) and request/response calls (write
 * forwarding, snapshot chunks). Frame format: frame-codec.ts; handshake: handshake.ts.
 *
 * Connection topology: each node sends everything it initiates — messages and requests — on its
 * OWN outbound connection to the peer (dialed on the first send, kept, redialed with backoff), and
 * only receives on the connections peers made to it. Responses go back on the connection the
 * request came on. So a pair of nodes holds two connections, one per direction of initiative, and
 * there is never a question of which of two redundant connections wins a race: no tie-breaking,
 * and per-sender order is simply the order of the sender's one connection.
 *
 * Delivery is best-effort: `send` never blocks; it drops (and counts) when the peer's bounded
 * queue is full, and frames in flight when a connection breaks are lost. Raft tolerates both.
 */
export class PeerTransport {
  private readonly options: ResolvedTransportOptions;
  private readonly identity: LocalIdentity;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private server: Server | undefined;
  private readonly links = new Map<string, OutboundLink>();
  /** Every connection not yet closed, both directions: `stop()` waits for all of them. */
  private readonly connections = new Set<PeerConnection>();
  /** The open inbound connection of each peer id (a newer one replaces an older one). */
  private readonly inboundByPeer = new Map<string, PeerConnection>();
  private readonly peerCounters: PeerCountersRegistry;
  private readonly counters: TransportCounters = {
    authFailures: 0,
    handshakeRefusals: 0,
    protocolErrors: 0,
  };
  private readonly logFilter: RepeatedLogFilter;
  private messageHandler: MessageHandler | undefined;
  private readonly responder: RequestResponder;
  private helloHandler: PeerHelloHandler | undefined;
  private linkDownHandler: PeerLinkDownHandler | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: PeerTransportOptions) {
    this.options = resolveTransportOptions(options);
    const { nodeId, advertisedPeerAddress, advertisedHttpAddress, clusterId } = this.options;
    this.identity = {
      nodeId,
      peerAddress: advertisedPeerAddress,
      httpAddress: advertisedHttpAddress,
      clusterId,
    };
    const { limits, nowMs } = this.options;
    this.peerCounters = new PeerCountersRegistry(limits.peerStatsEntriesMax);
    this.responder = new RequestResponder({
      nodeId: this.options.nodeId,
      limits,
      payloadBytesMax: this.payloadBytesMax,
      logger: this.options.logger,
    });
    this.logFilter = new RepeatedLogFilter(
      limits.repeatedLogIntervalMs,
      limits.repeatedLogKeysMax,
      nowMs,
    );
  }

  /** Largest payload of `send`, `request` or a response: the frame limit minus the largest header. */
  get payloadBytesMax(): number {
    return this.options.limits.frameBytesMax - FRAME_HEADER_BYTES - REQUEST_ID_BYTES;
  }

  /** Listens on the peer port. Resolves with the bound address (the real port when `listenPort` is 0). */
  async start(): Promise<PeerEndpoint> {
    if (this.state !== 'new')
      throw invalidArgument(`start() called on a transport that is ${this.state}`);
    this.state = 'starting';
    const { listenHost, listenPort, limits, logger, clusterSecret } = this.options;
    if (clusterSecret === undefined) {
      logger.warn(
        `no cluster secret configured: peers are NOT authenticated; anyone who reaches the peer port ${listenHost}:${listenPort} can take part in Raft (set cluster_secret)`,
      );
    } else if (clusterSecret.length < 16) {
      logger.warn(
        `the cluster secret is only ${clusterSecret.length} bytes; use at least 16 random bytes`,
      );
    }
    const server = createServer(
      { noDelay: true, keepAlive: true, keepAliveInitialDelay: limits.keepAliveInitialDelayMs },
      (socket) => this.accept(socket),
    );
    server.maxConnections = limits.inboundConnectionsMax;
    this.server = server;
    try {
      await listening(server, listenPort, listenHost);
    } catch (error) {
      this.state = 'stopped';
      if (error instanceof TransportStoppedError) throw error;
      throw new TransportError(
        TransportErrorCode.ListenFailed,
        `cannot listen on ${listenHost}:${listenPort}: ${describeError(error)}`,
        { cause: error },
      );
    }
    if (this.isStopped()) {
      // stop() came while the host name was being resolved: its close() found nothing to close yet.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw new TransportStoppedError();
    }
    server.on('error', (error) => logger.error(`peer listener failed: ${describeError(error)}`));
    const address = server.address() as AddressInfo;
    this.state = 'running';
    logger.info(
      `node ${JSON.stringify(this.options.nodeId)} of cluster ${JSON.stringify(this.options.clusterId)} listens for peers on ${address.address}:${address.port}`,
    );
    return { host: address.address, port: address.port };
  }

  /** Closes the listener and every connection, fails pending requests with TransportStoppedError. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  /**
   * One-way message; never blocks. False when it was dropped: the peer's queue is full (counted in
   * `sendDrops`), the peer is not resolvable, or the transport is not running. Throws only on a
   * caller's error: a payload over `payloadBytesMax`, or a send to this node itself.
   */
  send(peerId: string, payload: Uint8Array): boolean {
    this.checkOutgoing(peerId, payload);
    if (this.state !== 'running') return false;
    const link = this.linkFor(peerId);
    if (link === undefined) {
      this.peerCounters.of(peerId).sendDrops++;
      return false;
    }
    return link.enqueue(encodeFrame(FrameKind.Message, payload));
  }

  /**
   * Writes the messages queued for every peer now rather than on the next turn of the event loop
   * (sends within one turn coalesce into one write per peer otherwise).
   */
  flushNow(): void {
    if (this.state !== 'running') return;
    for (const link of this.links.values()) link.flushNow();
  }

  /**
   * Sends `payload` to the peer's request handler and resolves with its answer. Rejects with
   * RequestTimeoutError, ConnectionLostError (the connection failed before the answer came),
   * RemoteHandlerError (the handler threw; its message is carried back), TransportStoppedError,
   * or a TransportError (queue full, overloaded, unknown peer, payload too large, not running).
   */
  request(peerId: string, payload: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    try {
      this.checkOutgoing(peerId, payload);
      const { requestTimeoutMsDefault, requestTimeoutMsMax } = this.options.limits;
      const timeoutMs = options.timeoutMs ?? requestTimeoutMsDefault;
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > requestTimeoutMsMax) {
        throw invalidArgument(
          `timeoutMs must be an integer from 1 to ${requestTimeoutMsMax}, got ${timeoutMs}`,
        );
      }
      if (this.state === 'stopped') throw new TransportStoppedError();
      if (this.state !== 'running')
        throw new TransportError(TransportErrorCode.NotRunning, 'peer transport not started');
      const link = this.linkFor(peerId);
      if (link === undefined) {
        throw new TransportError(
          TransportErrorCode.UnknownPeer,
          `node ${JSON.stringify(peerId)} is not a known peer`,
        );
      }
      return link.request(payload, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sets the handler of one-way messages (one handler; a later call replaces it). */
  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  /** Sets the handler of requests (one handler; a later call replaces it). */
  onRequest(handler: RequestHandler): void {
    this.responder.handler = handler;
  }

  /** Sets the hook told of every completed handshake, both directions (one hook; a later call replaces it). */
  onPeerHello(handler: PeerHelloHandler): void {
    this.helloHandler = handler;
  }

  /**
   * Sets the hook told when a peer's inbound connection closes and when a connect to it is
   * refused: the moments a peer's process may have died (one hook; a later call replaces it).
   * The driver reads `peerReachability` to decide whether the evidence is strong enough.
   */
  onPeerLinkDown(handler: PeerLinkDownHandler): void {
    this.linkDownHandler = handler;
  }

  /** What is known of the connections with `peerId` now (no I/O). */
  peerReachability(peerId: string): PeerReachability {
    return {
      inboundOpen: this.inboundByPeer.get(peerId)?.isOpen === true,
      connectRefused: this.links.get(peerId)?.connectRefused === true,
    };
  }

  /** Drops the outbound link to a peer (e.g. removed from membership): closes it, fails its requests. */
  closePeer(peerId: string): void {
    const link = this.links.get(peerId);
    if (link === undefined) return;
    this.links.delete(peerId);
    link.stop(
      new TransportError(TransportErrorCode.UnknownPeer, `link to ${peerId} closed by closePeer`),
    );
  }

  /** A snapshot of the counters. */
  stats(): TransportStats {
    const peers: Record<string, PeerStats> = {};
    for (const [peerId, counters] of this.peerCounters.entries()) {
      const link = this.links.get(peerId);
      peers[peerId] = {
        ...counters,
        queuedFrames: link?.queue.frames ?? 0,
        queuedBytes: link?.queue.bytes ?? 0,
        outboundOpen: link?.isOpen ?? false,
        inboundOpen: this.inboundByPeer.has(peerId) ? 1 : 0,
      };
    }
    return { ...this.counters, peers };
  }

  /** A method, not a field test: `stop()` may have run while `start()` awaited. */
  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private async stopNow(): Promise<void> {
    this.state = 'stopped';
    const error = new TransportStoppedError();
    for (const link of this.links.values()) link.stop(error);
    this.links.clear();
    for (const connection of this.connections) connection.close('transport stopped');
    const server = this.server;
    const serverClosed = new Promise<void>((resolve) =>
      server === undefined ? resolve() : server.close(() => resolve()),
    );
    await Promise.all([
      serverClosed,
      ...[...this.connections].map((connection) => connection.closed),
    ]);
  }

  private checkOutgoing(peerId: string, payload: Uint8Array): void {
    if (peerId === this.options.nodeId)
      throw invalidArgument(`cannot send to this node itself (${peerId})`);
    if (payload.length > this.payloadBytesMax) {
      throw new TransportError(
        TransportErrorCode.PayloadTooLarge,
        `payload of ${payload.length} bytes to ${peerId} exceeds payloadBytesMax ${this.payloadBytesMax}`,
      );
    }
  }

  private linkFor(peerId: string): OutboundLink | undefined {
    const existing = this.links.get(peerId);
    if (existing !== undefined) return existing;
    if (this.options.resolvePeer(peerId) === undefined) return undefined;
    const link = new OutboundLink(peerId, {
      options: this.options,
      counters: this.peerCounters.of(peerId),
      dial: (owner, endpoint) => this.dial(owner, endpoint),
      onRetired: (retired) => {
        if (this.links.get(retired.peerId) === retired) this.links.delete(retired.peerId);
      },
    });
    this.links.set(peerId, link);
    return link;
  }

  private dial(link: OutboundLink, endpoint: PeerEndpoint): PeerConnection {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const events: ConnectionEvents = {
      onOpen: (connection, peer) => {
        link.onConnectionOpen(connection, peer);
        this.reportHello(connection, peer, 'outbound');
        return this.peerCounters.of(link.peerId);
      },
      onFrame: (connection, kind, body) => link.onFrame(connection, kind, body),
      onClose: (connection, closed) => {
        this.connections.delete(connection);
        link.onConnectionClosed(connection, closed);
        if (closed.connectRefused) this.reportLinkDown(link.peerId);
      },
    };
    return this.newConnection(
      socket,
      `${endpoint.host}:${endpoint.port}`,
      events,
      link.queue,
      link.peerId,
    );
  }

  private accept(socket: Socket): void {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    const events: ConnectionEvents = {
      onOpen: (connection, peer) => this.onInboundOpen(connection, peer),
      onFrame: (connection, kind, body) => this.onInboundFrame(connection, kind, body),
      onClose: (connection, closed) => {
        this.connections.delete(connection);
        const peerId = connection.peer?.nodeId;
        if (peerId !== undefined && this.inboundByPeer.get(peerId) === connection) {
          this.inboundByPeer.delete(peerId);
          this.reportLinkDown(peerId);
        }
        if (closed.wasOpen && !closed.logged && this.state === 'running') {
          this.options.logger.info(
            `inbound connection from ${connection.label} closed: ${closed.reason}`,
          );
        }
      },
    };
    const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.newConnection(
      socket,
      remoteAddress,
      events,
      new SendQueue(this.options.limits),
      undefined,
    );
  }

  /** A dialer-side connection when `expectedPeerId` is given (the node it dials), else acceptor-side. */
  private newConnection(
    socket: Socket,
    remoteAddress: string,
    events: ConnectionEvents,
    queue: SendQueue,
    expectedPeerId: string | undefined,
  ): PeerConnection {
    const { clusterSecret, limits, logger, nowMs } = this.options;
    const handshake =
      expectedPeerId === undefined
        ? new AcceptorHandshake(this.identity, clusterSecret)
        : new DialerHandshake(this.identity, clusterSecret, expectedPeerId);
    const connection = new PeerConnection({
      socket,
      role: expectedPeerId === undefined ? 'acceptor' : 'dialer',
      handshake,
      queue,
      limits,
      logger,
      nowMs,
      transportCounters: this.counters,
      logFilter: this.logFilter,
      remoteAddress,
      events,
    });
    this.connections.add(connection);
    return connection;
  }

  private onInboundOpen(connection: PeerConnection, peer: PeerHello) {
    const previous = this.inboundByPeer.get(peer.nodeId);
    this.inboundByPeer.set(peer.nodeId, connection);
    if (previous !== undefined) {
      // A node has one outbound connection to us: an older one is a leftover (half-open, or from before its restart).
      this.options.logger.info(
        `${connection.label} replaces its older connection ${previous.label}`,
      );
      previous.close('replaced by a newer connection from the same node');
    }
    this.reportHello(connection, peer, 'inbound');
    return this.peerCounters.of(peer.nodeId);
  }

  private onInboundFrame(connection: PeerConnection, kind: FrameKind, body: Buffer): void {
    const fromPeerId = connection.peer?.nodeId;
    if (fromPeerId === undefined) return; // not reachable: frames arrive only once open
    if (kind === FrameKind.Message) {
      this.deliverMessage(fromPeerId, body);
      return;
    }
    if (kind === FrameKind.Request) {
      this.responder.handle(connection, fromPeerId, body);
      return;
    }
    connection.protocolError(`unexpected frame kind ${kind} on an inbound connection`);
  }

  private deliverMessage(fromPeerId: string, payload: Uint8Array): void {
    const handler = this.messageHandler;
    if (handler === undefined) return;
    try {
      handler(fromPeerId, payload);
    } catch (error) {
      // A failing handler must not cost the connection (or the process): contain and log it.
      this.options.logger.error(
        `message handler failed on a message from ${fromPeerId}: ${describeError(error)}`,
      );
    }
  }

  private reportLinkDown(peerId: string): void {
    const handler = this.linkDownHandler;
    if (handler === undefined || this.state !== 'running') return;
    try {
      handler(peerId);
    } catch (error) {
      this.options.logger.error(
        `onPeerLinkDown handler failed for node ${JSON.stringify(peerId)}: ${describeError(error)}`,
      );
    }
  }

  private reportHello(
    connection: PeerConnection,
    peer: PeerHello,
    direction: 'inbound' | 'outbound',
  ): void {
    const knownPeer = this.options.resolvePeer(peer.nodeId) !== undefined;
    if (direction === 'inbound') {
      const note = knownPeer ? '' : " (not in this node's membership)";
      this.options.logger.info(
        `accepted ${connection.label}${note}: peer address ${peer.peerAddress}, http ${peer.httpAddress}`,
      );
    }
    const handler = this.helloHandler;
    if (handler === undefined) return;
    const info: PeerHelloInfo = {
      ...peer,
      direction,
      remoteAddress: connection.remoteAddress,
      knownPeer,
      authenticated: this.options.clusterSecret !== undefined,
    };
    try {
      handler(info);
    } catch (error) {
      this.options.logger.error(
        `onPeerHello handler failed for ${connection.label}: ${describeError(error)}`,
      );
    }
  }
}

/** Resolves once `server` listens; rejects on a listen error, or if it is closed first (stop()). */
function listening(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => settle(() => reject(error));
    const onClose = (): void => settle(() => reject(new TransportStoppedError()));
    const settle = (then: () => void): void => {
      server.off('error', onError);
      server.off('close', onClose);
      then();
    };
    server.once('error', onError);
    server.once('close', onClose);
    server.listen(port, host, () => settle(resolve));
  });
}
