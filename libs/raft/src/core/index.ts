export { RaftCore } from './raft';
export type {
  ProgressStatus,
  RaftOptions,
  RaftStartState,
  RaftStatus,
  ReadmitResult,
} from './raft';
export * from './types';
export { InvalidConfChangeError, NotLeaderError, ProposalDroppedError } from './errors';
export { RaftInvariantError } from './assert';
export {
  applyConfChange,
  encodeConfChange,
  decodeConfChange,
  findMember,
  isVoter,
  voters,
} from './membership';
