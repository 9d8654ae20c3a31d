import type { NodeId } from './types';

/**
 * The node is not the leader; `leaderId` is the one it knows of ('' when none), with its addresses
 * when the node knows them (the peer address from the membership, the HTTP address from the peer
 * handshake): what a server needs to redirect a client.
 */
export class NotLeaderError extends Error {
  readonly leaderPeerAddress?: string;
  readonly leaderHttpAddress?: string;

  constructor(
    readonly leaderId: NodeId,
    addresses: { leaderPeerAddress?: string; leaderHttpAddress?: string } = {},
  ) {
    super(
      leaderId
        ? `not the leader; the leader is ${leaderId}${addresses.leaderHttpAddress ? ` (http ${addresses.leaderHttpAddress})` : ''}`
        : 'not the leader; no leader is known',
    );
    this.name = 'NotLeaderError';
    if (addresses.leaderPeerAddress) this.leaderPeerAddress = addresses.leaderPeerAddress;
    if (addresses.leaderHttpAddress) this.leaderHttpAddress = addresses.leaderHttpAddress;
  }
}

/** The leader refused a proposal for a passing reason (a transfer, a membership change, a full pipeline). */
export class ProposalDroppedError extends Error {
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

/** A membership change that cannot apply to the current membership. */
export class InvalidConfChangeError extends Error {
  constructor(reason: string) {
    super(`invalid membership change: ${reason}`);
    this.name = 'InvalidConfChangeError';
  }
}
