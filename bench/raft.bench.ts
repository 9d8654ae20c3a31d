/**
 * Benchmark of the Raft node driver (libs/raft): `npm run bench:raft [-- flags]`.
 *
 * (a) three nodes as three processes (bench/raft-node-process.ts, forked) on 127.0.0.1, each with
 *     its classic-level log written with sync: true: a closed-loop load of 200-byte proposals from
 *     256 concurrent proposers inside the leader's process (a proposal counts when its propose()
 *     resolves, i.e. it is committed and applied on the leader): committed proposals/s and
 *     p50/p99 latency; then an open-loop load at half that rate: p50/p99 (counted from the
 *     scheduled time, so a stall is not hidden by the proposers waiting it out);
 * (b) election time: SIGKILL of the leader's process to the first commit of a new leader (the
 *     survivors propose every few ms; the earliest success counts), median of 10 rounds, the
 *     killed node restarted on its data directory before the next round; with production timing
 *     (tickMs 100, electionTicks 10) and a shorter one (tickMs 50);
 * (c) the same load as (a) with the three nodes in one process;
 * Baseline, in the same run, just before and just after (a) (averaged): one process writing the same
 * entries (the log store's record format) to classic-level in chained sync batches of 256 entries,
 * the next batch prepared while the previous one is written: the storage ceiling of one replica
 * under 256 proposers (a leader never has more than 256 proposals to put in one save). Batches of
 * 1,024 are printed for reference.
 *
 * Flags: --proposals N (max-load run, default 150,000), --seconds S (time bound of each load run),
 * --rounds N (election rounds), --sections a,b,c,baseline (default all), --snapshot-every N
 * (snapshotEveryEntries of the nodes; default: the node's default, 10,000), --trace-elections
 * (each election round's timeline: when each survivor lost the leader's connection, started a
 * pre-vote or an election, became leader), --verbose (the nodes'
 * logs), --profile (children run with --cpu-prof; the profiles of the processes that exit normally
 * are kept and listed).
 * The last line printed is one JSON object with every figure.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { EntryType, type Entry, type Member } from '@xcron/raft';
import { encodeEntryRecords } from '@xcron/raft/storage/log-record-codec';
import {
  formatMs,
  formatNumber,
  formatRate,
  integerFlag,
  machineDescription,
  makeTempDir,
  median,
  nowMs,
  perS,
  ratio,
  removeTempDirs,
  round,
  sig,
} from './bench-util';
import type {
  ChildConfig,
  ChildMessage,
  ElectionEvent,
  LoadRequest,
  LoadResult,
  NodeSpec,
  NodeStatusReport,
} from './raft-node-process';

// ---- limits (every loop below is bounded by one of these) -----------------------------------

const PAYLOAD_BYTES = 200;
const CONCURRENCY = 256;
const PROPOSALS_DEFAULT = 150_000;
const PROPOSALS_MAX = 5_000_000;
const WARMUP_PROPOSALS = 10_000;
const LOAD_SECONDS_DEFAULT = 10;
const HALF_LOAD_SECONDS = 5;
const HALF_LOAD_OUTSTANDING_MAX = 20_000;
const PROPOSAL_TIMEOUT_MS = 10_000;
const ROUNDS_DEFAULT = 10;
const ELECTION_ATTEMPT_INTERVAL_MS = 5;
const ELECTION_ATTEMPT_TIMEOUT_MS = 300;
const ELECTION_PROBE_BOUND_MS = 15_000;
const CHILD_START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_SLACK_MS = 30_000;
const LEADER_WAIT_MS = 20_000;
const CATCH_UP_WAIT_MS = 60_000;
const POLL_MS = 50;
const BASELINE_MS = 3_000;
const BASELINE_BATCH = 256;
const BASELINE_REFERENCE_BATCH = 1024;
const PRODUCTION_TIMING = { tickMs: 100, electionTicks: 10 } as const;
/** RaftNodeOptions.snapshotEveryEntries when none is given (what the nodes use unless --snapshot-every). */
const NODE_SNAPSHOT_EVERY_DEFAULT = 10_000;
const SHORT_TIMING = { tickMs: 50, electionTicks: 10 } as const;

const GOALS = {
  procsCommitsPerS: 20_000,
  procsRatio: 0.25,
  halfLoadP99Ms: 50,
  electionMs: 1_500,
} as const;

const SECTIONS = ['a', 'b', 'c', 'baseline'] as const;
type Section = (typeof SECTIONS)[number];

const REPO_ROOT = resolve(__dirname, '..');
const CHILD_SCRIPT = join(__dirname, 'raft-node-process.ts');

// ---- child processes ---------------------------------------------------------------------------

/** Every child forked and not yet seen exiting: killed by PID on any exit path of this process. */
const liveChildren = new Set<ChildProcess>();

function killAllChildren(): void {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

let profileDir: string | undefined;

class NodeProcess {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >();
  private readonly exited: Promise<void>;
  private readyResolve: (() => void) | undefined;
  private exitedFlag = false;

  constructor(readonly config: ChildConfig) {
    const execArgv = ['-r', '@swc-node/register'];
    if (profileDir !== undefined) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    this.proc = fork(CHILD_SCRIPT, [], {
      cwd: REPO_ROOT,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    liveChildren.add(this.proc);
    this.exited = new Promise<void>((resolveExit) => {
      this.proc.once('exit', () => {
        this.exitedFlag = true;
        liveChildren.delete(this.proc);
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`child ${this.proc.pid} exited`));
        }
        this.pending.clear();
        resolveExit();
      });
    });
    this.proc.on('message', (raw) => this.onMessage(raw as ChildMessage));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get ids(): string[] {
    return this.config.nodes.map((n) => n.member.id);
  }

  async start(): Promise<void> {
    const ready = new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child did not start within ${CHILD_START_TIMEOUT_MS} ms`)),
        CHILD_START_TIMEOUT_MS,
      );
      this.readyResolve = () => {
        clearTimeout(timer);
        resolveReady();
      };
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error('child exited while starting'));
      });
    });
    this.proc.send({ type: 'init', config: this.config });
    await ready;
  }

  request<T>(body: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (this.exitedFlag) return Promise.reject(new Error(`child ${this.pid} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolveRequest, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`child ${this.pid}: ${String(body.cmd)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: resolveRequest as (value: unknown) => void,
        reject,
        timer,
      });
      this.proc.send({ id, ...body });
    });
  }

  /** CPU time this process used so far (user + system) and when it was read (its own clock). */
  cpu(): Promise<CpuReport> {
    return this.request<CpuReport>({ cmd: 'cpu' }, 5_000);
  }

  status(): Promise<NodeStatusReport[]> {
    return this.request<NodeStatusReport[]>({ cmd: 'status' }, 5_000);
  }

  /** Asks the child to stop its nodes and exit; kills it if it does not within the bound. */
  async stop(): Promise<void> {
    if (this.exitedFlag) return;
    await this.request({ cmd: 'stop' }, 10_000).catch(() => undefined);
    const timer = setTimeout(() => this.kill(), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exitedFlag && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  waitExit(): Promise<void> {
    return this.exited;
  }

  private onMessage(message: ChildMessage): void {
    if (message.type === 'ready') {
      this.readyResolve?.();
      return;
    }
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new Error(`child ${this.pid}: ${message.error}`));
  }
}

/** A child's CPU time so far and its log stores' saves (all nodes it hosts). */
interface CpuReport {
  atMs: number;
  cpuMs: number;
  saves: number;
  savedEntries: number;
  compacts: number;
}

// ---- clusters ----------------------------------------------------------------------------------

interface ClusterPlan {
  members: Member[];
  specs: NodeSpec[];
  secret: string;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

async function planCluster(root: string, name: string): Promise<ClusterPlan> {
  const ports = await freePorts(3);
  const members: Member[] = ports.map((port) => ({
    id: `127.0.0.1:${port}`,
    role: 'voter',
    peerAddress: `127.0.0.1:${port}`,
  }));
  const specs = members.map((member, i) => {
    const dataDir = join(root, `${name}-n${i + 1}`);
    mkdirSync(dataDir, { recursive: true });
    return { member, dataDir };
  });
  return { members, specs, secret: randomBytes(24).toString('hex') };
}

/** Settings every child gets, from the command line. */
interface RunSettings {
  verbose: boolean;
  /** Undefined: the node's default (RaftNodeOptions.snapshotEveryEntries). */
  snapshotEveryEntries: number | undefined;
}

function childConfig(
  plan: ClusterPlan,
  mode: ChildConfig['mode'],
  nodes: NodeSpec[],
  timing: { tickMs: number; electionTicks: number },
  settings: RunSettings,
): ChildConfig {
  return {
    mode,
    nodes,
    members: plan.members,
    clusterSecret: plan.secret,
    tickMs: timing.tickMs,
    electionTicks: timing.electionTicks,
    snapshotEveryEntries: settings.snapshotEveryEntries,
    verbose: settings.verbose,
  };
}

async function statuses(processes: readonly NodeProcess[]): Promise<NodeStatusReport[]> {
  const all = await Promise.all(processes.map((p) => p.status().catch(() => [])));
  return all.flat();
}

/** Waits for one leader that every node (all of `processes`' nodes) follows; returns its process. */
async function waitForLeader(processes: readonly NodeProcess[]): Promise<NodeProcess> {
  const deadline = nowMs() + LEADER_WAIT_MS;
  while (nowMs() < deadline) {
    const reports = await statuses(processes);
    const leaders = reports.filter((r) => r.role === 'leader');
    if (
      leaders.length === 1 &&
      reports.length === 3 &&
      reports.every((r) => r.leaderId === leaders[0].id)
    ) {
      const host = processes.find((p) => p.ids.includes(leaders[0].id));
      if (host !== undefined) return host;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no leader followed by every node within ${LEADER_WAIT_MS} ms`);
}

/** Waits until every node applied what the leader had committed when the wait began. */
async function waitCaughtUp(processes: readonly NodeProcess[]): Promise<void> {
  await waitForLeader(processes);
  const target = Math.max(...(await statuses(processes)).map((r) => r.commit));
  const deadline = nowMs() + CATCH_UP_WAIT_MS;
  while (nowMs() < deadline) {
    const reports = await statuses(processes);
    if (reports.length === 3 && reports.every((r) => r.applied >= target)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`the nodes did not all apply ${target} within ${CATCH_UP_WAIT_MS} ms`);
}

function loadRequest(overrides: Partial<LoadRequest>, seconds: number): LoadRequest {
  return {
    count: WARMUP_PROPOSALS,
    concurrency: CONCURRENCY,
    timeBoundMs: seconds * 1000,
    proposalTimeoutMs: PROPOSAL_TIMEOUT_MS,
    payloadBytes: PAYLOAD_BYTES,
    ...overrides,
  };
}

async function runLoad(host: NodeProcess, request: LoadRequest): Promise<LoadResult> {
  return host.request<LoadResult>(
    { cmd: 'load', load: request },
    request.timeBoundMs + PROPOSAL_TIMEOUT_MS + REQUEST_TIMEOUT_SLACK_MS,
  );
}

interface LoadFigures {
  commits_per_s: number;
  p50_ms: number;
  p99_ms: number;
  committed: number;
  failed: number;
  entries_per_save: number;
  save_ms_avg: number;
  leader_cpu_pct: number;
  /** CPU of each process over the max run (the load's host first), % of one core. */
  process_cpu_pct: number[];
  half: {
    rate_per_s: number;
    commits_per_s: number;
    p50_ms: number;
    p99_ms: number;
    p999_ms: number;
    failed: number;
  };
}

/** Warm-up, the closed-loop max run, then the open-loop run at half its rate. */
async function measureLoad(
  host: NodeProcess,
  all: readonly NodeProcess[],
  proposals: number,
  seconds: number,
): Promise<LoadFigures> {
  await runLoad(host, loadRequest({ count: WARMUP_PROPOSALS }, seconds));
  const cpuBefore = await Promise.all(all.map((p) => p.cpu()));
  const max = await runLoad(host, loadRequest({ count: proposals }, seconds));
  const cpuAfter = await Promise.all(all.map((p) => p.cpu()));
  const savesPerProcess = all.map((_, i) => cpuAfter[i].saves - cpuBefore[i].saves);
  const entriesPerProcess = all.map((_, i) => cpuAfter[i].savedEntries - cpuBefore[i].savedEntries);
  const compactsPerProcess = all.map((_, i) => cpuAfter[i].compacts - cpuBefore[i].compacts);
  const cpuPcts = all.map((p, i) =>
    round(
      (100 * (cpuAfter[i].cpuMs - cpuBefore[i].cpuMs)) / (cpuAfter[i].atMs - cpuBefore[i].atMs),
      0,
    ),
  );
  checkDurable(max, CONCURRENCY);
  const maxRate = perS(max.committed, max.elapsedMs);
  const halfRate = Math.max(1, Math.floor(maxRate / 2));
  const half = await runLoad(
    host,
    loadRequest(
      {
        count: Math.ceil(halfRate * HALF_LOAD_SECONDS),
        ratePerS: halfRate,
        outstandingMax: HALF_LOAD_OUTSTANDING_MAX,
        timeBoundMs: HALF_LOAD_SECONDS * 1000 * 2,
      },
      seconds,
    ),
  );
  const figures: LoadFigures = {
    commits_per_s: sig(maxRate),
    p50_ms: round(max.p50Ms, 2),
    p99_ms: round(max.p99Ms, 2),
    committed: max.committed,
    failed: max.failed,
    entries_per_save: round(max.leaderSavedEntries / Math.max(1, max.leaderSaves), 1),
    save_ms_avg: round(max.leaderSaveMs / Math.max(1, max.leaderSaves), 2),
    leader_cpu_pct: round((100 * (max.cpuUserMs + max.cpuSystemMs)) / max.elapsedMs, 0),
    process_cpu_pct: cpuPcts,
    half: {
      rate_per_s: halfRate,
      commits_per_s: sig(perS(half.committed, half.elapsedMs)),
      p50_ms: round(half.p50Ms, 2),
      p99_ms: round(half.p99Ms, 2),
      p999_ms: round(half.p999Ms, 2),
      failed: half.failed,
    },
  };
  line(
    `max load (${CONCURRENCY} proposers)`,
    `${formatRate(maxRate, 'commits')}, p50 ${formatMs(max.p50Ms)}, p99 ${formatMs(max.p99Ms)}, max ${formatMs(max.maxMs)} (${formatNumber(max.committed)} in ${formatMs(max.elapsedMs)}, ${max.failed} failed${max.firstError ? `: ${max.firstError}` : ''}); leader's event-loop delay p99 ${formatMs(max.loopDelayP99Ms)}, max ${formatMs(max.loopDelayMaxMs)}`,
  );
  line(
    'leader: saves',
    `${formatNumber(max.leaderSaves)} saves, ${figures.entries_per_save} entries/save, ${figures.save_ms_avg} ms/save; CPU ${figures.leader_cpu_pct}% (leader process), ${all.length > 1 ? `per process ${cpuPcts.join('% / ')}%` : ''}`,
  );
  line(
    'saves per process (leader first)',
    all
      .map(
        (_, i) =>
          `${formatNumber(savesPerProcess[i])} (${round(entriesPerProcess[i] / Math.max(1, savesPerProcess[i]), 1)} entries/save, ${compactsPerProcess[i]} compact calls)`,
      )
      .join(' / '),
  );
  line(
    `half load (${formatNumber(halfRate)}/s open loop)`,
    `${formatRate(figures.half.commits_per_s, 'commits')}, p50 ${formatMs(half.p50Ms)}, p99 ${formatMs(half.p99Ms)}, p99.9 ${formatMs(half.p999Ms)} (${half.failed} failed${half.firstError ? `: ${half.firstError}` : ''}); leader's event-loop delay p99 ${formatMs(half.loopDelayP99Ms)}, max ${formatMs(half.loopDelayMaxMs)}`,
  );
  return figures;
}

/** Every committed proposal went through a synced save on the leader, at most `concurrency` per save. */
function checkDurable(result: LoadResult, concurrency: number): void {
  if (result.leaderSavedEntries < result.committed) {
    throw new Error(
      `${result.committed} proposals committed but only ${result.leaderSavedEntries} entries saved on the leader`,
    );
  }
  if (result.leaderSaves * (concurrency + 8) < result.committed) {
    throw new Error(
      `${result.committed} proposals committed with only ${result.leaderSaves} saves: more entries per save than proposers`,
    );
  }
}

// ---- (a) and (b): three processes ------------------------------------------------------------

async function startProcesses(
  plan: ClusterPlan,
  timing: { tickMs: number; electionTicks: number },
  settings: RunSettings,
): Promise<NodeProcess[]> {
  const processes = plan.specs.map(
    (spec) => new NodeProcess(childConfig(plan, 'node', [spec], timing, settings)),
  );
  await Promise.all(processes.map((p) => p.start()));
  return processes;
}

interface ElectionFigures {
  tick_ms: number;
  election_ticks: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  rounds_ms: number[];
  /** Per round: pre-votes and elections the survivors started after the kill (a clean hand-over: one of each). */
  rounds_campaigns: Array<{ pre_votes: number; elections: number }>;
}

/** Pre-votes and elections the survivors started after the kill (each node entering the role once counts once). */
function electionRounds(events: readonly ElectionEvent[]): {
  pre_votes: number;
  elections: number;
} {
  let preVotes = 0;
  let elections = 0;
  for (const e of events) {
    if (e.what.startsWith('pre-candidate ')) preVotes += 1;
    else if (e.what.startsWith('candidate ')) elections += 1;
  }
  return { pre_votes: preVotes, elections };
}

/** One round's timeline, relative to the kill: who lost the leader's connection, campaigned, led. */
function printTimeline(events: readonly ElectionEvent[], killedAt: number, ids: string[]): void {
  const short = (id: string): string => `n${ids.indexOf(id) + 1}`;
  for (const e of [...events].sort((a, b) => a.atMs - b.atMs)) {
    let what = e.what;
    for (const id of ids) what = what.split(id).join(short(id));
    console.log(`      ${formatMs(e.atMs - killedAt).padStart(9)}  ${short(e.node)}  ${what}`);
  }
}

async function measureElections(
  processes: NodeProcess[],
  rounds: number,
  timing: { tickMs: number; electionTicks: number },
  trace: boolean,
): Promise<ElectionFigures> {
  const times: number[] = [];
  const campaigns: Array<{ pre_votes: number; elections: number }> = [];
  const ids = processes.flatMap((p) => p.ids);
  for (let roundNo = 0; roundNo < rounds; roundNo++) {
    await waitCaughtUp(processes);
    // Let a few heartbeats pass so the followers hold a fresh lease, as in steady operation.
    await sleep(3 * timing.tickMs);
    const leader = await waitForLeader(processes);
    const survivors = processes.filter((p) => p !== leader);
    const killedAt = absoluteNowMs();
    leader.kill();
    const probes = await Promise.allSettled(
      survivors.map((s) =>
        s.request<{ firstCommitAt: number; events: ElectionEvent[] }>(
          {
            cmd: 'probe',
            probe: {
              killedAt,
              intervalMs: ELECTION_ATTEMPT_INTERVAL_MS,
              attemptTimeoutMs: ELECTION_ATTEMPT_TIMEOUT_MS,
              inFlightMax: 200,
              timeBoundMs: ELECTION_PROBE_BOUND_MS,
            },
          },
          ELECTION_PROBE_BOUND_MS + REQUEST_TIMEOUT_SLACK_MS,
        ),
      ),
    );
    const firsts = probes.flatMap((p) => (p.status === 'fulfilled' ? [p.value.firstCommitAt] : []));
    if (firsts.length === 0) {
      const reason = probes
        .map((p) => (p.status === 'rejected' ? String(p.reason) : ''))
        .join('; ');
      throw new Error(`round ${roundNo + 1}: no survivor committed: ${reason}`);
    }
    const ms = Math.min(...firsts) - killedAt;
    times.push(ms);
    const firstCommitAt = Math.min(...firsts);
    const events = probes
      .flatMap((p) => (p.status === 'fulfilled' ? p.value.events : []))
      .filter((e) => e.atMs <= firstCommitAt);
    const counted = electionRounds(events.filter((e) => e.atMs >= killedAt));
    campaigns.push(counted);
    console.log(
      `  round ${String(roundNo + 1).padStart(2)}: ${formatMs(ms)} (${counted.pre_votes} pre-vote(s), ${counted.elections} election(s))`,
    );
    if (trace) printTimeline(events, killedAt, ids);
    await leader.waitExit();
    const restarted = new NodeProcess(leader.config);
    processes[processes.indexOf(leader)] = restarted;
    await restarted.start();
  }
  await waitCaughtUp(processes);
  return {
    tick_ms: timing.tickMs,
    election_ticks: timing.electionTicks,
    median_ms: round(median(times), 0),
    min_ms: round(Math.min(...times), 0),
    max_ms: round(Math.max(...times), 0),
    rounds_ms: times.map((t) => round(t, 0)),
    rounds_campaigns: campaigns,
  };
}

// ---- baseline ----------------------------------------------------------------------------------

/**
 * Chained sync batches of `batch` entries to a fresh classic-level store, as fast as one writer
 * goes: the next batch is encoded while the previous one is being written (LevelDB writes them in
 * order, one at a time).
 */
async function baselineRate(root: string, batch: number, ms: number): Promise<number> {
  const dir = join(root, `baseline-${batch}-${Date.now()}`);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  const pool = randomFillSync(Buffer.allocUnsafeSlow(4096 * PAYLOAD_BYTES));
  let next = 1;
  const prepare = (): ReturnType<typeof db.batch> => {
    const entries: Entry[] = new Array(batch);
    for (let i = 0; i < batch; i++) {
      const at = ((next + i) % 4096) * PAYLOAD_BYTES;
      entries[i] = {
        index: next + i,
        term: 1,
        type: EntryType.Normal,
        data: pool.subarray(at, at + PAYLOAD_BYTES),
      };
    }
    next += batch;
    const chained = db.batch();
    encodeEntryRecords(entries, (key, value) => chained.put(key, value));
    return chained;
  };
  let written = 0;
  const start = nowMs();
  let current = prepare();
  try {
    while (nowMs() - start < ms) {
      const writing = current.write({ sync: true });
      current = prepare();
      await writing;
      written += batch;
    }
  } finally {
    await current.close();
  }
  const rate = perS(written, nowMs() - start);
  await db.close();
  return rate;
}

// ---- output ------------------------------------------------------------------------------------

function line(label: string, text: string): void {
  console.log(`  ${label.padEnd(34)} ${text}`);
}

/** The same clock as the children's `absoluteNowMs` (the wall clock at sub-millisecond resolution). */
function absoluteNowMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function listFlag(argv: readonly string[], name: string): string | undefined {
  const flag = `--${name}`;
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) raw = argv[i + 1];
    else if (argv[i].startsWith(`${flag}=`)) raw = argv[i].slice(flag.length + 1);
  }
  return raw;
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const proposals = integerFlag(argv, 'proposals', PROPOSALS_DEFAULT, 1_000, PROPOSALS_MAX);
  const seconds = integerFlag(argv, 'seconds', LOAD_SECONDS_DEFAULT, 1, 600);
  const rounds = integerFlag(argv, 'rounds', ROUNDS_DEFAULT, 1, 100);
  const sectionText = listFlag(argv, 'sections') ?? SECTIONS.join(',');
  const sections = new Set(sectionText.split(',').map((s) => s.trim()));
  for (const s of sections) {
    if (!(SECTIONS as readonly string[]).includes(s))
      throw new RangeError(`--sections takes ${SECTIONS.join(',')}, got ${JSON.stringify(s)}`);
  }
  const has = (s: Section): boolean => sections.has(s);
  const snapshotFlag = integerFlag(argv, 'snapshot-every', 0, 0, 100_000_000);
  const traceElections = argv.includes('--trace-elections');
  const settings: RunSettings = {
    verbose: argv.includes('--verbose'),
    snapshotEveryEntries: snapshotFlag === 0 ? undefined : snapshotFlag,
  };
  if (argv.includes('--profile')) {
    profileDir = join(tmpdir(), `xcron-raft-profiles-${Date.now()}`);
    mkdirSync(profileDir, { recursive: true });
  }

  const root = makeTempDir('xcron-raft-bench-');
  console.log(`raft benchmark — ${machineDescription()}`);
  console.log(
    `  ${PAYLOAD_BYTES}-byte proposals, ${CONCURRENCY} concurrent proposers, classic-level with sync: true; up to ${formatNumber(proposals)} proposals or ${seconds} s per max-load run; timing tickMs ${PRODUCTION_TIMING.tickMs}, electionTicks ${PRODUCTION_TIMING.electionTicks} (election timeout ${PRODUCTION_TIMING.tickMs * PRODUCTION_TIMING.electionTicks}–${2 * PRODUCTION_TIMING.tickMs * PRODUCTION_TIMING.electionTicks} ms); snapshot every ${formatNumber(settings.snapshotEveryEntries ?? NODE_SNAPSHOT_EVERY_DEFAULT)} entries`,
  );

  const baselineRuns: number[] = [];
  const referenceRuns: number[] = [];
  const measureBaseline = async (when: string): Promise<void> => {
    const rate = await baselineRate(root, BASELINE_BATCH, BASELINE_MS);
    const reference = await baselineRate(root, BASELINE_REFERENCE_BATCH, BASELINE_MS / 2);
    baselineRuns.push(rate);
    referenceRuns.push(reference);
    line(
      `baseline (${when})`,
      `${formatRate(rate, 'entries')} in sync batches of ${BASELINE_BATCH}; ${formatRate(reference, 'entries')} in batches of ${BASELINE_REFERENCE_BATCH} (reference)`,
    );
  };

  if (has('baseline')) {
    console.log('\nbaseline: one process, chained sync batches to classic-level');
    await measureBaseline('before');
  }

  let procs: LoadFigures | undefined;
  const elections: ElectionFigures[] = [];
  if (has('a') || has('b')) {
    console.log('\n(a) three processes on 127.0.0.1');
    const plan = await planCluster(root, 'procs');
    const processes = await startProcesses(plan, PRODUCTION_TIMING, settings);
    try {
      const leader = await waitForLeader(processes);
      const others = processes.filter((p) => p !== leader);
      if (has('a')) procs = await measureLoad(leader, [leader, ...others], proposals, seconds);
      if (has('baseline')) {
        // Right after (a), next to it in time (the cluster idles meanwhile: heartbeats only).
        console.log('');
        await measureBaseline('after (a)');
      }
      if (has('b')) {
        console.log(
          `\n(b) election: SIGKILL of the leader to the new leader's first commit, tickMs ${PRODUCTION_TIMING.tickMs}, electionTicks ${PRODUCTION_TIMING.electionTicks}`,
        );
        elections.push(
          await measureElections(processes, rounds, PRODUCTION_TIMING, traceElections),
        );
        line('median', formatMs(elections[0].median_ms));
      }
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
    }
    if (has('b')) {
      console.log(
        `\n(b') election with a shorter timeout: tickMs ${SHORT_TIMING.tickMs}, electionTicks ${SHORT_TIMING.electionTicks} (timeout ${SHORT_TIMING.tickMs * SHORT_TIMING.electionTicks}–${2 * SHORT_TIMING.tickMs * SHORT_TIMING.electionTicks} ms)`,
      );
      const shortPlan = await planCluster(root, 'short');
      const shortProcesses = await startProcesses(shortPlan, SHORT_TIMING, settings);
      try {
        elections.push(
          await measureElections(shortProcesses, rounds, SHORT_TIMING, traceElections),
        );
        line('median', formatMs(elections[1].median_ms));
      } finally {
        await Promise.all(shortProcesses.map((p) => p.stop()));
      }
    }
  }

  let inproc: LoadFigures | undefined;
  if (has('c')) {
    console.log('\n(c) three nodes in one process');
    const plan = await planCluster(root, 'inproc');
    const host = new NodeProcess(
      childConfig(plan, 'cluster', plan.specs, PRODUCTION_TIMING, settings),
    );
    try {
      await host.start();
      await waitForLeader([host]);
      inproc = await measureLoad(host, [host], proposals, seconds);
    } finally {
      await host.stop();
    }
  }

  if (has('baseline') && !has('a') && !has('b')) {
    console.log('');
    await measureBaseline('after');
  }
  const baseline =
    baselineRuns.length > 0 ? baselineRuns.reduce((a, b) => a + b) / baselineRuns.length : NaN;
  const reference =
    referenceRuns.length > 0 ? referenceRuns.reduce((a, b) => a + b) / referenceRuns.length : NaN;

  console.log('\nsummary');
  const procsRatio = procs ? ratio(procs.commits_per_s, baseline) : NaN;
  const inprocRatio = inproc ? ratio(inproc.commits_per_s, baseline) : NaN;
  if (procs) {
    line(
      'three processes',
      `${formatRate(procs.commits_per_s, 'commits')} = ${round(procsRatio, 3)}× baseline (${formatRate(baseline, 'entries')})`,
    );
  }
  if (inproc) {
    line(
      'one process',
      `${formatRate(inproc.commits_per_s, 'commits')} = ${round(inprocRatio, 3)}× baseline`,
    );
  }
  const productionElection = elections.find((e) => e.tick_ms === PRODUCTION_TIMING.tickMs);
  const shortElection = elections.find((e) => e.tick_ms === SHORT_TIMING.tickMs);
  const summary = {
    machine: machineDescription(),
    payload_bytes: PAYLOAD_BYTES,
    concurrency: CONCURRENCY,
    timing: PRODUCTION_TIMING,
    snapshot_every_entries: settings.snapshotEveryEntries ?? NODE_SNAPSHOT_EVERY_DEFAULT,
    baseline_entries_per_s: sig(baseline),
    baseline_batch: BASELINE_BATCH,
    baseline_runs: baselineRuns.map((r) => sig(r)),
    baseline_batch_1024_entries_per_s: sig(reference),
    three_processes: procs ? { ...procs, ratio: round(procsRatio, 3) } : null,
    one_process: inproc ? { ...inproc, ratio: round(inprocRatio, 3) } : null,
    election: productionElection ?? null,
    election_short: shortElection ?? null,
    goals: {
      procs_commits_per_s_ge_20000: procs ? procs.commits_per_s >= GOALS.procsCommitsPerS : null,
      procs_ratio_ge_0_25: procs ? procsRatio >= GOALS.procsRatio : null,
      procs_half_load_p99_lt_50ms: procs ? procs.half.p99_ms < GOALS.halfLoadP99Ms : null,
      election_median_lt_1500ms: productionElection
        ? productionElection.median_ms < GOALS.electionMs
        : null,
      election_short_median_lt_1500ms: shortElection
        ? shortElection.median_ms < GOALS.electionMs
        : null,
    },
  };
  if (profileDir !== undefined) {
    console.log(`\nCPU profiles (processes that exited normally) in ${profileDir}:`);
    for (const name of readdirSync(profileDir)) console.log(`  ${name}`);
  }
  console.log('');
  console.log(JSON.stringify(summary));
}

// Children are killed by PID on every way out: normal exit, an error, or a signal.
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAllChildren();
    removeTempDirs();
    process.kill(process.pid, signal);
  });
}

main()
  .catch((error: unknown) => {
    if (error instanceof RangeError) console.error(`bench:raft: ${error.message}`);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  .finally(() => {
    killAllChildren();
    removeTempDirs();
  });
