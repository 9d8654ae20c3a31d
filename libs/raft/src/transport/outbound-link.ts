import { decodeErrorResponse } from './error-response';
import { encodeFrameWithRequestId, FrameKind, splitRequestId } from './frame-codec';
import type { PeerHello } from './hello-message';
import type { ConnectionClosed, PeerConnection } from './peer-connection';
import { PendingRequests } from './pending-requests';
import { reconnectDelayMs } from './reconnect-backoff';
import { SendQueue } from './send-queue';
import {
  ConnectionLostError,
  describeError,
  RemoteHandlerError,
  TransportError,
  TransportErrorCode,
} from './transport.errors';
import type { PeerEndpoint, ResolvedTransportOptions } from './transport.options';
import type { PeerCounters } from './transport-stats';

export interface OutboundLinkDeps {
  options: ResolvedTransportOptions;
  counters: PeerCounters;
  /** Opens a socket to `endpoint` and wraps it in a dialer-side PeerConnection for this link. */
  dial(link: OutboundLink, endpoint: PeerEndpoint): PeerConnection;
  /** The link gave up on its peer (no longer resolvable): the owner forgets it. */
  onRetired(link: OutboundLink): void;
}

/**
 * This node's side of the conversation with one peer: the one outbound connection it sends
 * messages and requests on, the bounded queue in front of it, the requests awaiting an answer, and
 * reconnection with backoff. Created on the first send to a peer; it keeps (re)connecting for as
 * long as `resolvePeer` knows the peer, since Raft talks to every member all the time.
 */
export class OutboundLink {
  readonly queue: SendQueue;
  private readonly pending: PendingRequests;
  private connection: PeerConnection | undefined;
  private status: 'idle' | 'connecting' | 'open' | 'backoff' | 'stopped' = 'idle';
  /** Consecutive failures since the last successful handshake: drives the backoff. */
  private failures = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** When the last connect attempt started (`options.nowMs`), for the on-demand redial. */
  private lastDialAtMs = Number.NEGATIVE_INFINITY;
  /** When the backoff timer fires (`options.nowMs`; infinity when none is set). */
  private backoffDueAtMs = Number.POSITIVE_INFINITY;
  /** Last failure logged, so that a peer that stays down is reported once, not on every attempt. */
  private lastLoggedFailure: string | undefined;
  /** The last connect attempt was refused (nothing listened at the peer's address), and none succeeded since. */
  private refused = false;

  constructor(
    readonly peerId: string,
    private readonly deps: OutboundLinkDeps,
  ) {
    this.queue = new SendQueue(deps.options.limits);
    this.pending = new PendingRequests(peerId);
  }

  get isOpen(): boolean {
    return this.status === 'open';
  }

  /** Whether the last connect attempt was refused (ECONNREFUSED) and no connection opened since. */
  get connectRefused(): boolean {
    return this.refused;
  }

  /** Queues a frame; false (and a counted drop) when the queue is full or the link stopped. */
  enqueue(frame: Buffer): boolean {
    if (this.status === 'stopped' || !this.queue.push({ frame })) {
      this.deps.counters.sendDrops++;
      return false;
    }
    this.wake();
    return true;
  }

  request(payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const { limits } = this.deps.options;
    if (this.pending.size >= limits.requestsInFlightMax) {
      return Promise.reject(
        new TransportError(
          TransportErrorCode.Overloaded,
          `${this.pending.size} requests to ${this.peerId} are in flight already (limit ${limits.requestsInFlightMax})`,
        ),
      );
    }
    const requestId = this.pending.nextId();
    const frame = encodeFrameWithRequestId(FrameKind.Request, requestId, payload);
    if (this.status === 'stopped' || !this.queue.push({ frame, requestId })) {
      this.deps.counters.sendDrops++;
      return Promise.reject(
        new TransportError(
          TransportErrorCode.QueueFull,
          `send queue to ${this.peerId} is full; request not sent`,
        ),
      );
    }
    const answer = this.pending.add(requestId, timeoutMs);
    this.wake();
    return answer;
  }

  /** The dialer-side connection completed its handshake. */
  onConnectionOpen(connection: PeerConnection, peer: PeerHello): void {
    if (connection !== this.connection) return;
    this.status = 'open';
    this.refused = false;
    const wasDown = this.failures > 0;
    this.failures = 0;
    this.lastLoggedFailure = undefined;
    this.deps.options.logger.info(
      `${wasDown ? 'reconnected' : 'connected'} to node ${JSON.stringify(peer.nodeId)} at ${connection.label}`,
    );
  }

  /** Response, ResponseError and anything else the acceptor sends on our outbound connection. */
  onFrame(connection: PeerConnection, kind: FrameKind, body: Buffer): void {
    if (kind === FrameKind.Response) {
      const { requestId, payload } = splitRequestId(body);
      this.pending.resolve(requestId, payload); // unknown id = timed out already: ignore
      return;
    }
    if (kind === FrameKind.ResponseError) {
      const { requestId, code, message } = decodeErrorResponse(body);
      const error = new RemoteHandlerError(this.peerId, message, code === '' ? undefined : code);
      this.pending.reject(requestId, error);
      return;
    }
    connection.protocolError(`unexpected frame kind ${kind} on an outbound connection`);
  }

  onConnectionClosed(connection: PeerConnection, closed: ConnectionClosed): void {
    if (connection !== this.connection) return;
    const { reason, logged } = closed;
    this.connection = undefined;
    this.refused = closed.connectRefused;
    const wasOpen = this.status === 'open';
    if (wasOpen) {
      this.deps.options.logger.info(
        `connection to node ${JSON.stringify(this.peerId)} lost: ${reason}`,
      );
    }
    this.onFailure(reason, logged || wasOpen);
  }

  /** Writes the queued frames now if the connection is open (see PeerConnection.flushNow). */
  flushNow(): void {
    if (this.status === 'open') this.connection?.flushNow();
  }

  /** Stops for good: closes the connection, fails pending requests with `error`, drops the queue. */
  stop(error: Error): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.backoffDueAtMs = Number.POSITIVE_INFINITY;
    this.pending.rejectAll(error);
    this.queue.clear();
    this.connection?.close(error.message);
  }

  private wake(): void {
    if (this.status === 'idle') this.connect();
    else if (this.status === 'open') this.connection?.kick();
    else if (this.status === 'backoff') this.redialIfDue();
  }

  /**
   * Something waits to be sent while the link backs off: dial as soon as the last attempt is
   * `redialOnDemandMsMin` old (see there) rather than when the backoff ends. The failure count is
   * kept, so a peer that stays down is still retried with growing delays while nothing is sent
   * to it, and one that is sent to every tick is dialed at most once per `redialOnDemandMsMin`.
   */
  private redialIfDue(): void {
    const { limits, nowMs } = this.deps.options;
    const dueAtMs = this.lastDialAtMs + limits.redialOnDemandMsMin;
    if (dueAtMs >= this.backoffDueAtMs) return; // the backoff ends first anyway
    this.scheduleRedial(Math.max(0, dueAtMs - nowMs()));
  }

  private connect(): void {
    const endpoint = this.deps.options.resolvePeer(this.peerId);
    if (endpoint === undefined) {
      this.deps.options.logger.info(
        `node ${JSON.stringify(this.peerId)} is no longer resolvable; dropping its link`,
      );
      this.stop(
        new TransportError(
          TransportErrorCode.UnknownPeer,
          `node ${this.peerId} is not a known peer`,
        ),
      );
      this.deps.onRetired(this);
      return;
    }
    this.status = 'connecting';
    this.lastDialAtMs = this.deps.options.nowMs();
    try {
      this.connection = this.deps.dial(this, endpoint);
    } catch (error) {
      // e.g. an out-of-range port from the membership: treated like a failed connect.
      this.onFailure(
        `cannot dial ${endpoint.host}:${endpoint.port}: ${describeError(error)}`,
        false,
      );
    }
  }

  /** The connection failed or closed: fail what can no longer be answered, then retry after a backoff. */
  private onFailure(reason: string, logged: boolean): void {
    // Requests sent, or queued for a connection that never came, cannot be answered any more.
    this.pending.rejectAll(new ConnectionLostError(this.peerId, reason));
    this.queue.removeRequests();
    if (this.status === 'stopped') return;
    this.failures++;
    if (!logged && reason !== this.lastLoggedFailure) {
      this.deps.options.logger.warn(
        `cannot connect to node ${JSON.stringify(this.peerId)}: ${reason} (retrying with backoff)`,
      );
    }
    this.lastLoggedFailure = reason;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const { limits, random } = this.deps.options;
    this.status = 'backoff';
    this.scheduleRedial(reconnectDelayMs(this.failures, limits, random));
  }

  /** (Re)sets the one backoff timer: the next attempt in `delayMs`. */
  private scheduleRedial(delayMs: number): void {
    clearTimeout(this.backoffTimer);
    this.backoffDueAtMs = this.deps.options.nowMs() + delayMs;
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffDueAtMs = Number.POSITIVE_INFINITY;
      this.deps.counters.reconnects++;
      this.connect();
    }, delayMs);
  }
}
