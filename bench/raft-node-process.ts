/**
 * A child process of bench/raft.bench.ts: hosts one RaftNode (mode "node") or all three nodes of a
 * cluster (mode "cluster"), each with a trivial state machine, and runs what the parent asks over
 * the IPC channel: report status, run a proposal load on the leader hosted here, probe for the
 * first successful commit after the parent killed the leader, stop.
 *
 * Protocol: the parent sends `{ type: 'init', config }` once and then `{ id, cmd, ... }` requests;
 * the child answers `{ type: 'ready' }` after init and `{ id, ok, result | error }` per request.
 * The child exits when the parent goes away (IPC disconnect), so a crashed parent leaves no node
 * running. Every loop here is bounded in count and in time by what the parent passes.
 */
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  ClassicLevelRaftStorage,
  MessageType,
  RaftNode,
  type Entry,
  type Member,
  type Message,
  type RaftLogStorage,
  type RaftNodeLogger,
  type RaftPersistentState,
  type RaftStorageUpdate,
  type SnapshotMeta,
  type StateMachine,
} from '@xcron/raft';
import { nowMs, percentiles } from './bench-util';

// ---- what the parent sends ------------------------------------------------------------------

export interface NodeSpec {
  member: Member;
  dataDir: string;
}

export interface ChildConfig {
  mode: 'node' | 'cluster';
  /** One spec in mode "node", every member's in mode "cluster". */
  nodes: NodeSpec[];
  members: Member[];
  clusterSecret: string;
  tickMs: number;
  electionTicks: number;
  /** Undefined: the node's default. */
  snapshotEveryEntries?: number;
  verbose: boolean;
}

export interface LoadRequest {
  /** Proposals to issue at most. */
  count: number;
  /** Closed loop: this many proposers, each issuing its next proposal once the previous resolved. */
  concurrency: number;
  /** Open loop instead: proposals per second issued on a schedule (latency counted from the schedule). */
  ratePerS?: number;
  /** Open loop: no more than this many outstanding at once (issuing pauses, latency keeps counting). */
  outstandingMax?: number;
  /** The run stops issuing after this long. */
  timeBoundMs: number;
  proposalTimeoutMs: number;
  payloadBytes: number;
}

export interface LoadResult {
  issued: number;
  committed: number;
  failed: number;
  firstError?: string;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Saves on the leader's log store during the run (entries per save tells the batching). */
  leaderSaves: number;
  leaderSavedEntries: number;
  leaderSaveMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Event-loop delay of this process during the run (a blocked loop delays every commit). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface ProbeRequest {
  /** Absolute time (performance.timeOrigin + performance.now()) the leader was killed. */
  killedAt: number;
  intervalMs: number;
  attemptTimeoutMs: number;
  inFlightMax: number;
  timeBoundMs: number;
}

/** One moment of an election, as a survivor saw it (see `watchElections`). */
export interface ElectionEvent {
  /** absoluteNowMs() when it happened. */
  atMs: number;
  node: string;
  /** `pre-candidate t5`, `candidate t6`, `leader t6`, `follower t6`, or a transport line about a peer. */
  what: string;
}

export interface NodeStatusReport {
  id: string;
  role: string;
  term: number;
  leaderId: string;
  commit: number;
  applied: number;
  lastIndex: number;
}

export type ChildRequest =
  | { id: number; cmd: 'status' }
  | { id: number; cmd: 'cpu' }
  | { id: number; cmd: 'load'; load: LoadRequest }
  | { id: number; cmd: 'probe'; probe: ProbeRequest }
  | { id: number; cmd: 'stop' };

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

/** A time every process on this host reads alike (the wall clock at sub-millisecond resolution). */
export function absoluteNowMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---- the state machine and the storage wrapper ----------------------------------------------

/** Counts applied entries; a proposal's result is its log index (8 bytes, little-endian). */
class CountingMachine implements StateMachine {
  applied = 0;
  lastIndex = 0;

  apply(entries: readonly Entry[]): Uint8Array[] {
    const results: Uint8Array[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const index = entries[i].index;
      this.applied += 1;
      this.lastIndex = index;
      const result = Buffer.allocUnsafe(8);
      result.writeUInt32LE(index % 0x1_0000_0000, 0);
      result.writeUInt32LE(Math.floor(index / 0x1_0000_0000), 4);
      results[i] = result;
    }
    return results;
  }

  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify({ applied: this.applied, lastIndex: this.lastIndex }));
  }

  async restore(_meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const state = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
      applied: number;
      lastIndex: number;
    };
    this.applied = state.applied;
    this.lastIndex = state.lastIndex;
  }
}

/** The real classic-level store, counting its saves and their time (what a load report shows). */
class CountingStorage implements RaftLogStorage {
  saves = 0;
  savedEntries = 0;
  saveMs = 0;
  /** compact() calls (a snapshot compacts the log behind it, possibly in several calls). */
  compacts = 0;

  constructor(private readonly inner: ClassicLevelRaftStorage) {}

  load(): Promise<RaftPersistentState | undefined> {
    return this.inner.load();
  }

  bootstrap(clusterId: string, initial: SnapshotMeta): Promise<void> {
    return this.inner.bootstrap(clusterId, initial);
  }

  async save(update: RaftStorageUpdate): Promise<void> {
    const start = nowMs();
    await this.inner.save(update);
    this.saveMs += nowMs() - start;
    this.saves += 1;
    this.savedEntries += update.entries.length;
  }

  compact(index: number): Promise<void> {
    this.compacts += 1;
    return this.inner.compact(index);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Hosted {
  node: RaftNode;
  machine: CountingMachine;
  storage: CountingStorage;
}

// ---- payloads --------------------------------------------------------------------------------

const PAYLOAD_POOL = 16_384;
let payloadPool: Uint8Array[] = [];

function payloads(bytes: number): Uint8Array[] {
  if (payloadPool.length === PAYLOAD_POOL && payloadPool[0].length === bytes) return payloadPool;
  const backing = randomFillSync(Buffer.allocUnsafeSlow(PAYLOAD_POOL * bytes));
  payloadPool = [];
  for (let i = 0; i < PAYLOAD_POOL; i++)
    payloadPool.push(new Uint8Array(backing.buffer, backing.byteOffset + i * bytes, bytes));
  return payloadPool;
}

// ---- election trace ------------------------------------------------------------------------------

/** Bound of the election trace kept in this process (oldest dropped first). */
const EVENTS_MAX = 1_000;
const events: ElectionEvent[] = [];

function record(node: string, what: string): void {
  events.push({ atMs: absoluteNowMs(), node, what });
  if (events.length > EVENTS_MAX) events.shift();
}

/** Transport and driver lines worth seeing in an election's timeline (a peer's connection, early campaigns). */
const TRACED_LOG_LINE = /lost|cannot connect|closed|refused|unreachable|campaign/i;

const VOTE_MESSAGES = new Set<string>([
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.Vote,
  MessageType.VoteResp,
]);

function describeVoteMessage(m: Message): string {
  const answer = m.type.endsWith('-resp') ? (m.reject ? ' refused' : ' granted') : '';
  return `${m.type} t${m.term} ${m.from}->${m.to}${answer}`;
}

/**
 * Records every change of this node's role or term the moment the core makes it (after each
 * tick and step) and every vote message it sends or gets: which node started a pre-vote or an
 * election when, who answered, and how many rounds it took. A bench instrument only: it wraps the instance's methods, the core is unchanged.
 */
function watchElections(node: RaftNode): void {
  const core = node.core;
  let last = '';
  const look = (): void => {
    const key = `${core.currentRole} t${core.currentTerm}`;
    if (key === last) return;
    last = key;
    record(node.id, key);
  };
  const tick = core.tick.bind(core);
  const step = core.step.bind(core);
  const ready = core.ready.bind(core);
  core.tick = () => {
    tick();
    look();
  };
  core.step = (message) => {
    if (VOTE_MESSAGES.has(message.type)) record(node.id, `got ${describeVoteMessage(message)}`);
    step(message);
    look();
  };
  core.ready = () => {
    const batch = ready();
    for (const message of [...batch.messages, ...batch.messagesAfterPersist])
      if (VOTE_MESSAGES.has(message.type)) record(node.id, `sends ${describeVoteMessage(message)}`);
    return batch;
  };
  look();
}

// ---- the child -------------------------------------------------------------------------------

const hosted: Hosted[] = [];
let config: ChildConfig | undefined;
let stopping = false;

function logger(id: string, verbose: boolean): RaftNodeLogger {
  return {
    info: (message) => {
      if (TRACED_LOG_LINE.test(message)) record(id, message);
      if (verbose) console.log(`[${id}] ${message}`);
    },
    warn: (message) => {
      if (TRACED_LOG_LINE.test(message)) record(id, message);
      if (verbose) console.warn(`[${id}] warn: ${message}`);
    },
    error: (message) => console.error(`[${id}] error: ${message}`),
  };
}

async function startNodes(cfg: ChildConfig): Promise<void> {
  for (const spec of cfg.nodes) {
    const machine = new CountingMachine();
    const storage = new CountingStorage(
      await ClassicLevelRaftStorage.open(join(spec.dataDir, 'log')),
    );
    const [host, port] = splitHostPort(spec.member.peerAddress);
    const node = await RaftNode.start({
      id: spec.member.id,
      dataDir: spec.dataDir,
      listenHost: host,
      listenPort: port,
      advertisedPeerAddress: spec.member.peerAddress,
      advertisedHttpAddress: `${host}:${port}`,
      initialMembers: cfg.members,
      clusterSecret: cfg.clusterSecret,
      stateMachine: machine,
      storage,
      // Only when given: an explicit undefined would replace the node's default.
      ...(cfg.snapshotEveryEntries === undefined
        ? {}
        : { snapshotEveryEntries: cfg.snapshotEveryEntries }),
      tickMs: cfg.tickMs,
      electionTicks: cfg.electionTicks,
      logger: logger(spec.member.id, cfg.verbose),
    });
    watchElections(node);
    hosted.push({ node, machine, storage });
  }
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}

function statusReports(): NodeStatusReport[] {
  return hosted.map(({ node }) => {
    const s = node.status();
    return {
      id: node.id,
      role: s.role,
      term: s.term,
      leaderId: s.leaderId,
      commit: s.commit,
      applied: s.applied,
      lastIndex: s.lastIndex,
    };
  });
}

function hostedLeader(): Hosted {
  const leader = hosted.find((h) => h.node.status().role === 'leader');
  if (leader === undefined) throw new Error('no leader is hosted in this process');
  return leader;
}

async function runLoad(request: LoadRequest): Promise<LoadResult> {
  const leader = hostedLeader();
  const pool = payloads(request.payloadBytes);
  const latencies = new Float64Array(request.count);
  let issued = 0;
  let committed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const savesBefore = {
    saves: leader.storage.saves,
    entries: leader.storage.savedEntries,
    ms: leader.storage.saveMs,
  };
  const cpuBefore = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const start = nowMs();
  const deadline = start + request.timeBoundMs;

  const proposeOne = async (scheduledAt: number): Promise<void> => {
    const data = pool[issued % PAYLOAD_POOL];
    issued += 1;
    try {
      await leader.node.propose(data, request.proposalTimeoutMs);
      latencies[committed++] = nowMs() - scheduledAt;
    } catch (error) {
      failed += 1;
      firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  };

  if (request.ratePerS === undefined) {
    const worker = async (): Promise<void> => {
      while (issued < request.count && nowMs() < deadline) await proposeOne(nowMs());
    };
    await Promise.all(Array.from({ length: request.concurrency }, worker));
  } else {
    const rate = request.ratePerS;
    const outstandingMax = request.outstandingMax ?? 10_000;
    const inFlight = new Set<Promise<void>>();
    while (issued < request.count && nowMs() < deadline) {
      const due = Math.min(request.count, Math.floor(((nowMs() - start) * rate) / 1000) + 1);
      while (issued < due && inFlight.size < outstandingMax) {
        const scheduledAt = start + (issued * 1000) / rate;
        const p = proposeOne(scheduledAt);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inFlight);
  }
  const elapsedMs = nowMs() - start;
  const cpu = process.cpuUsage(cpuBefore);
  loopDelay.disable();
  const [p50, p99, p999, max] = percentiles(latencies, [50, 99, 99.9, 100], committed);
  return {
    issued,
    committed,
    failed,
    firstError,
    elapsedMs,
    p50Ms: p50,
    p99Ms: p99,
    p999Ms: p999,
    maxMs: max,
    leaderSaves: leader.storage.saves - savesBefore.saves,
    leaderSavedEntries: leader.storage.savedEntries - savesBefore.entries,
    leaderSaveMs: leader.storage.saveMs - savesBefore.ms,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
}

/** A probe's trace starts this long before the kill (the last heartbeats' effects, if any). */
const PROBE_EVENTS_BEFORE_KILL_MS = 50;

/**
 * After the parent killed the leader: proposes a few bytes every `intervalMs` (at most `inFlightMax`
 * at once, each with a short timeout) and returns the absolute time the first one committed.
 */
async function probe(
  request: ProbeRequest,
): Promise<{ firstCommitAt: number; attempts: number; events: ElectionEvent[] }> {
  const { node } = hosted[0];
  const data = Uint8Array.of(1, 2, 3, 4);
  const deadline = nowMs() + request.timeBoundMs;
  let firstCommitAt: number | undefined;
  let inFlight = 0;
  let attempts = 0;
  while (firstCommitAt === undefined && nowMs() < deadline) {
    if (inFlight < request.inFlightMax) {
      inFlight += 1;
      attempts += 1;
      node.propose(data, request.attemptTimeoutMs).then(
        () => {
          inFlight -= 1;
          firstCommitAt ??= absoluteNowMs();
        },
        () => {
          inFlight -= 1;
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, request.intervalMs));
  }
  if (firstCommitAt === undefined)
    throw new Error(`no proposal committed within ${request.timeBoundMs} ms`);
  const since = request.killedAt - PROBE_EVENTS_BEFORE_KILL_MS;
  return { firstCommitAt, attempts, events: events.filter((e) => e.atMs >= since) };
}

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const { node } of hosted) await node.stop().catch(() => undefined);
}

function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

async function handle(request: ChildRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'status':
      return statusReports();
    case 'cpu': {
      const usage = process.cpuUsage();
      let saves = 0;
      let savedEntries = 0;
      let compacts = 0;
      for (const h of hosted) {
        saves += h.storage.saves;
        savedEntries += h.storage.savedEntries;
        compacts += h.storage.compacts;
      }
      return {
        atMs: nowMs(),
        cpuMs: (usage.user + usage.system) / 1000,
        saves,
        savedEntries,
        compacts,
      };
    }
    case 'load':
      return runLoad(request.load);
    case 'probe':
      return probe(request.probe);
    case 'stop':
      await stopAll();
      return null;
  }
}

/** Runs only as a forked child (with an IPC channel); importing this file for its types does nothing. */
function serve(): void {
  process.on('message', (raw: unknown) => {
    const message = raw as { type?: string; config?: ChildConfig } & Partial<ChildRequest>;
    if (message.type === 'init' && message.config !== undefined && config === undefined) {
      config = message.config;
      startNodes(config).then(
        () => send({ type: 'ready', pid: process.pid }),
        (error: unknown) => {
          console.error(`raft-node-process: start failed: ${String(error)}`);
          process.exit(2);
        },
      );
      return;
    }
    const request = message as ChildRequest;
    if (typeof request.id !== 'number') return;
    handle(request).then(
      (result) => {
        send({ type: 'reply', id: request.id, ok: true, result });
        if (request.cmd === 'stop') {
          // Let the reply go out, then exit normally (a --cpu-prof profile is written at exit).
          setTimeout(() => process.exit(0), 20);
        }
      },
      (error: unknown) =>
        send({
          type: 'reply',
          id: request.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
  });

  // The parent went away (it exited or crashed): do not linger as an orphan.
  process.on('disconnect', () => {
    void stopAll().finally(() => process.exit(0));
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => process.exit(0));
    });
  }
}

if (process.send !== undefined) serve();
