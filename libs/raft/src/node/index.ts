export { RaftNode, clusterIdOf } from './raft-node';
export type { RaftNodeLogger, RaftNodeOptions } from './raft-node';
export type { StateMachine } from './state-machine';
export { NodeStoppedError, ProposalLostError, ProposalTimeoutError } from './raft-node.errors';
export { encodeMessage, decodeMessage } from './message-codec';
