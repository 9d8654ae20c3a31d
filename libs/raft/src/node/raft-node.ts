import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { InvalidConfChangeError, NotLeaderError, ProposalDroppedError } from '../core/errors';
import { findMember, isVoter, voters } from '../core/membership';
import { RaftCore, type RaftStatus } from '../core/raft';
import {
  MessageType,
  NO_NODE,
  type ConfChange,
  type Entry,
  type HardState,
  type Member,
  type Message,
  type NodeId,
  type Ready,
  type SnapshotMeta,
} from '../core/types';
import { ClassicLevelRaftStorage } from '../storage/classic-level-raft-storage';
import { SyncTimingRaftStorage } from '../storage/sync-timing-raft-storage';
import type { RaftLogStorage } from '../storage/raft-storage';
import {
  SnapshotStore,
  type SnapshotExpectation,
  type SnapshotReceiver,
  type StoredSnapshot,
} from '../storage/snapshot-store';
import { crc32c } from '@node-rs/crc32';
import { PeerTransport } from '../transport/peer-transport';
import type { TransportLimits } from '../transport/transport.constants';
import { RemoteHandlerError } from '../transport/transport.errors';
import { decodeMessage, encodeEntries, encodeMessage } from './message-codec';
import {
  decodeJsonAnswer,
  decodeNodeRequest,
  encodeJsonAnswer,
  encodeNodeRequest,
  type ClusterProbeAnswer,
  type NodeRequest,
  type RejoinAnswer,
} from './node-rpc';
import { NodeStoppedError, ProposalLostError, ProposalTimeoutError } from './raft-node.errors';
import { rechunk } from './rechunk';
import type { DurableState, StateMachine } from './state-machine';

export interface RaftNodeLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RaftNodeOptions {
  id: NodeId;
  /** Directory of this node's Raft log (classic-level) and snapshot files. */
  dataDir: string;
  listenHost: string;
  listenPort: number;
  advertisedPeerAddress: string;
  advertisedHttpAddress: string;
  /**
   * The bootstrap membership, used on the very first start only (every node lists the same; the
   * cluster id is derived from it). A node added at run time lists the cluster's bootstrap members
   * too, with `joinExisting`.
   */
  initialMembers: Member[];
  /**
   * A node an operator adds at run time (`addMember` on the leader): it never bootstraps; on an
   * empty disk it starts joining and asks the leader to admit it.
   */
  joinExisting?: boolean;
  /**
   * First start with an empty disk: how long to probe the other initial members for a cluster that
   * already progressed before bootstrapping (default two election timeouts). The probe ends early
   * once every other member answered.
   */
  bootstrapProbeMs?: number;
  /**
   * Operator override: bootstrap an empty disk without probing. Only for a cluster started from
   * nothing: a wiped member of a running cluster bootstrapped this way may vote twice in a term.
   */
  forceBootstrap?: boolean;
  clusterSecret?: string;
  stateMachine: StateMachine;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Take a snapshot once this many entries were applied since the last one. */
  snapshotEveryEntries?: number;
  /**
   * Take a snapshot once the entries applied since the last one hold this many bytes of entry
   * data (default 64 MiB), if `snapshotEveryEntries` did not come first: it bounds the memory the
   * log holds (every entry since the last compaction is in memory) when entries are large.
   */
  snapshotEveryBytes?: number;
  /** Entries kept in the log behind a snapshot, so that a follower slightly behind needs none. */
  compactionMarginEntries?: number;
  /**
   * At most this many bytes of entry data kept behind a snapshot (default 8 MiB): the margin is
   * the smaller of this and `compactionMarginEntries` (it may be no entry at all).
   */
  compactionMarginBytes?: number;
  proposalTimeoutMs?: number;
  /** Where each Ready's log write goes; default classic-level under `dataDir/log`. */
  storage?: RaftLogStorage;
  /** Told how long each synced log write took (write + fsync), for an fsync-duration metric. */
  observeLogSyncMs?: (durationMs: number) => void;
  /** Limits of the peer transport (send queues, frame size, timeouts). */
  transportLimits?: Partial<TransportLimits>;
  logger?: RaftNodeLogger;
  random?: () => number;
}

/** A node's role as the server shows it: `learner` when it does not vote (or is joining). */
export type NodeRole = 'leader' | 'follower' | 'candidate' | 'learner';

export interface ClusterMemberInfo {
  id: NodeId;
  peerAddress: string;
  /** From the peer's handshake (undefined until this node has talked to it). */
  httpAddress?: string;
  learner: boolean;
}

/** What `/v1/cluster` and `/readyz` need, without the cost of `status()`. */
export interface ClusterInfo {
  id: NodeId;
  clusterId: string;
  role: NodeRole;
  /** NO_NODE ('') when no leader is known. */
  leaderId: NodeId;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  /** Started on an empty disk while the cluster existed: not voting until re-admitted. */
  joining: boolean;
  members: ClusterMemberInfo[];
}

export interface RoleChange {
  role: NodeRole;
  leaderId: NodeId;
  term: number;
  isLeader: boolean;
}

export interface AddMemberRequest {
  id: NodeId;
  peerAddress: string;
  /** true: stays a learner; false: a learner first, promoted to voter once caught up. */
  learner: boolean;
}

interface PendingProposal {
  term: number;
  resolve(result: Uint8Array): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface PendingRead {
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  index?: number;
}

const NOT_LEADER_CODE = 'NOT_LEADER';
const NOT_MEMBER_CODE = 'NOT_MEMBER';
const STARTING_CODE = 'STARTING';
const INVALID_CONF_CHANGE_CODE = 'INVALID_CONF_CHANGE';
/** Entries deleted per log-store compaction call (see compactStorage). */
const COMPACT_STEP_ENTRIES = 1_000;
/** Chunks of an InstallSnapshot transfer (a file's data, or a state machine's stream re-cut). */
const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/** The cluster id: a digest of the bootstrap membership, so nodes of different clusters never talk. */
export function clusterIdOf(members: readonly Member[]): string {
  const ids = members.map((m) => `${m.id}@${m.peerAddress}`).sort();
  return createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 16);
}

/**
 * The node driver: the I/O around the pure RaftCore. It ticks the core on a timer, carries its
 * messages over the peer transport, persists each Ready in one synced classic-level batch, applies
 * committed entries to the state machine, takes snapshots and streams them to followers in chunks,
 * and answers `propose()` with the state machine's result once the entry is applied here. A
 * follower forwards proposals to the leader over the peer connection.
 */
export class RaftNode {
  private readonly pendingProposals = new Map<number, PendingProposal>();
  private readonly pendingReads = new Map<string, PendingRead>();
  private readCounter = 0;
  private ticker: NodeJS.Timeout | undefined;
  private driveScheduled = false;
  private driving = false;
  private stopped = false;
  /**
   * Applies run one batch at a time, in the order the core handed the entries out, on this chain:
   * committed entries are applied as soon as they are known committed and persisted here, while
   * the Ready loop may be persisting later entries (see RaftCore.takeCommitted).
   */
  private applyChain: Promise<void> = Promise.resolve();
  /** Whether pump() queued an apply since the Ready loop last waited for the chain. */
  private appliesQueued = false;
  /** When each peer's last message arrived (performance.now()), for quorumContactAgeMs. */
  private readonly lastHeardMs = new Map<NodeId, number>();
  /** pump() holds the leader's messages back until the next turn of the event loop (see there). */
  private holdingMessages = false;
  /** A hold just ended: the next pump() sends, whatever it finds committed. */
  private holdEnded = false;
  private readonly endHold = (): void => {
    this.holdingMessages = false;
    this.holdEnded = true;
    this.scheduleDrive();
  };
  /** The snapshot being written (and the log compacted behind it), if any: one at a time. */
  private snapshotting: Promise<void> | undefined;
  /** The log store reclaiming the disk space of compacted entries, if it does (one at a time). */
  private reclaiming: Promise<void> | undefined;
  /** Up to where the space of compacted entries is to be reclaimed (see reclaimSpace). */
  private reclaimWanted = 0;
  /** How far this node's log store is compacted, as far as this driver knows. */
  private storageCompactedIndex: number;
  private lastSnapshotIndex: number;
  /**
   * Bytes of entry data applied since the index of the last snapshot (the one being written
   * included): counted at apply, where the sizes are at hand; see maybeSnapshot.
   */
  private appliedBytesSinceSnapshot = 0;
  private readonly sendingSnapshots = new Set<NodeId>();
  private readonly receivingSnapshots = new Map<
    NodeId,
    { index: number; receiver: SnapshotReceiver }
  >();
  /** The Snapshot message to step into the core once a transfer from that leader is complete. */
  private readonly pendingSnapshotMessage = new Map<NodeId, Message>();
  private fatal: Error | undefined;
  private readonly roleListeners = new Set<(change: RoleChange) => void>();
  private readonly leaderListeners = new Set<(leaderId: NodeId, term: number) => void>();
  private lastRole: RoleChange = { role: 'follower', leaderId: NO_NODE, term: 0, isLeader: false };

  private constructor(
    private readonly options: NodeOptions,
    readonly core: RaftCore,
    private readonly storage: RaftLogStorage,
    private readonly snapshots: SnapshotStore,
    private readonly transport: PeerTransport,
    readonly clusterId: string,
    snapshotIndex: number,
    /** HTTP addresses announced in peer handshakes. */
    private readonly httpAddresses: Map<NodeId, string>,
    /** Every peer address this node has known (the membership's, and the initial members'). */
    private readonly peerAddressBook: Map<NodeId, string>,
  ) {
    this.lastSnapshotIndex = snapshotIndex;
    this.storageCompactedIndex = snapshotIndex;
  }

  /** Opens (or bootstraps) the node's storage, restores the state machine and joins the cluster. */
  static async start(input: RaftNodeOptions): Promise<RaftNode> {
    const options = {
      tickMs: 100,
      electionTicks: 10,
      heartbeatTicks: 1,
      snapshotEveryEntries: 10_000,
      snapshotEveryBytes: 64 * 1024 * 1024,
      compactionMarginEntries: 1_000,
      compactionMarginBytes: 8 * 1024 * 1024,
      proposalTimeoutMs: 5_000,
      logger: console,
      random: Math.random,
      joinExisting: false,
      forceBootstrap: false,
      bootstrapProbeMs: 2 * (input.electionTicks ?? 10) * (input.tickMs ?? 100),
      // An option passed as undefined keeps its default instead of erasing it.
      ...(Object.fromEntries(
        Object.entries(input).filter(([, value]) => value !== undefined),
      ) as RaftNodeOptions),
    };
    if (options.stateMachine.durableState && !options.stateMachine.snapshotIsIsolated) {
      throw new Error(
        'raft: a state machine with durableState must stream its snapshot from a frozen view (snapshotIsIsolated): it is sent to followers while applies go on',
      );
    }
    const store =
      input.storage ?? (await ClassicLevelRaftStorage.open(join(options.dataDir, 'log')));
    const storage =
      input.observeLogSyncMs === undefined
        ? store
        : new SyncTimingRaftStorage(store, input.observeLogSyncMs);
    const snapshots = await SnapshotStore.open(join(options.dataDir, 'snapshots'), {
      logger: options.logger,
    });
    let persisted = await storage.load();
    const clusterId = persisted?.clusterId ?? clusterIdOf(input.initialMembers);
    const addressBook = new Map(input.initialMembers.map((m) => [m.id, m.peerAddress]));
    for (const m of persisted?.snapshot.membership.members ?? [])
      addressBook.set(m.id, m.peerAddress);
    // Set once built: the transport's handlers exist before the core and the node do.
    const refs: { core?: RaftCore; node?: RaftNode } = {};
    const peerAddresses = (): Map<NodeId, string> => {
      for (const member of refs.core?.currentMembership.members ?? [])
        addressBook.set(member.id, member.peerAddress);
      return addressBook;
    };
    const httpAddresses = new Map<NodeId, string>();
    // The transport starts first: a first start probes its peers before it has any state.
    const transport = new PeerTransport({
      nodeId: options.id,
      listenHost: options.listenHost,
      listenPort: options.listenPort,
      advertisedPeerAddress: options.advertisedPeerAddress,
      advertisedHttpAddress: options.advertisedHttpAddress,
      clusterId,
      clusterSecret: options.clusterSecret,
      resolvePeer: (peerId) => parseHostPort(peerAddresses().get(peerId)),
      logger: options.logger,
      random: options.random,
      limits: input.transportLimits,
    });
    transport.onMessage((from, payload) => refs.node?.onPeerMessage(from, payload));
    transport.onRequest((from, payload) =>
      refs.node ? refs.node.onPeerRequest(from, payload) : answerWhileStarting(payload, clusterId),
    );
    transport.onPeerHello((info) => httpAddresses.set(info.nodeId, info.httpAddress));
    transport.onPeerLinkDown((peerId) => refs.node?.onPeerLinkDown(peerId));
    await transport.start();
    let joinHint: NodeId = NO_NODE;
    try {
      if (persisted === undefined) {
        const bootstrap: SnapshotMeta = {
          index: 0,
          term: 0,
          membership: { members: input.initialMembers },
        };
        const first = await RaftNode.firstStart(options, transport, clusterId);
        joinHint = first.leaderHint;
        const hardState: HardState | undefined = first.join
          ? { term: 0, vote: NO_NODE, commit: 0, joining: randomUUID() }
          : undefined;
        await storage.bootstrap(clusterId, bootstrap, hardState);
        persisted = await storage.load();
        if (persisted === undefined)
          throw new Error('assertion failed: bootstrap left the store empty');
        options.logger.info(
          first.join
            ? `raft: joining cluster ${clusterId} (${first.reason}): not voting until the leader re-admits this node`
            : `raft: bootstrapped cluster ${clusterId} with ${input.initialMembers.length} member(s) (${first.reason})`,
        );
      }
    } catch (error) {
      await transport.stop();
      await storage.close();
      throw error;
    }
    // The newest snapshot file may be newer than the log store's record (a crash between them).
    let base = persisted.snapshot;
    let entries = persisted.entries;
    const latest = await snapshots.latest({ verifyData: false });
    try {
      if (latest && latest.meta.index >= base.index && latest.meta.index > 0) {
        const atBase = entries.find((e) => e.index === latest.meta.index);
        const keepsLog =
          atBase === undefined
            ? entries.length > 0 && entries[0].index === latest.meta.index + 1
            : atBase.term === latest.meta.term;
        base = latest.meta;
        entries = keepsLog ? entries.filter((e) => e.index > base.index) : [];
        await RaftNode.restoreAtStart(options, latest);
      } else if (persisted.compactedIndex > base.index) {
        throw new Error(
          `raft: the log is compacted to ${persisted.compactedIndex} but no snapshot file covers it`,
        );
      }
    } catch (error) {
      await transport.stop();
      await storage.close();
      throw error;
    }
    const core = new RaftCore(
      {
        id: options.id,
        electionTicks: options.electionTicks,
        heartbeatTicks: options.heartbeatTicks,
        random: options.random,
      },
      { hardState: persisted.hardState, snapshot: base, entries },
    );
    refs.core = core;
    for (const m of base.membership.members) addressBook.set(m.id, m.peerAddress);
    const node = new RaftNode(
      options,
      core,
      storage,
      snapshots,
      transport,
      persisted.clusterId,
      base.index,
      httpAddresses,
      addressBook,
    );
    refs.node = node;
    node.lastRole = node.currentRoleChange();
    node.ticker = setInterval(() => node.tick(), options.tickMs);
    // A sole voter has nobody to hear from: waiting an election timeout only delays its start
    // (etcd advances a single member's election ticks the same way).
    if (core.isSoleVoter && !core.isJoining) core.campaign();
    node.scheduleDrive();
    if (core.isJoining) void node.rejoinLoop(joinHint);
    return node;
  }

  /**
   * Start-up with the newest snapshot file `latest`: a durable state machine that already holds it
   * (persisted index at or past it) is left as it is — Raft applies again from the snapshot's
   * index and it skips what it holds; otherwise the state machine is restored from the file's
   * data, and a file without data (the state lived in the state machine) is a lost state.
   */
  private static async restoreAtStart(options: NodeOptions, latest: StoredSnapshot): Promise<void> {
    const { meta } = latest;
    const durable = options.stateMachine.durableState;
    const persistedIndex = durable?.persistedIndex();
    if (persistedIndex !== undefined && persistedIndex >= meta.index) {
      options.logger.info(
        `raft: the state machine holds index ${persistedIndex}, at or past snapshot ${meta.index}: not restored, entries after ${meta.index} are applied again`,
      );
      return;
    }
    if (latest.stateInMachine) {
      throw new Error(
        persistedIndex === undefined
          ? `raft: snapshot ${meta.index} on disk says the state lives in the state machine, but this state machine keeps no durable state (durableState): its data cannot be restored`
          : `raft: snapshot ${meta.index} on disk has no data (the state lives in the state machine), but the state machine's durable state holds only index ${persistedIndex} < ${meta.index}: the state machine's data was lost or rolled back. Restore it, or wipe this node's data (Raft's and the state machine's) so that it rejoins and receives a snapshot from the leader`,
      );
    }
    await options.stateMachine.restore(meta, latest.chunks());
    options.logger.info(`raft: restored the state machine from snapshot ${meta.index} on disk`);
  }

  /**
   * A first start (empty disk): bootstrap, or join? With `joinExisting`: join. Otherwise the other
   * initial members are probed for up to `bootstrapProbeMs`: if one of them (same cluster id: the
   * handshake checks it) holds a cluster that progressed (term or commit above 0), this node may
   * have been part of it and lost its disk: it joins. If every other member answered without one,
   * or none answered in time, it bootstraps (see docs/raft.md for the window that leaves).
   */
  private static async firstStart(
    options: NodeOptions,
    transport: PeerTransport,
    clusterId: string,
  ): Promise<{ join: boolean; leaderHint: NodeId; reason: string }> {
    if (options.joinExisting) return { join: true, leaderHint: NO_NODE, reason: 'joinExisting' };
    const others = options.initialMembers.filter((m) => m.id !== options.id);
    if (options.forceBootstrap || others.length === 0) {
      const reason = options.forceBootstrap ? 'forceBootstrap' : 'single member';
      return { join: false, leaderHint: NO_NODE, reason };
    }
    const deadline = Date.now() + options.bootstrapProbeMs;
    const answered = new Set<NodeId>();
    while (true) {
      const waitMs = Math.max(1, Math.min(deadline - Date.now(), options.tickMs * 5));
      const answers = await Promise.all(
        others
          .filter((m) => !answered.has(m.id))
          .map((m) => probePeer(transport, m.id, waitMs).then((answer) => ({ id: m.id, answer }))),
      );
      for (const { id, answer } of answers) {
        if (answer === undefined || answer.clusterId !== clusterId) continue;
        if (answer.term > 0 || answer.commit > 0) {
          return {
            join: true,
            leaderHint: answer.leaderId,
            reason: `${id} reports term ${answer.term}, commit ${answer.commit}`,
          };
        }
        answered.add(id);
      }
      if (answered.size === others.length)
        return { join: false, leaderHint: NO_NODE, reason: 'every peer is new as well' };
      if (Date.now() >= deadline) {
        const silent = others.filter((m) => !answered.has(m.id)).map((m) => m.id);
        options.logger.warn(
          `raft: no answer from ${silent.join(', ')} within ${options.bootstrapProbeMs} ms: bootstrapping as a new member (had this node lost its disk while they hold the cluster, it should have been started with joinExisting)`,
        );
        return { join: false, leaderHint: NO_NODE, reason: 'no peer answered in time' };
      }
      await delay(options.tickMs);
    }
  }

  /**
   * A joining node's loop: until a committed membership names this incarnation, ask the leader
   * (the one this node hears from, else the one a probe names) to re-admit it, once per election
   * timeout.
   */
  private async rejoinLoop(hint: NodeId): Promise<void> {
    const everyMs = this.options.tickMs * this.options.electionTicks;
    let target = hint;
    let warnedNotMember = false;
    while (!this.stopped && this.core.isJoining) {
      const heard = this.core.currentLeader;
      if (heard !== NO_NODE && heard !== this.id) target = heard;
      if (target === NO_NODE || target === this.id) target = await this.findLeader(everyMs);
      if (target !== NO_NODE && target !== this.id && !this.stopped) {
        try {
          const answer = decodeJsonAnswer<RejoinAnswer>(
            await this.transport.request(
              target,
              encodeNodeRequest({
                kind: 'rejoin',
                nodeId: this.id,
                peerAddress: this.options.advertisedPeerAddress,
                incarnation: this.core.joiningIncarnation,
              }),
              { timeoutMs: everyMs },
            ),
          );
          if (answer.status === 'proposed')
            this.options.logger.info(`raft: ${target} is re-admitting this node as a learner`);
        } catch (error) {
          const code = error instanceof RemoteHandlerError ? (error.remoteCode ?? '') : '';
          if (code.startsWith(NOT_LEADER_CODE)) target = code.slice(NOT_LEADER_CODE.length + 1);
          else if (code === NOT_MEMBER_CODE) {
            if (!warnedNotMember)
              this.options.logger.warn(
                `raft: this node is not a member of cluster ${this.clusterId}: waiting for addMember on the leader`,
              );
            warnedNotMember = true;
          } else if (!(error instanceof RemoteHandlerError)) target = NO_NODE;
        }
      }
      if (!this.core.isJoining) break;
      await delay(everyMs);
    }
    if (!this.stopped) this.options.logger.info('raft: re-admitted to the cluster');
  }

  /** Asks every known peer who leads (the answer of the highest term wins). */
  private async findLeader(timeoutMs: number): Promise<NodeId> {
    const peers = [...this.peerAddressBook.keys()].filter((id) => id !== this.id);
    const answers = await Promise.all(peers.map((id) => probePeer(this.transport, id, timeoutMs)));
    let best: ClusterProbeAnswer | undefined;
    for (const answer of answers) {
      if (answer === undefined || answer.leaderId === NO_NODE) continue;
      if (best === undefined || answer.term > best.term) best = answer;
    }
    return best?.leaderId ?? NO_NODE;
  }

  get id(): NodeId {
    return this.options.id;
  }

  /** The shortest election timeout (tickMs × electionTicks; a timeout is drawn up to twice it). */
  get electionTimeoutMs(): number {
    return this.options.tickMs * this.options.electionTicks;
  }

  status(): RaftStatus {
    return this.core.status();
  }

  /**
   * How long ago (ms) this node last heard from enough voters to make a majority with itself: 0
   * for a sole voter, Infinity when no majority was ever heard. Any message counts (an Append
   * answer, a heartbeat answer, a vote). A leader cut off from its peers sees it grow from its
   * first unanswered heartbeat, long before check-quorum makes it step down (a whole election
   * timeout): what it does meanwhile cannot be committed, and the scheduler holds its fires.
   */
  quorumContactAgeMs(): number {
    const others = voters(this.core.currentMembership).filter((id) => id !== this.options.id);
    const needed = Math.floor((others.length + 1) / 2); // with this node, a majority
    if (needed === 0) return 0;
    const nowMs = performance.now();
    const ages = others
      .map((id) => nowMs - (this.lastHeardMs.get(id) ?? -Infinity))
      .sort((a, b) => a - b);
    return ages[needed - 1];
  }

  /** Role, leader, term, indexes and members with both addresses: cheap (no progress copy). */
  clusterInfo(): ClusterInfo {
    const members = this.core.currentMembership.members.map((m) => {
      const info: ClusterMemberInfo = {
        id: m.id,
        peerAddress: m.peerAddress,
        learner: m.role === 'learner',
      };
      const http = this.httpAddressOf(m.id);
      if (http !== undefined) info.httpAddress = http;
      return info;
    });
    return {
      id: this.id,
      clusterId: this.clusterId,
      role: this.nodeRole(),
      leaderId: this.core.currentLeader,
      term: this.core.currentTerm,
      commitIndex: this.core.log.committed,
      appliedIndex: this.core.log.applied,
      joining: this.core.isJoining,
      members,
    };
  }

  /**
   * Called whenever this node's role or the leader it knows changes (and the term, while it
   * leads), within one drive pass of the change — a check-quorum step-down included — and once
   * more, as a follower, when a leading node stops. Returns a function that unsubscribes.
   */
  onRoleChange(listener: (change: RoleChange) => void): () => void {
    this.roleListeners.add(listener);
    return () => this.roleListeners.delete(listener);
  }

  /** Called whenever the leader this node knows changes (NO_NODE: none known). */
  onLeaderChange(listener: (leaderId: NodeId, term: number) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  private nodeRole(): NodeRole {
    const role = this.core.currentRole;
    if (role === 'leader') return 'leader';
    if (this.core.isJoining || !isVoter(this.core.currentMembership, this.id)) return 'learner';
    return role === 'follower' ? 'follower' : 'candidate';
  }

  private currentRoleChange(): RoleChange {
    const role = this.nodeRole();
    return {
      role,
      leaderId: this.core.currentLeader,
      term: this.core.currentTerm,
      isLeader: role === 'leader',
    };
  }

  /** Tells the listeners of a change of role or leader since the last look. */
  private observeRole(next = this.currentRoleChange()): void {
    const last = this.lastRole;
    const newLeadership = next.isLeader && next.term !== last.term;
    if (next.role === last.role && next.leaderId === last.leaderId && !newLeadership) return;
    this.lastRole = next;
    for (const listener of this.roleListeners) this.callListener(() => listener(next));
    if (next.leaderId !== last.leaderId || newLeadership) {
      for (const listener of this.leaderListeners)
        this.callListener(() => listener(next.leaderId, next.term));
    }
  }

  private callListener(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.logger.error(`raft: a role listener threw: ${String(error)}`);
    }
  }

  /** A NotLeaderError naming the leader's addresses, as far as this node knows them. */
  private notLeader(leaderId: NodeId): NotLeaderError {
    if (leaderId === NO_NODE || leaderId === this.id) return new NotLeaderError(NO_NODE);
    return new NotLeaderError(leaderId, {
      leaderPeerAddress:
        findMember(this.core.currentMembership, leaderId)?.peerAddress ??
        this.peerAddressBook.get(leaderId),
      leaderHttpAddress: this.httpAddressOf(leaderId),
    });
  }

  /** The core's NotLeaderError with the leader's addresses added; any other error as it is. */
  private withLeaderAddress(error: unknown): Error {
    if (error instanceof NotLeaderError) return this.notLeader(error.leaderId);
    return error instanceof Error ? error : new Error(String(error));
  }

  /** The HTTP address a peer announced in its handshake (for redirects and /v1/cluster). */
  httpAddressOf(id: NodeId): string | undefined {
    return id === this.id ? this.options.advertisedHttpAddress : this.httpAddresses.get(id);
  }

  /**
   * Replicates `data` and resolves with the state machine's result for it once committed and
   * applied on this node. On a follower the write is forwarded to the leader. Rejects with
   * NotLeaderError (no leader known), ProposalTimeoutError, ProposalLostError or NodeStoppedError.
   */
  propose(data: Uint8Array, timeoutMs = this.options.proposalTimeoutMs): Promise<Uint8Array> {
    // The common case, on the leader: no retry loop, no clock reads, one promise.
    if (this.core.currentRole === 'leader' && !this.stopped && this.fatal === undefined)
      return this.proposeHere(data, timeoutMs);
    return this.proposeWhenLeaderKnown(data, timeoutMs);
  }

  private async proposeWhenLeaderKnown(data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.assertRunning();
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (this.core.currentRole === 'leader') return this.proposeHere(data, deadline - Date.now());
      const leaderId = this.core.currentLeader;
      if (leaderId !== NO_NODE) return this.forward(leaderId, data, deadline - Date.now());
      if (Date.now() >= deadline) throw this.notLeader(NO_NODE);
      await delay(Math.min(this.options.tickMs, deadline - Date.now()));
      this.assertRunning();
    }
  }

  /** Resolves once this node's state machine reflects every write committed before the call (ReadIndex). */
  async readBarrier(timeoutMs = this.options.proposalTimeoutMs): Promise<void> {
    this.assertRunning();
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const context = `${this.id}#${++this.readCounter}`;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => {
            this.pendingReads.delete(context);
            reject(new ProposalTimeoutError('read', timeoutMs));
          },
          Math.max(1, deadline - Date.now()),
        );
        this.pendingReads.set(context, { resolve, reject, timer });
      });
      if (this.core.readIndex(context)) {
        this.scheduleDrive();
        return done;
      }
      const pending = this.pendingReads.get(context);
      if (pending) {
        clearTimeout(pending.timer);
        this.pendingReads.delete(context);
      }
      if (Date.now() >= deadline) throw this.notLeader(NO_NODE);
      await delay(Math.min(this.options.tickMs, deadline - Date.now()));
    }
  }

  /**
   * A single-server membership change, made by the leader (a follower forwards it over the peer
   * connection); resolves once it is applied on the node that made it. While the previous change
   * is not committed yet it is retried until `timeoutMs`. Rejects with NotLeaderError (no leader
   * known), InvalidConfChangeError, ProposalTimeoutError or NodeStoppedError.
   */
  async changeMembership(
    change: ConfChange,
    timeoutMs = this.options.proposalTimeoutMs,
  ): Promise<void> {
    this.assertRunning();
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (this.core.currentRole === 'leader') {
        let proposed: { index: number; term: number };
        try {
          proposed = this.core.proposeConfChange(change);
        } catch (error) {
          if (!(error instanceof ProposalDroppedError) || Date.now() >= deadline)
            throw this.withLeaderAddress(error);
          await delay(Math.min(this.options.tickMs, deadline - Date.now()));
          this.assertRunning();
          continue;
        }
        this.scheduleDrive();
        await this.awaitApplied(proposed.index, proposed.term, Math.max(1, deadline - Date.now()));
        return;
      }
      const leaderId = this.core.currentLeader;
      if (leaderId !== NO_NODE) {
        const remainingMs = Math.max(1, deadline - Date.now());
        await this.forwardRequest(
          leaderId,
          { kind: 'conf-change', change, timeoutMs: remainingMs },
          remainingMs,
        );
        return;
      }
      if (Date.now() >= deadline) throw this.notLeader(NO_NODE);
      await delay(Math.min(this.options.tickMs, deadline - Date.now()));
      this.assertRunning();
    }
  }

  /**
   * Adds a node (on the leader, or forwarded to it), always as a learner first; with
   * `learner: false` the leader promotes it to voter once its log has caught up. The new node is
   * started with `joinExisting` (before or after this call).
   */
  addMember(request: AddMemberRequest, timeoutMs = this.options.proposalTimeoutMs): Promise<void> {
    return this.changeMembership(
      {
        type: 'add-learner',
        nodeId: request.id,
        peerAddress: request.peerAddress,
        promoteWhenCaughtUp: !request.learner,
      },
      timeoutMs,
    );
  }

  /** Removes a member (on the leader, or forwarded to it); a leader removing itself then steps down. */
  removeMember(id: NodeId, timeoutMs = this.options.proposalTimeoutMs): Promise<void> {
    return this.changeMembership({ type: 'remove-node', nodeId: id }, timeoutMs);
  }

  transferLeadership(to: NodeId): void {
    try {
      this.core.transferLeadership(to);
    } catch (error) {
      throw this.withLeaderAddress(error);
    }
    this.scheduleDrive();
  }

  /** Stops ticking and talking; fails what is pending; closes the files. Does not flush anything more. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    // A leader that stops leads no more: the scheduler must stop dispatching.
    if (this.lastRole.isLeader)
      this.observeRole({
        role: 'follower',
        leaderId: NO_NODE,
        term: this.lastRole.term,
        isLeader: false,
      });
    const stoppedError = new NodeStoppedError();
    for (const [, pending] of this.pendingProposals) {
      clearTimeout(pending.timer);
      pending.reject(stoppedError);
    }
    this.pendingProposals.clear();
    for (const [, read] of this.pendingReads) {
      clearTimeout(read.timer);
      read.reject(stoppedError);
    }
    this.pendingReads.clear();
    await this.transport.stop();
    while (this.driving) await delay(5);
    await this.applyChain;
    await this.snapshotting;
    await this.reclaiming;
    for (const { receiver } of this.receivingSnapshots.values())
      await receiver.abort().catch(() => undefined);
    await this.storage.close();
  }

  // ---- proposals ----------------------------------------------------------------------------

  private proposeHere(data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    let appended: { firstIndex: number; term: number };
    try {
      appended = this.core.propose([data]);
    } catch (error) {
      return Promise.reject(this.withLeaderAddress(error));
    }
    this.scheduleDrive();
    return this.awaitApplied(appended.firstIndex, appended.term, timeoutMs);
  }

  private awaitApplied(index: number, term: number, timeoutMs: number): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pendingProposals.delete(index);
          reject(new ProposalTimeoutError('proposal', timeoutMs));
        },
        Math.max(1, timeoutMs),
      );
      this.pendingProposals.set(index, { term, resolve, reject, timer });
    });
  }

  private forward(leaderId: NodeId, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.forwardRequest(leaderId, { kind: 'propose', data, timeoutMs }, timeoutMs);
  }

  /** A request to the leader; a NOT_LEADER answer becomes a NotLeaderError naming whom it knows. */
  private async forwardRequest(
    leaderId: NodeId,
    request: NodeRequest,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    try {
      return await this.transport.request(leaderId, encodeNodeRequest(request), { timeoutMs });
    } catch (error) {
      const code = error instanceof RemoteHandlerError ? (error.remoteCode ?? '') : '';
      if (code.startsWith(NOT_LEADER_CODE)) {
        const known = code.slice(NOT_LEADER_CODE.length + 1);
        throw this.notLeader(known === leaderId ? NO_NODE : known);
      }
      if (code === INVALID_CONF_CHANGE_CODE)
        throw new InvalidConfChangeError((error as RemoteHandlerError).remoteMessage);
      throw error;
    }
  }

  /** Thrown to a peer: its code carries the leader this node knows. */
  private notLeaderForPeer(): Error {
    const leaderId = this.core.currentLeader;
    return Object.assign(new NotLeaderError(leaderId), {
      code: `${NOT_LEADER_CODE}:${leaderId}`,
    });
  }

  // ---- the Ready cycle ----------------------------------------------------------------------

  private tick(): void {
    if (this.stopped) return;
    this.core.tick();
    this.observeRole(); // a check-quorum step-down happens in a tick
    this.scheduleDrive();
  }

  /** One pass per turn of the event loop, however many inputs (proposals, messages) came in it. */
  private scheduleDrive(): void {
    if (this.driveScheduled || this.stopped) return;
    this.driveScheduled = true;
    setImmediate(this.onDriveTurn);
  }

  private readonly onDriveTurn = (): void => {
    this.driveScheduled = false;
    if (this.stopped) return;
    this.observeRole();
    this.pump();
    if (!this.driving && this.core.hasReady()) void this.drive();
  };

  /**
   * What need not wait for the Ready loop: a leader's replication messages for entries proposed
   * since the last Ready (safe before its own write, as Ready.messages are), and committed entries
   * this node has persisted, to the apply chain.
   */
  private pump(): void {
    const committed = this.core.takeCommitted();
    if (committed.length > 0) {
      this.appliesQueued = this.core.currentRole === 'leader';
      void this.enqueueApply(committed).catch((error) => this.fail(error));
      if (!this.holdingMessages && !this.holdEnded && this.core.currentRole === 'leader') {
        // A new commit index alone would cost each follower a message, an answer and often a
        // write of its own (a Ready whose hard state changed). The proposers resolved by this
        // apply propose again before the next turn, so one Append then carries their entries and
        // the commit. Every pump() until then holds (drive() pumps again in this same turn); not
        // twice in a row: a steady stream of commits must not hold replication back.
        this.holdingMessages = true;
        setImmediate(this.endHold);
      }
    }
    if (this.holdingMessages) return;
    this.holdEnded = false;
    const messages = this.core.takeMessages();
    if (messages.length > 0) {
      this.sendAll(messages);
      // On the wire before this node encodes its own write of those entries (the next Ready):
      // the commit waits for a follower's write, which starts that much sooner.
      this.transport.flushNow();
    }
  }

  private async drive(): Promise<void> {
    if (this.driving || this.stopped) return;
    this.driving = true;
    try {
      while (!this.stopped) {
        this.pump();
        if (this.appliesQueued && this.core.currentRole === 'leader') {
          // Batching: let what just committed be applied and its proposers propose again (their
          // continuations run before the next turn), so that their entries join the next write
          // instead of waiting out a whole one. (A follower has no proposers waiting on its
          // applies: its next write goes at once.)
          this.appliesQueued = false;
          await this.applyChain;
          await nextTurn();
          if (this.stopped) break;
          this.pump();
        }
        if (!this.core.hasReady()) break;
        await this.handleReady(this.core.ready());
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.driving = false;
    }
    if (!this.stopped && this.core.hasReady()) this.scheduleDrive();
  }

  /** A failed fsync or a broken invariant: the node must not go on as if the write happened. */
  private fail(error: unknown): void {
    if (this.fatal) return;
    this.fatal = error instanceof Error ? error : new Error(String(error));
    this.options.logger.error(
      `raft: stopping after a fatal error: ${this.fatal.stack ?? this.fatal.message}`,
    );
    void this.stop();
  }

  private async handleReady(ready: Ready): Promise<void> {
    if (ready.messages.length > 0) {
      this.sendAll(ready.messages);
      this.transport.flushNow(); // before the write below is encoded (see pump)
    }
    if (ready.snapshot) {
      // The state machine is replaced: every apply taken before must be done (none is taken after),
      // and a snapshot of our own being written must not land after the leader's.
      await this.applyChain;
      await this.snapshotting;
      await this.installSnapshot(ready.snapshot);
    }
    if (ready.hardState || ready.snapshot || ready.entries.length > 0) {
      await this.storage.save({
        hardState: ready.hardState,
        snapshot: ready.snapshot,
        entries: ready.entries,
        // A bare new commit index (a follower told of a commit with no entries, a leader whose
        // commit advanced alone) is written without an fsync: one such write per round would
        // stall the next Append's write behind a whole fsync.
        sync: ready.mustSync,
      });
    }
    this.sendAll(ready.messagesAfterPersist);
    // Usually empty: pump() took what was committed just before ready(). In order after those.
    if (ready.committedEntries.length > 0) await this.enqueueApply(ready.committedEntries);
    for (const state of ready.readStates) {
      const read = this.pendingReads.get(state.context);
      if (read) read.index = state.index;
    }
    this.core.advance(ready);
    this.releaseReads();
    if (ready.softState) this.observeRole();
  }

  /** Applies `entries` after every batch queued before them; then a snapshot if one is due. */
  private enqueueApply(entries: Entry[]): Promise<void> {
    return this.onApplyChain(async () => {
      await this.apply(entries);
      this.core.appliedTo(entries[entries.length - 1].index);
      for (const entry of entries) this.appliedBytesSinceSnapshot += entry.data.length;
      this.releaseReads();
      await this.snapshotIfDue();
    });
  }

  /**
   * Runs `task` on the apply chain: after every apply queued before it, before any queued after.
   * Resolves with undefined, without running it, once the node stopped.
   */
  private onApplyChain<T>(task: () => Promise<T>): Promise<T | undefined> {
    const run = this.applyChain.then(() => (this.stopped ? undefined : task()));
    this.applyChain = run.then(noop, noop);
    return run;
  }

  private async snapshotIfDue(): Promise<void> {
    const streaming = this.maybeSnapshot();
    // A streamed snapshot may read the state as it goes: nothing more is applied until it is written.
    if (streaming) await streaming;
  }

  private sendAll(messages: readonly Message[]): void {
    // Appends to followers at the same position carry the same entries: their entries section is
    // encoded once and copied into each message. The key holds the last entry's index and term, so
    // by log matching equal keys mean equal entries even across a change of this node's log.
    let sections: Map<string, Uint8Array> | undefined;
    for (const message of messages) {
      if (message.type === MessageType.Snapshot) {
        void this.sendSnapshot(message);
        continue;
      }
      const entries = message.entries;
      let section: Uint8Array | undefined;
      if (entries !== undefined && entries.length > 0 && messages.length > 1) {
        const key = `${entries[0].index}:${entries.length}:${entries[entries.length - 1].term}`;
        sections ??= new Map();
        section = sections.get(key);
        if (section === undefined) {
          section = encodeEntries(entries);
          sections.set(key, section);
        }
      }
      this.transport.send(message.to, encodeMessage(message, section));
    }
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    const results = await this.options.stateMachine.apply(entries);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const pending = this.pendingProposals.get(entry.index);
      if (pending === undefined) continue;
      this.pendingProposals.delete(entry.index);
      clearTimeout(pending.timer);
      if (pending.term === entry.term) pending.resolve(results[i] ?? new Uint8Array(0));
      else pending.reject(new ProposalLostError(entry.index));
    }
  }

  private releaseReads(): void {
    if (this.pendingReads.size === 0) return;
    const applied = this.core.log.applied;
    for (const [context, read] of this.pendingReads) {
      if (read.index === undefined || read.index > applied) continue;
      this.pendingReads.delete(context);
      clearTimeout(read.timer);
      read.resolve();
    }
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /**
   * Right after an apply: takes a snapshot of the state machine when one is due (at least
   * `snapshotEveryEntries` entries, or `snapshotEveryBytes` bytes of entry data, applied since the
   * last one: whichever comes first). The bytes are taken now (the state as of `applied`);
   * writing the file and compacting the log behind it go on in the background while applies
   * continue, unless the state machine streams its snapshot: then the returned promise says when
   * applying may go on. A durable state machine is not read: it persists (while applies go on)
   * and the file records only the meta.
   */
  private maybeSnapshot(): Promise<void> | undefined {
    if (this.snapshotting !== undefined || this.stopped) return undefined;
    if (
      this.core.log.applied - this.lastSnapshotIndex < this.options.snapshotEveryEntries &&
      this.appliedBytesSinceSnapshot < this.options.snapshotEveryBytes
    )
      return undefined;
    const status = this.core.status();
    if (status.pendingSnapshotIndex > 0) return undefined;
    const meta = this.core.snapshotMetaAt(status.applied);
    // Runs right after an apply, on the apply chain: the count covers exactly the entries up to
    // `meta.index`; from here on it counts those after it.
    this.appliedBytesSinceSnapshot = 0;
    const durable = this.options.stateMachine.durableState;
    const data = durable ? undefined : this.options.stateMachine.snapshot();
    const task = (
      durable ? this.writeDurableSnapshot(meta, durable) : this.writeSnapshot(meta, data!)
    ).catch((error) => this.fail(error));
    this.snapshotting = task.finally(() => {
      this.snapshotting = undefined;
      // Applies that came meanwhile may have made the next one due already (an idle node would
      // otherwise wait for its next apply).
      if (!this.stopped)
        void this.onApplyChain(() => this.snapshotIfDue()).catch((error) => this.fail(error));
    });
    // No bytes read (durable), bytes, or a stream over a frozen view: none depends on what is
    // applied next.
    return data === undefined ||
      data instanceof Uint8Array ||
      this.options.stateMachine.snapshotIsIsolated
      ? undefined
      : this.snapshotting;
  }

  private async writeSnapshot(
    meta: SnapshotMeta,
    data: AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<void> {
    await this.snapshots.write(meta, data);
    await this.compactBehind(meta);
  }

  /**
   * A durable state machine's local snapshot: its state is made durable up to at least
   * `meta.index` (applies go on meanwhile), then a file without data records the meta.
   */
  private async writeDurableSnapshot(meta: SnapshotMeta, durable: DurableState): Promise<void> {
    const persistedIndex = await durable.persist();
    if (!(persistedIndex >= meta.index)) {
      throw new Error(
        `raft: the state machine's persist() made index ${persistedIndex} durable, below the snapshot's ${meta.index} (applied before the call)`,
      );
    }
    await this.snapshots.writeStateInMachine(meta);
    await this.compactBehind(meta);
  }

  /** After a snapshot file at `meta` is durable: compacts the log behind it, keeping the margin. */
  private async compactBehind(meta: SnapshotMeta): Promise<void> {
    // The leader's snapshot may have replaced the log meanwhile: ours is older, keep the log as is.
    if (this.stopped || this.core.log.snapshotBase.index >= meta.index) return;
    const compactIndex = this.compactionPoint(meta.index);
    this.core.snapshotTaken(meta.index, compactIndex);
    this.lastSnapshotIndex = meta.index;
    await this.compactStorage(compactIndex);
    this.reclaimSpace(compactIndex);
  }

  /**
   * Where to compact the log behind a snapshot at `snapshotIndex`: keep at most
   * `compactionMarginEntries` entries and `compactionMarginBytes` bytes of entry data before it
   * (the entries are in memory: their sizes cost a walk over at most the margin), never keeping
   * what the previous snapshot already covers.
   */
  private compactionPoint(snapshotIndex: number): number {
    const log = this.core.log;
    const floor = Math.max(this.lastSnapshotIndex, log.firstIndex - 1);
    const keepMax = Math.min(this.options.compactionMarginEntries, snapshotIndex - floor);
    let keep = 0;
    let bytes = 0;
    while (keep < keepMax) {
      const entry = log.entryAt(snapshotIndex - keep);
      if (entry === undefined) break;
      bytes += entry.data.length;
      if (bytes > this.options.compactionMarginBytes) break;
      keep += 1;
    }
    return Math.max(floor, snapshotIndex - keep);
  }

  /**
   * Lets the log store reclaim the disk space of the entries just compacted, in the background
   * (LevelDB keeps deleted entries in its table files until a compaction of their range). One at a
   * time: compactions meanwhile are folded into one more run after it.
   */
  private reclaimSpace(index: number): void {
    const reclaim = this.storage.reclaimSpace?.bind(this.storage);
    if (reclaim === undefined) return;
    this.reclaimWanted = Math.max(this.reclaimWanted, index);
    if (this.reclaiming !== undefined) return;
    const run = async (): Promise<void> => {
      let done = 0;
      while (done < this.reclaimWanted && !this.stopped) {
        const upTo = this.reclaimWanted;
        try {
          await reclaim(upTo);
        } catch (error) {
          this.options.logger.warn(
            `raft: reclaiming the log's disk space failed: ${String(error)}`,
          );
          return;
        }
        done = upTo;
      }
    };
    this.reclaiming = run().finally(() => {
      this.reclaiming = undefined;
    });
  }

  /**
   * Deletes the log store's entries up to `index` in steps: one delete batch of many thousand keys
   * is built synchronously and would stall the event loop (and every commit) for tens of ms.
   */
  private async compactStorage(index: number): Promise<void> {
    let to = this.storageCompactedIndex;
    while (to < index && !this.stopped) {
      to = Math.min(index, to + COMPACT_STEP_ENTRIES);
      await this.storage.compact(to);
      this.storageCompactedIndex = to;
    }
  }

  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const latest = await this.snapshots.latest({ verifyData: false });
    if (
      latest === undefined ||
      latest.meta.index !== meta.index ||
      latest.meta.term !== meta.term
    ) {
      throw new Error(`raft: snapshot ${meta.index}/${meta.term} to install is not on disk`);
    }
    await this.options.stateMachine.restore(meta, latest.chunks());
    this.lastSnapshotIndex = meta.index;
    // Nothing is applied while a snapshot waits to be installed: the count starts again here.
    this.appliedBytesSinceSnapshot = 0;
    // Saving the snapshot drops the stored entries it covers.
    this.storageCompactedIndex = Math.max(this.storageCompactedIndex, meta.index);
    this.options.logger.info(`raft: installed the leader's snapshot at ${meta.index}`);
  }

  /**
   * Leader side of InstallSnapshot: the newest snapshot file, in chunks, one follower at a time.
   * A file without data (a durable state machine's) is sent as the state machine's snapshot()
   * stream, taken between two applies and read while applies go on; its size and CRC, unknown up
   * front, go with `snapshot-end`.
   */
  private async sendSnapshot(message: Message): Promise<void> {
    const to = message.to;
    if (this.sendingSnapshots.has(to)) return;
    this.sendingSnapshots.add(to);
    let ok = false;
    try {
      const stored = await this.snapshots.latest({ verifyData: false });
      if (stored === undefined) throw new Error('no snapshot file to send');
      const request = (body: NodeRequest): Promise<Uint8Array> =>
        this.transport.request(to, encodeNodeRequest(body), { timeoutMs: 30_000 });
      let data: AsyncIterable<Uint8Array>;
      let announced: SnapshotExpectation | undefined;
      if (stored.stateInMachine) {
        const machine = this.options.stateMachine;
        const source = await this.onApplyChain(() => Promise.resolve(machine.snapshot()));
        if (source === undefined) throw new NodeStoppedError();
        data = rechunk(source instanceof Uint8Array ? [source] : source, SNAPSHOT_CHUNK_BYTES);
      } else {
        data = stored.chunks({ chunkBytes: SNAPSHOT_CHUNK_BYTES });
        announced = { dataBytes: stored.dataBytes, dataCrc32c: stored.dataCrc32c };
      }
      await request({ kind: 'snapshot-begin', meta: stored.meta, announced, term: message.term });
      let offset = 0;
      let crc = 0;
      for await (const chunk of data) {
        await request({
          kind: 'snapshot-chunk',
          snapshotIndex: stored.meta.index,
          offsetBytes: offset,
          data: chunk,
        });
        offset += chunk.length;
        if (announced === undefined) crc = crc32c(chunk, crc);
      }
      await request({
        kind: 'snapshot-end',
        snapshotIndex: stored.meta.index,
        final: announced === undefined ? { dataBytes: offset, dataCrc32c: crc } : undefined,
      });
      ok = true;
      this.options.logger.info(
        `raft: sent snapshot ${stored.meta.index} (${offset} bytes${announced === undefined ? ', streamed from the state machine' : ''}) to ${to}`,
      );
    } catch (error) {
      this.options.logger.warn(`raft: sending a snapshot to ${to} failed: ${String(error)}`);
    } finally {
      this.sendingSnapshots.delete(to);
      this.core.reportSnapshot(to, ok);
      this.scheduleDrive();
    }
  }

  // ---- peers --------------------------------------------------------------------------------

  private onPeerMessage(from: NodeId, payload: Uint8Array): void {
    if (this.stopped) return;
    let message: Message;
    try {
      message = decodeMessage(payload);
    } catch (error) {
      this.options.logger.warn(`raft: dropped a malformed message from ${from}: ${String(error)}`);
      return;
    }
    if (message.from !== from || message.to !== this.id) {
      this.options.logger.warn(
        `raft: dropped a message from ${from} claiming ${message.from} -> ${message.to}`,
      );
      return;
    }
    this.lastHeardMs.set(from, performance.now());
    this.core.step(message);
    this.scheduleDrive();
  }

  /**
   * Fast failover: a peer's inbound connection closed, or a connect to it was refused. When that
   * peer is our leader and both hold — its own connection to us is gone AND nothing listens at its
   * address any more — its process is gone (the kernel closed its sockets and refuses new ones),
   * and the core campaigns after a short random delay instead of its whole election timeout.
   * Either fact alone can come from a live leader (a connection closed over a malformed frame or a
   * network blip; a stale address for it in our book while its heartbeats still arrive), and then
   * nothing is reported. A wrong report is harmless anyway: the pre-vote fails while the other
   * followers still hear the leader (see RaftCore.reportLeaderUnreachable). A host that vanished
   * (no FIN, no refusal) is left to the election timeout.
   */
  private onPeerLinkDown(peerId: NodeId): void {
    if (this.stopped || peerId !== this.core.currentLeader) return;
    const reach = this.transport.peerReachability(peerId);
    if (reach.inboundOpen || !reach.connectRefused) return;
    if (!this.core.reportLeaderUnreachable(peerId)) return;
    this.options.logger.info(
      `raft: leader ${peerId} is unreachable (its connection closed and a reconnect was refused): campaigning after a short random delay instead of the election timeout`,
    );
  }

  private async onPeerRequest(from: NodeId, payload: Uint8Array): Promise<Uint8Array> {
    this.assertRunning();
    const request = decodeNodeRequest(payload);
    switch (request.kind) {
      case 'propose':
        if (this.core.currentRole !== 'leader') throw this.notLeaderForPeer();
        return this.proposeHere(request.data, request.timeoutMs);
      case 'cluster-probe':
        return encodeJsonAnswer(this.probeAnswer());
      case 'rejoin': {
        if (request.nodeId !== from)
          throw new Error(`${from} cannot ask to readmit ${request.nodeId}`);
        if (this.core.currentRole !== 'leader') throw this.notLeaderForPeer();
        let status: RejoinAnswer['status'];
        try {
          status = this.core.readmit(request.nodeId, request.incarnation, request.peerAddress);
        } catch (error) {
          if (error instanceof InvalidConfChangeError)
            throw Object.assign(error, { code: NOT_MEMBER_CODE });
          if (error instanceof NotLeaderError) throw this.notLeaderForPeer();
          throw error; // ProposalDroppedError: a change is pending; the joiner asks again
        }
        if (status === 'proposed') {
          this.options.logger.info(`raft: re-admitting ${request.nodeId} (a new incarnation)`);
          this.scheduleDrive();
        }
        return encodeJsonAnswer({ status });
      }
      case 'conf-change': {
        if (this.core.currentRole !== 'leader') throw this.notLeaderForPeer();
        try {
          await this.changeMembership(request.change, request.timeoutMs);
        } catch (error) {
          if (error instanceof NotLeaderError) throw this.notLeaderForPeer();
          if (error instanceof InvalidConfChangeError)
            throw Object.assign(error, { code: INVALID_CONF_CHANGE_CODE });
          throw error;
        }
        return new Uint8Array(0);
      }

      case 'snapshot-begin': {
        await this.receivingSnapshots.get(from)?.receiver.abort();
        const receiver = await this.snapshots.beginReceive(request.meta, request.announced);
        this.receivingSnapshots.set(from, { index: request.meta.index, receiver });
        this.pendingSnapshotMessage.set(from, {
          type: MessageType.Snapshot,
          from,
          to: this.id,
          term: request.term,
          snapshot: request.meta,
        });
        return new Uint8Array(0);
      }
      case 'snapshot-chunk': {
        const receiving = this.receivingSnapshots.get(from);
        if (receiving === undefined || receiving.index !== request.snapshotIndex)
          throw new Error('no snapshot transfer in progress');
        await receiving.receiver.writeChunk(request.offsetBytes, request.data);
        return new Uint8Array(0);
      }
      case 'snapshot-end': {
        const receiving = this.receivingSnapshots.get(from);
        const message = this.pendingSnapshotMessage.get(from);
        if (
          receiving === undefined ||
          message === undefined ||
          receiving.index !== request.snapshotIndex
        ) {
          throw new Error('no snapshot transfer in progress');
        }
        this.receivingSnapshots.delete(from);
        this.pendingSnapshotMessage.delete(from);
        await receiving.receiver.finish(request.final);
        // The file is durable: now the core may restore from it (it installs through a Ready).
        this.core.step(message);
        this.scheduleDrive();
        return new Uint8Array(0);
      }
    }
  }

  private probeAnswer(): ClusterProbeAnswer {
    return {
      clusterId: this.clusterId,
      starting: false,
      term: this.core.currentTerm,
      commit: this.core.log.committed,
      leaderId: this.core.currentLeader,
      members: this.core.currentMembership.members,
    };
  }

  private assertRunning(): void {
    if (this.fatal) throw new NodeStoppedError(this.fatal.message);
    if (this.stopped) throw new NodeStoppedError();
  }
}

type NodeOptions = Required<
  Omit<RaftNodeOptions, 'clusterSecret' | 'storage' | 'transportLimits' | 'observeLogSyncMs'>
> & {
  clusterSecret?: string;
};

/** A peer's probe answer, or undefined when it did not answer in time (or not as a node). */
async function probePeer(
  transport: PeerTransport,
  peerId: NodeId,
  timeoutMs: number,
): Promise<ClusterProbeAnswer | undefined> {
  try {
    return decodeJsonAnswer<ClusterProbeAnswer>(
      await transport.request(peerId, encodeNodeRequest({ kind: 'cluster-probe' }), { timeoutMs }),
    );
  } catch {
    return undefined;
  }
}

/** A node still probing answers probes as new, and nothing else. */
function answerWhileStarting(payload: Uint8Array, clusterId: string): Promise<Uint8Array> {
  try {
    if (decodeNodeRequest(payload).kind === 'cluster-probe') {
      const answer: ClusterProbeAnswer = {
        clusterId,
        starting: true,
        term: 0,
        commit: 0,
        leaderId: NO_NODE,
        members: [],
      };
      return Promise.resolve(encodeJsonAnswer(answer));
    }
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return Promise.reject(Object.assign(new Error('the node is starting'), { code: STARTING_CODE }));
}

function parseHostPort(address: string | undefined): { host: string; port: number } | undefined {
  if (address === undefined) return undefined;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

function noop(): void {}

/** Resolves on the next turn of the event loop, after pending I/O callbacks and every microtask. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
