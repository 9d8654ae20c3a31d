import { SeededRandom } from '@xcron/testing';
import { isVoter, voters } from '../../core/membership';
import type { RaftStatus } from '../../core/raft';
import type {
  ConfChange,
  Entry,
  InjectedBugs,
  Member,
  Membership,
  Message,
  NodeId,
  SnapshotMeta,
} from '../../core/types';
import { KvStateMachine } from './kv-state-machine';
import { RELIABLE_NETWORK, SimNetwork, type NetworkFaults } from './sim-network';
import { SimNode, type ProposalHandle, type ReadHandle } from './sim-node';
import { SimStorage } from './sim-storage';
import { SafetyChecker } from './safety-checker';

export interface SimulationOptions {
  /** Number of nodes, named n1…nN; all voters at bootstrap unless `initialVoters` says otherwise. */
  nodes: number;
  seed: number;
  /** The first voters (default all): the others start as learners. */
  initialVoters?: number;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  network?: NetworkFaults;
  diskLatencyMsMin?: number;
  diskLatencyMsMax?: number;
  snapshotEveryEntries?: number;
  compactionMarginEntries?: number;
  /** Nodes keep the state machine durably on their own (see SimNodeOptions.durableStateMachine). */
  durableStateMachine?: boolean;
  appendBytesMax?: number;
  inflightCountMax?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  bugs?: InjectedBugs;
  /**
   * Probability that a node crashes right after it granted a vote (and comes back 1–5 ms later):
   * crashes at the moments that matter, as FoundationDB's buggify does.
   */
  crashAfterVoteRate?: number;
  /** Probability that a new leader crashes 1–20 ms into its term (and comes back within 200 ms). */
  crashNewLeaderRate?: number;
  /** Probability, per disk write of a leader, that it crashes before the write completes. */
  crashLeaderDuringWriteRate?: number;
  /**
   * Fast failover (RaftNode: a peer's connection closed and a reconnect was refused): the
   * probability that a live node gets that evidence about a node that crashed, 1..
   * `leaderDownEvidenceDelayMsMax` ms after the crash — if it is still down and the link from it
   * is not cut then (a restarted process accepts the reconnect; a cut link never closed). The
   * core acts on it only when the crashed node is its leader. 0 (the default): never.
   */
  leaderDownEvidenceRate?: number;
  leaderDownEvidenceDelayMsMax?: number;
  /**
   * False alarms: per-millisecond probability that a random live follower is told its leader is
   * unreachable while the leader is alive; half of them also lose the leader's messages for up
   * to `falseAlarmBlipMsMax` ms (the connection dropped). They may cost a failed pre-vote, never a
   * term. 0 (the default): none.
   */
  falseLeaderDownRate?: number;
  falseAlarmBlipMsMax?: number;
  /** How often a joining node (after a disk loss) asks the leader to re-admit it, in ms. */
  rejoinEveryMs?: number;
  /** Lines of trace kept for a failure report. */
  traceLines?: number;
}

/** How many times each kind of event happened: a run that never exercised a fault class proves little. */
export interface SimulationCounts {
  elections: number;
  leaderChanges: number;
  crashes: number;
  restarts: number;
  partitions: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  membershipChanges: number;
  leaderTransfers: number;
  /** Nodes restarted with an empty disk (`wipe`). */
  diskLosses: number;
  /** `readmit` changes proposed for joining nodes. */
  readmissions: number;
  /** Crashes that lost a hard state written without a sync (a bare commit index, Ready.mustSync). */
  unsyncedCommitsLost: number;
  /** Evidence of a crashed leader that a follower acted on (an early campaign planned). */
  leaderDownReports: number;
  /** False alarms about a live leader that a follower acted on. */
  falseLeaderDownReports: number;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
}

/** A failure of a safety property, carrying the seed and the trace that led to it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    reason: string,
    trace: readonly string[],
  ) {
    super(
      `simulation seed ${seed} failed: ${reason}\n--- last ${trace.length} trace lines ---\n${trace.join('\n')}`,
    );
    this.name = 'SimulationFailure';
  }
}

/**
 * A seeded, deterministic Raft cluster on simulated time, network and disks (the rafttest of
 * libs/raft). Everything random comes from one PRNG, so a seed replays exactly.
 *
 * Time advances in 1 ms steps; nodes tick every `tickMs`. After every step the SafetyChecker
 * checks election safety, log matching, leader completeness and state-machine safety; a violation
 * throws a SimulationFailure naming the seed.
 */
export class Simulation {
  readonly random: SeededRandom;
  readonly network: SimNetwork;
  readonly options: Required<Omit<SimulationOptions, 'bugs' | 'network' | 'initialVoters'>> & {
    bugs?: InjectedBugs;
  };
  nowMs = 0;
  readonly ids: NodeId[];
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly storages = new Map<NodeId, SimStorage>();
  private readonly crashed = new Set<NodeId>();
  readonly checker: SafetyChecker;
  readonly counts: SimulationCounts = {
    elections: 0,
    leaderChanges: 0,
    crashes: 0,
    restarts: 0,
    partitions: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    membershipChanges: 0,
    leaderTransfers: 0,
    diskLosses: 0,
    readmissions: 0,
    unsyncedCommitsLost: 0,
    leaderDownReports: 0,
    falseLeaderDownReports: 0,
    messagesSent: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
  };
  private readonly trace: string[] = [];
  private lastLeaderTerm = new Map<NodeId, string>();
  /** Crashes planned at chosen moments (buggify), and the restarts that follow them. */
  private readonly scheduledCrashes = new Map<NodeId, { atMs: number; downMs: number }>();
  private readonly scheduledRestarts = new Map<NodeId, number>();
  /** Proposals abandoned by a crash of the node that held them: their outcome is unknown. */
  readonly abandoned = new Set<ProposalHandle>();
  /** Leader-down evidence on its way to a node: `about` crashed (or, `falseAlarm`, did not). */
  private pendingEvidence: Array<{ atMs: number; to: NodeId; about: NodeId; falseAlarm: boolean }> =
    [];
  /**
   * Draws of the leader-down evidence and false alarms: a PRNG of their own, so that a run
   * without them draws from `random` exactly what it always did.
   */
  private readonly evidenceRandom: SeededRandom;
  /** What every node's disk starts from: the bootstrap membership and an empty state machine. */
  private readonly bootstrap: SnapshotMeta;
  private readonly emptyState: Uint8Array;

  constructor(options: SimulationOptions) {
    this.options = {
      tickMs: 10,
      electionTicks: 10,
      heartbeatTicks: 1,
      diskLatencyMsMin: 1,
      diskLatencyMsMax: 3,
      snapshotEveryEntries: 64,
      compactionMarginEntries: 8,
      durableStateMachine: false,
      appendBytesMax: 64 * 1024,
      inflightCountMax: 64,
      preVote: true,
      checkQuorum: true,
      crashAfterVoteRate: 0,
      crashNewLeaderRate: 0,
      crashLeaderDuringWriteRate: 0,
      leaderDownEvidenceRate: 0,
      leaderDownEvidenceDelayMsMax: 100,
      falseLeaderDownRate: 0,
      falseAlarmBlipMsMax: 300,
      rejoinEveryMs: 50,
      traceLines: 200,
      ...options,
    };
    this.random = new SeededRandom(options.seed);
    this.evidenceRandom = new SeededRandom(options.seed ^ 0x2f6b_3a71);
    this.network = new SimNetwork(
      this.random.fork(),
      options.network ?? RELIABLE_NETWORK,
      (message) => this.reportSnapshotDelivery(message, false),
    );
    this.ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    const initialVoters = options.initialVoters ?? options.nodes;
    const members: Member[] = this.ids.map((id, i) => ({
      id,
      role: i < initialVoters ? 'voter' : 'learner',
      peerAddress: `${id}:8899`,
    }));
    this.bootstrap = { index: 0, term: 0, membership: { members } };
    this.emptyState = new KvStateMachine().snapshot();
    this.checker = new SafetyChecker((reason) => this.fail(reason));
    for (const id of this.ids) {
      this.storages.set(id, new SimStorage(this.bootstrap, this.emptyState));
      this.startNode(id);
    }
  }

  // ---- time ---------------------------------------------------------------------------------

  /** Advances simulated time by one millisecond: ticks, deliveries, disk completions, checks. */
  step(): void {
    this.nowMs += 1;
    const tickNow = this.nowMs % this.options.tickMs === 0;
    for (const envelope of this.network.takeDue(this.nowMs)) {
      const target = this.aliveNode(envelope.message.to);
      if (target) target.receive(envelope.message, envelope.snapshotData);
      this.reportSnapshotDelivery(envelope.message, target !== undefined);
    }
    for (const id of this.ids) {
      const node = this.aliveNode(id);
      if (node === undefined) continue;
      if (tickNow) node.tick();
      node.process(this.nowMs);
    }
    this.deliverLeaderDownEvidence();
    this.observe();
    this.crashAndRestartScheduled();
    if (this.nowMs % this.options.rejoinEveryMs === 0) this.rejoinJoiningNodes();
  }

  /** Crashes `id` at `atMs` (at the end of that step) and restarts it `downMs` later. */
  scheduleCrash(id: NodeId, atMs: number, downMs: number): void {
    if (!this.scheduledCrashes.has(id)) this.scheduledCrashes.set(id, { atMs, downMs });
  }

  private crashAndRestartScheduled(): void {
    for (const [id, plan] of this.scheduledCrashes) {
      if (plan.atMs > this.nowMs) continue;
      this.scheduledCrashes.delete(id);
      if (!this.isAlive(id)) continue;
      this.crash(id);
      this.scheduledRestarts.set(id, this.nowMs + plan.downMs);
    }
    for (const [id, at] of this.scheduledRestarts) {
      if (at > this.nowMs) continue;
      this.scheduledRestarts.delete(id);
      this.restart(id);
    }
  }

  runFor(ms: number): void {
    for (let i = 0; i < ms; i++) this.step();
  }

  /** Steps until `done()` or `maxMs` passed; returns whether `done()` became true. */
  runUntil(done: () => boolean, maxMs: number): boolean {
    for (let i = 0; i < maxMs; i++) {
      if (done()) return true;
      this.step();
    }
    return done();
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Kills `id`: its in-flight disk write survives whole or not at all, its memory is gone. */
  crash(id: NodeId): void {
    const node = this.aliveNode(id);
    if (node === undefined) return;
    const lostBefore = this.storages.get(id)!.unsyncedLost;
    node.crashDuringWrite(this.random.chance(0.5));
    this.counts.unsyncedCommitsLost += this.storages.get(id)!.unsyncedLost - lostBefore;
    if (this.options.durableStateMachine) node.crashStateMachine(this.random.chance(0.5));
    for (const handle of node.abandonProposals()) this.abandoned.add(handle);
    this.nodes.delete(id);
    this.crashed.add(id);
    // Messages in flight to it are lost only if they arrive while it is down (see step()).
    // Messages in flight from it are lost as well: the connections that carried them died with it.
    this.network.dropFrom(id);
    this.checker.nodeCrashed(id);
    this.counts.crashes += 1;
    this.log(`crash ${id}`);
    this.planLeaderDownEvidence(id);
  }

  /** After a crash of `id`: which live nodes will see its connections close and its port refuse, and when. */
  private planLeaderDownEvidence(id: NodeId): void {
    const rate = this.options.leaderDownEvidenceRate;
    if (rate <= 0) return;
    for (const to of this.aliveIds()) {
      if (!this.evidenceRandom.chance(rate)) continue;
      const delayMs = 1 + this.evidenceRandom.nextInt(this.options.leaderDownEvidenceDelayMsMax);
      this.pendingEvidence.push({ atMs: this.nowMs + delayMs, to, about: id, falseAlarm: false });
    }
  }

  /**
   * Delivers the evidence that is due (a crashed node still down, its link not cut; RaftNode's
   * rule), and now and then raises a false alarm about a live leader.
   */
  private deliverLeaderDownEvidence(): void {
    if (
      this.options.falseLeaderDownRate > 0 &&
      this.evidenceRandom.chance(this.options.falseLeaderDownRate)
    ) {
      const alive = this.aliveIds();
      const to = alive.length === 0 ? '' : alive[this.evidenceRandom.nextInt(alive.length)];
      const leader = to === '' ? '' : this.node(to).core.currentLeader;
      if (leader !== '' && leader !== to && this.isAlive(leader)) {
        if (this.evidenceRandom.chance(0.5)) {
          const blipMs = 1 + this.evidenceRandom.nextInt(this.options.falseAlarmBlipMsMax);
          this.network.blip(leader, to, this.nowMs + blipMs);
          this.log(
            `false alarm: ${to} told ${leader} is down, ${leader}->${to} lost for ${blipMs} ms`,
          );
        } else this.log(`false alarm: ${to} told ${leader} is down`);
        this.pendingEvidence.push({ atMs: this.nowMs, to, about: leader, falseAlarm: true });
      }
    }
    if (this.pendingEvidence.length === 0) return;
    const later: typeof this.pendingEvidence = [];
    for (const evidence of this.pendingEvidence) {
      if (evidence.atMs > this.nowMs) {
        later.push(evidence);
        continue;
      }
      const { to, about, falseAlarm } = evidence;
      const node = this.aliveNode(to);
      if (node === undefined) continue;
      if (!falseAlarm && (this.isAlive(about) || this.network.isCut(about, to))) continue;
      if (!node.core.reportLeaderUnreachable(about)) continue;
      if (falseAlarm) this.counts.falseLeaderDownReports += 1;
      else this.counts.leaderDownReports += 1;
      this.log(
        `${to} campaigns early: leader ${about} reported down${falseAlarm ? ' (false alarm)' : ''}`,
      );
    }
    this.pendingEvidence = later;
  }

  /**
   * Disk loss: `id` crashes (if up) and its disk is replaced by an empty one; it comes back at the
   * next `restart`. As the node driver does when its peers already hold a cluster (its start-up
   * probe reached one: the simulation leaves out the window where none answers), it restarts
   * joining, under a new incarnation: no vote, no campaign until the leader re-admitted it — unless
   * the injected bug `rejoinAsNew` makes it start as a brand-new voter.
   */
  wipe(id: NodeId): void {
    if (this.isAlive(id)) this.crash(id);
    if (!this.crashed.has(id)) return;
    const joining = this.options.bugs?.rejoinAsNew
      ? undefined
      : `${id}.${this.random.nextInt(1_000_000_000)}`;
    this.storages.set(
      id,
      new SimStorage(this.bootstrap, this.emptyState, {
        term: 0,
        vote: '',
        commit: 0,
        ...(joining ? { joining } : {}),
      }),
    );
    this.counts.diskLosses += 1;
    this.log(`wipe ${id}${joining ? ` (joins as ${joining})` : ' (restarts as new)'}`);
  }

  restart(id: NodeId): void {
    if (!this.crashed.has(id)) return;
    this.crashed.delete(id);
    this.startNode(id);
    this.counts.restarts += 1;
    this.log(`restart ${id} (term ${this.node(id).core.status().term})`);
  }

  /** Splits the cluster: no message crosses between the groups. */
  partition(...groups: NodeId[][]): void {
    this.network.heal();
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const from of a) for (const to of b) this.network.cutLink(from, to);
      }
    }
    this.counts.partitions += 1;
    this.log(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`);
  }

  /** Cuts one direction only: `from` can no longer reach `to`, but hears from it. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.network.cutLink(from, to);
    this.counts.partitions += 1;
    this.log(`cut ${from} -> ${to}`);
  }

  /** Cuts `id` off from everyone, both ways. */
  isolate(id: NodeId): void {
    this.partition(
      [id],
      this.ids.filter((other) => other !== id),
    );
  }

  heal(): void {
    if (this.network.partitioned) this.log('heal');
    this.network.heal();
  }

  // ---- clients ------------------------------------------------------------------------------

  propose(id: NodeId, data: Uint8Array): ProposalHandle {
    const node = this.aliveNode(id);
    if (node === undefined) return { outcome: { status: 'rejected', reason: `${id} is down` } };
    return node.propose(data);
  }

  read(id: NodeId, key: string): ReadHandle {
    const node = this.aliveNode(id);
    if (node === undefined)
      return { key, outcome: { status: 'rejected', reason: `${id} is down` } };
    return node.read(key);
  }

  proposeConfChange(change: ConfChange): boolean {
    const leader = this.leader();
    if (leader === undefined) return false;
    try {
      leader.core.proposeConfChange(change);
      this.log(`propose ${change.type} ${change.nodeId} on ${leader.id}`);
      return true;
    } catch {
      return false;
    }
  }

  transferLeadership(to: NodeId): boolean {
    const leader = this.leader();
    if (leader === undefined || leader.id === to) return false;
    try {
      leader.core.transferLeadership(to);
      this.counts.leaderTransfers += 1;
      this.log(`transfer leadership ${leader.id} -> ${to}`);
      return true;
    } catch {
      return false;
    }
  }

  // ---- inspection ---------------------------------------------------------------------------

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`${id} is down`);
    return node;
  }

  aliveNode(id: NodeId): SimNode | undefined {
    return this.nodes.get(id);
  }

  isAlive(id: NodeId): boolean {
    return this.nodes.has(id);
  }

  aliveIds(): NodeId[] {
    return this.ids.filter((id) => this.nodes.has(id));
  }

  status(id: NodeId): RaftStatus {
    return this.node(id).core.status();
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      const status = node.core.status();
      if (status.role !== 'leader') continue;
      if (best === undefined || status.term > best.core.status().term) best = node;
    }
    return best;
  }

  /** The membership the current leader (or any live node) works with. */
  membership(): Membership {
    return (this.leader() ?? [...this.nodes.values()][0]).core.status().membership;
  }

  voters(): NodeId[] {
    return voters(this.membership());
  }

  isVoter(id: NodeId): boolean {
    return isVoter(this.membership(), id);
  }

  appliedEntries(id: NodeId): Entry[] {
    return this.checker.appliedBy(id);
  }

  traceTail(): string[] {
    return [...this.trace];
  }

  log(line: string): void {
    this.trace.push(`t=${this.nowMs} ${line}`);
    if (this.trace.length > this.options.traceLines) this.trace.shift();
  }

  fail(reason: string): never {
    throw new SimulationFailure(this.options.seed, reason, this.trace);
  }

  // ---- internals ----------------------------------------------------------------------------

  private startNode(id: NodeId): void {
    const storage = this.storages.get(id)!;
    const node = new SimNode(
      {
        id,
        electionTicks: this.options.electionTicks,
        heartbeatTicks: this.options.heartbeatTicks,
        diskLatencyMsMin: this.options.diskLatencyMsMin,
        diskLatencyMsMax: this.options.diskLatencyMsMax,
        snapshotEveryEntries: this.options.snapshotEveryEntries,
        compactionMarginEntries: this.options.compactionMarginEntries,
        durableStateMachine: this.options.durableStateMachine,
        appendBytesMax: this.options.appendBytesMax,
        inflightCountMax: this.options.inflightCountMax,
        preVote: this.options.preVote,
        checkQuorum: this.options.checkQuorum,
        bugs: this.options.bugs,
      },
      storage,
      this.random.fork(),
      {
        send: (message, data) => {
          this.network.send(message, this.nowMs, data);
          if (
            message.type === 'vote-resp' &&
            !message.reject &&
            this.random.chance(this.options.crashAfterVoteRate)
          ) {
            this.scheduleCrash(id, this.nowMs, 1 + this.random.nextInt(5));
          }
        },
        applied: (node, entry) => this.checker.applied(node, entry),
        snapshotInstalled: (node, index) => {
          this.counts.snapshotsInstalled += 1;
          this.checker.snapshotInstalled(node, index);
          this.log(`${node} installed snapshot ${index}`);
        },
        snapshotTaken: () => {
          this.counts.snapshotsTaken += 1;
        },
        writeStarted: (node, doneAtMs) => {
          if (
            doneAtMs <= this.nowMs + 1 ||
            !this.random.chance(this.options.crashLeaderDuringWriteRate)
          )
            return;
          if (this.aliveNode(node)?.core.status().role !== 'leader') return;
          this.scheduleCrash(
            node,
            this.nowMs + this.random.nextInt(doneAtMs - this.nowMs),
            1 + this.random.nextInt(300),
          );
        },
      },
    );
    this.nodes.set(id, node);
    // Raft's applied index: a durable state machine may hold more, which Raft applies again.
    this.checker.nodeStarted(id, node.core.status().applied);
  }

  /**
   * The driver's rejoin loop: each joining node that can reach the leader (both ways) asks it to
   * re-admit it (the `rejoin` request of RaftNode); the leader proposes a `readmit` if needed.
   */
  private rejoinJoiningNodes(): void {
    for (const node of this.nodes.values()) {
      const incarnation = node.core.joiningIncarnation;
      if (incarnation === '') continue;
      const leader = this.leader();
      if (leader === undefined || leader.id === node.id) continue;
      if (this.network.isCut(node.id, leader.id) || this.network.isCut(leader.id, node.id))
        continue;
      try {
        if (leader.core.readmit(node.id, incarnation) === 'proposed') {
          this.counts.readmissions += 1;
          this.log(`${leader.id} readmits ${node.id} as ${incarnation}`);
        }
      } catch {
        // Not leading any more, a membership change pending, or not a member: asked again later.
      }
    }
  }

  /** Tells a leader whether the snapshot it sent arrived (the driver's job in a real node). */
  private reportSnapshotDelivery(message: Message, delivered: boolean): void {
    if (message.type !== 'snapshot') return;
    this.aliveNode(message.from)?.core.reportSnapshot(message.to, delivered);
  }

  private observe(): void {
    const sent = this.network.counts;
    this.counts.messagesSent = sent.sent;
    this.counts.messagesDropped = sent.dropped;
    this.counts.messagesDuplicated = sent.duplicated;
    for (const node of this.nodes.values()) {
      const status = node.core.status();
      node.core.checkInvariants();
      const key = `${status.role}@${status.term}`;
      if (this.lastLeaderTerm.get(node.id) !== key) {
        this.lastLeaderTerm.set(node.id, key);
        if (status.role === 'candidate') this.counts.elections += 1;
        if (status.role === 'leader') {
          this.counts.leaderChanges += 1;
          this.log(`${node.id} is leader of term ${status.term}`);
          if (this.random.chance(this.options.crashNewLeaderRate)) {
            this.scheduleCrash(
              node.id,
              this.nowMs + 1 + this.random.nextInt(20),
              1 + this.random.nextInt(200),
            );
          }
        }
      }
      this.checker.observe(node, status);
    }
    if (this.checker.membershipChangesCommitted > this.counts.membershipChanges) {
      this.counts.membershipChanges = this.checker.membershipChangesCommitted;
    }
  }
}
