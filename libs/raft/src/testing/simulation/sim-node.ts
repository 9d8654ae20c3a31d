import { NotLeaderError } from '../../core/errors';
import { RaftCore, type RaftOptions } from '../../core/raft';
import {
  EntryType,
  MessageType,
  type Entry,
  type InjectedBugs,
  type Message,
  type NodeId,
  type Ready,
} from '../../core/types';
import type { SeededRandom } from '@xcron/testing';
import { KvStateMachine } from './kv-state-machine';
import type { SimStorage } from './sim-storage';

/** The outcome of a proposal, as the client that made it learns it. */
export type ProposalOutcome =
  | { status: 'pending' }
  | { status: 'committed'; index: number; term: number }
  /** The entry was overwritten by another leader's: it will never be applied. */
  | { status: 'lost' }
  | { status: 'rejected'; reason: string; leaderHint?: NodeId };

export interface ProposalHandle {
  outcome: ProposalOutcome;
}

export interface ReadHandle {
  key: string;
  outcome:
    | { status: 'pending' }
    | { status: 'done'; value: string | undefined }
    | { status: 'rejected'; reason: string };
}

interface PendingWrite {
  ready: Ready;
  doneAtMs: number;
  snapshotData?: Uint8Array;
}

/** Callbacks through which a node reports to the simulation, which checks them. */
export interface SimNodeHooks {
  send(message: Message, snapshotData?: Uint8Array): void;
  applied(node: NodeId, entry: Entry): void;
  snapshotInstalled(node: NodeId, index: number): void;
  snapshotTaken(node: NodeId, index: number): void;
  /** A disk write started that completes at `doneAtMs` (a moment worth crashing in). */
  writeStarted(node: NodeId, doneAtMs: number): void;
}

export interface SimNodeOptions {
  id: NodeId;
  electionTicks: number;
  heartbeatTicks: number;
  diskLatencyMsMin: number;
  diskLatencyMsMax: number;
  /** Take a snapshot when this many entries were applied since the last one. */
  snapshotEveryEntries: number;
  /** Keep this many applied entries after a snapshot, for followers slightly behind. */
  compactionMarginEntries: number;
  /**
   * The state machine keeps its state durably on its own (RaftNode's durable-state mode): local
   * snapshots persist it and save the meta with no data; a follower is sent its live snapshot
   * (which may be past the meta's index); a restart rebuilds it from its durable copy and skips
   * the entries at or below that copy's index; a crash keeps what was persisted, or (disk caches
   * permitting) everything applied.
   */
  durableStateMachine?: boolean;
  bugs?: InjectedBugs;
  appendBytesMax?: number;
  inflightCountMax?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
}

/**
 * One simulated Raft node: the pure core, a disk whose writes take simulated time (and vanish in a
 * crash until done), and the key–value state machine. It follows the driver contract of Ready:
 * persist, then send, then apply, then advance.
 */
export class SimNode {
  readonly core: RaftCore;
  readonly sm = new KvStateMachine();
  private writing: PendingWrite | undefined;
  /** Writes a buggy driver already treated as done (injected bug applyBeforePersist), oldest first. */
  private readonly lateWrites: PendingWrite[] = [];
  private readonly proposals = new Map<number, { term: number; handle: ProposalHandle }>();
  private readonly reads = new Map<string, ReadHandle>();
  private readonly readsWaitingApply: Array<{ index: number; handle: ReadHandle }> = [];
  /** Snapshot bytes received with Snapshot messages, by index: the core may accept one and ignore later ones. */
  private readonly incomingSnapshots = new Map<number, Uint8Array>();
  private readCounter = 0;

  constructor(
    private readonly options: SimNodeOptions,
    readonly storage: SimStorage,
    private readonly random: SeededRandom,
    private readonly hooks: SimNodeHooks,
  ) {
    const raftOptions: RaftOptions = {
      id: options.id,
      electionTicks: options.electionTicks,
      heartbeatTicks: options.heartbeatTicks,
      random: () => random.nextFloat(),
      bugs: options.bugs,
      appendBytesMax: options.appendBytesMax,
      inflightCountMax: options.inflightCountMax,
      preVote: options.preVote,
      checkQuorum: options.checkQuorum,
    };
    const durableCopy = storage.stateMachine;
    if (options.durableStateMachine && durableCopy && durableCopy.index >= storage.snapshot.index) {
      // As RaftNode.start: the state machine holds the snapshot already; Raft applies again from
      // the snapshot's index and the state machine skips what it holds.
      this.sm.restore(durableCopy.data);
    } else if (storage.snapshotData !== undefined) {
      this.sm.restore(storage.snapshotData);
    } else {
      throw new Error(
        `${options.id}: snapshot ${storage.snapshot.index} has no data and the state machine's durable copy holds ${durableCopy?.index ?? 'nothing'}`,
      );
    }
    this.core = new RaftCore(raftOptions, {
      hardState: storage.hardState,
      snapshot: storage.snapshot,
      entries: storage.entriesAfterSnapshot(),
    });
  }

  get id(): NodeId {
    return this.options.id;
  }

  tick(): void {
    this.core.tick();
  }

  receive(message: Message, snapshotData: Uint8Array | undefined): void {
    if (message.type === MessageType.Snapshot && snapshotData && message.snapshot) {
      this.incomingSnapshots.set(message.snapshot.index, snapshotData);
    }
    this.core.step(message);
  }

  propose(data: Uint8Array): ProposalHandle {
    const handle: ProposalHandle = { outcome: { status: 'pending' } };
    try {
      const { firstIndex, term } = this.core.propose([data]);
      this.proposals.set(firstIndex, { term, handle });
    } catch (error) {
      handle.outcome = {
        status: 'rejected',
        reason: error instanceof Error ? error.message : String(error),
        leaderHint: error instanceof NotLeaderError ? error.leaderId : undefined,
      };
    }
    return handle;
  }

  read(key: string): ReadHandle {
    const context = `${this.id}/read-${++this.readCounter}`;
    const handle: ReadHandle = { key, outcome: { status: 'pending' } };
    if (!this.core.readIndex(context))
      handle.outcome = { status: 'rejected', reason: 'no leader known' };
    else this.reads.set(context, handle);
    return handle;
  }

  /** Drives the Ready cycle: finishes a write whose time has come, then starts the next one. */
  process(nowMs: number): void {
    while (this.lateWrites.length > 0 && this.lateWrites[0].doneAtMs <= nowMs) {
      const late = this.lateWrites.shift()!;
      this.storage.commitReady(late.ready, late.snapshotData);
    }
    if (this.writing && this.writing.doneAtMs <= nowMs) this.finishWrite();
    if (this.writing === undefined && this.core.hasReady()) {
      const ready = this.core.ready();
      const latency =
        this.options.diskLatencyMsMin +
        this.random.nextInt(this.options.diskLatencyMsMax - this.options.diskLatencyMsMin + 1);
      const snapshotData = ready.snapshot
        ? this.incomingSnapshots.get(ready.snapshot.index)
        : undefined;
      this.sendAll(ready.messages);
      const write = { ready, doneAtMs: nowMs + latency, snapshotData };
      this.hooks.writeStarted(this.id, write.doneAtMs);
      if (this.options.bugs?.applyBeforePersist) {
        // The injected bug: a driver that treats the write as done before its fsync returned.
        this.lateWrites.push(write);
        this.complete(ready, snapshotData);
        return;
      }
      this.writing = write;
      if (this.writing.doneAtMs <= nowMs) this.finishWrite();
    }
  }

  /**
   * A crash of a durable state machine: its applies since the last persist() are unsynced writes,
   * lost, or (`keepUnsynced`) on the disk after all.
   */
  crashStateMachine(keepUnsynced: boolean): void {
    if (this.options.durableStateMachine && keepUnsynced) this.persistStateMachine();
  }

  /** A crash while a write is in flight: the batch reached the disk whole, or not at all. */
  crashDuringWrite(keepWrite: boolean): void {
    const first = this.writing ?? this.lateWrites[0];
    if (first && keepWrite) this.storage.commitReady(first.ready, first.snapshotData);
    this.writing = undefined;
    this.lateWrites.length = 0;
    this.storage.crash();
  }

  /** Every proposal still waiting: after a crash its client cannot know whether it happened. */
  abandonProposals(): ProposalHandle[] {
    return [...this.proposals.values()].map((p) => p.handle);
  }

  private finishWrite(): void {
    const { ready, snapshotData } = this.writing!;
    this.writing = undefined;
    this.storage.commitReady(ready, snapshotData);
    this.complete(ready, snapshotData);
  }

  /** After the write: install a snapshot, send what waited for the disk, apply, advance. */
  private complete(ready: Ready, snapshotData: Uint8Array | undefined): void {
    if (ready.snapshot) {
      if (snapshotData === undefined)
        throw new Error(`${this.id}: snapshot ${ready.snapshot.index} to install without data`);
      this.sm.restore(snapshotData);
      // A durable state machine makes the restored state durable before restore() resolves.
      if (this.options.durableStateMachine) this.persistStateMachine();
      this.hooks.snapshotInstalled(this.id, ready.snapshot.index);
      for (const index of [...this.incomingSnapshots.keys()])
        if (index <= ready.snapshot.index) this.incomingSnapshots.delete(index);
      this.failProposalsUpTo(ready.snapshot.index);
    }
    this.sendAll(ready.messagesAfterPersist);
    for (const entry of ready.committedEntries) this.apply(entry);
    for (const state of ready.readStates) {
      const handle = this.reads.get(state.context);
      if (handle === undefined) continue;
      this.reads.delete(state.context);
      this.readsWaitingApply.push({ index: state.index, handle });
    }
    this.core.advance(ready);
    this.serveReads();
    this.maybeSnapshot();
  }

  private sendAll(messages: readonly Message[]): void {
    for (const message of messages) {
      let data: Uint8Array | undefined;
      if (message.type === MessageType.Snapshot) {
        // A file without data (durable state): the state machine's live state, which carries its
        // own applied index, possibly past the message's meta index.
        data = this.storage.snapshotData ?? this.sm.snapshot();
      }
      this.hooks.send(message, data);
    }
  }

  private apply(entry: Entry): void {
    // A durable state machine skips what it holds (after a restart, or a restore past the meta).
    if (this.options.durableStateMachine && entry.index <= this.sm.appliedIndex) {
      // Raft applies it again; the state already has it.
    } else if (entry.type === EntryType.Normal) this.sm.apply(entry.index, entry.data);
    else this.sm.appliedIndex = entry.index;
    this.hooks.applied(this.id, entry);
    const proposal = this.proposals.get(entry.index);
    if (proposal) {
      this.proposals.delete(entry.index);
      proposal.handle.outcome =
        proposal.term === entry.term
          ? { status: 'committed', index: entry.index, term: entry.term }
          : { status: 'lost' };
    }
  }

  /** Proposals at or below an installed snapshot cannot be matched to entries any more: unknown. */
  private failProposalsUpTo(index: number): void {
    for (const [at] of this.proposals) if (at <= index) this.proposals.delete(at);
  }

  private persistStateMachine(): void {
    this.storage.persistStateMachine(this.sm.snapshot(), this.sm.appliedIndex);
  }

  private serveReads(): void {
    for (let i = 0; i < this.readsWaitingApply.length;) {
      const { index, handle } = this.readsWaitingApply[i];
      if (this.sm.appliedIndex >= index) {
        handle.outcome = { status: 'done', value: this.sm.get(handle.key) };
        this.readsWaitingApply.splice(i, 1);
      } else {
        i += 1;
      }
    }
  }

  private maybeSnapshot(): void {
    const status = this.core.status();
    if (status.pendingSnapshotIndex > 0) return; // the leader's snapshot comes first
    const applied = status.applied;
    const lastSnapshot = this.storage.snapshot.index;
    if (applied - lastSnapshot < this.options.snapshotEveryEntries) return;
    const compactIndex = Math.max(lastSnapshot, applied - this.options.compactionMarginEntries);
    const meta = this.core.snapshotTaken(applied, compactIndex);
    if (this.options.durableStateMachine) {
      // persist() before the file: the durable copy holds at least the snapshot's index.
      this.persistStateMachine();
      this.storage.saveSnapshot(meta, undefined, compactIndex);
    } else {
      this.storage.saveSnapshot(meta, this.sm.snapshot(), compactIndex);
    }
    this.hooks.snapshotTaken(this.id, applied);
  }
}
