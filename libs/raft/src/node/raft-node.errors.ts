/** A proposal or read that did not complete in time (its outcome is unknown for a write). */
export class ProposalTimeoutError extends Error {
  constructor(what: 'proposal' | 'read', timeoutMs: number) {
    super(`${what} timed out after ${timeoutMs} ms; a write may or may not have been applied`);
    this.name = 'ProposalTimeoutError';
  }
}

/** The entry of a proposal was overwritten by another leader's: it will never be applied. */
export class ProposalLostError extends Error {
  constructor(readonly index: number) {
    super(`proposal at index ${index} was overwritten by another leader and never applied`);
    this.name = 'ProposalLostError';
  }
}

export class NodeStoppedError extends Error {
  constructor(reason?: string) {
    super(reason ? `the raft node stopped: ${reason}` : 'the raft node is stopped');
    this.name = 'NodeStoppedError';
  }
}
