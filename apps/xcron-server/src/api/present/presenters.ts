/**
 * The scheduler's views → JSON on the wire: snake_case, times as unix ms in `*_ms` fields (/v1),
 * ids as strings. The seed's queryTask keeps the original's names and unix seconds. Pure.
 */
import type { ClusterView, ExecutionView, TaskView } from '@xcron/scheduler/task/task.model';
import type { ManualFire } from '@xcron/scheduler/scheduler-api';
import { SEED_TYPE_CRONTAB, SEED_TYPE_ONE_SHOT } from '../parse/seed.parser';

type Wire = Record<string, unknown>;

export function presentExecution(execution: ExecutionView): Wire {
  const wire: Wire = {
    task_id: execution.taskId,
    scheduled_at_ms: execution.scheduledAtMs,
    status: execution.status,
    attempts: execution.attempts,
    duration_ms: execution.durationMs,
    node: execution.node,
    finished_at_ms: execution.finishedAtMs,
  };
  if (execution.httpStatus !== undefined) wire.http_status = execution.httpStatus;
  if (execution.error !== undefined) wire.error = execution.error;
  if (execution.skipReason !== undefined) wire.skip_reason = execution.skipReason;
  if (execution.manual !== undefined) wire.manual = execution.manual;
  return wire;
}

/**
 * A task on /v1, in the shape POST /v1/tasks takes (plus the read-only fields), so a client can
 * send back what it read. `next_fire_times_ms` only when given (GET /v1/tasks/:id).
 */
export function presentTask(view: TaskView, nextFireTimesMs?: readonly number[]): Wire {
  const spec = view.spec;
  const wire: Wire = { task_id: view.id, status: view.status };
  if (spec.name !== undefined) wire.name = spec.name;
  if (spec.schedule.kind === 'cron') {
    wire.cron = spec.schedule.expression;
    if (spec.schedule.timezone !== undefined) wire.timezone = spec.schedule.timezone;
  } else {
    wire.run_at_ms = spec.schedule.runAtMs;
  }
  wire.callback =
    spec.callback.headers === undefined
      ? { url: spec.callback.url, body: spec.callback.body }
      : { url: spec.callback.url, body: spec.callback.body, headers: spec.callback.headers };
  wire.timeout_ms = spec.timeoutMs;
  wire.retry = {
    max_attempts: spec.retry.maxAttempts,
    initial_backoff_ms: spec.retry.initialBackoffMs,
    max_backoff_ms: spec.retry.maxBackoffMs,
  };
  if (spec.startAtMs !== undefined) wire.start_at_ms = spec.startAtMs;
  if (spec.endAtMs !== undefined) wire.end_at_ms = spec.endAtMs;
  if (spec.expireAtMs !== undefined) wire.expire_at_ms = spec.expireAtMs;
  wire.jitter_ms = spec.jitterMs;
  wire.overlap = spec.overlap;
  wire.misfire = spec.misfire;
  if (spec.idempotencyKey !== undefined) wire.idempotency_key = spec.idempotencyKey;
  wire.created_at_ms = view.createdAtMs;
  wire.updated_at_ms = view.updatedAtMs;
  wire.run_count = view.runCount;
  wire.failure_count = view.failureCount;
  if (view.nextFireAtMs !== undefined) wire.next_fire_at_ms = view.nextFireAtMs;
  if (nextFireTimesMs !== undefined) wire.next_fire_times_ms = nextFireTimesMs;
  if (view.lastExecution !== undefined) wire.last_execution = presentExecution(view.lastExecution);
  return wire;
}

export function presentManualFire(fire: ManualFire): Wire {
  return { task_id: fire.taskId, scheduled_at_ms: fire.scheduledAtMs };
}

export function presentCluster(cluster: ClusterView): Wire {
  const wire: Wire = { id: cluster.id, role: cluster.role };
  if (cluster.leaderId !== undefined) wire.leader_id = cluster.leaderId;
  if (cluster.leaderHttpAddress !== undefined) wire.leader_http_address = cluster.leaderHttpAddress;
  if (cluster.leaderPeerAddress !== undefined) wire.leader_peer_address = cluster.leaderPeerAddress;
  wire.term = cluster.term;
  wire.commit_index = cluster.commitIndex;
  wire.applied_index = cluster.appliedIndex;
  wire.members = cluster.members.map((member) => {
    const m: Wire = { id: member.id, peer_address: member.peerAddress, learner: member.learner };
    if (member.httpAddress !== undefined) m.http_address = member.httpAddress;
    return m;
  });
  return wire;
}

/** Unix ms → unix seconds as the seed writes them: a decimal string, a fraction only when there is one. */
export function msToSeedSeconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(3).replace(/0+$/, '');
}

/**
 * GET /xcron/queryTask's `data`: the original's fields (`task_id`, `create_time` in unix seconds as
 * a string, `type`, `format`, `run_count`, `callback`), then the newer ones under the seed's names
 * (times in unix seconds as strings).
 */
export function presentSeedTask(view: TaskView): Wire {
  const spec = view.spec;
  const schedule = spec.schedule;
  const wire: Wire = {
    task_id: view.id,
    create_time: msToSeedSeconds(view.createdAtMs),
    type: schedule.kind === 'cron' ? SEED_TYPE_CRONTAB : SEED_TYPE_ONE_SHOT,
    format: schedule.kind === 'cron' ? schedule.expression : msToSeedSeconds(schedule.runAtMs),
    run_count: view.runCount,
    callback:
      spec.callback.headers === undefined
        ? { url: spec.callback.url, body: spec.callback.body }
        : { url: spec.callback.url, body: spec.callback.body, headers: spec.callback.headers },
    status: view.status,
    failure_count: view.failureCount,
    update_time: msToSeedSeconds(view.updatedAtMs),
  };
  if (view.nextFireAtMs !== undefined) wire.next_fire_time = msToSeedSeconds(view.nextFireAtMs);
  if (spec.name !== undefined) wire.name = spec.name;
  if (schedule.kind === 'cron' && schedule.timezone !== undefined)
    wire.timezone = schedule.timezone;
  if (spec.startAtMs !== undefined) wire.start_at = msToSeedSeconds(spec.startAtMs);
  if (spec.endAtMs !== undefined) wire.end_at = msToSeedSeconds(spec.endAtMs);
  if (spec.expireAtMs !== undefined) wire.expire_at = msToSeedSeconds(spec.expireAtMs);
  wire.timeout_ms = spec.timeoutMs;
  wire.retry = {
    max_attempts: spec.retry.maxAttempts,
    initial_backoff_ms: spec.retry.initialBackoffMs,
    max_backoff_ms: spec.retry.maxBackoffMs,
  };
  wire.jitter_ms = spec.jitterMs;
  wire.overlap = spec.overlap;
  wire.misfire = spec.misfire;
  if (spec.idempotencyKey !== undefined) wire.idempotency_key = spec.idempotencyKey;
  return wire;
}
