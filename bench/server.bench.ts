/**
 * Benchmark of the xcron server as a user runs it: `npm run bench:server [-- flags]`.
 *
 * Runs the BUILT server as `npm run start:prod` does (`bin/xcron-server --config FILE`,
 * cwd = a temp dir, shipped durability settings), building it first with `npm run build` when
 * dist is missing or older than a source file under apps/ or libs/ (`--build` forces it).
 * Callbacks go to a plain node:http receiver in this process (bench/server-receiver.ts).
 *
 *  1. createTask/s: 64 closed-loop HTTP clients (undici, one keep-alive connection each) POST the
 *     seed's body (a one-shot a week ahead, random bytes in callback.body) to ONE node, then to a
 *     3-node cluster (clients spread over the three nodes); baseline: a bare fastify POST route in
 *     its own process (bench/server-bare-fastify.ts) driven the same way. The three targets run
 *     in interleaved rounds (bare, one, three, bare, …) so that the shared machine's changing load
 *     falls on all alike; ratios are of the totals. Goals: one node ≥ 0.6×, three nodes ≥ 0.35×.
 *  2. POST /v1/tasks:batch, 1,000 one-shots a request, 4 requests in flight, one node → tasks/s
 *     (goal ≥ 100,000).
 *  3. Lateness (arrival − X-Xcron-Scheduled-At, jitter off; an early arrival fails the run):
 *     5,000 one-shots at random milliseconds over 5 s, twice on the same node. The first wave
 *     runs on a node started seconds before: code V8 has not optimized yet, no connection to the
 *     receiver yet. It is reported as one_shot_cold_* (what the first seconds after a start
 *     cost). The second wave is the goal's figure, a running node's steady state (goal p99 ≤
 *     10 ms; every callback of both waves must arrive, none early). Each wave also prints its
 *     lateness per second and how many connections the node opened to the receiver; 1,000 crontabs
 *     "* * * * * *" for 10 s (goal: all 10,000 delivered, p99 ≤ 10 ms + the time raw undici needs
 *     to send 1,000 POSTs to the same receiver with 256 connections, measured in this run).
 *  4. Callbacks/s: 20,000 one-shots due at the same ms → delivered/s from the due time to the last
 *     arrival; baseline: raw undici (bench/server-undici-sender.ts, own process) POSTing 20,000 to
 *     the same receiver with the dispatcher's default concurrency, 256, just before and just after
 *     (averaged), after a warm-up of 400 POSTs like the node's own (goal ≥ 0.7×).
 *  5. Failover: 3 nodes, 10,000 one-shots due over 10 s (1,000/s); kill -9 of the leader 4 s into
 *     it → ms from the kill to the first callback on a connection opened after it (the new
 *     leader's), lost fires (acknowledged, due, not received 20 s after the last due time),
 *     duplicates (arrivals per Idempotency-Key − 1). Goals: ≤ 2,000 ms, 0 lost.
 *  6. N (default 1,000,000) pending one-shots with 200-byte random (base64) bodies via tasks:batch:
 *     RSS per task = (VmRSS after a 10 s settle and a forced GC − VmRSS before, after a forced GC)
 *     ÷ N. The server has no GC endpoint: this one node runs with --inspect=127.0.0.1:<port> and the
 *     bench forces the GC through the inspector protocol (HeapProfiler.collectGarbage).
 *     Disk per task = bytes of raft_dir after the settle ÷ N (this node runs with
 *     snapshot_every_entries = 500, so that the 1,000 batch entries of a million tasks are
 *     snapshotted and compacted twice; with the default, 10,000, this load would never compact, and
 *     with 100 each snapshot of the whole state stalls writes for seconds). Restart-to-ready: kill -9, restart, ms until
 *     /readyz answers 200; then a one-shot due 1 s later must arrive on time.
 *     Goals: ≤ 300 B RSS, ≤ 400 B disk per task, ≤ 5,000 ms to ready.
 *
 * Flags: --parts 1,2,3,4,5,6 (default all), --skip-million (= without 6), --million N,
 * --seconds S and --rounds N (createTask load: N interleaved rounds of S s per target, default 3 × 4),
 * --build (force npm run build), --no-build (run dist as it is), --profile DIR (servers run with
 * --cpu-prof, profiles written to DIR when they are stopped with SIGTERM at the end of a part).
 * The last line printed is one JSON object with every figure and `goals`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { freePorts } from '@xcron/testing';
import {
  formatNumber,
  formatRate,
  integerFlag,
  machineDescription,
  makeTempDir,
  median,
  percentiles,
  ratio,
  removeTempDirs,
  round,
  sig,
} from './bench-util';
import { LoadClients, postJson, type LoadResult } from './server-load';
import {
  HelperChild,
  ServerNode,
  cpuMs,
  diskBreakdown,
  diskBytes,
  ensureBuilt,
  forceGcViaInspector,
  killAllChildren,
  rssBytes,
  sleep,
} from './server-proc';
import { Receiver, type Arrival } from './server-receiver';

// ---- limits (every loop is bounded by one of these) ---------------------------------------

const CLIENTS = 64;
const WARMUP_MS = 1_500;
const MAX_REQUESTS = 2_000_000;
const READY_TIMEOUT_MS = 60_000;
const BATCH = 1_000;
const BATCH_IN_FLIGHT = 4;
const BATCH_REQUESTS = 200;
const BATCH_SECONDS = 15;
const ONESHOTS = 5_000;
const ONESHOT_SPREAD_MS = 5_000;
const CRONTABS = 1_000;
const CRON_SECONDS = 10;
const DISPATCH_CONCURRENCY = 256;
const CEILING_POSTS = 1_000;
const CEILING_ROUNDS = 5;
const BURST = 20_000;
/** As many as a node's start-up warm-up (dispatch_warmup_requests' default). */
const SENDER_WARMUP_POSTS = 400;
const FAILOVER_TASKS = 10_000;
const FAILOVER_SPREAD_MS = 10_000;
const FAILOVER_KILL_AFTER_MS = 4_000;
const FAILOVER_GRACE_MS = 20_000;
const MILLION_DEFAULT = 1_000_000;
const MILLION_BODY_BYTES = 150; // 200 characters of base64
const SETTLE_MS = 10_000;
const WEEK_MS = 7 * 86_400_000;

const GOALS = {
  createOneNodeRatio: 0.6,
  createClusterRatio: 0.35,
  batchTasksPerS: 100_000,
  oneShotP99Ms: 10,
  cronP99ExtraMs: 10,
  callbacksRatio: 0.7,
  failoverResumeMs: 2_000,
  rssPerTaskBytes: 300,
  diskPerTaskBytes: 400,
  restartReadyMs: 5_000,
} as const;

// ---- shared state ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
const results: Record<string, unknown> = {};
const goals: Record<string, boolean> = {};
const early: string[] = [];
let root = '';
let receiver: Receiver;
let profileDir: string | undefined;

function log(line: string): void {
  console.log(line);
}

function partsFlag(): Set<number> {
  const index = argv.findIndex((a) => a === '--parts' || a.startsWith('--parts='));
  let parts = [1, 2, 3, 4, 5, 6];
  if (index >= 0) {
    const raw = argv[index].includes('=') ? argv[index].split('=')[1] : argv[index + 1];
    parts = (raw ?? '').split(',').map(Number);
    if (parts.some((p) => !Number.isInteger(p) || p < 1 || p > 6))
      throw new RangeError(`--parts takes numbers 1 to 6, got ${JSON.stringify(raw)}`);
  }
  if (argv.includes('--skip-million')) parts = parts.filter((p) => p !== 6);
  return new Set(parts);
}

async function startNodes(
  name: string,
  count: number,
  extraToml: string[] = [],
  extraNodeArgs: string[] = [],
): Promise<ServerNode[]> {
  const ports = await freePorts(count * 3);
  const peerHosts = count === 1 ? [] : ports.slice(0, count).map((p) => `127.0.0.1:${p}`);
  const nodes = Array.from(
    { length: count },
    (_, i) =>
      new ServerNode({
        dir: join(root, `${name}-n${i + 1}`),
        ports: { peer: ports[i], http: ports[count + i], monitor: ports[2 * count + i] },
        peerHosts,
        extraToml,
        nodeArgs: [
          ...extraNodeArgs,
          ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
        ],
      }),
  );
  for (const node of nodes) node.start();
  await Promise.all(nodes.map((node) => node.waitReady(READY_TIMEOUT_MS)));
  await Promise.all(nodes.map((node) => waitWarmedUp(node)));
  return nodes;
}

/** The log line of a finished (or failed) start-up warm-up (Scheduler.warmUpWhenReady). */
const WARMED_UP = /callback path warmed up|callback warm-up failed/;

/**
 * A node warms its callback path once ready (dispatch_warmup_requests): the parts measure it after
 * that, and without the warm-up's CPU in their baselines (the raw undici ceiling, the bare route).
 */
async function waitWarmedUp(node: ServerNode): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!WARMED_UP.test(node.output)) {
    if (Date.now() > deadline) {
      log(
        `  (node ${node.baseUrl}: no warm-up line within ${READY_TIMEOUT_MS} ms; measuring anyway)`,
      );
      return;
    }
    await sleep(50);
  }
}

async function stopNodes(nodes: readonly ServerNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => (profileDir === undefined ? node.kill9() : node.stop())));
}

async function leaderOf(nodes: readonly ServerNode[]): Promise<ServerNode> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const node of nodes) {
      if (!node.running) continue;
      const status = await node.cluster();
      if (status?.role === 'leader') return node;
    }
    await sleep(100);
  }
  throw new Error('no leader');
}

function randomData(bytes: number): string {
  return randomBytes(bytes).toString('base64');
}

function seedBodies(count: number, runAtS: number): string[] {
  return Array.from({ length: count }, () =>
    JSON.stringify({
      type: 2,
      format: String(runAtS),
      callback: { url: receiver.url('/far'), body: { data: randomData(96) } },
    }),
  );
}

interface OneShot {
  runAtMs: number;
  body?: string;
}

function batchBody(tasks: readonly OneShot[], bodyBytes = 48): string {
  return JSON.stringify({
    tasks: tasks.map((task) => ({
      run_at_ms: task.runAtMs,
      callback: { url: receiver.url(), body: task.body ?? { data: randomData(bodyBytes) } },
    })),
  });
}

/** POSTs batch bodies, `inFlight` at a time; returns the created task ids per batch, in order. */
async function sendBatches(
  baseUrl: string,
  bodies: readonly string[] | ((index: number) => string),
  count: number,
  inFlight: number,
  timeBoundMs: number,
): Promise<{ ids: string[][]; ms: number; failed: number; firstProblem: string | undefined }> {
  const pool = new Pool(baseUrl, { connections: inFlight, pipelining: 1 });
  const ids: string[][] = new Array(count);
  let next = 0;
  let failed = 0;
  let firstProblem: string | undefined;
  const started = performance.now();
  const deadline = started + timeBoundMs;
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count && performance.now() < deadline) {
          const index = next++;
          const body = typeof bodies === 'function' ? bodies(index) : bodies[index % bodies.length];
          try {
            const answer = await postJson(pool, '/v1/tasks:batch', body);
            const data = (answer.body as { data?: { tasks?: { task_id: string }[] } }).data;
            if (answer.status === 201 && data?.tasks !== undefined)
              ids[index] = data.tasks.map((t) => t.task_id);
            else {
              failed++;
              firstProblem ??= `HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`;
            }
          } catch (error) {
            failed++;
            firstProblem ??= String(error);
          }
        }
      }),
    );
  } finally {
    await pool.destroy();
  }
  return { ids, ms: performance.now() - started, failed, firstProblem };
}

function latencyFigures(
  arrivals: readonly Arrival[],
  label: string,
): {
  p50: number;
  p99: number;
  max: number;
  early: number;
} {
  const values = new Float64Array(arrivals.length);
  let earlyCount = 0;
  for (let i = 0; i < arrivals.length; i++) {
    const a = arrivals[i];
    values[i] = a.arrivedMs - a.scheduledMs;
    if (values[i] < 0) {
      earlyCount++;
      if (early.length < 20)
        early.push(`${label}: ${a.key} arrived ${-values[i]} ms EARLY (at ${a.arrivedMs})`);
    }
  }
  const [p50, p99, max] = percentiles(values, [50, 99, 100]);
  return { p50, p99, max, early: earlyCount };
}

/**
 * Where a lateness tail sits in time: for each second after `t0`, the count of arrivals and their
 * p99 and max, so that a cold start (the first second) tells itself apart from pauses spread over
 * the run (GC, compaction).
 */
function latenessBySecond(arrivals: readonly Arrival[], t0: number): string {
  const bySecond = new Map<number, number[]>();
  for (const a of arrivals) {
    const second = Math.floor((a.scheduledMs - t0) / 1000);
    const list = bySecond.get(second) ?? [];
    list.push(a.arrivedMs - a.scheduledMs);
    bySecond.set(second, list);
  }
  return [...bySecond.keys()]
    .sort((x, y) => x - y)
    .map((second) => {
      const values = Float64Array.from(bySecond.get(second) ?? []);
      const [p99, max] = percentiles(values, [99, 100]);
      return `s${second} n${values.length} p99 ${p99} max ${max}`;
    })
    .join(' | ');
}

function describeLoad(label: string, result: LoadResult, cpuPct?: number): void {
  const [p50, p99] = percentiles(result.latencies, [50, 99], result.latencyCount);
  log(
    `  ${label.padEnd(34)} ${formatRate(result.perS, 'req').padStart(16)}  ok ${formatNumber(result.ok)}` +
      `  refused ${result.refused}  errors ${result.errors}  p50 ${p50.toFixed(1)} ms  p99 ${p99.toFixed(1)} ms` +
      (cpuPct === undefined ? '' : `  server CPU ${cpuPct.toFixed(0)}%`),
  );
  if (result.firstProblem !== undefined) log(`    first problem: ${result.firstProblem}`);
}

interface CreateFigures {
  perS: number;
  ok: number;
  refused: number;
  p99Ms: number;
  /** CPU of each target process over the measured time, % of one core. */
  cpuPct: number[];
  /** req/s of each round. */
  rounds: number[];
}

/** One target of the createTask load: its origins (clients spread over them) and its PIDs. */
interface CreateTarget {
  readonly label: string;
  readonly origins: string[];
  readonly pids: number[];
  clients?: LoadClients;
  results: LoadResult[];
  cpuMs: number;
  wallMs: number;
}

/** Measured runs of every target, `rounds` times in turn (a, b, c, a, b, c, …): the shared machine's
 * load changes over time, and interleaving lets every target see the same mix. */
async function measureCreateInterleaved(
  targets: CreateTarget[],
  bodies: string[],
  seconds: number,
  rounds: number,
): Promise<CreateFigures[]> {
  try {
    for (const target of targets) {
      target.clients = new LoadClients(target.origins, CLIENTS);
      await target.clients.run({
        path: '/xcron/createTask',
        bodies,
        durationMs: WARMUP_MS,
        maxRequests: MAX_REQUESTS,
      });
    }
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        const cpuBefore = target.pids.map(cpuMs);
        const started = Date.now();
        const result = await target.clients!.run({
          path: '/xcron/createTask',
          bodies,
          durationMs: seconds * 1000,
          maxRequests: MAX_REQUESTS,
        });
        const wall = Date.now() - started;
        target.wallMs += wall;
        target.cpuMs += target.pids.reduce((sum, pid, i) => sum + cpuMs(pid) - cpuBefore[i], 0);
        target.results.push(result);
        const cpuPct = target.pids.map((pid, i) => ((cpuMs(pid) - cpuBefore[i]) / wall) * 100);
        describeLoad(
          `${target.label} (round ${round + 1})`,
          result,
          cpuPct.reduce((a, b) => a + b, 0),
        );
      }
    }
  } finally {
    await Promise.all(targets.map((target) => target.clients?.close()));
  }
  return targets.map((target) => {
    const ok = target.results.reduce((sum, r) => sum + r.ok, 0);
    const ms = target.results.reduce((sum, r) => sum + r.ms, 0);
    const all = new Float64Array(target.results.reduce((sum, r) => sum + r.latencyCount, 0));
    let at = 0;
    for (const r of target.results) {
      all.set(r.latencies.subarray(0, r.latencyCount), at);
      at += r.latencyCount;
    }
    return {
      perS: ok / (ms / 1000),
      ok,
      refused: target.results.reduce((sum, r) => sum + r.refused + r.errors, 0),
      p99Ms: percentiles(all, [99])[0],
      cpuPct: [(target.cpuMs / target.wallMs) * 100],
      rounds: target.results.map((r) => r.perS),
    };
  });
}

// ---- 1 + 2: createTask/s and tasks:batch -------------------------------------------------------

async function partCreate(parts: Set<number>, seconds: number, rounds: number): Promise<void> {
  const bodies = seedBodies(4096, Math.floor((Date.now() + WEEK_MS) / 1000));
  let oneNode: ServerNode[] = [];
  let cluster: ServerNode[] = [];
  let bare: HelperChild | undefined;
  try {
    if (parts.has(1)) {
      log(
        `\n[1] createTask/s, ${CLIENTS} clients, ${rounds} interleaved rounds of ${seconds} s (after a ${WARMUP_MS} ms warm-up each)`,
      );
      const [barePort] = await freePorts(1);
      bare = new HelperChild('server-bare-fastify.ts', [String(barePort)]);
      await bare.ready;
      oneNode = await startNodes('create1', 1);
      cluster = await startNodes('create3', 3);
      const target = (label: string, origins: string[], pids: number[]): CreateTarget => ({
        label,
        origins,
        pids,
        results: [],
        cpuMs: 0,
        wallMs: 0,
      });
      const [bareFig, one, three] = await measureCreateInterleaved(
        [
          target('bare fastify route', [`http://127.0.0.1:${barePort}`], [bare.pid]),
          target('xcron, one node', [oneNode[0].baseUrl], [oneNode[0].pid]),
          target(
            'xcron, 3 nodes (clients on all)',
            cluster.map((n) => n.baseUrl),
            cluster.map((n) => n.pid),
          ),
        ],
        bodies,
        seconds,
        rounds,
      );
      await stopNodes(cluster);
      cluster = [];
      const oneRatio = ratio(one.perS, bareFig.perS);
      const threeRatio = ratio(three.perS, bareFig.perS);
      const roundRatios = (fig: CreateFigures): string =>
        fig.rounds.map((r, i) => ratio(r, bareFig.rounds[i]).toFixed(2)).join(', ');
      log(
        `  bare ${formatRate(bareFig.perS, 'req')}, one node ${formatRate(one.perS, 'req')}, 3 nodes ${formatRate(three.perS, 'req')}`,
      );
      log(
        `  ratio one node / bare   ${oneRatio.toFixed(2)}  (rounds: ${roundRatios(one)})  goal ≥ ${GOALS.createOneNodeRatio}`,
      );
      log(
        `  ratio 3 nodes / bare    ${threeRatio.toFixed(2)}  (rounds: ${roundRatios(three)})  goal ≥ ${GOALS.createClusterRatio}`,
      );
      results.create = {
        clients: CLIENTS,
        seconds,
        rounds,
        bare_per_s: sig(bareFig.perS),
        bare_cpu_pct: round(bareFig.cpuPct[0], 0),
        one_node_per_s: sig(one.perS),
        one_node_p99_ms: round(one.p99Ms, 1),
        one_node_cpu_pct: round(one.cpuPct[0], 0),
        one_node_refused: one.refused,
        one_node_ratio: round(oneRatio, 3),
        three_nodes_per_s: sig(three.perS),
        three_nodes_p99_ms: round(three.p99Ms, 1),
        three_nodes_cpu_pct_sum: round(three.cpuPct[0], 0),
        three_nodes_refused: three.refused,
        three_nodes_ratio: round(threeRatio, 3),
      };
      goals.create_one_node = oneRatio >= GOALS.createOneNodeRatio;
      goals.create_three_nodes = threeRatio >= GOALS.createClusterRatio;
    }
    if (parts.has(2)) {
      log(
        `\n[2] POST /v1/tasks:batch, ${BATCH} one-shots a request, ${BATCH_IN_FLIGHT} in flight, one node`,
      );
      if (oneNode.length === 0) oneNode = await startNodes('batch', 1);
      const far = Date.now() + WEEK_MS;
      const batchBodies = Array.from({ length: 8 }, () =>
        batchBody(Array.from({ length: BATCH }, (_, i) => ({ runAtMs: far + i }))),
      );
      log(`  request body ${formatNumber(batchBodies[0].length)} bytes`);
      await sendBatches(oneNode[0].baseUrl, batchBodies, 10, BATCH_IN_FLIGHT, 30_000); // warm-up
      const cpuBefore = cpuMs(oneNode[0].pid);
      const run = await sendBatches(
        oneNode[0].baseUrl,
        batchBodies,
        BATCH_REQUESTS,
        BATCH_IN_FLIGHT,
        BATCH_SECONDS * 1000,
      );
      const cpuPct = ((cpuMs(oneNode[0].pid) - cpuBefore) / run.ms) * 100;
      const created = run.ids.reduce((sum, ids) => sum + (ids?.length ?? 0), 0);
      const perS = created / (run.ms / 1000);
      log(
        `  ${formatNumber(created)} tasks in ${(run.ms / 1000).toFixed(2)} s: ${formatRate(perS, 'task')}` +
          `  (${formatRate(perS / BATCH, 'req')}, failed ${run.failed}, server CPU ${cpuPct.toFixed(0)}%)  goal ≥ ${formatNumber(GOALS.batchTasksPerS)}`,
      );
      if (run.firstProblem !== undefined) log(`    first problem: ${run.firstProblem}`);
      results.batch = {
        tasks_per_request: BATCH,
        in_flight: BATCH_IN_FLIGHT,
        tasks: created,
        failed_requests: run.failed,
        tasks_per_s: sig(perS),
        server_cpu_pct: round(cpuPct, 0),
      };
      goals.batch = perS >= GOALS.batchTasksPerS;
    }
  } finally {
    await stopNodes([...oneNode, ...cluster]);
    await bare?.kill();
  }
}

// ---- 3: lateness ----------------------------------------------------------------------------

async function rawCeiling(sender: HelperChild, count: number, rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const result = await sender.request<{ ms: number; ok: number; failed: number }>(
      { count, concurrency: DISPATCH_CONCURRENCY, url: receiver.url('/raw'), bodyBytes: 48 },
      120_000,
    );
    if (result.failed > 0) throw new Error(`raw undici: ${result.failed} of ${count} POSTs failed`);
    times.push(result.ms);
  }
  return times;
}

/**
 * One wave of ONESHOTS one-shots at random milliseconds over ONESHOT_SPREAD_MS, the first due 3 s
 * after the request: creates them with tasks:batch and waits for every callback.
 */
async function oneShotWave(
  base: string,
  label: string,
): Promise<ReturnType<typeof latencyFigures> & { arrived: number }> {
  receiver.reset();
  const t0 = Date.now() + 3_000;
  const tasks = Array.from({ length: ONESHOTS }, () => ({
    runAtMs: t0 + Math.floor(Math.random() * ONESHOT_SPREAD_MS),
  }));
  const bodies = Array.from({ length: ONESHOTS / BATCH }, (_, b) =>
    batchBody(tasks.slice(b * BATCH, (b + 1) * BATCH)),
  );
  const created = await sendBatches(base, bodies, bodies.length, 2, 30_000);
  const createdAt = Date.now();
  if (created.failed > 0) throw new Error(`one-shot batches failed: ${created.firstProblem}`);
  log(
    `  ${label}: ${ONESHOTS} one-shots created in ${created.ms.toFixed(0)} ms; first due ${t0 - createdAt} ms after`,
  );
  const all = await receiver.waitForCount(ONESHOTS, t0 + ONESHOT_SPREAD_MS - Date.now() + 15_000);
  const figures = latencyFigures(receiver.arrivals, 'one-shot');
  const arrived = new Set(receiver.arrivals.map((a) => a.key)).size;
  // Connections the node opened to the receiver for this wave (told apart by their opening ms).
  const opened = new Set(
    receiver.arrivals.filter((a) => a.connectedMs >= createdAt).map((a) => a.connectedMs),
  ).size;
  log(
    `  ${label}: ${formatNumber(arrived)} of ${ONESHOTS} arrived${all ? '' : ' (TIMED OUT)'};` +
      ` lateness p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms, early ${figures.early};` +
      ` ${opened} connection(s) opened`,
  );
  log(`  ${label}, lateness by second of the spread: ${latenessBySecond(receiver.arrivals, t0)}`);
  return { ...figures, arrived };
}

async function partLateness(sender: HelperChild): Promise<void> {
  log(`\n[3] lateness (arrival − X-Xcron-Scheduled-At, jitter off)`);
  const nodes = await startNodes('late', 1);
  try {
    const base = nodes[0].baseUrl;
    // raw ceiling first: 1,000 POSTs with 256 connections, 5 rounds. Also warms the receiver (in
    // this process) before the one-shots: its own cold code would count as xcron's lateness.
    receiver.reset();
    const ceilings = await rawCeiling(sender, CEILING_POSTS, CEILING_ROUNDS);
    const ceilingMs = median(ceilings);
    log(
      `  raw undici, ${CEILING_POSTS} POSTs × ${CEILING_ROUNDS}: median ${ceilingMs.toFixed(1)} ms (${ceilings.map((c) => c.toFixed(0)).join(', ')})`,
    );
    // one-shots: a first wave on the fresh node, reported (`cold`), then the measured wave
    const cold = await oneShotWave(base, 'first wave, fresh node');
    const oneShot = await oneShotWave(base, 'measured wave');
    log(
      `  one-shot p99: ${oneShot.p99} ms measured, ${cold.p99} ms on the fresh node (goal p99 ≤ ${GOALS.oneShotP99Ms} ms measured, none early in either wave)`,
    );
    // crontabs
    receiver.reset();
    const cronBody = JSON.stringify({
      tasks: Array.from({ length: CRONTABS }, () => ({
        cron: '* * * * * *',
        callback: { url: receiver.url(), body: { data: randomData(48) } },
      })),
    });
    const cron = await sendBatches(base, [cronBody], 1, 1, 30_000);
    if (cron.failed > 0) throw new Error(`crontab batch failed: ${cron.firstProblem}`);
    const windowStart = Math.ceil((Date.now() + 1_000) / 1000) * 1000;
    const windowEnd = windowStart + CRON_SECONDS * 1000;
    await sleep(windowEnd - Date.now() + 3_000);
    const inWindow = receiver.arrivals.filter(
      (a) => a.scheduledMs >= windowStart && a.scheduledMs < windowEnd,
    );
    const keys = new Set(inWindow.map((a) => a.key));
    const cronLate = latencyFigures(inWindow, 'crontab');
    const expected = CRONTABS * CRON_SECONDS;
    const cronGoalMs = GOALS.cronP99ExtraMs + ceilingMs;
    log(
      `  crontabs: ${formatNumber(keys.size)} of ${formatNumber(expected)} fires delivered (${inWindow.length - keys.size} duplicates);` +
        ` lateness p50 ${cronLate.p50} ms, p99 ${cronLate.p99} ms, max ${cronLate.max} ms, early ${cronLate.early}` +
        `  (goal all, p99 ≤ ${cronGoalMs.toFixed(1)} ms)`,
    );
    results.lateness = {
      one_shots: ONESHOTS,
      one_shots_arrived: oneShot.arrived,
      one_shot_p50_ms: oneShot.p50,
      one_shot_p99_ms: oneShot.p99,
      one_shot_max_ms: oneShot.max,
      one_shot_early: oneShot.early + cold.early,
      one_shot_cold_p99_ms: cold.p99,
      one_shot_cold_max_ms: cold.max,
      raw_1000_posts_ms: round(ceilingMs, 1),
      cron_expected: expected,
      cron_delivered: keys.size,
      cron_duplicates: inWindow.length - keys.size,
      cron_p50_ms: cronLate.p50,
      cron_p99_ms: cronLate.p99,
      cron_max_ms: cronLate.max,
      cron_early: cronLate.early,
      cron_goal_p99_ms: round(cronGoalMs, 1),
    };
    goals.one_shot_p99 =
      cold.arrived === ONESHOTS &&
      oneShot.arrived === ONESHOTS &&
      oneShot.p99 <= GOALS.oneShotP99Ms &&
      cold.early === 0 &&
      oneShot.early === 0;
    goals.cron_all_delivered = keys.size === expected;
    goals.cron_p99 = cronLate.p99 <= cronGoalMs && cronLate.early === 0;
  } finally {
    await stopNodes(nodes);
  }
}

// ---- 4: callbacks/s -------------------------------------------------------------------------

async function partCallbacks(sender: HelperChild): Promise<void> {
  log(
    `\n[4] callbacks/s: ${formatNumber(BURST)} one-shots due at the same ms, vs raw undici (${DISPATCH_CONCURRENCY} connections)`,
  );
  const rawRun = async (when: string): Promise<number> => {
    receiver.reset();
    const raw = await sender.request<{ ms: number; ok: number; failed: number }>(
      { count: BURST, concurrency: DISPATCH_CONCURRENCY, url: receiver.url('/raw'), bodyBytes: 48 },
      120_000,
    );
    const perS = raw.ok / (raw.ms / 1000);
    log(
      `  raw undici (${when}): ${formatNumber(raw.ok)} POSTs in ${raw.ms.toFixed(0)} ms: ${formatRate(perS, 'POST')} (failed ${raw.failed})`,
    );
    return perS;
  };
  // The node fires after its start-up warm-up (dispatch_warmup_requests: 400 POSTs to a server of
  // its own). The sender gets the same before its first measured run, on a pool of its own (so
  // both open their 256 connections to the receiver while measured). Without it, 'before' was the
  // sender's cold first run whenever part 3 had not run first (--parts 4): 20-50% below 'after'.
  await sender.request(
    { count: SENDER_WARMUP_POSTS, concurrency: 16, url: receiver.url('/warm-up'), bodyBytes: 48 },
    60_000,
  );
  const rawBefore = await rawRun('before');
  const nodes = await startNodes('burst', 1);
  try {
    receiver.reset();
    const dueMs = Date.now() + 8_000;
    const body = batchBody(Array.from({ length: BATCH }, () => ({ runAtMs: dueMs })));
    const created = await sendBatches(
      nodes[0].baseUrl,
      [body],
      BURST / BATCH,
      BATCH_IN_FLIGHT,
      60_000,
    );
    if (created.failed > 0) throw new Error(`burst batches failed: ${created.firstProblem}`);
    const lead = dueMs - Date.now();
    log(`  created in ${created.ms.toFixed(0)} ms; due ${lead} ms later`);
    await sleep(Math.max(0, lead - 200));
    const cpuBefore = cpuMs(nodes[0].pid);
    const wallBefore = Date.now();
    const all = await receiver.waitForCount(BURST, 120_000);
    const cpuPct = ((cpuMs(nodes[0].pid) - cpuBefore) / (Date.now() - wallBefore)) * 100;
    const arrivals = receiver.arrivals;
    const last = Math.max(...arrivals.map((a) => a.arrivedMs));
    const first = Math.min(...arrivals.map((a) => a.arrivedMs));
    const keys = new Set(arrivals.map((a) => a.key)).size;
    const perS = keys / ((last - dueMs) / 1000);
    const late = latencyFigures(arrivals, 'burst');
    await stopNodes(nodes);
    const rawAfter = await rawRun('after');
    const rawPerS = (rawBefore + rawAfter) / 2;
    const r = ratio(perS, rawPerS);
    log(
      `  xcron: ${formatNumber(keys)} of ${formatNumber(BURST)}${all ? '' : ' (TIMED OUT)'} delivered, first ${first - dueMs} ms, last ${last - dueMs} ms after due:` +
        ` ${formatRate(perS, 'callback')}  (server CPU ${cpuPct.toFixed(0)}%)`,
    );
    log(`  ratio ${r.toFixed(2)}  (goal ≥ ${GOALS.callbacksRatio})`);
    results.callbacks = {
      tasks: BURST,
      delivered: keys,
      duplicates: arrivals.length - keys,
      per_s: sig(perS),
      first_after_due_ms: first - dueMs,
      last_after_due_ms: last - dueMs,
      early: late.early,
      server_cpu_pct: round(cpuPct, 0),
      raw_per_s: sig(rawPerS),
      raw_before_per_s: sig(rawBefore),
      raw_after_per_s: sig(rawAfter),
      ratio: round(r, 3),
    };
    goals.callbacks = all && r >= GOALS.callbacksRatio && late.early === 0;
  } finally {
    await stopNodes(nodes);
  }
}

// ---- 5: failover ----------------------------------------------------------------------------

async function partFailover(): Promise<void> {
  log(
    `\n[5] failover: 3 nodes, ${formatNumber(FAILOVER_TASKS)} one-shots over ${FAILOVER_SPREAD_MS / 1000} s, kill -9 of the leader ${FAILOVER_KILL_AFTER_MS / 1000} s in`,
  );
  const nodes = await startNodes('failover', 3);
  try {
    const leader = await leaderOf(nodes);
    receiver.reset();
    const t0 = Date.now() + 4_000;
    const step = FAILOVER_SPREAD_MS / FAILOVER_TASKS;
    const tasks = Array.from({ length: FAILOVER_TASKS }, (_, i) => ({
      runAtMs: t0 + Math.floor(i * step),
    }));
    const bodies = Array.from({ length: FAILOVER_TASKS / BATCH }, (_, b) =>
      batchBody(tasks.slice(b * BATCH, (b + 1) * BATCH)),
    );
    const created = await sendBatches(leader.baseUrl, bodies, bodies.length, 2, 30_000);
    const expected = new Set<string>();
    created.ids.forEach((ids, b) =>
      ids?.forEach((id, i) => expected.add(`${id}:${tasks[b * BATCH + i].runAtMs}`)),
    );
    log(
      `  leader ${leader.peerAddress}; ${formatNumber(expected.size)} tasks acknowledged in ${created.ms.toFixed(0)} ms (failed batches ${created.failed}); first due ${t0 - Date.now()} ms after`,
    );
    await sleep(t0 + FAILOVER_KILL_AFTER_MS - Date.now());
    const beforeKill = receiver.arrivals.length;
    const killAt = Date.now();
    await leader.kill9();
    log(
      `  killed the leader (pid gone) at +${killAt - t0} ms; ${formatNumber(beforeKill)} callbacks had arrived`,
    );
    const survivors = nodes.filter((n) => n !== leader);
    const newLeader = await leaderOf(survivors);
    const electedMs = Date.now() - killAt;
    const end = t0 + FAILOVER_SPREAD_MS;
    // Until every acknowledged fire arrived (by Idempotency-Key: duplicates do not count), or the grace.
    const seen = new Set<string>();
    let scanned = 0;
    while (Date.now() < end + FAILOVER_GRACE_MS) {
      for (; scanned < receiver.arrivals.length; scanned++) {
        const key = receiver.arrivals[scanned].key;
        if (expected.has(key)) seen.add(key);
      }
      if (seen.size === expected.size) break;
      await sleep(100);
    }
    await sleep(500); // late duplicates
    const arrivals = receiver.arrivals;
    const resumed = arrivals.find((a) => a.connectedMs > killAt);
    const resumeMs = resumed === undefined ? Number.NaN : resumed.arrivedMs - killAt;
    const counts = new Map<string, number>();
    for (const a of arrivals) counts.set(a.key, (counts.get(a.key) ?? 0) + 1);
    let lost = 0;
    const lostExamples: string[] = [];
    const byTask = new Map<string, Arrival[]>();
    for (const a of arrivals) {
      const id = a.key.split(':')[0];
      byTask.set(id, [...(byTask.get(id) ?? []), a]);
    }
    for (const key of expected) {
      if (counts.has(key)) continue;
      lost++;
      if (lostExamples.length < 5) {
        const other = (byTask.get(key.split(':')[0]) ?? []).map(
          (a) => `${a.key} at ${a.arrivedMs - killAt} ms after the kill`,
        );
        lostExamples.push(
          `${key} (due ${Number(key.split(':')[1]) - killAt} ms after the kill; same task arrived as: ${other.join(', ') || 'nothing'})`,
        );
      }
    }
    const dupExamples = [...counts.entries()]
      .filter(([, n]) => n > 1)
      .slice(0, 5)
      .map(([key, n]) => {
        const times = arrivals
          .filter((a) => a.key === key)
          .map((a) => `${a.arrivedMs - killAt}`)
          .join(', ');
        return `${key} ×${n} (due ${Number(key.split(':')[1]) - killAt} ms after the kill; arrived at ${times} ms)`;
      });
    let duplicates = 0;
    for (const n of counts.values()) duplicates += n - 1;
    const late = latencyFigures(arrivals, 'failover');
    log(
      `  new leader ${newLeader.peerAddress} seen ${electedMs} ms after the kill; first callback from it ${resumeMs} ms after the kill` +
        `  (goal ≤ ${GOALS.failoverResumeMs})`,
    );
    log(
      `  ${formatNumber(counts.size)} distinct fires received, lost ${lost}, duplicates ${duplicates}; lateness p50 ${late.p50} ms, p99 ${late.p99} ms, max ${late.max} ms, early ${late.early}`,
    );
    for (const line of lostExamples) log(`    lost: ${line}`);
    for (const line of dupExamples) log(`    duplicate: ${line}`);
    results.failover = {
      tasks: expected.size,
      resume_ms: resumeMs,
      leader_seen_ms: electedMs,
      lost,
      duplicates,
      p99_ms: late.p99,
      max_ms: late.max,
      early: late.early,
    };
    goals.failover_resume = resumeMs <= GOALS.failoverResumeMs;
    goals.failover_lost = lost === 0 && expected.size === FAILOVER_TASKS;
  } finally {
    await stopNodes(nodes);
  }
}

// ---- 6: a million pending tasks -----------------------------------------------------------

async function partMillion(count: number): Promise<void> {
  log(
    `\n[6] ${formatNumber(count)} pending one-shots with 200-byte random bodies (snapshot_every_entries = 500)`,
  );
  const [inspectPort] = await freePorts(1);
  const nodes = await startNodes(
    'million',
    1,
    ['snapshot_every_entries = 500'],
    [`--inspect=127.0.0.1:${inspectPort}`],
  );
  const node = nodes[0];
  try {
    await sleep(3_000);
    await forceGcViaInspector(inspectPort);
    const rssBefore = rssBytes(node.pid);
    const far = Date.now() + WEEK_MS;
    const requests = Math.ceil(count / BATCH);
    const makeBody = (index: number): string => {
      const n = Math.min(BATCH, count - index * BATCH);
      const random = randomBytes(n * MILLION_BODY_BYTES);
      return JSON.stringify({
        tasks: Array.from({ length: n }, (_, i) => ({
          run_at_ms: far + index * BATCH + i,
          callback: {
            url: receiver.url('/far'),
            body: random
              .subarray(i * MILLION_BODY_BYTES, (i + 1) * MILLION_BODY_BYTES)
              .toString('base64'),
          },
        })),
      });
    };
    const created = await sendBatches(node.baseUrl, makeBody, requests, BATCH_IN_FLIGHT, 600_000);
    const tasks = created.ids.reduce((sum, ids) => sum + (ids?.length ?? 0), 0);
    log(
      `  ${formatNumber(tasks)} created in ${(created.ms / 1000).toFixed(1)} s (${formatRate(tasks / (created.ms / 1000), 'task')}, failed batches ${created.failed})`,
    );
    if (created.firstProblem !== undefined) log(`    first problem: ${created.firstProblem}`);
    const rssRightAfter = rssBytes(node.pid);
    await sleep(SETTLE_MS);
    const rssSettled = rssBytes(node.pid);
    await forceGcViaInspector(inspectPort);
    await sleep(1_000);
    const rssAfter = rssBytes(node.pid);
    const disk = diskBytes(node.dataDir);
    const breakdown = diskBreakdown(node.dataDir);
    const rssPerTask = (rssAfter - rssBefore) / tasks;
    const diskPerTask = disk.blocks / tasks;
    log(
      `  RSS before ${(rssBefore / 1e6).toFixed(0)} MB, right after ${(rssRightAfter / 1e6).toFixed(0)} MB, after ${SETTLE_MS / 1000} s ${(rssSettled / 1e6).toFixed(0)} MB, after a forced GC ${(rssAfter / 1e6).toFixed(0)} MB` +
        ` → ${rssPerTask.toFixed(0)} B/task  (goal ≤ ${GOALS.rssPerTaskBytes})`,
    );
    log(
      `  raft_dir: ${breakdown.map(([name, bytes]) => `${name} ${(bytes / 1e6).toFixed(1)} MB`).join(', ')}`,
    );
    log(
      `  raft_dir ${(disk.blocks / 1e6).toFixed(1)} MB on disk (${(disk.apparent / 1e6).toFixed(1)} MB apparent) → ${diskPerTask.toFixed(0)} B/task  (goal ≤ ${GOALS.diskPerTaskBytes})`,
    );
    await node.kill9();
    const restartAt = Date.now();
    node.start();
    await node.waitReady(120_000);
    const readyMs = Date.now() - restartAt;
    await forceGcViaInspector(inspectPort).catch(() => undefined);
    const rssRestarted = rssBytes(node.pid);
    receiver.reset();
    const dueMs = Date.now() + 1_000;
    const pool = new Pool(node.baseUrl, { connections: 1 });
    let probeLateness = Number.NaN;
    try {
      await postJson(
        pool,
        '/v1/tasks',
        JSON.stringify({ run_at_ms: dueMs, callback: { url: receiver.url('/probe'), body: {} } }),
      );
      const arrived = await receiver.waitForCount(1, 15_000);
      if (arrived)
        probeLateness = receiver.arrivals[0].arrivedMs - receiver.arrivals[0].scheduledMs;
    } finally {
      await pool.destroy();
    }
    if (probeLateness < 0) early.push(`million probe arrived ${-probeLateness} ms early`);
    log(
      `  restart (kill -9, start) to /readyz 200: ${readyMs} ms (goal ≤ ${GOALS.restartReadyMs}); RSS after restart ${(rssRestarted / 1e6).toFixed(0)} MB;` +
        ` a one-shot due 1 s later arrived ${probeLateness} ms late`,
    );
    results.million = {
      tasks,
      create_s: round(created.ms / 1000, 1),
      rss_before_mb: round(rssBefore / 1e6, 1),
      rss_after_mb: round(rssAfter / 1e6, 1),
      rss_per_task_b: round(rssPerTask, 0),
      gc_forced: true,
      rss_settled_mb: round(rssSettled / 1e6, 1),
      disk_breakdown_mb: Object.fromEntries(breakdown.map(([n, b]) => [n, round(b / 1e6, 1)])),
      disk_bytes: disk.blocks,
      disk_per_task_b: round(diskPerTask, 0),
      restart_ready_ms: readyMs,
      rss_after_restart_mb: round(rssRestarted / 1e6, 1),
      probe_lateness_ms: probeLateness,
    };
    goals.rss_per_task = tasks === count && rssPerTask <= GOALS.rssPerTaskBytes;
    goals.disk_per_task = tasks === count && diskPerTask <= GOALS.diskPerTaskBytes;
    goals.restart_ready =
      readyMs <= GOALS.restartReadyMs && probeLateness >= 0 && probeLateness <= 1_000;
  } finally {
    await stopNodes(nodes);
  }
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const parts = partsFlag();
  const seconds = integerFlag(argv, 'seconds', 4, 1, 60);
  const rounds = integerFlag(argv, 'rounds', 3, 1, 20);
  const million = integerFlag(argv, 'million', MILLION_DEFAULT, 1_000, 10_000_000);
  log(`xcron server benchmark — ${machineDescription()}`);
  const build = argv.includes('--no-build')
    ? 'not checked (--no-build): runs whatever dist holds'
    : ensureBuilt(argv.includes('--build'));
  const profileIndex = argv.indexOf('--profile');
  if (profileIndex >= 0) {
    profileDir = resolve(argv[profileIndex + 1] ?? 'profiles');
    mkdirSync(profileDir, { recursive: true });
    log(`servers run with --cpu-prof into ${profileDir} and are stopped with SIGTERM`);
  }
  log(`server: ${build}`);
  results.machine = machineDescription();
  results.build = build;
  results.parts = [...parts];
  root = makeTempDir('xcron-bench-server-');
  receiver = await Receiver.start();
  let sender: HelperChild | undefined;
  try {
    if (parts.has(1) || parts.has(2)) await partCreate(parts, seconds, rounds);
    if (parts.has(3) || parts.has(4)) {
      sender = new HelperChild('server-undici-sender.ts');
      await sender.ready;
      if (parts.has(3)) await partLateness(sender);
      if (parts.has(4)) await partCallbacks(sender);
    }
    if (parts.has(5)) await partFailover();
    if (parts.has(6)) await partMillion(million);
  } finally {
    await sender?.kill();
    killAllChildren();
    await receiver.close();
    removeTempDirs();
  }
  if (early.length > 0) {
    log('\nEARLY ARRIVALS (a callback before its scheduled time fails the run):');
    for (const line of early) log(`  ${line}`);
  }
  results.early_arrivals = early.length;
  results.goals = goals;
  console.log(JSON.stringify(results));
  if (early.length > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  killAllChildren();
  removeTempDirs();
  process.exit(1);
});
