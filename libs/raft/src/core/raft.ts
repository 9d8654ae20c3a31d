import { assert } from './assert';
import { InvalidConfChangeError, NotLeaderError, ProposalDroppedError } from './errors';
import {
  MembershipHistory,
  applyConfChange,
  decodeConfChange,
  encodeConfChange,
  findMember,
  isVoter,
  memberIds,
  voters,
} from './membership';
import { Progress } from './progress';
import { isQuorum, majorityIndex, tallyVotes } from './quorum';
import { RaftLog } from './raft-log';
import { ReadOnlyQueue } from './read-only';
import {
  EntryType,
  MessageType,
  NO_NODE,
  type ConfChange,
  type Entry,
  type HardState,
  type InjectedBugs,
  type Membership,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Role,
  type SnapshotMeta,
  type SoftState,
} from './types';

export interface RaftOptions {
  id: NodeId;
  /** Ticks without a leader's word before a follower campaigns (randomized in [n, 2n)). */
  electionTicks?: number;
  /** Ticks between a leader's heartbeats. */
  heartbeatTicks?: number;
  /**
   * A follower told that its leader is unreachable (`reportLeaderUnreachable`) campaigns after a
   * random number of ticks in [1, n] instead of its election timeout (pre-vote first).
   */
  leaderUnreachableCampaignTicksMax?: number;
  /** Uniform in [0, 1): the only source of randomness (a seeded PRNG in simulations). */
  random: () => number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Entry data per Append message. */
  appendBytesMax?: number;
  /** Append messages in flight to one follower, by count and by bytes. */
  inflightCountMax?: number;
  inflightBytesMax?: number;
  /** Entry data proposed but not yet committed, beyond which proposals are dropped. */
  uncommittedBytesMax?: number;
  /** Entry data handed out to apply in one Ready. */
  applyBytesMax?: number;
  /**
   * A learner added with `promoteWhenCaughtUp` is promoted to voter once its log is within this
   * many entries of the leader's last index (and holds the latest membership change).
   */
  promoteWithinEntries?: number;
  bugs?: InjectedBugs;
}

/** What `readmit()` did: proposed the change, or found the incarnation already admitted. */
export type ReadmitResult = 'proposed' | 'admitted';

/** What the driver loaded from disk to start from (a first start: an index-0 snapshot of the bootstrap membership). */
export interface RaftStartState {
  hardState: HardState;
  snapshot: SnapshotMeta;
  entries: Entry[];
  /** Index the state machine already holds (default: the snapshot's); entries after it are applied again. */
  applied?: number;
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: Progress['state'];
  recentActive: boolean;
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  leaderId: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  membership: Membership;
  progress: Map<NodeId, ProgressStatus>;
  leadTransferee: NodeId;
  /** Index of a snapshot received from the leader that the driver has not installed yet (0: none). */
  pendingSnapshotIndex: number;
  /** The node is joining (see HardState.joining): it neither votes nor campaigns. */
  joining: boolean;
}

type CampaignKind = 'pre-vote' | 'election' | 'transfer';

const TRANSFER_CONTEXT = 'transfer';

/** A leader's messages that do not depend on its pending disk write (see Ready.messages). */
const SENDABLE_BEFORE_PERSIST = new Set<MessageType>([
  MessageType.Append,
  MessageType.Heartbeat,
  MessageType.Snapshot,
  MessageType.TimeoutNow,
  MessageType.ReadIndexResp,
]);

const DEFAULTS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  leaderUnreachableCampaignTicksMax: 3,
  appendBytesMax: 1024 * 1024,
  inflightCountMax: 256,
  inflightBytesMax: 32 * 1024 * 1024,
  uncommittedBytesMax: 64 * 1024 * 1024,
  applyBytesMax: 64 * 1024 * 1024,
  promoteWithinEntries: 100,
};

/**
 * The Raft consensus algorithm as a pure, deterministic state machine (the etcd-io/raft design):
 * `tick()` and `step(message)` in; `ready()` out with what to persist, send and apply; `advance()`
 * once the driver has done it. No timers, clock, I/O or ambient randomness inside.
 *
 * Implemented: leader election with randomized timeouts, pre-vote and check-quorum; log
 * replication with batching (proposals between two Readies share one Append per follower) and
 * pipelining (bounded in-flight messages and bytes per follower); fast backtracking; commit only
 * by counting entries of the current term (Figure 8); snapshots and compaction; single-server
 * membership changes that take effect when appended; leader transfer; ReadIndex.
 */
export class RaftCore {
  readonly id: NodeId;
  private readonly options: Required<Omit<RaftOptions, 'bugs'>>;
  private readonly bugs: InjectedBugs;

  private term = 0;
  private vote: NodeId = NO_NODE;
  /** This incarnation's id while joining (HardState.joining), '' once admitted or never joining. */
  private joining = '';
  private role: Role = 'follower';
  private leaderId: NodeId = NO_NODE;
  readonly log = new RaftLog();
  private readonly memberships: MembershipHistory;
  /** The latest local snapshot: what is sent to a follower that needs compacted entries. */
  private snapshotMeta: SnapshotMeta;

  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private campaignKind: CampaignKind = 'election';
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /**
   * A follower whose leader was reported unreachable: the `electionElapsed` at which it campaigns
   * early (0: none planned). Set only while a follower of a known leader; cleared when it hears
   * that leader, campaigns, or changes term or role.
   */
  private earlyCampaignAt = 0;
  private leadTransferee: NodeId = NO_NODE;
  /** Index of the latest membership change proposed by this leader; a new one waits for its commit. */
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;
  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests received before this leader committed an entry of its term. */
  private pendingReadIndexes: Array<{ from: NodeId; context: string }> = [];

  private messages: Message[] = [];
  private messagesAfterPersist: Message[] = [];
  private readStates: ReadState[] = [];
  private pendingSnapshot: SnapshotMeta | undefined;
  private broadcastEntries = false;
  private broadcastCommit = false;
  private membershipChanged = false;
  private previousHardState: HardState;
  private previousSoftState: SoftState;
  private outstanding: Ready | undefined;
  /**
   * The last entry handed out by `takeCommitted()` (0: none yet): entries up to it are being
   * applied by the driver outside a Ready; neither a Ready nor another call hands them out again.
   */
  private applyingIndex = 0;

  constructor(options: RaftOptions, start: RaftStartState) {
    this.id = options.id;
    this.options = { ...DEFAULTS, preVote: true, checkQuorum: true, ...options } as Required<
      Omit<RaftOptions, 'bugs'>
    >;
    this.bugs = options.bugs ?? {};
    assert(
      this.options.heartbeatTicks < this.options.electionTicks,
      'heartbeat ticks must be below election ticks',
    );
    const { hardState, snapshot, entries } = start;
    this.snapshotMeta = snapshot;
    this.memberships = new MembershipHistory(snapshot.index, snapshot.membership);
    this.log.load(
      snapshot.index,
      snapshot.term,
      entries,
      hardState.commit,
      start.applied ?? snapshot.index,
    );
    for (const entry of entries) this.noteConfEntry(entry);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.joining = hardState.joining ?? '';
    this.previousHardState = this.hardState();
    this.becomeFollower(this.term, NO_NODE);
    this.previousSoftState = this.softState();
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** One unit of logical time: drives elections, heartbeats and check-quorum. */
  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** This node is the only voter of its membership (a single-node cluster). */
  get isSoleVoter(): boolean {
    const ids = voters(this.memberships.current);
    return ids.length === 1 && ids[0] === this.id;
  }

  /** Starts an election now (as if the election timeout elapsed). */
  campaign(): void {
    this.step({ type: MessageType.Hup, from: this.id, to: this.id, term: 0 });
  }

  /** Appends commands to the log; only on the leader. Returns the index of the first and its term. */
  propose(datas: readonly Uint8Array[]): { firstIndex: number; term: number } {
    return this.appendProposal(datas.map((data) => ({ type: EntryType.Normal, data })));
  }

  /** Proposes a single-server membership change; the previous one must be committed first. */
  proposeConfChange(change: ConfChange): { index: number; term: number } {
    this.requireLeader();
    if (this.pendingConfIndex > this.log.committed) {
      throw new ProposalDroppedError('the previous membership change is not committed yet');
    }
    const next = applyConfChange(this.memberships.current, change);
    if (typeof next === 'string') throw new InvalidConfChangeError(next);
    const { firstIndex, term } = this.appendProposal([
      { type: EntryType.ConfChange, data: encodeConfChange(change) },
    ]);
    return { index: firstIndex, term };
  }

  /**
   * On the leader: re-admits `nodeId`, which restarted with an empty disk as a new `incarnation`
   * (it is joining: it neither votes nor campaigns). A member of another incarnation (or of none)
   * is demoted to a learner of this one in a single `readmit` change — its old acknowledgements
   * no longer count and its progress starts over — and promoted back to voter once caught up if
   * it was a voter (or a learner to promote) before. Returns 'admitted' when the membership already
   * names this incarnation (the joiner learns it once that change is committed), 'proposed'
   * otherwise. Throws NotLeaderError, ProposalDroppedError (a membership change is pending: retry)
   * or InvalidConfChangeError (not a member: an operator must add it first; or the leader itself).
   */
  readmit(nodeId: NodeId, incarnation: string, peerAddress?: string): ReadmitResult {
    this.requireLeader();
    if (nodeId === this.id) throw new InvalidConfChangeError('the leader cannot readmit itself');
    const existing = findMember(this.memberships.current, nodeId);
    if (existing === undefined)
      throw new InvalidConfChangeError(`${nodeId} is not a member; add it first`);
    if (existing.incarnation === incarnation) return 'admitted';
    this.proposeConfChange({
      type: 'readmit',
      nodeId,
      incarnation,
      peerAddress: peerAddress ?? existing.peerAddress,
      promoteWhenCaughtUp: existing.role === 'voter' || existing.promoteWhenCaughtUp === true,
    });
    return 'proposed';
  }

  /**
   * Asks for a linearizable read point. The answer comes as a ReadState with the same context in a
   * later Ready (on a follower, after a round trip to the leader). Returns false when no leader is
   * known (the caller retries later).
   */
  readIndex(context: string): boolean {
    if (this.role === 'leader') {
      this.handleReadIndex(this.id, context);
      return true;
    }
    if (this.leaderId === NO_NODE) return false;
    this.send({ type: MessageType.ReadIndex, to: this.leaderId, term: this.term, context });
    return true;
  }

  /** On the leader: hands leadership to `to` once its log is caught up. */
  transferLeadership(to: NodeId): void {
    this.requireLeader();
    if (to === this.id) return;
    if (!isVoter(this.memberships.current, to))
      throw new InvalidConfChangeError(`${to} is not a voter`);
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    const progress = this.progress.get(to);
    if (progress && progress.match === this.log.lastIndex) this.sendTimeoutNow(to);
    else this.broadcastEntries = true;
  }

  /** The driver finished (or gave up) sending a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    const progress = this.progress.get(to);
    if (this.role !== 'leader' || progress === undefined || progress.state !== 'snapshot') return;
    if (!ok) progress.pendingSnapshot = 0;
    progress.becomeProbe();
    // Wait for the follower's answer (or a heartbeat) before probing again.
    progress.probeSent = true;
  }

  /** The driver could not deliver to `to`: stop pipelining until it answers again. */
  reportUnreachable(to: NodeId): void {
    const progress = this.progress.get(to);
    if (this.role === 'leader' && progress?.state === 'replicate') progress.becomeProbe();
  }

  /**
   * The driver has strong evidence that `peer`'s process is gone (its connections closed and a
   * reconnect was refused). A follower whose leader is `peer` stops honouring that leader's lease
   * — it grants pre-votes and votes as if its election timeout had passed — and campaigns, pre-vote
   * first, after a random 1..`leaderUnreachableCampaignTicksMax` ticks (from the injected PRNG, so
   * that two followers told at once rarely split the vote) instead of its whole election timeout.
   *
   * Only a liveness shortcut: terms and votes follow the usual rules, and the pre-vote still needs
   * a majority — a follower that still hears the leader refuses it — so a false alarm costs at most
   * a failed pre-vote, never a term. Hence ignored without pre-vote (the campaign would raise the
   * term), and ignored by a leader, a candidate, a node that cannot campaign (a learner, a joining
   * node, a snapshot to install) and a follower whose leader is another node or unknown. Hearing
   * from the leader again cancels the early campaign. Returns whether an early campaign was newly
   * planned (false too when one is planned already: one draw per silence of the leader).
   */
  reportLeaderUnreachable(peer: NodeId): boolean {
    if (!this.options.preVote || this.role !== 'follower') return false;
    if (peer === NO_NODE || peer === this.id || this.leaderId !== peer) return false;
    if (!this.promotable()) return false;
    if (this.earlyCampaignAt > 0) return false; // already planned: one draw per silence
    // The lease ends now: the other followers' pre-votes no longer wait for our timeout either.
    this.electionElapsed = Math.max(this.electionElapsed, this.options.electionTicks);
    const delayTicks =
      1 + Math.floor(this.options.random() * this.options.leaderUnreachableCampaignTicksMax);
    this.earlyCampaignAt = this.electionElapsed + delayTicks;
    return true;
  }

  /** What a snapshot of the state machine at `index` (already applied) covers. */
  snapshotMetaAt(index: number): SnapshotMeta {
    assert(index <= this.log.applied, `snapshot at ${index} beyond applied ${this.log.applied}`);
    const term = this.log.termAt(index);
    assert(term !== undefined, `snapshot at ${index}: entry compacted`);
    return { index, term, membership: this.memberships.at(index) };
  }

  /**
   * The state machine saved a snapshot at `index` (already applied): remember it for followers and
   * drop log entries up to `compactIndex` (at most `index`; keeping some spares slow followers a snapshot).
   */
  snapshotTaken(index: number, compactIndex: number): SnapshotMeta {
    assert(compactIndex <= index, `compaction ${compactIndex} beyond snapshot ${index}`);
    this.snapshotMeta = this.snapshotMetaAt(index);
    this.log.compact(compactIndex);
    this.memberships.compactTo(compactIndex);
    return this.snapshotMeta;
  }

  step(message: Message): void {
    if (message.term > this.term) {
      if (!this.stepHigherTerm(message)) return;
    } else if (message.term < this.term && message.term !== 0) {
      this.stepLowerTerm(message);
      return;
    }
    switch (message.type) {
      case MessageType.Hup:
        this.hup(this.options.preVote ? 'pre-vote' : 'election');
        return;
      case MessageType.PreVote:
      case MessageType.Vote:
        this.handleVoteRequest(message);
        return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(message);
        return;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(message);
        return;
      case 'follower':
        this.stepFollower(message);
        return;
    }
  }

  // ---- outputs ------------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.outstanding) return false;
    if (this.role === 'leader' && (this.broadcastEntries || this.broadcastCommit)) return true;
    return (
      this.messages.length > 0 ||
      this.messagesAfterPersist.length > 0 ||
      this.readStates.length > 0 ||
      this.pendingSnapshot !== undefined ||
      this.membershipChanged ||
      this.log.unstableEntries().length > 0 ||
      !sameHardState(this.hardState(), this.previousHardState) ||
      !sameSoftState(this.softState(), this.previousSoftState) ||
      (this.log.committed > this.applyCursor() && this.applyLimit() > this.applyCursor())
    );
  }

  ready(): Ready {
    assert(this.outstanding === undefined, 'ready() while the previous Ready is not advanced');
    if (this.role === 'leader') this.flushBroadcast();
    const hardState = this.hardState();
    const softState = this.softState();
    const entries = this.log.unstableEntries();
    const ready: Ready = {
      entries,
      committedEntries: this.pendingSnapshot ? [] : this.committedToApply(),
      messages: this.messages,
      messagesAfterPersist: this.messagesAfterPersist,
      readStates: this.readStates,
      mustSync:
        entries.length > 0 ||
        this.pendingSnapshot !== undefined ||
        hardState.term !== this.previousHardState.term ||
        hardState.vote !== this.previousHardState.vote ||
        hardState.joining !== this.previousHardState.joining,
    };
    if (!sameHardState(hardState, this.previousHardState)) {
      ready.hardState = this.bugs.forgetVote ? { ...hardState, vote: NO_NODE } : hardState;
      this.previousHardState = hardState;
    }
    if (!sameSoftState(softState, this.previousSoftState)) {
      ready.softState = softState;
      this.previousSoftState = softState;
    }
    if (this.pendingSnapshot) ready.snapshot = this.pendingSnapshot;
    if (this.membershipChanged) ready.membership = this.memberships.current;
    this.messages = [];
    this.messagesAfterPersist = [];
    this.readStates = [];
    this.membershipChanged = false;
    this.outstanding = ready;
    return ready;
  }

  /** The driver persisted, sent and applied `ready`. */
  advance(ready: Ready): void {
    assert(this.outstanding === ready, 'advance() of a Ready that is not the outstanding one');
    this.outstanding = undefined;
    if (ready.snapshot) {
      const newerPending = this.pendingSnapshot !== ready.snapshot;
      if (!newerPending) this.pendingSnapshot = undefined;
      this.log.snapshotInstalled(ready.snapshot.index, newerPending);
    }
    for (let i = ready.entries.length - 1; i >= 0; i--) {
      const entry = ready.entries[i];
      if (this.log.termAt(entry.index) === entry.term) {
        this.log.stableTo(entry.index, entry.term);
        break;
      }
    }
    const applied = ready.committedEntries[ready.committedEntries.length - 1];
    if (applied) this.log.appliedTo(applied.index);
    if (this.role === 'leader') {
      const self = this.progress.get(this.id);
      if (self) self.maybeUpdate(this.selfMatch());
      this.maybeCommit();
    }
  }

  /**
   * Leader pipelining: the replication messages that may go out before this node's own disk write
   * completes (`Ready.messages`: Append, Heartbeat, ...), produced now, even while a Ready is
   * outstanding. Proposals made while the driver persists the previous Ready thus reach the
   * followers at once instead of after that write; their entries still come in the next Ready, to
   * be persisted before this leader counts them. A driver that never calls it gets them in Readies.
   */
  takeMessages(): Message[] {
    if (this.role === 'leader' && (this.broadcastEntries || this.broadcastCommit))
      this.flushBroadcast();
    if (this.messages.length === 0) return [];
    const messages = this.messages;
    this.messages = [];
    return messages;
  }

  /**
   * Committed entries to apply now, outside a Ready (while a Ready's write may be in flight): only
   * entries this node has already persisted (the same limit as `Ready.committedEntries`), in log
   * order, each handed out once — to a later Ready as little as to a later call. The driver applies
   * them in the order it took them, before any Ready's `committedEntries` taken after them, and
   * reports each batch with `appliedTo`. Nothing while a snapshot waits to be installed.
   */
  takeCommitted(): Entry[] {
    if (this.pendingSnapshot !== undefined || this.outstanding?.snapshot !== undefined) return [];
    return this.committedToApply();
  }

  /** The driver applied every entry through `index` that `takeCommitted` handed out. */
  appliedTo(index: number): void {
    this.log.appliedTo(index);
  }

  /**
   * Committed, stable entries after the last one handed out to apply (bounded in bytes), marked as
   * handed out. For a driver that applies only through Readies this is what `toApply` gives: the
   * mark is never ahead of `applied` once the Ready is advanced.
   */
  private committedToApply(): Entry[] {
    const from = this.applyCursor();
    const upTo = Math.min(this.log.committed, this.applyLimit());
    if (upTo <= from) return [];
    const entries = this.log.slice(from + 1, upTo, this.options.applyBytesMax);
    this.applyingIndex = entries[entries.length - 1].index;
    return entries;
  }

  /** The last entry applied, or handed out to apply. */
  private applyCursor(): number {
    return Math.max(this.applyingIndex, this.log.applied);
  }

  status(): RaftStatus {
    const progress = new Map<NodeId, ProgressStatus>();
    for (const [id, p] of this.progress) {
      progress.set(id, {
        match: p.match,
        next: p.next,
        state: p.state,
        recentActive: p.recentActive,
      });
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leaderId: this.leaderId,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex,
      firstIndex: this.log.firstIndex,
      membership: this.memberships.current,
      progress,
      leadTransferee: this.leadTransferee,
      pendingSnapshotIndex: this.pendingSnapshot?.index ?? 0,
      joining: this.joining !== '',
    };
  }

  /** The current term, without the cost of `status()`. */
  get currentTerm(): number {
    return this.term;
  }

  /** Whether this node is joining (neither votes nor campaigns), without the cost of `status()`. */
  get isJoining(): boolean {
    return this.joining !== '';
  }

  /** This incarnation's id while joining ('' otherwise). */
  get joiningIncarnation(): string {
    return this.joining;
  }

  get latestSnapshot(): SnapshotMeta {
    return this.snapshotMeta;
  }

  /** This node's role, without the cost of `status()` (which copies every follower's progress). */
  get currentRole(): Role {
    return this.role;
  }

  /** The leader this node knows of (NO_NODE when none), without the cost of `status()`. */
  get currentLeader(): NodeId {
    return this.leaderId;
  }

  /** The membership in effect, without the cost of `status()`. */
  get currentMembership(): Membership {
    return this.memberships.current;
  }

  checkInvariants(): void {
    this.log.checkInvariants();
    if (this.role === 'leader')
      assert(this.leaderId === this.id, 'a leader that does not know itself as leader');
    if (this.earlyCampaignAt > 0) {
      assert(
        this.role === 'follower' && this.leaderId !== NO_NODE,
        'an early campaign planned by a node that is not the follower of a known leader',
      );
      assert(
        this.electionElapsed >= this.options.electionTicks,
        'an early campaign planned while the leader lease holds',
      );
    }
  }

  // ---- term rules ---------------------------------------------------------------------------

  /** A message from a later term: returns false when it is ignored. */
  private stepHigherTerm(m: Message): boolean {
    const isVoteRequest = m.type === MessageType.Vote || m.type === MessageType.PreVote;
    if (isVoteRequest) {
      const forced = m.context === TRANSFER_CONTEXT;
      // A voter that still hears from a leader refuses to help depose it: under check-quorum for
      // any vote, and always for a pre-vote (thesis §9.6).
      const hearsLeader =
        this.leaderId !== NO_NODE && this.electionElapsed < this.options.electionTicks;
      const inLease = hearsLeader && (this.options.checkQuorum || m.type === MessageType.PreVote);
      // Check-quorum lease: while a leader is known to be alive, a disruptive candidate is ignored.
      if (!forced && inLease) return false;
    }
    if (m.type === MessageType.PreVote) return true; // a pre-vote never changes our term
    if (m.type === MessageType.PreVoteResp && !m.reject) return true; // our own future term, granted
    const leader =
      m.type === MessageType.Append ||
      m.type === MessageType.Heartbeat ||
      m.type === MessageType.Snapshot
        ? m.from
        : NO_NODE;
    this.becomeFollower(m.term, leader);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if (
      (this.options.checkQuorum || this.options.preVote) &&
      (m.type === MessageType.Heartbeat || m.type === MessageType.Append)
    ) {
      // A stale leader cut off by a partition learns our term and steps down.
      this.send({ type: MessageType.AppendResp, to: m.from, term: this.term });
    } else if (m.type === MessageType.PreVote) {
      this.send({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- elections ----------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed += 1;
    const early = this.earlyCampaignAt > 0 && this.electionElapsed >= this.earlyCampaignAt;
    if ((early || this.electionElapsed >= this.randomizedElectionTimeout) && this.promotable()) {
      this.electionElapsed = 0;
      this.earlyCampaignAt = 0;
      this.campaign();
      return;
    }
    // §5.1: RPCs are retried when no answer comes; a lost vote request need not cost an election.
    const campaigning = this.role === 'candidate' || this.role === 'pre-candidate';
    if (campaigning && this.electionElapsed % this.options.heartbeatTicks === 0)
      this.requestVotes(true);
  }

  private hup(kind: CampaignKind): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    this.startCampaign(kind);
  }

  private startCampaign(kind: CampaignKind): void {
    if (kind === 'pre-vote') this.becomePreCandidate();
    else this.becomeCandidate();
    this.campaignKind = kind;
    this.votes.set(this.id, true);
    if (tallyVotes(voters(this.memberships.current), this.votes) === 'won') {
      if (kind === 'pre-vote') this.startCampaign('election');
      else this.becomeLeader();
      return;
    }
    this.requestVotes(false);
  }

  /** Asks every voter (or, on a retry, every voter that has not answered) for its vote. */
  private requestVotes(onlySilent: boolean): void {
    const kind = this.campaignKind;
    const type = kind === 'pre-vote' ? MessageType.PreVote : MessageType.Vote;
    const voteTerm = kind === 'pre-vote' ? this.term + 1 : this.term;
    for (const id of voters(this.memberships.current)) {
      if (id === this.id || (onlySilent && this.votes.has(id))) continue;
      this.send({
        type,
        to: id,
        term: voteTerm,
        logIndex: this.log.lastIndex,
        logTerm: this.log.lastTerm,
        context: kind === 'transfer' ? TRANSFER_CONTEXT : undefined,
      });
    }
  }

  private handleVoteRequest(m: Message): void {
    const isPreVote = m.type === MessageType.PreVote;
    // A joining node may have voted in this term before it lost its disk: it grants nothing.
    const canVote =
      this.joining === '' &&
      (this.vote === m.from ||
        (this.vote === NO_NODE && this.leaderId === NO_NODE) ||
        (isPreVote && m.term > this.term)) &&
      !(isPreVote && this.yieldsToOwnPreVote(m));
    const responseType = isPreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && this.log.isUpToDate(m.logIndex ?? 0, m.logTerm ?? 0)) {
      // A granted pre-vote answers in the candidate's future term so it can count it.
      this.send({ type: responseType, to: m.from, term: m.term, reject: false });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.earlyCampaignAt = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, term: this.term, reject: true });
    }
  }

  /**
   * Symmetry breaking between two pre-votes for the same term by nodes with equal logs — both
   * survivors of a leader's crash told of it within a few ticks, or two whose timeouts fell
   * together: granted both ways, both would become candidates and split the vote (in a three-node
   * cluster each is the other's only voter), costing a whole election timeout. In the first
   * `leaderUnreachableCampaignTicksMax` ticks of its own pre-vote (the spread of early campaigns)
   * a pre-candidate refuses such a pre-vote from a higher id; the lower id's pre-vote is granted
   * as usual, and its vote request then makes this node a follower. (Refusing in the first tick
   * only let two survivors whose pre-votes started a tick apart both win and split the vote: ~1
   * in 10 runs of the TCP failover spec.) A pre-vote grant is no promise and changes no state, so
   * safety is untouched; after those ticks the usual rule grants it again, so a pre-vote that
   * cannot win blocks another one for a few ticks per election timeout at most.
   */
  private yieldsToOwnPreVote(m: Message): boolean {
    return (
      this.role === 'pre-candidate' &&
      this.electionElapsed < this.options.leaderUnreachableCampaignTicksMax &&
      m.term === this.term + 1 &&
      m.logIndex === this.log.lastIndex &&
      m.logTerm === this.log.lastTerm &&
      m.from > this.id
    );
  }

  private stepCandidate(m: Message): void {
    const expected = this.role === 'pre-candidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Append:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case expected: {
        this.votes.set(m.from, !m.reject);
        const outcome = tallyVotes(voters(this.memberships.current), this.votes);
        if (outcome === 'won') {
          if (this.role === 'pre-candidate') this.startCampaign('election');
          else this.becomeLeader();
        } else if (outcome === 'lost') {
          this.becomeFollower(this.term, NO_NODE);
        }
        return;
      }
      case MessageType.TimeoutNow:
        return; // only a follower acts on it
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        if (this.promotable()) this.startCampaign('transfer');
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.logIndex ?? 0, context: m.context ?? '' });
        return;
      // A ReadIndex meant for a leader we no longer are is dropped: its sender times out and retries.
    }
  }

  /** The leader of this term spoke: its lease starts over, and a planned early campaign is off (a false alarm). */
  private heardFromLeader(leaderId: NodeId): void {
    this.electionElapsed = 0;
    this.earlyCampaignAt = 0;
    this.leaderId = leaderId;
  }

  private becomeFollower(term: number, leaderId: NodeId): void {
    this.resetForTerm(term);
    this.role = 'follower';
    this.leaderId = leaderId;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Term and vote stay: a pre-vote must not disturb anyone.
    this.votes = new Map();
    this.earlyCampaignAt = 0;
    this.role = 'pre-candidate';
    this.leaderId = NO_NODE;
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.resetForTerm(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', `only a candidate becomes leader (was ${this.role})`);
    this.resetForTerm(this.term);
    this.role = 'leader';
    this.leaderId = this.id;
    this.resetProgress();
    // The no-op of the new term: committing it commits everything before it (§5.4.2) and opens ReadIndex.
    this.appendProposal([{ type: EntryType.Normal, data: new Uint8Array(0) }], true);
    this.pendingConfIndex = this.log.lastIndex;
  }

  private resetForTerm(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NO_NODE;
    }
    this.leaderId = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.earlyCampaignAt = 0;
    this.randomizedElectionTimeout =
      this.options.electionTicks + Math.floor(this.options.random() * this.options.electionTicks);
    this.votes = new Map();
    this.leadTransferee = NO_NODE;
    this.readOnly.clear();
    this.pendingReadIndexes = [];
    this.uncommittedBytes = 0;
    this.broadcastEntries = false;
    this.broadcastCommit = false;
  }

  private promotable(): boolean {
    return (
      this.joining === '' &&
      isVoter(this.memberships.current, this.id) &&
      this.pendingSnapshot === undefined
    );
  }

  /**
   * A joining node is admitted once a committed membership names this incarnation: its log is the
   * leader's from then on. It records a vote for the leader that told it so (the leader of this
   * term won it already), so that it grants no other vote in this term: it may have voted in it
   * before it lost its disk. Terms it voted in earlier are all below this one (see docs/raft.md).
   */
  private maybeFinishJoining(): void {
    if (this.joining === '') return;
    const me = findMember(this.memberships.at(this.log.committed), this.id);
    if (me?.incarnation !== this.joining) return;
    this.joining = '';
    if (this.vote === NO_NODE && this.leaderId !== NO_NODE) this.vote = this.leaderId;
  }

  // ---- follower side of replication ---------------------------------------------------------

  private handleAppend(m: Message): void {
    const prevIndex = m.logIndex ?? 0;
    if (prevIndex < this.log.committed) {
      this.acknowledgeAppend(m.from, this.log.committed);
      return;
    }
    const entries = m.entries ?? [];
    const result = this.log.tryAppend(prevIndex, m.logTerm ?? 0, entries);
    if (result === undefined) {
      const hint = this.log.findConflictByTerm(
        Math.min(prevIndex, this.log.lastIndex),
        m.logTerm ?? 0,
      );
      this.send({
        type: MessageType.AppendResp,
        to: m.from,
        term: this.term,
        logIndex: prevIndex,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      });
      return;
    }
    if (result.truncatedFrom !== undefined && this.memberships.truncateFrom(result.truncatedFrom)) {
      this.membershipChanged = true;
    }
    for (const entry of entries) {
      if (entry.index > this.memberships.lastChangeIndex) this.noteConfEntry(entry);
    }
    this.log.commitTo(Math.min(m.commit ?? 0, result.lastNewIndex));
    this.maybeFinishJoining();
    this.acknowledgeAppend(m.from, result.lastNewIndex);
  }

  /** Tells the leader this log matches its own through `index`. */
  private acknowledgeAppend(to: NodeId, index: number): void {
    this.send({ type: MessageType.AppendResp, to, term: this.term, logIndex: index });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit ?? 0, this.log.lastIndex));
    this.maybeFinishJoining();
    this.send({ type: MessageType.HeartbeatResp, to: m.from, term: this.term, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    assert(snapshot !== undefined, 'a Snapshot message without its snapshot');
    if (snapshot.index <= this.log.committed) {
      this.acknowledgeAppend(m.from, this.log.committed);
      return;
    }
    if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      // We already hold the snapshot's last entry: fast-forward the commit instead of restoring.
      this.log.commitTo(snapshot.index);
      this.maybeFinishJoining();
      this.acknowledgeAppend(m.from, this.log.lastIndex);
      return;
    }
    this.log.restore(snapshot.index, snapshot.term);
    this.memberships.reset(snapshot.index, snapshot.membership);
    this.membershipChanged = true;
    this.snapshotMeta = snapshot;
    this.pendingSnapshot = snapshot;
    this.maybeFinishJoining();
    this.acknowledgeAppend(m.from, snapshot.index);
  }

  /** A membership entry takes effect as soon as it is in the log. */
  private noteConfEntry(entry: Entry): void {
    if (entry.type !== EntryType.ConfChange) return;
    const change = decodeConfChange(entry.data);
    const next = applyConfChange(this.memberships.current, change);
    // Validated by the leader that proposed it; an entry that no longer applies (a duplicate) is a no-op.
    if (typeof next === 'string') return;
    this.memberships.push(entry.index, next);
    this.membershipChanged = true;
    if (this.role === 'leader') {
      // A new incarnation holds nothing of what the old one acknowledged: start its progress over.
      if (change.type === 'readmit') this.progress.delete(change.nodeId);
      this.syncProgressWithMembership();
    }
  }

  // ---- leader side --------------------------------------------------------------------------

  private tickLeader(): void {
    this.heartbeatElapsed += 1;
    this.electionElapsed += 1;
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0;
      if (this.options.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
      if (this.leadTransferee !== NO_NODE) this.leadTransferee = NO_NODE; // the transfer timed out
    }
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readOnly.lastContext);
      this.maybePromoteLearner();
    }
  }

  /**
   * Promotes one learner added with `promoteWhenCaughtUp` whose log holds the latest membership
   * change and is within `promoteWithinEntries` of the last index (one change at a time).
   */
  private maybePromoteLearner(): void {
    if (this.pendingConfIndex > this.log.committed || this.leadTransferee !== NO_NODE) return;
    if (!isVoter(this.memberships.current, this.id)) return;
    for (const member of this.memberships.current.members) {
      if (member.role !== 'learner' || !member.promoteWhenCaughtUp) continue;
      const progress = this.progress.get(member.id);
      if (progress === undefined || !progress.recentActive) continue;
      if (progress.match < this.pendingConfIndex) continue;
      if (this.log.lastIndex - progress.match > this.options.promoteWithinEntries) continue;
      try {
        this.proposeConfChange({ type: 'promote-learner', nodeId: member.id });
      } catch (error) {
        if (!(error instanceof ProposalDroppedError)) throw error; // a full pipeline: next time
      }
      return;
    }
  }

  /** Check-quorum: did a majority answer since the last round? Resets the marks for the next one. */
  private quorumActive(): boolean {
    const active = isQuorum(
      voters(this.memberships.current),
      (id) => id === this.id || this.progress.get(id)?.recentActive === true,
    );
    for (const [id, progress] of this.progress) progress.recentActive = id === this.id;
    return active;
  }

  private stepLeader(m: Message): void {
    const progress = this.progress.get(m.from);
    switch (m.type) {
      case MessageType.AppendResp:
        if (progress) this.handleAppendResp(m, progress);
        return;
      case MessageType.HeartbeatResp:
        if (progress) this.handleHeartbeatResp(m, progress);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndex(m.from, m.context ?? '');
        return;
      case MessageType.TransferLeader:
        if (progress) this.transferLeadership(m.from);
        return;
    }
  }

  private handleAppendResp(m: Message, progress: Progress): void {
    progress.recentActive = true;
    const index = m.logIndex ?? 0;
    if (m.reject) {
      let hint = m.rejectHint ?? 0;
      if ((m.logTerm ?? 0) > 0) hint = this.log.findConflictByTerm(hint, m.logTerm ?? 0).index;
      if (progress.maybeDecrTo(index, hint)) {
        if (progress.state === 'replicate') progress.becomeProbe();
        this.broadcastEntries = true;
      }
      return;
    }
    if (!progress.maybeUpdate(index)) return;
    if (progress.state === 'probe') progress.becomeReplicate();
    else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) {
      progress.becomeProbe();
      progress.becomeReplicate();
    } else if (progress.state === 'replicate') progress.inflights.freeLE(index);
    this.maybeCommit();
    this.broadcastEntries = true;
    if (m.from === this.leadTransferee && progress.match === this.log.lastIndex)
      this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResp(m: Message, progress: Progress): void {
    progress.recentActive = true;
    progress.probeSent = false;
    // Appends may have been lost: free a slot so the pipeline cannot stay full forever, and probe.
    if (progress.state === 'replicate' && progress.inflights.full) progress.inflights.freeFirst();
    if (progress.match < this.log.lastIndex) {
      progress.appendWanted = true;
      this.broadcastEntries = true;
    }
    if (m.context === undefined) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined) return;
    if (!isQuorum(voters(this.memberships.current), (id) => id === this.id || acks.has(id))) return;
    for (const request of this.readOnly.advance(m.context))
      this.answerRead(request.from, request.context, request.index);
  }

  private handleReadIndex(from: NodeId, context: string): void {
    if (this.bugs.readWithoutReadIndex) {
      this.answerRead(from, context, this.log.committed);
      return;
    }
    // A new leader's commit index may be behind what was committed before it led — a sole voter
    // restarted too (its persisted commit can lag what it acknowledged): reads wait for its no-op.
    if (!this.committedInCurrentTerm()) {
      this.pendingReadIndexes.push({ from, context });
      return;
    }
    if (voters(this.memberships.current).length === 1) {
      this.answerRead(from, context, this.log.committed);
      return;
    }
    this.readOnly.add(context, this.log.committed, from);
    this.broadcastHeartbeat(context);
  }

  private answerRead(from: NodeId, context: string, index: number): void {
    if (from === this.id) this.readStates.push({ index, context });
    else
      this.send({
        type: MessageType.ReadIndexResp,
        to: from,
        term: this.term,
        logIndex: index,
        context,
      });
  }

  private committedInCurrentTerm(): boolean {
    return this.log.termAt(this.log.committed) === this.term;
  }

  private appendProposal(
    entries: Array<{ type: EntryType; data: Uint8Array }>,
    internal = false,
  ): { firstIndex: number; term: number } {
    if (!internal) {
      this.requireLeader();
      if (this.leadTransferee !== NO_NODE)
        throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
      if (!isVoter(this.memberships.current, this.id))
        throw new ProposalDroppedError('this leader is being removed from the cluster');
    }
    let bytes = 0;
    for (const entry of entries) bytes += entry.data.length;
    if (
      !internal &&
      this.uncommittedBytes > 0 &&
      this.uncommittedBytes + bytes > this.options.uncommittedBytesMax
    ) {
      throw new ProposalDroppedError(
        `${this.uncommittedBytes} bytes are proposed but not committed yet`,
      );
    }
    this.uncommittedBytes += bytes;
    const firstIndex = this.log.lastIndex + 1;
    const full: Entry[] = entries.map((e, i) => ({
      index: firstIndex + i,
      term: this.term,
      type: e.type,
      data: e.data,
    }));
    this.log.appendAsLeader(full);
    for (const entry of full) {
      this.noteConfEntry(entry);
      if (entry.type === EntryType.ConfChange) this.pendingConfIndex = entry.index;
    }
    this.broadcastEntries = true;
    return { firstIndex, term: this.term };
  }

  private requireLeader(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leaderId);
  }

  /** The leader's own match: what it persisted (a bug switch lets it count what it has not). */
  private selfMatch(): number {
    return this.bugs.applyBeforePersist ? this.log.lastIndex : this.log.stable;
  }

  private applyLimit(): number {
    return this.bugs.applyBeforePersist ? this.log.lastIndex : this.log.stable;
  }

  private maybeCommit(): void {
    const voterIds = voters(this.memberships.current);
    const index = majorityIndex(voterIds, (id) =>
      id === this.id ? this.selfMatch() : (this.progress.get(id)?.match ?? 0),
    );
    if (index <= this.log.committed) return;
    // Figure 8: only an entry of the current term is committed by counting replicas.
    if (!this.bugs.commitPreviousTermEntries && this.log.termAt(index) !== this.term) return;
    const firstInTerm = !this.committedInCurrentTerm();
    this.uncommittedBytes = Math.max(
      0,
      this.uncommittedBytes - this.bytesBetween(this.log.committed, index),
    );
    this.log.commitTo(index);
    this.broadcastCommit = true;
    if (firstInTerm && this.committedInCurrentTerm()) {
      const pending = this.pendingReadIndexes;
      this.pendingReadIndexes = [];
      for (const request of pending) this.handleReadIndex(request.from, request.context);
    }
    if (
      !isVoter(this.memberships.current, this.id) &&
      this.pendingConfIndex <= this.log.committed
    ) {
      this.stepDownAfterRemoval();
    }
  }

  private bytesBetween(fromExclusive: number, toInclusive: number): number {
    let bytes = 0;
    for (let i = fromExclusive + 1; i <= toInclusive; i++)
      bytes += this.log.entryAt(i)?.data.length ?? 0;
    return bytes;
  }

  /** The membership without this leader is committed: hand over to the most caught-up voter. */
  private stepDownAfterRemoval(): void {
    this.flushBroadcast(); // let the others learn the commit first
    let best: NodeId = NO_NODE;
    let bestMatch = -1;
    for (const id of voters(this.memberships.current)) {
      const match = this.progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best !== NO_NODE && bestMatch === this.log.lastIndex) this.sendTimeoutNow(best);
    this.becomeFollower(this.term, NO_NODE);
  }

  private resetProgress(): void {
    this.progress = new Map();
    this.syncProgressWithMembership();
    this.progress.get(this.id)?.maybeUpdate(this.selfMatch());
  }

  private syncProgressWithMembership(): void {
    const ids = new Set(memberIds(this.memberships.current));
    ids.add(this.id);
    for (const id of [...this.progress.keys()]) if (!ids.has(id)) this.progress.delete(id);
    for (const id of ids) {
      if (!this.progress.has(id)) {
        this.progress.set(
          id,
          new Progress(
            this.log.lastIndex,
            this.options.inflightCountMax,
            this.options.inflightBytesMax,
          ),
        );
      }
    }
  }

  /** Sends what each follower is missing, pipelined within its limits, and the new commit index. */
  private flushBroadcast(): void {
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      let sent = false;
      while (!progress.paused && progress.next <= this.log.lastIndex) {
        if (!this.sendAppend(id, progress)) break;
        sent = true;
      }
      const wanted = progress.appendWanted || (this.broadcastCommit && progress.match > 0);
      // An empty Append still probes: a follower missing entries the leader thinks in flight rejects it.
      if (!sent && wanted && !progress.paused) this.sendAppend(id, progress);
      progress.appendWanted = false;
    }
    this.broadcastEntries = false;
    this.broadcastCommit = false;
  }

  /** One Append (or a Snapshot when the entries are compacted away). Returns false when nothing more can go. */
  private sendAppend(to: NodeId, progress: Progress): boolean {
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === undefined || progress.next < this.log.firstIndex) {
      this.sendSnapshot(to, progress);
      return false;
    }
    const entries =
      progress.next <= this.log.lastIndex
        ? this.log.slice(progress.next, this.log.lastIndex, this.options.appendBytesMax)
        : [];
    let bytes = 0;
    for (const entry of entries) bytes += entry.data.length;
    this.send({
      type: MessageType.Append,
      to,
      term: this.term,
      logIndex: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    progress.sentEntries(prevIndex + entries.length, bytes, entries.length);
    return true;
  }

  private sendSnapshot(to: NodeId, progress: Progress): void {
    if (!progress.recentActive) return; // no point streaming a snapshot to a node that does not answer
    const snapshot = this.snapshotMeta;
    this.send({ type: MessageType.Snapshot, to, term: this.term, snapshot });
    progress.becomeSnapshot(snapshot.index);
  }

  private broadcastHeartbeat(context: string | undefined): void {
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      this.send({
        type: MessageType.Heartbeat,
        to: id,
        term: this.term,
        commit: Math.min(progress.match, this.log.committed),
        context,
      });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: MessageType.TimeoutNow, to, term: this.term });
  }

  private send(message: Omit<Message, 'from'> & { from?: NodeId }): void {
    const full = { ...message, from: this.id } as Message;
    if (this.role === 'leader' && SENDABLE_BEFORE_PERSIST.has(full.type)) this.messages.push(full);
    else this.messagesAfterPersist.push(full);
  }

  private hardState(): HardState {
    const state: HardState = { term: this.term, vote: this.vote, commit: this.log.committed };
    if (this.joining !== '') state.joining = this.joining;
    return state;
  }

  private softState(): SoftState {
    return { role: this.role, leaderId: this.leaderId };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit && a.joining === b.joining;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leaderId === b.leaderId;
}
