/**
 * The vocabulary of the Raft core: entries, messages, persistent state and the Ready batch that
 * hands I/O to the driver. Plain data only, so that a message can be encoded, logged or replayed.
 */

/** A node's identity: its peer address (`host:port`) unless `node_id` names it otherwise. */
export type NodeId = string;

export const NO_NODE: NodeId = '';

export enum EntryType {
  /** A command for the state machine; empty data is the no-op a new leader appends. */
  Normal = 0,
  /** A single-server membership change (data: an encoded ConfChange). */
  ConfChange = 1,
}

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/**
 * `readmit`: a member that lost its disk comes back as a new incarnation. In one single-server
 * step it leaves the voters (its old acknowledgements must not count any more) and is a learner
 * again, with the new incarnation; the leader forgets its progress and replicates from scratch.
 */
export type ConfChangeType =
  'add-voter' | 'add-learner' | 'promote-learner' | 'remove-node' | 'readmit';

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Where the node's peer port listens (required for additions). */
  peerAddress?: string;
  /** Additions and `readmit`: the incarnation of a joining node (see HardState.joining). */
  incarnation?: string;
  /** Learner additions and `readmit`: the leader promotes it to voter once it has caught up. */
  promoteWhenCaughtUp?: boolean;
}

export interface Member {
  id: NodeId;
  role: 'voter' | 'learner';
  peerAddress: string;
  /** Set when a joining node was (re)admitted: which incarnation of it this member is. */
  incarnation?: string;
  /** A learner the leader promotes to voter once its log has caught up. */
  promoteWhenCaughtUp?: boolean;
}

/** A cluster membership: the voters decide, learners only receive the log. */
export interface Membership {
  members: Member[];
}

/** State that must be on stable storage before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
  /**
   * Set (to this incarnation's random id) while the node is joining: it started with an empty
   * disk while its peers already held a cluster, so it may have voted in terms it no longer
   * remembers. A joining node never votes, grants no (pre-)vote and never campaigns, until a
   * committed membership names it with this incarnation (the leader re-admitted it); absent after.
   */
  joining?: string;
}

/** What a snapshot covers: every entry up to `index` (of `term`), and the membership at that point. */
export interface SnapshotMeta {
  index: number;
  term: number;
  membership: Membership;
}

export enum MessageType {
  /** Local: start an election (a tick timed out, or the test says so). */
  Hup = 'hup',
  /** Local: leader sends heartbeats. */
  Beat = 'beat',
  PreVote = 'pre-vote',
  PreVoteResp = 'pre-vote-resp',
  Vote = 'vote',
  VoteResp = 'vote-resp',
  Append = 'append',
  AppendResp = 'append-resp',
  Heartbeat = 'heartbeat',
  HeartbeatResp = 'heartbeat-resp',
  Snapshot = 'snapshot',
  ReadIndex = 'read-index',
  ReadIndexResp = 'read-index-resp',
  TransferLeader = 'transfer-leader',
  TimeoutNow = 'timeout-now',
}

/**
 * One Raft message. Field use by type:
 * - votes: `logIndex`/`logTerm` = candidate's last entry; `context` = 'transfer' for a leader transfer;
 * - Append: `logIndex`/`logTerm` = entry before `entries`, `commit` = leader's commit;
 * - AppendResp: `logIndex` = last index matched (or the rejected index), `reject`, `rejectHint`,
 *   `logTerm` = term at the hint (fast backtracking);
 * - Heartbeat: `commit` (never above the follower's match), `context` = ReadIndex round;
 * - ReadIndex / ReadIndexResp: `context` = request id, `logIndex` = the read index.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logIndex?: number;
  logTerm?: number;
  entries?: Entry[];
  commit?: number;
  reject?: boolean;
  rejectHint?: number;
  snapshot?: SnapshotMeta;
  context?: string;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** A ReadIndex answer: the read with `context` may be served once the state machine applied `index`. */
export interface ReadState {
  index: number;
  context: string;
}

export interface SoftState {
  role: Role;
  leaderId: NodeId;
}

/**
 * Work for the driver. Contract: send `messages` (at once: they do not depend on this Ready's
 * writes); persist `hardState`, `snapshot` and `entries` (replacing any stored entries from
 * `entries[0].index` on) durably; then send `messagesAfterPersist`, apply `committedEntries` in
 * order, and call `advance(ready)`. Only one Ready is outstanding at a time. A driver may also send
 * everything after persisting, at the cost of latency.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  /** A snapshot received from the leader, to install before anything else. */
  snapshot?: SnapshotMeta;
  entries: Entry[];
  committedEntries: Entry[];
  /**
   * A leader's replication traffic (Append, Heartbeat, Snapshot, TimeoutNow, ReadIndexResp): safe to
   * send before its own disk write completes (Raft thesis §10.2.1), since the leader counts its own
   * log toward a commit only once persisted.
   */
  messages: Message[];
  /** Everything else (votes and their answers, acknowledgements): only after persisting. */
  messagesAfterPersist: Message[];
  readStates: ReadState[];
  /** Set when the membership in effect changed (a configuration entry was appended or truncated). */
  membership?: Membership;
  /**
   * Whether the write of this Ready must be synced (etcd's MustSync): it has entries, a snapshot,
   * or a hard state whose term, vote or joining changed. A hard state that changed only in its
   * commit may be written without a sync: a power loss can then bring back an older commit, which
   * is safe — the commit index is re-learned from the leader, and what a state machine applied
   * past it was committed (it is never truncated).
   */
  mustSync: boolean;
}

/** Known bugs that the simulation must catch; never set outside tests. */
export interface InjectedBugs {
  /** Commit a previous term's entry by counting replicas (violates the Figure 8 rule). */
  commitPreviousTermEntries?: boolean;
  /** Leave the vote out of the persisted hard state (a restart may vote twice in one term). */
  forgetVote?: boolean;
  /** Answer ReadIndex at once with the commit index, without confirming leadership. */
  readWithoutReadIndex?: boolean;
  /**
   * Apply before persisting: the leader counts its own unpersisted entries toward a commit and
   * applies them; the simulation's driver also treats each write as done before its fsync returns.
   */
  applyBeforePersist?: boolean;
  /**
   * Simulation only: a node that lost its disk restarts as if new (a voter at term 0 without a
   * vote) instead of joining: it may vote twice in a term and elect a leader without committed
   * entries.
   */
  rejoinAsNew?: boolean;
}
