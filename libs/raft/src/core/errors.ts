import type { NodeId } from './types';

/** The node is not the leader; `leaderId` is the one it knows of ('' when none). */
export class NotLeaderError extends Error {
  constructor(readonly leaderId: NodeId) {
    super(
      leaderId ? `not the leader; the leader is ${leaderId}` : 'not the leader; no leader is known',
    );
    this.name = 'NotLeaderError';
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
