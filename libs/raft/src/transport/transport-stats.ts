import { OTHER_PEERS_STATS_KEY } from './transport.constants';

/** Counters of one peer, both directions (inbound frames are counted under the id the peer proved or claimed). */
export interface PeerCounters {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  /** Frames refused by a full send queue (messages, requests, responses, pings). */
  sendDrops: number;
  /** Dial attempts after a failure or a lost connection. */
  reconnects: number;
}

/** Counters of the whole transport. */
export interface TransportCounters {
  /** Handshakes that failed authentication, on either side (refused here or refused by the peer). */
  authFailures: number;
  /** Handshakes refused for any reason (authentication included), on either side. */
  handshakeRefusals: number;
  /** Connections closed for a malformed, oversized or out-of-place frame. */
  protocolErrors: number;
}

export interface PeerStats extends PeerCounters {
  queuedFrames: number;
  queuedBytes: number;
  /** Whether this node's own (outbound) connection to the peer is open. */
  outboundOpen: boolean;
  /** Open, authenticated connections that the peer made to this node. */
  inboundOpen: number;
}

export interface TransportStats extends TransportCounters {
  peers: Record<string, PeerStats>;
}

export function newPeerCounters(): PeerCounters {
  return {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    sendDrops: 0,
    reconnects: 0,
  };
}

/**
 * Per-peer counters, created on first use. Inbound ids are chosen by the remote side, so the number
 * of entries is capped; beyond the cap, peers share one entry.
 */
export class PeerCountersRegistry {
  private readonly byPeer = new Map<string, PeerCounters>();

  constructor(private readonly entriesMax: number) {}

  of(peerId: string): PeerCounters {
    let counters = this.byPeer.get(peerId);
    if (counters !== undefined) return counters;
    const key = this.byPeer.size < this.entriesMax ? peerId : OTHER_PEERS_STATS_KEY;
    counters = this.byPeer.get(key) ?? newPeerCounters();
    this.byPeer.set(key, counters);
    return counters;
  }

  entries(): IterableIterator<[string, PeerCounters]> {
    return this.byPeer.entries();
  }
}
