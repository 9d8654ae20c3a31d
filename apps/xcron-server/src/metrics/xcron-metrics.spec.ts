import type { DispatcherStats } from '@xcron/dispatcher';
import { freePorts } from '@xcron/testing';
import { MetricsServer } from './metrics-server';
import { TaskStatusCounter } from './task-status-counter';
import { XcronMetrics, type MetricsSource } from './xcron-metrics';

/** A node as the gauges see it, with every field settable. */
class FakeNode implements MetricsSource {
  readonly state = {
    tasks: new Map<string, { status: string }>(),
    taskStatuses(): Iterator<string> {
      return [...this.tasks.values()].map((task) => task.status)[Symbol.iterator]();
    },
  };
  raft = { term: 3, commit: 40, applied: 39, lastIndex: 41, leaderId: 'a', role: 'leader' };
  dispatching = true;
  stats: DispatcherStats = { queued: 7, inFlight: 5, waitingRetry: 2 };
  leaderListener: ((leaderId: string) => void) | undefined;
  readonly raftNode = {
    status: () => ({ ...this.raft }),
    onLeaderChange: (listener: (leaderId: string) => void) => {
      this.leaderListener = listener;
      return () => (this.leaderListener = undefined);
    },
  };
  dispatcherStats(): DispatcherStats {
    return this.stats;
  }
}

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('XcronMetrics on its own listener', () => {
  let metrics: XcronMetrics;
  let server: MetricsServer;
  let node: FakeNode;
  let base: string;
  const scrape = async (): Promise<string> => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  beforeEach(async () => {
    const [port] = await freePorts(1);
    metrics = new XcronMetrics();
    node = new FakeNode();
    node.state.tasks.set('1', { status: 'active' });
    node.state.tasks.set('2', { status: 'active' });
    node.state.tasks.set('3', { status: 'paused' });
    metrics.observe(node);
    server = await MetricsServer.listen(metrics, '127.0.0.1', port);
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    metrics.close();
    await server.close();
  });

  it('serves every xcron metric, typed, and Node defaults with the xcron_ prefix', async () => {
    const text = await scrape();
    const types = Object.fromEntries(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]),
    );
    expect(types).toMatchObject({
      xcron_tasks: 'gauge',
      xcron_fires_started_total: 'counter',
      xcron_fires_completed_total: 'counter',
      xcron_fire_skips_total: 'counter',
      xcron_fire_lateness_seconds: 'histogram',
      xcron_callback_duration_seconds: 'histogram',
      xcron_callback_retries_total: 'counter',
      xcron_callback_timed_out_attempts_total: 'counter',
      xcron_duplicate_fire_records_total: 'counter',
      xcron_raft_term: 'gauge',
      xcron_raft_commit_index: 'gauge',
      xcron_raft_applied_index: 'gauge',
      xcron_raft_last_log_index: 'gauge',
      xcron_raft_is_leader: 'gauge',
      xcron_raft_leader_changes_total: 'counter',
      xcron_fsync_duration_seconds: 'histogram',
      xcron_dispatching: 'gauge',
      xcron_dispatcher_queue_depth: 'gauge',
      xcron_dispatcher_in_flight: 'gauge',
      xcron_dispatcher_waiting_retry: 'gauge',
      xcron_process_cpu_seconds_total: 'counter',
      xcron_nodejs_eventloop_lag_seconds: 'gauge',
      xcron_nodejs_heap_size_used_bytes: 'gauge',
    });
    expect(Object.keys(types).filter((name) => !name.startsWith('xcron_'))).toEqual([]);
  });

  it('reads the gauges from the node at scrape time', async () => {
    let text = await scrape();
    expect(sample(text, 'xcron_tasks{status="active"}')).toBe(2);
    expect(sample(text, 'xcron_tasks{status="paused"}')).toBe(1);
    expect(sample(text, 'xcron_tasks{status="completed"}')).toBe(0);
    expect(sample(text, 'xcron_raft_term')).toBe(3);
    expect(sample(text, 'xcron_raft_commit_index')).toBe(40);
    expect(sample(text, 'xcron_raft_applied_index')).toBe(39);
    expect(sample(text, 'xcron_raft_last_log_index')).toBe(41);
    expect(sample(text, 'xcron_raft_is_leader')).toBe(1);
    expect(sample(text, 'xcron_dispatching')).toBe(1);
    expect(sample(text, 'xcron_dispatcher_queue_depth')).toBe(7);
    expect(sample(text, 'xcron_dispatcher_in_flight')).toBe(5);
    expect(sample(text, 'xcron_dispatcher_waiting_retry')).toBe(2);

    node.state.tasks.get('3')!.status = 'completed';
    node.raft = { ...node.raft, term: 4, role: 'follower' };
    node.dispatching = false;
    node.stats = { queued: 0, inFlight: 1, waitingRetry: 0 };
    text = await scrape();
    expect(sample(text, 'xcron_tasks{status="paused"}')).toBe(0);
    expect(sample(text, 'xcron_tasks{status="completed"}')).toBe(1);
    expect(sample(text, 'xcron_raft_term')).toBe(4);
    expect(sample(text, 'xcron_raft_is_leader')).toBe(0);
    expect(sample(text, 'xcron_dispatching')).toBe(0);
    expect(sample(text, 'xcron_dispatcher_in_flight')).toBe(1);
  });

  it('moves the counters and histograms when the hooks are called', async () => {
    const before = await scrape();
    expect(sample(before, 'xcron_fires_started_total{kind="scheduled"}')).toBe(0);
    expect(sample(before, 'xcron_fire_skips_total{reason="misfire"}')).toBe(0);

    const { runtime, dispatcher, duplicateRecorded, syncObserved } = metrics.hooks;
    const scheduled = { taskId: '1', scheduledAtMs: 1_000, manual: false };
    const manual = { taskId: '1', scheduledAtMs: 500, manual: true };
    runtime?.fireStarted?.(scheduled, 3);
    runtime?.fireStarted?.(manual, 60_000);
    const failed = { status: 'failed', attempts: 3, durationMs: 900, timedOutAttempts: 1 } as const;
    runtime?.fireFinished?.(scheduled, failed);
    runtime?.fireFinished?.(manual, { ...failed, status: 'succeeded' });
    runtime?.firesSkipped?.('misfire', 1);
    runtime?.firesSkipped?.('overlap', 2);
    const attempt = { taskId: '1', durationMs: 20, timedOut: false };
    dispatcher?.onAttempt?.({ ...attempt, attempt: 1, httpStatus: 503, error: 'HTTP 503' });
    dispatcher?.onAttempt?.({ ...attempt, attempt: 2, error: 'timeout', timedOut: true });
    dispatcher?.onAttempt?.({ ...attempt, attempt: 3, error: 'ECONNREFUSED' });
    dispatcher?.onAttempt?.({ ...attempt, attempt: 1, httpStatus: 204, durationMs: 4 });
    duplicateRecorded?.();
    syncObserved?.('raft_log', 3);
    syncObserved?.('raft_log', 40);
    syncObserved?.('journal', 0.4);

    const text = await scrape();
    expect(sample(text, 'xcron_fires_started_total{kind="scheduled"}')).toBe(1);
    expect(sample(text, 'xcron_fires_started_total{kind="manual"}')).toBe(1);
    expect(sample(text, 'xcron_fires_completed_total{kind="scheduled",status="failed"}')).toBe(1);
    expect(sample(text, 'xcron_fires_completed_total{kind="manual",status="succeeded"}')).toBe(1);
    expect(sample(text, 'xcron_fire_skips_total{reason="misfire"}')).toBe(1);
    expect(sample(text, 'xcron_fire_skips_total{reason="overlap"}')).toBe(2);
    // Only the scheduled fire's lateness (3 ms): a manual fire's is meaningless.
    expect(sample(text, 'xcron_fire_lateness_seconds_count')).toBe(1);
    expect(sample(text, 'xcron_fire_lateness_seconds_sum')).toBeCloseTo(0.003);
    expect(sample(text, 'xcron_fire_lateness_seconds_bucket{le="0.0025"}')).toBe(0);
    expect(sample(text, 'xcron_fire_lateness_seconds_bucket{le="0.005"}')).toBe(1);
    for (const outcome of ['http_error', 'timeout', 'error', 'success'])
      expect(sample(text, `xcron_callback_duration_seconds_count{outcome="${outcome}"}`)).toBe(1);
    expect(sample(text, 'xcron_callback_duration_seconds_sum{outcome="success"}')).toBe(0.004);
    expect(sample(text, 'xcron_callback_retries_total')).toBe(2);
    expect(sample(text, 'xcron_callback_timed_out_attempts_total')).toBe(1);
    expect(sample(text, 'xcron_duplicate_fire_records_total')).toBe(1);
    expect(sample(text, 'xcron_fsync_duration_seconds_count{file="raft_log"}')).toBe(2);
    expect(sample(text, 'xcron_fsync_duration_seconds_sum{file="raft_log"}')).toBeCloseTo(0.043);
    expect(sample(text, 'xcron_fsync_duration_seconds_bucket{le="0.005",file="raft_log"}')).toBe(1);
    expect(sample(text, 'xcron_fsync_duration_seconds_bucket{le="0.05",file="raft_log"}')).toBe(2);
    expect(sample(text, 'xcron_fsync_duration_seconds_bucket{le="0.0005",file="journal"}')).toBe(1);
  });

  it('counts each new leader it sees, not a lost leader', async () => {
    // observe() sampled leader "a" already.
    expect(sample(await scrape(), 'xcron_raft_leader_changes_total')).toBe(1);
    node.raft = { ...node.raft, leaderId: '' };
    metrics.sampleLeader();
    node.raft = { ...node.raft, leaderId: 'a' };
    metrics.sampleLeader();
    expect(sample(await scrape(), 'xcron_raft_leader_changes_total')).toBe(1);
    node.raft = { ...node.raft, leaderId: 'b' };
    node.leaderListener?.('b');
    metrics.sampleLeader();
    expect(sample(await scrape(), 'xcron_raft_leader_changes_total')).toBe(2);
  });

  it('answers 404 off /metrics, 405 to another method, and HEAD without a body', async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metricsx`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/metrics?x=1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('refuses a busy port with the listen error', async () => {
    const port = server.address.port;
    await expect(MetricsServer.listen(metrics, '127.0.0.1', port)).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});

describe('TaskStatusCounter', () => {
  it('counts many statuses in slices, yielding to the event loop between them', async () => {
    const tasks = new Map<string, { status: string }>();
    for (let i = 0; i < 1_000; i++)
      tasks.set(String(i), {
        status: i % 10 === 0 ? 'paused' : i % 10 === 1 ? 'completed' : 'active',
      });
    const counter = new TaskStatusCounter(
      () => [...tasks.values()].map((task) => task.status)[Symbol.iterator](),
      100,
    );
    const passes = [counter.count(), counter.count()];
    let interleaved = false;
    setImmediate(() => (interleaved = true));
    const [first, second] = await Promise.all(passes);
    expect(first).toEqual({ active: 800, paused: 100, completed: 100 });
    expect(second).toBe(first); // concurrent scrapes share one pass
    expect(interleaved).toBe(true); // other work ran while it counted
    tasks.delete('0');
    expect(await counter.count()).toEqual({ active: 800, paused: 99, completed: 100 });
  });
});
