export { RaftCore } from './raft';
export type { ProgressStatus, RaftOptions, RaftStartState, RaftStatus } from './raft';
export * from './types';
export { InvalidConfChangeError, NotLeaderError, ProposalDroppedError } from './errors';
export { RaftInvariantError } from './assert';
export { applyConfChange, encodeConfChange, decodeConfChange, isVoter, voters } from './membership';
