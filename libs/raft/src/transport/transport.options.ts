import {
  HELLO_FIELD_BYTES_MAX,
  TRANSPORT_LIMITS_BOUNDS,
  TRANSPORT_LIMITS_DEFAULT,
  type TransportLimits,
} from './transport.constants';
import { invalidArgument } from './transport.errors';

export interface TransportLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Where a node's peer port listens, as the driver's membership knows it. */
export interface PeerEndpoint {
  host: string;
  port: number;
}

export interface PeerTransportOptions {
  /** This node's id, as peers know it (the hello carries it). */
  nodeId: string;
  listenHost: string;
  /** 0 picks a free port (tests); `start()` returns the bound one. */
  listenPort: number;
  /** Opaque to the transport: sent in the hello so peers learn where this node's peer port is. */
  advertisedPeerAddress: string;
  /** Opaque to the transport: sent in the hello so peers can show this node's HTTP address. */
  advertisedHttpAddress: string;
  /** Nodes of different clusters refuse each other in the handshake. */
  clusterId: string;
  /** Shared secret for mutual HMAC authentication; unset = peers are not authenticated (warned at start). */
  clusterSecret?: string | Uint8Array;
  /** Where a node id lives (the driver's membership); undefined = not a member, nothing is sent. */
  resolvePeer: (peerId: string) => PeerEndpoint | undefined;
  limits?: Partial<TransportLimits>;
  logger?: TransportLogger;
  /** Source of jitter, values in [0, 1); defaults to Math.random here, at the composition edge. */
  random?: () => number;
  /** Monotonic milliseconds for idle checks; defaults to performance.now. */
  nowMs?: () => number;
}

export interface ResolvedTransportOptions {
  nodeId: string;
  listenHost: string;
  listenPort: number;
  advertisedPeerAddress: string;
  advertisedHttpAddress: string;
  clusterId: string;
  clusterSecret: Buffer | undefined;
  resolvePeer: (peerId: string) => PeerEndpoint | undefined;
  limits: TransportLimits;
  logger: TransportLogger;
  random: () => number;
  nowMs: () => number;
}

const consoleLogger: TransportLogger = {
  info: (message) => console.info(`[raft-transport] ${message}`),
  warn: (message) => console.warn(`[raft-transport] ${message}`),
  error: (message) => console.error(`[raft-transport] ${message}`),
};

/** Validates once, at construction, with messages that name the bad option. */
export function resolveTransportOptions(options: PeerTransportOptions): ResolvedTransportOptions {
  for (const key of ['nodeId', 'clusterId', 'listenHost'] as const) {
    checkText(key, options[key], 1);
  }
  for (const key of ['advertisedPeerAddress', 'advertisedHttpAddress'] as const) {
    checkText(key, options[key], 0);
  }
  checkInteger('listenPort', options.listenPort, 0, 65_535);
  if (typeof options.resolvePeer !== 'function')
    throw invalidArgument('resolvePeer must be a function');
  const limits = resolveLimits(options.limits ?? {});
  let clusterSecret: Buffer | undefined;
  if (options.clusterSecret !== undefined) {
    clusterSecret = Buffer.from(options.clusterSecret); // a copy: the caller may wipe theirs
    if (clusterSecret.length === 0)
      throw invalidArgument('clusterSecret must not be empty (leave it unset instead)');
  }
  return {
    nodeId: options.nodeId,
    listenHost: options.listenHost,
    listenPort: options.listenPort,
    advertisedPeerAddress: options.advertisedPeerAddress,
    advertisedHttpAddress: options.advertisedHttpAddress,
    clusterId: options.clusterId,
    clusterSecret,
    resolvePeer: options.resolvePeer,
    limits,
    logger: options.logger ?? consoleLogger,
    random: options.random ?? Math.random,
    nowMs: options.nowMs ?? (() => performance.now()),
  };
}

function resolveLimits(overrides: Partial<TransportLimits>): TransportLimits {
  const limits: TransportLimits = { ...TRANSPORT_LIMITS_DEFAULT };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in TRANSPORT_LIMITS_BOUNDS))
      throw invalidArgument(`unknown transport limit ${JSON.stringify(key)}`);
    if (value !== undefined) limits[key as keyof TransportLimits] = value;
  }
  for (const key of Object.keys(TRANSPORT_LIMITS_BOUNDS) as Array<keyof TransportLimits>) {
    const [min, max] = TRANSPORT_LIMITS_BOUNDS[key];
    checkInteger(`limits.${key}`, limits[key], min, max);
  }
  orderedPair(limits, 'backoffMsMin', 'backoffMsMax');
  orderedPair(limits, 'requestTimeoutMsDefault', 'requestTimeoutMsMax');
  orderedPair(limits, 'handshakeFrameBytesMax', 'frameBytesMax');
  // The acceptor hears from an idle dialer only through its pings: leave room for two of them.
  if (limits.idleTimeoutMs < 2 * limits.pingIntervalMs) {
    throw invalidArgument(
      `limits.idleTimeoutMs (${limits.idleTimeoutMs}) must be at least twice limits.pingIntervalMs (${limits.pingIntervalMs})`,
    );
  }
  return limits;
}

function orderedPair(
  limits: TransportLimits,
  low: keyof TransportLimits,
  high: keyof TransportLimits,
): void {
  if (limits[low] > limits[high]) {
    throw invalidArgument(
      `limits.${low} (${limits[low]}) must not exceed limits.${high} (${limits[high]})`,
    );
  }
}

function checkText(name: string, value: unknown, lengthMin: number): void {
  if (
    typeof value !== 'string' ||
    value.length < lengthMin ||
    Buffer.byteLength(value) > HELLO_FIELD_BYTES_MAX
  ) {
    throw invalidArgument(
      `${name} must be a string of ${lengthMin} to ${HELLO_FIELD_BYTES_MAX} bytes, got ${JSON.stringify(value)}`,
    );
  }
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}
