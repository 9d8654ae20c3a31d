import type { AttemptInfo, DispatcherStats } from '@xcron/dispatcher';
import type { SchedulerOptions, SkipReason, SyncedFile } from '@xcron/scheduler';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from './hot-metrics';
import { TASK_STATUSES, TaskStatusCounter } from './task-status-counter';

/** Every metric name starts with this (Node's default metrics too). */
export const METRICS_PREFIX = 'xcron_';

/** Seconds. Lateness goal p99 ≤ 10 ms; a misfire is ≥ misfire_threshold_ms (default 5 s) late. */
const LATENESS_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
/** Seconds, one HTTP attempt: a local receiver answers in ~1 ms, timeout_ms is at most minutes. */
const CALLBACK_DURATION_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Seconds, one fsync: ~1–5 ms on this machine's disk, seconds on a saturated or failing one. */
const FSYNC_DURATION_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

type FireStatus = 'succeeded' | 'failed' | 'cancelled';
const SKIP_REASONS: readonly SkipReason[] = ['misfire', 'overlap', 'expired', 'ended'];
type AttemptOutcome = 'success' | 'http_error' | 'error' | 'timeout';

/** What the scrape-time gauges read from the node; `Scheduler` has this shape. */
export interface MetricsSource {
  /** Every task's status, walked at scrape time. */
  readonly state: { taskStatuses(): Iterator<string> };
  readonly raftNode: {
    status(): {
      readonly term: number;
      readonly commit: number;
      readonly applied: number;
      readonly lastIndex: number;
      readonly leaderId: string;
      readonly role: string;
    };
    /** Calls `listener` whenever the known leader changes; returns the unsubscribe function. */
    onLeaderChange(listener: (leaderId: string) => void): () => void;
  };
  /** This node leads and its state is current: it hands out fires. */
  readonly dispatching: boolean;
  dispatcherStats(): DispatcherStats;
}

export type SchedulerMetricsHooks = NonNullable<SchedulerOptions['metrics']>;

/**
 * The node's Prometheus metrics, in a registry of its own (so two nodes in one process, as in
 * tests, do not collide). Counters and histograms are fed through `hooks`, which go into
 * SchedulerOptions.metrics; gauges are read from the node at scrape time once `observe()` gave it.
 * Hooks run on the dispatch path: each is a few map look-ups and never throws.
 */
export class XcronMetrics {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;
  private unsubscribeLeader: (() => void) | undefined;
  private lastLeaderId = '';

  // The four metrics every fire touches are HotCounter/HotHistogram series, made once here.
  private readonly firesStarted = new HotCounter({
    name: 'xcron_fires_started_total',
    help: 'Fires this node handed to the dispatcher while it led (kind: scheduled, or manual = run-now / re-run).',
    registry: this.registry,
  });
  private readonly started = {
    scheduled: this.firesStarted.series({ kind: 'scheduled' }),
    manual: this.firesStarted.series({ kind: 'manual' }),
  };
  private readonly firesCompleted = new HotCounter({
    name: 'xcron_fires_completed_total',
    help: 'Fires whose delivery ended on this node: succeeded, failed (a dead letter) or cancelled (task deleted, shutdown).',
    registry: this.registry,
  });
  private readonly completed = {
    scheduled: this.completedByStatus('scheduled'),
    manual: this.completedByStatus('manual'),
  };
  private readonly skips = new Counter({
    name: 'xcron_fire_skips_total',
    help: 'Skip records this node proposed, by reason (misfire, overlap, expired, ended). One misfire record may cover several missed times of a crontab.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly lateness = new HotHistogram({
    name: 'xcron_fire_lateness_seconds',
    help: "Scheduled fires: dispatch start minus scheduled time (includes the task's jitter_ms, if set; manual fires excluded).",
    buckets: LATENESS_BUCKETS_S,
    registry: this.registry,
  }).series();
  private readonly callbackDuration = new HotHistogram({
    name: 'xcron_callback_duration_seconds',
    help: 'Duration of each callback HTTP attempt, by outcome (success = 2xx, http_error = other status, error = no answer, timeout = sent and timed out).',
    buckets: CALLBACK_DURATION_BUCKETS_S,
    registry: this.registry,
  });
  private readonly durationByOutcome = {
    success: this.callbackDuration.series({ outcome: 'success' }),
    http_error: this.callbackDuration.series({ outcome: 'http_error' }),
    error: this.callbackDuration.series({ outcome: 'error' }),
    timeout: this.callbackDuration.series({ outcome: 'timeout' }),
  };
  private readonly retries = new Counter({
    name: 'xcron_callback_retries_total',
    help: 'Callback attempts after the first of their fire.',
    registers: [this.registry],
  });
  private readonly possibleDuplicates = new Counter({
    name: 'xcron_callback_timed_out_attempts_total',
    help: 'Callback attempts given up after they were sent (timeout, or aborted at shutdown): the receiver may have got them, so each is a possible duplicate.',
    registers: [this.registry],
  });
  private readonly failoverRefires = new Counter({
    name: 'xcron_failover_refires_total',
    help: 'Fires a new leader sent that were due before it took over and had no record: the old leader may have delivered them already, so each is a possible duplicate. Deliveries seen twice by receivers around a failover are at most this.',
    registers: [this.registry],
  });
  private readonly duplicateRecords = new Counter({
    name: 'xcron_duplicate_fire_records_total',
    help: 'Fire records applied for a fire that already had one: a fire delivered twice around a failover. Every replica counts the same records (do not sum over nodes); counted again when the journal is replayed at start-up.',
    registers: [this.registry],
  });
  private readonly fsyncDuration = new HotHistogram({
    name: 'xcron_fsync_duration_seconds',
    help: "Durable writes' wait on the disk, by file: raft_log = a synced Raft log write (write + fsync; a leader's commit and a follower's acknowledgement wait on it), journal = an fdatasync of the event journal (in the background, about every 200 ms while it is written).",
    buckets: FSYNC_DURATION_BUCKETS_S,
    registry: this.registry,
  });
  private readonly fsyncByFile: Record<SyncedFile, HistogramSeries> = {
    raft_log: this.fsyncDuration.series({ file: 'raft_log' }),
    journal: this.fsyncDuration.series({ file: 'journal' }),
  };
  private readonly leaderChanges = new Counter({
    name: 'xcron_raft_leader_changes_total',
    help: 'Times this node saw a new Raft leader (the first one included).',
    registers: [this.registry],
  });

  /** Counters and histograms, for SchedulerOptions.metrics. */
  readonly hooks: SchedulerMetricsHooks = {
    runtime: {
      fireStarted: (fire, latenessMs) => {
        (fire.manual ? this.started.manual : this.started.scheduled).inc();
        // A re-run's scheduled time is the old execution's: its "lateness" means nothing.
        if (!fire.manual) this.lateness.observe(latenessMs / 1_000);
      },
      fireFinished: (fire, result) =>
        (fire.manual ? this.completed.manual : this.completed.scheduled)[result.status].inc(),
      firesSkipped: (reason, count) => this.skips.inc({ reason }, count),
      refireAfterFailover: () => this.failoverRefires.inc(),
    },
    dispatcher: {
      onAttempt: (info) => {
        this.durationByOutcome[attemptOutcome(info)].observe(info.durationMs / 1_000);
        if (info.attempt > 1) this.retries.inc();
        if (info.timedOut) this.possibleDuplicates.inc();
      },
    },
    duplicateRecorded: () => this.duplicateRecords.inc(),
    syncObserved: (file, durationMs) => this.fsyncByFile[file].observe(durationMs / 1_000),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX });
    // Every label value up front, so each series exists (at 0) from the first scrape (the hot
    // metrics' series are all made above).
    for (const reason of SKIP_REASONS) this.skips.inc({ reason }, 0);
    this.registerGauges();
  }

  /** Gives the scrape-time gauges their node, and starts counting leader changes. */
  observe(source: MetricsSource): void {
    this.close();
    this.source = source;
    this.sampleLeader();
    this.unsubscribeLeader = source.raftNode.onLeaderChange(() => this.sampleLeader());
  }

  private completedByStatus(kind: 'scheduled' | 'manual'): Record<FireStatus, CounterSeries> {
    return {
      succeeded: this.firesCompleted.series({ kind, status: 'succeeded' }),
      failed: this.firesCompleted.series({ kind, status: 'failed' }),
      cancelled: this.firesCompleted.series({ kind, status: 'cancelled' }),
    };
  }

  /** Stops counting leader changes; the registry stays readable. */
  close(): void {
    this.unsubscribeLeader?.();
    this.unsubscribeLeader = undefined;
  }

  /** The exposition text of every metric (what GET /metrics answers). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts a change of the known leader (exposed for tests; the leader-change hook calls it). */
  sampleLeader(): void {
    const leaderId = this.raftStatus()?.leaderId ?? '';
    if (leaderId === '' || leaderId === this.lastLeaderId) return;
    this.lastLeaderId = leaderId;
    this.leaderChanges.inc();
  }

  private raftStatus(): ReturnType<MetricsSource['raftNode']['status']> | undefined {
    return this.source?.raftNode.status();
  }

  private registerGauges(): void {
    const registers = [this.registry];
    const tasks = new TaskStatusCounter(
      () => this.source?.state.taskStatuses() ?? [][Symbol.iterator](),
    );
    new Gauge({
      name: 'xcron_tasks',
      help: "Tasks in this node's replicated state, by status (counted at scrape time, in slices that keep the event loop free).",
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const counts = await tasks.count();
        for (const status of TASK_STATUSES) this.set({ status }, counts[status]);
      },
    });
    this.gauge('xcron_raft_term', 'Current Raft term of this node.', () => this.raftStatus()?.term);
    this.gauge(
      'xcron_raft_commit_index',
      'Highest Raft log index this node knows to be committed.',
      () => this.raftStatus()?.commit,
    );
    this.gauge(
      'xcron_raft_applied_index',
      "Highest Raft log index applied to this node's state.",
      () => this.raftStatus()?.applied,
    );
    this.gauge(
      'xcron_raft_last_log_index',
      "Index of the last entry in this node's Raft log.",
      () => this.raftStatus()?.lastIndex,
    );
    this.gauge('xcron_raft_is_leader', '1 when this node is the Raft leader, else 0.', () => {
      const status = this.raftStatus();
      return status === undefined ? undefined : status.role === 'leader' ? 1 : 0;
    });
    this.gauge(
      'xcron_dispatching',
      '1 when this node hands out fires (it leads and its state is current), else 0.',
      () => (this.source === undefined ? undefined : this.source.dispatching ? 1 : 0),
    );
    this.gauge(
      'xcron_dispatcher_queue_depth',
      'Callback attempts waiting for a dispatch_concurrency slot.',
      () => this.source?.dispatcherStats().queued,
    );
    this.gauge(
      'xcron_dispatcher_in_flight',
      'Callback attempts on the wire.',
      () => this.source?.dispatcherStats().inFlight,
    );
    this.gauge(
      'xcron_dispatcher_waiting_retry',
      'Callback deliveries waiting out a retry backoff.',
      () => this.source?.dispatcherStats().waitingRetry,
    );
  }

  /** A gauge read at scrape time; `undefined` (no node yet) leaves it as it was. */
  private gauge(name: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  }
}

function attemptOutcome(info: AttemptInfo): AttemptOutcome {
  if (info.timedOut) return 'timeout';
  if (info.httpStatus === undefined) return 'error';
  return info.httpStatus >= 200 && info.httpStatus < 300 ? 'success' : 'http_error';
}
