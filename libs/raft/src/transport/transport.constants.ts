/**
 * Every limit of the peer transport, in one place (TIGER_STYLE: put a limit on everything and
 * name it). `PeerTransportOptions.limits` may override a default within the bounds below.
 */
export const TRANSPORT_LIMITS_DEFAULT = {
  /** Largest frame on the wire, header included. A bigger declared length closes the connection. */
  frameBytesMax: 16 * 1024 * 1024,
  /**
   * Largest frame accepted before the handshake completes: hello, auth and refusal frames are a
   * few hundred bytes, so an unauthenticated peer cannot make a node buffer `frameBytesMax`.
   */
  handshakeFrameBytesMax: 8 * 1024,
  /** Per-peer send queue, by frames: `send` returns false (and counts a drop) beyond it. */
  sendQueueFramesMax: 8_192,
  /** Per-peer send queue, by bytes: keeps memory bounded while a peer is slow or unreachable. */
  sendQueueBytesMax: 64 * 1024 * 1024,
  /** Queued frames are concatenated into socket writes of at most this size (a larger frame goes alone). */
  writeBatchBytesMax: 256 * 1024,
  /** Requests awaiting a response, per peer and direction; more are refused as overloaded. */
  requestsInFlightMax: 1_024,
  /** Timeout of `request` when the caller gives none. */
  requestTimeoutMsDefault: 5_000,
  /** Longest accepted `request` timeout. */
  requestTimeoutMsMax: 10 * 60_000,
  /** From dial (or accept) to an authenticated connection; covers a connect that hangs. */
  handshakeTimeoutMs: 5_000,
  /** First reconnect delay after a failure; it doubles per consecutive failure. */
  backoffMsMin: 100,
  /** Reconnect delays never exceed this (jitter included). */
  backoffMsMax: 5_000,
  /**
   * A link waiting out its backoff dials at once when a frame is queued, if its last attempt is at
   * least this old: the backoff paces retries to a peer nothing is sent to, but a peer Raft writes
   * to every tick (heartbeats, votes) must be reached as soon as it listens again — a peer back
   * from a restart otherwise stayed unreachable for up to `backoffMsMax` (bench:raft saw a
   * survivor's votes to a restarted survivor held ~400 ms, then released together: a split vote).
   */
  redialOnDemandMsMin: 100,
  /** The dialer sends a ping when nothing was received for this long. */
  pingIntervalMs: 1_000,
  /** A connection that received nothing (and drained nothing) for this long is closed as half-open. */
  idleTimeoutMs: 5_000,
  /** Kernel TCP keepalive: first probe after this much idle time (catches a peer host that vanished). */
  keepAliveInitialDelayMs: 10_000,
  /** Accepted connections open at once; the listener refuses more. */
  inboundConnectionsMax: 1_024,
  /** Distinct peer ids that get their own stats entry; others are summed under `OTHER_PEERS_STATS_KEY`. */
  peerStatsEntriesMax: 1_024,
  /** A handler's error message carried back in a response is cut to this many bytes. */
  errorMessageBytesMax: 4 * 1024,
  /** After sending a refusal the socket is destroyed at the latest this long later. */
  refusalLingerMs: 1_000,
  /**
   * A refusal or protocol error that repeats (same peer, same cause: a misconfigured node redials
   * every backoff) is logged once per this interval, with a count of the ones left out.
   */
  repeatedLogIntervalMs: 60_000,
  /** Distinct causes the repeated-log filter remembers; it forgets them all when full. */
  repeatedLogKeysMax: 1_024,
} as const;

export type TransportLimits = { -readonly [K in keyof typeof TRANSPORT_LIMITS_DEFAULT]: number };

/** Hard bounds that the options resolver enforces on each limit (inclusive). */
export const TRANSPORT_LIMITS_BOUNDS: {
  readonly [K in keyof TransportLimits]: readonly [number, number];
} = {
  frameBytesMax: [1024, 1024 * 1024 * 1024],
  handshakeFrameBytesMax: [1024, 64 * 1024],
  sendQueueFramesMax: [1, 10_000_000],
  sendQueueBytesMax: [1024, 16 * 1024 * 1024 * 1024],
  writeBatchBytesMax: [1024, 64 * 1024 * 1024],
  requestsInFlightMax: [1, 1_000_000],
  requestTimeoutMsDefault: [1, 10 * 60_000],
  requestTimeoutMsMax: [1, 24 * 60 * 60_000],
  handshakeTimeoutMs: [1, 10 * 60_000],
  backoffMsMin: [1, 60_000],
  backoffMsMax: [1, 10 * 60_000],
  redialOnDemandMsMin: [1, 10 * 60_000],
  pingIntervalMs: [1, 10 * 60_000],
  idleTimeoutMs: [2, 60 * 60_000],
  keepAliveInitialDelayMs: [1_000, 60 * 60_000],
  inboundConnectionsMax: [1, 1_000_000],
  peerStatsEntriesMax: [1, 1_000_000],
  errorMessageBytesMax: [64, 1024 * 1024],
  refusalLingerMs: [1, 60_000],
  repeatedLogIntervalMs: [0, 24 * 60 * 60_000],
  repeatedLogKeysMax: [1, 1_000_000],
};

/** Version of the peer protocol; both ends of a connection must speak the same one. */
export const PROTOCOL_VERSION = 1;

/** First four bytes of every hello body, "XCRP": a stray client of another protocol is told apart. */
export const HELLO_MAGIC = 0x58435250;

/** Random challenge per side and connection, and the HMAC-SHA256 proof answering it. */
export const AUTH_NONCE_BYTES = 32;
export const AUTH_PROOF_BYTES = 32;

/** Longest string field of a hello (node id, addresses, cluster id), in UTF-8 bytes. */
export const HELLO_FIELD_BYTES_MAX = 1024;

/** Stats key under which peers beyond `peerStatsEntriesMax` are counted together. */
export const OTHER_PEERS_STATS_KEY = '(other)';
