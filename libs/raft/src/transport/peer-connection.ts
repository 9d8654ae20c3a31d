import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, FrameKind } from './frame-codec';
import { RefusalCode, type Handshake, type HandshakeOutcome } from './handshake';
import type { PeerHello } from './hello-message';
import type { RepeatedLogFilter } from './repeated-log-filter';
import type { SendQueue } from './send-queue';
import type { TransportLimits } from './transport.constants';
import { describeError, MalformedFrameError } from './transport.errors';
import type { TransportLogger } from './transport.options';
import type { PeerCounters, TransportCounters } from './transport-stats';

export type ConnectionRole = 'dialer' | 'acceptor';

export interface ConnectionClosed {
  reason: string;
  /** Whether the handshake had completed. */
  wasOpen: boolean;
  /** Whether the connection already logged why it closed (refusals, protocol errors). */
  logged: boolean;
  /**
   * A dialer's connect was refused (ECONNREFUSED, before any handshake): nothing listens at the
   * peer's address — its process is gone (or not started yet). Not set for any other failure.
   */
  connectRefused: boolean;
}

export interface ConnectionEvents {
  /** Handshake done. Returns the counters that this connection's traffic is charged to. */
  onOpen(connection: PeerConnection, peer: PeerHello): PeerCounters;
  /** A post-handshake frame other than Ping/Pong. May call `connection.protocolError`. */
  onFrame(connection: PeerConnection, kind: FrameKind, body: Buffer): void;
  /** Called exactly once, after the socket has closed. */
  onClose(connection: PeerConnection, closed: ConnectionClosed): void;
}

export interface PeerConnectionOptions {
  socket: Socket;
  role: ConnectionRole;
  handshake: Handshake;
  /** Frames to write once open; the owner pushes into it and calls `kick`. */
  queue: SendQueue;
  limits: TransportLimits;
  logger: TransportLogger;
  nowMs: () => number;
  transportCounters: TransportCounters;
  /** Shared by the transport's connections: repeated refusals and protocol errors are not logged every time. */
  logFilter: RepeatedLogFilter;
  /** Remote address for logs, e.g. "127.0.0.1:40123". */
  remoteAddress: string;
  events: ConnectionEvents;
}

/**
 * One TCP connection to or from a peer: handshake, frame decoding, coalesced writes that respect
 * backpressure, and the half-open check. It knows nothing of messages or requests: frames after
 * the handshake go to `events.onFrame`.
 *
 * Half-open connections: kernel keepalive catches a vanished host; an application check catches a
 * hung process. The dialer pings whenever it has received nothing for `pingIntervalMs`, the acceptor
 * answers; either side closes the connection when for `idleTimeoutMs` it received nothing and no
 * backed-up write drained (a draining backlog proves the peer reads, even while our ping waits
 * behind a long queue).
 */
export class PeerConnection {
  private state: 'handshake' | 'open' | 'closing' | 'closed' = 'handshake';
  private readonly decoder: FrameDecoder;
  private counters: PeerCounters | undefined;
  private peerHello: PeerHello | undefined;
  private closeReason: string | undefined;
  private closeLogged = false;
  /** The socket's first error code (e.g. ECONNREFUSED), if it failed with one. */
  private socketErrorCode: string | undefined;
  private awaitingDrain = false;
  private flushScheduled: NodeJS.Immediate | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lastAliveMs: number;
  private lastReceivedMs: number;
  private pingOutstanding = false;
  /** Requests received on this connection whose handler has not answered yet (acceptor side). */
  inboundRequestsInFlight = 0;
  /** Resolves once the socket has closed and `onClose` ran. */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(private readonly options: PeerConnectionOptions) {
    const { socket, limits } = options;
    this.decoder = new FrameDecoder(limits.handshakeFrameBytesMax);
    this.lastAliveMs = this.lastReceivedMs = options.nowMs();
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, limits.keepAliveInitialDelayMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.closeReason ??= describeError(error);
      this.socketErrorCode ??= error.code;
    });
    socket.on('close', () => this.onSocketClosed());
    this.handshakeTimer = setTimeout(
      () => this.close(`handshake not completed within ${limits.handshakeTimeoutMs} ms`),
      limits.handshakeTimeoutMs,
    );
    const hello = options.handshake.start();
    if (hello !== undefined) socket.write(hello);
  }

  get remoteAddress(): string {
    return this.options.remoteAddress;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The peer's hello, once open. */
  get peer(): PeerHello | undefined {
    return this.peerHello;
  }

  /** "node b (127.0.0.1:4000, inbound)" — names the claimed id when known, and always the address. */
  get label(): string {
    const id = this.peerHello?.nodeId ?? this.options.handshake.peerId;
    const where = `${this.options.remoteAddress}, ${this.options.role === 'dialer' ? 'outbound' : 'inbound'}`;
    return id === undefined ? `peer at ${where}` : `node ${JSON.stringify(id)} (${where})`;
  }

  /** Queues a frame on this connection's own queue (acceptor side: responses). False = dropped. */
  enqueue(frame: Buffer): boolean {
    if (this.state !== 'open') return false;
    if (!this.options.queue.push({ frame })) {
      if (this.counters !== undefined) this.counters.sendDrops++;
      return false;
    }
    this.kick();
    return true;
  }

  /** Schedules a write of whatever is queued. Writes happen on setImmediate so that a burst of sends coalesces. */
  kick(): void {
    if (this.state !== 'open' || this.flushScheduled !== undefined || this.awaitingDrain) return;
    if (this.options.queue.frames === 0) return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = undefined;
      this.flush();
    });
  }

  /**
   * Writes what is queued now instead of on the scheduled turn: for a sender about to run
   * something long before that turn (a Raft leader encoding its own log write) whose frames should
   * not wait behind it.
   */
  flushNow(): void {
    if (this.flushScheduled === undefined) return;
    clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    this.flush();
  }

  /** Closes for a frame that breaks the protocol; logged, counted; other connections are untouched. */
  protocolError(reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.options.transportCounters.protocolErrors++;
    this.warnLimited(
      `protocol error|${reason}`,
      `closing connection with ${this.label}: ${reason}`,
    );
    this.closeLogged = true;
    this.close(reason);
  }

  /** Destroys the socket at once; `onClose` follows when it has closed. Idempotent. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reason;
    this.state = 'closed';
    this.clearTimers();
    this.options.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'handshake' && this.state !== 'open') return;
    this.lastAliveMs = this.lastReceivedMs = this.options.nowMs();
    this.pingOutstanding = false;
    this.decoder.push(chunk);
    while (this.state === 'handshake' || this.state === 'open') {
      let frame;
      try {
        frame = this.decoder.next();
      } catch (error) {
        this.protocolError(describeError(error));
        return;
      }
      if (frame === undefined) return;
      if (this.state === 'handshake') {
        this.onHandshakeOutcome(this.options.handshake.receive(frame.kind, frame.body));
        continue;
      }
      if (this.counters !== undefined) {
        this.counters.framesReceived++;
        this.counters.bytesReceived += frame.frameBytes;
      }
      this.onOpenFrame(frame.kind, frame.body);
    }
  }

  private onOpenFrame(kind: FrameKind, body: Buffer): void {
    if (kind === FrameKind.Ping && this.options.role === 'acceptor') {
      this.enqueue(PONG_FRAME);
      return;
    }
    if (kind === FrameKind.Pong && this.options.role === 'dialer') return; // liveness was noted in onData
    try {
      this.options.events.onFrame(this, kind, body);
    } catch (error) {
      // A malformed body is the peer's fault; anything else is a bug above us, logged loudly.
      if (error instanceof MalformedFrameError) this.protocolError(error.message);
      else {
        this.options.logger.error(
          `handler failed on a frame from ${this.label}: ${describeError(error)}`,
        );
      }
    }
  }

  private onHandshakeOutcome(outcome: HandshakeOutcome): void {
    const { socket } = this.options;
    if (outcome.status === 'continue') {
      if (outcome.reply !== undefined) socket.write(outcome.reply);
      return;
    }
    if (outcome.status === 'open') {
      if (outcome.reply !== undefined) socket.write(outcome.reply);
      this.becomeOpen(outcome.peer);
      return;
    }
    const { refusal, byPeer } = outcome;
    const counters = this.options.transportCounters;
    counters.handshakeRefusals++;
    if (refusal.code === RefusalCode.AuthFailed) counters.authFailures++;
    const what =
      refusal.code === RefusalCode.AuthFailed ? 'authentication failed' : 'handshake refused';
    const message = byPeer
      ? `${what}: ${this.label} refused the connection: ${refusal.reason}`
      : `${what}: refusing ${this.label}: ${refusal.reason}`;
    this.warnLimited(`refusal|${refusal.code}|${byPeer}`, message);
    this.closeLogged = true;
    this.closeReason ??= byPeer
      ? `refused by peer: ${refusal.reason}`
      : `refused: ${refusal.reason}`;
    if (outcome.reply === undefined) {
      this.close(this.closeReason);
      return;
    }
    // Send the reason, then FIN; the peer closes in turn. Destroy anyway if it does not.
    this.state = 'closing';
    this.clearTimers();
    socket.end(outcome.reply);
    this.lingerTimer = setTimeout(() => socket.destroy(), this.options.limits.refusalLingerMs);
  }

  private becomeOpen(peer: PeerHello): void {
    this.state = 'open';
    this.peerHello = peer;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.decoder.setFrameBytesMax(this.options.limits.frameBytesMax);
    this.lastAliveMs = this.lastReceivedMs = this.options.nowMs();
    this.livenessTimer = setInterval(
      () => this.checkLiveness(),
      this.options.limits.pingIntervalMs,
    );
    this.counters = this.options.events.onOpen(this, peer);
    this.kick();
  }

  private flush(): void {
    const { queue, socket, limits } = this.options;
    while (this.state === 'open' && !this.awaitingDrain) {
      const batch = queue.takeBatch(limits.writeBatchBytesMax);
      if (batch === undefined) return;
      if (this.counters !== undefined) {
        this.counters.framesSent += batch.frames;
        this.counters.bytesSent += batch.buffer.length;
      }
      // false = the socket's buffer is above its high-water mark: stop, let the queue absorb the rest.
      if (!socket.write(batch.buffer)) this.awaitingDrain = true;
    }
  }

  private onDrain(): void {
    this.awaitingDrain = false;
    this.lastAliveMs = this.options.nowMs();
    this.flush();
  }

  private checkLiveness(): void {
    const now = this.options.nowMs();
    const { idleTimeoutMs, pingIntervalMs } = this.options.limits;
    if (now - this.lastAliveMs >= idleTimeoutMs) {
      this.options.logger.warn(
        `closing connection with ${this.label}: nothing received for ${idleTimeoutMs} ms (half-open?)`,
      );
      this.closeLogged = true;
      this.close(`idle for ${idleTimeoutMs} ms`);
      return;
    }
    if (
      this.options.role === 'dialer' &&
      !this.pingOutstanding &&
      now - this.lastReceivedMs >= pingIntervalMs
    ) {
      this.pingOutstanding = true;
      this.enqueue(PING_FRAME);
    }
  }

  /** Logs a warning unless the same cause from the same peer was logged within the filter's interval. */
  private warnLimited(cause: string, message: string): void {
    const { remoteAddress, role, handshake } = this.options;
    const remoteHost = remoteAddress.slice(0, remoteAddress.lastIndexOf(':')); // the port changes per dial
    const admitted = this.options.logFilter.admit(
      `${role}|${remoteHost}|${handshake.peerId ?? ''}|${cause}`,
    );
    if (admitted === undefined) return;
    const more =
      admitted.suppressed > 0 ? ` (${admitted.suppressed} more like it since the last report)` : '';
    this.options.logger.warn(message + more);
  }

  private onSocketClosed(): void {
    const wasOpen = this.peerHello !== undefined;
    this.state = 'closed';
    this.clearTimers();
    const reason =
      this.closeReason ?? (wasOpen ? 'closed by peer' : 'closed by peer during the handshake');
    try {
      const connectRefused =
        !wasOpen && this.options.role === 'dialer' && this.socketErrorCode === 'ECONNREFUSED';
      this.options.events.onClose(this, {
        reason,
        wasOpen,
        logged: this.closeLogged,
        connectRefused,
      });
    } finally {
      this.resolveClosed();
    }
  }

  private clearTimers(): void {
    clearTimeout(this.handshakeTimer);
    clearInterval(this.livenessTimer);
    clearTimeout(this.lingerTimer);
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.handshakeTimer = this.livenessTimer = this.lingerTimer = this.flushScheduled = undefined;
  }
}

const PING_FRAME = encodeFrame(FrameKind.Ping);
const PONG_FRAME = encodeFrame(FrameKind.Pong);
