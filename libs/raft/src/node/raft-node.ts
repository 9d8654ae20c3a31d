import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { NotLeaderError } from '../core/errors';
import { RaftCore, type RaftStatus } from '../core/raft';
import {
  MessageType,
  NO_NODE,
  type ConfChange,
  type Entry,
  type Member,
  type Message,
  type NodeId,
  type Ready,
  type SnapshotMeta,
} from '../core/types';
import { ClassicLevelRaftStorage } from '../storage/classic-level-raft-storage';
import type { RaftLogStorage } from '../storage/raft-storage';
import { SnapshotStore, type SnapshotReceiver } from '../storage/snapshot-store';
import { PeerTransport } from '../transport/peer-transport';
import type { TransportLimits } from '../transport/transport.constants';
import { RemoteHandlerError } from '../transport/transport.errors';
import { decodeMessage, encodeMessage } from './message-codec';
import { decodeNodeRequest, encodeNodeRequest, type NodeRequest } from './node-rpc';
import { NodeStoppedError, ProposalLostError, ProposalTimeoutError } from './raft-node.errors';
import type { StateMachine } from './state-machine';

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
  /** The bootstrap membership, used on the very first start only (every node lists the same). */
  initialMembers: Member[];
  clusterSecret?: string;
  stateMachine: StateMachine;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Take a snapshot once this many entries were applied since the last one. */
  snapshotEveryEntries?: number;
  /** Entries kept in the log behind a snapshot, so that a follower slightly behind needs none. */
  compactionMarginEntries?: number;
  proposalTimeoutMs?: number;
  /** Where each Ready's log write goes; default classic-level under `dataDir/log`. */
  storage?: RaftLogStorage;
  /** Limits of the peer transport (send queues, frame size, timeouts). */
  transportLimits?: Partial<TransportLimits>;
  logger?: RaftNodeLogger;
  random?: () => number;
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
/** Entries deleted per log-store compaction call (see compactStorage). */
const COMPACT_STEP_ENTRIES = 1_000;

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
  /** pump() held the leader's messages back for one turn (see there). */
  private messagesDeferred = false;
  /** The snapshot being written (and the log compacted behind it), if any: one at a time. */
  private snapshotting: Promise<void> | undefined;
  /** How far this node's log store is compacted, as far as this driver knows. */
  private storageCompactedIndex: number;
  private lastSnapshotIndex: number;
  private readonly sendingSnapshots = new Set<NodeId>();
  private readonly receivingSnapshots = new Map<
    NodeId,
    { index: number; receiver: SnapshotReceiver }
  >();
  /** The Snapshot message to step into the core once a transfer from that leader is complete. */
  private readonly pendingSnapshotMessage = new Map<NodeId, Message>();
  private readonly httpAddresses = new Map<NodeId, string>();
  private fatal: Error | undefined;

  private constructor(
    private readonly options: Required<
      Omit<RaftNodeOptions, 'clusterSecret' | 'storage' | 'transportLimits'>
    > & {
      clusterSecret?: string;
    },
    readonly core: RaftCore,
    private readonly storage: RaftLogStorage,
    private readonly snapshots: SnapshotStore,
    private readonly transport: PeerTransport,
    readonly clusterId: string,
    snapshotIndex: number,
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
      compactionMarginEntries: 1_000,
      proposalTimeoutMs: 5_000,
      logger: console,
      random: Math.random,
      // An option passed as undefined keeps its default instead of erasing it.
      ...(Object.fromEntries(
        Object.entries(input).filter(([, value]) => value !== undefined),
      ) as RaftNodeOptions),
    };
    const storage =
      input.storage ?? (await ClassicLevelRaftStorage.open(join(options.dataDir, 'log')));
    const snapshots = await SnapshotStore.open(join(options.dataDir, 'snapshots'), {
      logger: options.logger,
    });
    let persisted = await storage.load();
    if (persisted === undefined) {
      const bootstrap: SnapshotMeta = {
        index: 0,
        term: 0,
        membership: { members: input.initialMembers },
      };
      await storage.bootstrap(clusterIdOf(input.initialMembers), bootstrap);
      persisted = await storage.load();
      if (persisted === undefined)
        throw new Error('assertion failed: bootstrap left the store empty');
      options.logger.info(
        `raft: bootstrapped cluster ${persisted.clusterId} with ${input.initialMembers.length} member(s)`,
      );
    }
    // The newest snapshot file may be newer than the log store's record (a crash between them).
    let base = persisted.snapshot;
    let entries = persisted.entries;
    const latest = await snapshots.latest({ verifyData: false });
    if (latest && latest.meta.index >= base.index && latest.meta.index > 0) {
      const atBase = entries.find((e) => e.index === latest.meta.index);
      const keepsLog =
        atBase === undefined
          ? entries.length > 0 && entries[0].index === latest.meta.index + 1
          : atBase.term === latest.meta.term;
      base = latest.meta;
      entries = keepsLog ? entries.filter((e) => e.index > base.index) : [];
      await options.stateMachine.restore(base, latest.chunks());
      options.logger.info(`raft: restored the state machine from snapshot ${base.index} on disk`);
    } else if (persisted.compactedIndex > base.index) {
      throw new Error(
        `raft: the log is compacted to ${persisted.compactedIndex} but no snapshot file covers it`,
      );
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
    const membership = new Map(base.membership.members.map((m) => [m.id, m.peerAddress]));
    const peerAddresses = (): Map<NodeId, string> => {
      const current = core.currentMembership.members;
      for (const member of current) membership.set(member.id, member.peerAddress);
      return membership;
    };
    const transport = new PeerTransport({
      nodeId: options.id,
      listenHost: options.listenHost,
      listenPort: options.listenPort,
      advertisedPeerAddress: options.advertisedPeerAddress,
      advertisedHttpAddress: options.advertisedHttpAddress,
      clusterId: persisted.clusterId,
      clusterSecret: options.clusterSecret,
      resolvePeer: (peerId) => parseHostPort(peerAddresses().get(peerId)),
      logger: options.logger,
      random: options.random,
      limits: input.transportLimits,
    });
    const node = new RaftNode(
      options,
      core,
      storage,
      snapshots,
      transport,
      persisted.clusterId,
      base.index,
    );
    transport.onMessage((from, payload) => node.onPeerMessage(from, payload));
    transport.onRequest((from, payload) => node.onPeerRequest(from, payload));
    transport.onPeerHello((info) => node.httpAddresses.set(info.nodeId, info.httpAddress));
    await transport.start();
    node.ticker = setInterval(() => node.tick(), options.tickMs);
    node.scheduleDrive();
    return node;
  }

  get id(): NodeId {
    return this.options.id;
  }

  status(): RaftStatus {
    return this.core.status();
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
      if (Date.now() >= deadline) throw new NotLeaderError(NO_NODE);
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
      if (Date.now() >= deadline) throw new NotLeaderError(NO_NODE);
      await delay(Math.min(this.options.tickMs, deadline - Date.now()));
    }
  }

  /** On the leader: a single-server membership change; resolves once it is applied here. */
  async changeMembership(
    change: ConfChange,
    timeoutMs = this.options.proposalTimeoutMs,
  ): Promise<void> {
    this.assertRunning();
    const { index, term } = this.core.proposeConfChange(change);
    this.scheduleDrive();
    await this.awaitApplied(index, term, timeoutMs);
  }

  transferLeadership(to: NodeId): void {
    this.core.transferLeadership(to);
    this.scheduleDrive();
  }

  /** Stops ticking and talking; fails what is pending; closes the files. Does not flush anything more. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
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
      return Promise.reject(error as Error);
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

  private async forward(
    leaderId: NodeId,
    data: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    try {
      return await this.transport.request(
        leaderId,
        encodeNodeRequest({ kind: 'propose', data, timeoutMs }),
        { timeoutMs },
      );
    } catch (error) {
      if (error instanceof RemoteHandlerError && error.remoteCode === NOT_LEADER_CODE)
        throw new NotLeaderError(leaderId);
      throw error;
    }
  }

  // ---- the Ready cycle ----------------------------------------------------------------------

  private tick(): void {
    if (this.stopped) return;
    this.core.tick();
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
      if (!this.messagesDeferred && this.core.currentRole === 'leader') {
        // A new commit index alone would cost each follower a write of its own (a Ready whose hard
        // state changed). The proposers resolved by this apply propose again before the next
        // turn, so one Append then carries their entries and the commit. Only one turn: a steady
        // stream of commits must not hold replication back.
        this.messagesDeferred = true;
        this.scheduleDrive();
        return;
      }
    }
    this.messagesDeferred = false;
    const messages = this.core.takeMessages();
    if (messages.length > 0) this.sendAll(messages);
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
    this.sendAll(ready.messages);
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
  }

  /** Applies `entries` after every batch queued before them; then a snapshot if one is due. */
  private enqueueApply(entries: Entry[]): Promise<void> {
    return this.onApplyChain(async () => {
      await this.apply(entries);
      this.core.appliedTo(entries[entries.length - 1].index);
      this.releaseReads();
      await this.snapshotIfDue();
    });
  }

  /** Runs `task` on the apply chain: after every apply queued before it, before any queued after. */
  private onApplyChain(task: () => Promise<void>): Promise<void> {
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
    for (const message of messages) {
      if (message.type === MessageType.Snapshot) void this.sendSnapshot(message);
      else this.transport.send(message.to, encodeMessage(message));
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
   * Right after an apply: takes a snapshot of the state machine when one is due. The bytes are
   * taken now (the state as of `applied`); writing the file and compacting the log behind it go on
   * in the background while applies continue, unless the state machine streams its snapshot: then
   * the returned promise says when applying may go on.
   */
  private maybeSnapshot(): Promise<void> | undefined {
    if (this.snapshotting !== undefined || this.stopped) return undefined;
    if (this.core.log.applied - this.lastSnapshotIndex < this.options.snapshotEveryEntries)
      return undefined;
    const status = this.core.status();
    if (status.pendingSnapshotIndex > 0) return undefined;
    const meta = this.core.snapshotMetaAt(status.applied);
    const data = this.options.stateMachine.snapshot();
    const task = this.writeSnapshot(meta, data).catch((error) => this.fail(error));
    this.snapshotting = task.finally(() => {
      this.snapshotting = undefined;
      // Applies that came meanwhile may have made the next one due already (an idle node would
      // otherwise wait for its next apply).
      if (!this.stopped)
        void this.onApplyChain(() => this.snapshotIfDue()).catch((error) => this.fail(error));
    });
    return data instanceof Uint8Array ? undefined : this.snapshotting;
  }

  private async writeSnapshot(
    meta: SnapshotMeta,
    data: AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<void> {
    await this.snapshots.write(meta, data);
    // The leader's snapshot may have replaced the log meanwhile: ours is older, keep the log as is.
    if (this.stopped || this.core.log.snapshotBase.index >= meta.index) return;
    const compactIndex = Math.max(
      this.lastSnapshotIndex,
      meta.index - this.options.compactionMarginEntries,
      this.core.log.firstIndex - 1,
    );
    this.core.snapshotTaken(meta.index, compactIndex);
    this.lastSnapshotIndex = meta.index;
    await this.compactStorage(compactIndex);
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
    // Saving the snapshot drops the stored entries it covers.
    this.storageCompactedIndex = Math.max(this.storageCompactedIndex, meta.index);
    this.options.logger.info(`raft: installed the leader's snapshot at ${meta.index}`);
  }

  /** Leader side of InstallSnapshot: the newest snapshot file, in chunks, one follower at a time. */
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
      await request({
        kind: 'snapshot-begin',
        meta: stored.meta,
        dataBytes: stored.dataBytes,
        dataCrc32c: stored.dataCrc32c,
        term: message.term,
      });
      let offset = 0;
      for await (const chunk of stored.chunks({ chunkBytes: 1024 * 1024 })) {
        await request({
          kind: 'snapshot-chunk',
          snapshotIndex: stored.meta.index,
          offsetBytes: offset,
          data: chunk,
        });
        offset += chunk.length;
      }
      await request({ kind: 'snapshot-end', snapshotIndex: stored.meta.index });
      ok = true;
      this.options.logger.info(
        `raft: sent snapshot ${stored.meta.index} (${stored.dataBytes} bytes) to ${to}`,
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
    this.core.step(message);
    this.scheduleDrive();
  }

  private async onPeerRequest(from: NodeId, payload: Uint8Array): Promise<Uint8Array> {
    this.assertRunning();
    const request = decodeNodeRequest(payload);
    switch (request.kind) {
      case 'propose':
        if (this.core.currentRole !== 'leader') {
          throw Object.assign(new NotLeaderError(this.core.currentLeader), {
            code: NOT_LEADER_CODE,
          });
        }
        return this.proposeHere(request.data, request.timeoutMs);
      case 'snapshot-begin': {
        await this.receivingSnapshots.get(from)?.receiver.abort();
        const receiver = await this.snapshots.beginReceive(request.meta, {
          dataBytes: request.dataBytes,
          dataCrc32c: request.dataCrc32c,
        });
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
        await receiving.receiver.finish();
        // The file is durable: now the core may restore from it (it installs through a Ready).
        this.core.step(message);
        this.scheduleDrive();
        return new Uint8Array(0);
      }
    }
  }

  private assertRunning(): void {
    if (this.fatal) throw new NodeStoppedError(this.fatal.message);
    if (this.stopped) throw new NodeStoppedError();
  }
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
