import type { TaskSpec } from '../task/task.model';
import type { FireRecord, SchedulerCommand } from './scheduler-command';
import { ENDED_TASK_RETENTION_MS, SchedulerState } from './scheduler-state';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

function spec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    schedule: { kind: 'cron', expression: '* * * * * *' },
    callback: { url: 'http://127.0.0.1:9/hook', body: { hello: 'world' } },
    timeoutMs: 1_000,
    retry: { maxAttempts: 1, initialBackoffMs: 0, maxBackoffMs: 0 },
    jitterMs: 0,
    overlap: 'allow',
    misfire: 'fire_once',
    ...overrides,
  };
}

function fired(taskId: string, scheduledAtMs: number, extra: Partial<FireRecord> = {}): FireRecord {
  return {
    taskId,
    scheduledAtMs,
    status: 'succeeded',
    httpStatus: 200,
    attempts: 1,
    durationMs: 3,
    node: 'n1',
    finishedAtMs: scheduledAtMs + 5,
    ...extra,
  };
}

function create(state: SchedulerState, taskId: string, s: TaskSpec, atMs = T0) {
  return state.apply({ t: 'create', atMs, tasks: [{ taskId, spec: s }] });
}

describe('SchedulerState', () => {
  it('creates a crontab whose first fire is the first matching time after creation', () => {
    const state = new SchedulerState();
    expect(create(state, '1', spec(), T0 + 500)).toEqual({
      ok: true,
      created: [{ taskId: '1', created: true }],
    });
    expect(state.tasks.get('1')?.nextFireAtMs).toBe(T0 + 1_000);
  });

  it('advances the watermark over fires recorded in order and out of order', () => {
    const state = new SchedulerState();
    create(state, '1', spec());
    // T0 itself matches "every second" and is the first fire.
    expect(state.tasks.get('1')?.nextFireAtMs).toBe(T0);
    state.apply({ t: 'record', atMs: T0 + 10, records: [fired('1', T0 + 1_000)] });
    const task = state.tasks.get('1')!;
    expect(task.nextFireAtMs).toBe(T0);
    expect(task.recordedAhead).toEqual([T0 + 1_000]);
    state.apply({ t: 'record', atMs: T0 + 20, records: [fired('1', T0)] });
    expect(task.nextFireAtMs).toBe(T0 + 2_000);
    expect(task.recordedAhead).toEqual([]);
    expect(task.runCount).toBe(2);
  });

  it('counts a second record of the same fire as a duplicate and changes nothing', () => {
    const state = new SchedulerState();
    const duplicates: FireRecord[] = [];
    state.observer = { taskChanged: () => undefined, duplicateRecorded: (r) => duplicates.push(r) };
    create(state, '1', spec());
    state.apply({ t: 'record', atMs: T0, records: [fired('1', T0)] });
    state.apply({ t: 'record', atMs: T0, records: [fired('1', T0)] });
    expect(duplicates).toHaveLength(1);
    expect(state.tasks.get('1')?.runCount).toBe(1);
  });

  it('completes a one-shot on its record, keeps it queryable, and forgets it after the retention', () => {
    const state = new SchedulerState();
    create(state, '1', spec({ schedule: { kind: 'once', runAtMs: T0 + 60_000 } }));
    state.apply({ t: 'record', atMs: T0 + 60_010, records: [fired('1', T0 + 60_000)] });
    expect(state.tasks.get('1')?.status).toBe('completed');
    state.apply({ t: 'pause', atMs: T0 + ENDED_TASK_RETENTION_MS + 120_000, taskId: 'other' });
    expect(state.tasks.has('1')).toBe(false);
  });

  it('skips a run of missed crontab fires in one record', () => {
    const state = new SchedulerState();
    create(state, '1', spec());
    state.apply({
      t: 'record',
      atMs: T0 + 60_000,
      records: [
        fired('1', T0, {
          status: 'skipped',
          skipReason: 'misfire',
          skipThroughMs: T0 + 58_999,
          attempts: 0,
        }),
      ],
    });
    const task = state.tasks.get('1')!;
    expect(task.nextFireAtMs).toBe(T0 + 59_000);
    expect(task.runCount).toBe(0);
    expect(task.history[0]).toMatchObject({ status: 'skipped', skipReason: 'misfire' });
  });

  it('returns the same task for a reused idempotency key and refuses one with other parameters', () => {
    const state = new SchedulerState();
    create(state, '1', spec({ idempotencyKey: 'k' }));
    expect(create(state, '2', spec({ idempotencyKey: 'k' }))).toEqual({
      ok: true,
      created: [{ taskId: '1', created: false }],
    });
    expect(create(state, '3', spec({ idempotencyKey: 'k', jitterMs: 5 }))).toEqual({
      ok: true,
      created: [{ error: 'idempotency_conflict', idempotencyKey: 'k', existingTaskId: '1' }],
    });
    expect(state.tasks.size).toBe(1);
  });

  it('keeps an idempotency key for the retention after delete', () => {
    const state = new SchedulerState();
    create(state, '1', spec({ idempotencyKey: 'k' }));
    state.apply({ t: 'delete', atMs: T0 + 1, taskId: '1' });
    expect(create(state, '2', spec({ idempotencyKey: 'k' }), T0 + 2)).toMatchObject({
      created: [{ taskId: '1', created: false }],
    });
    // Past the retention the key is free again.
    const later = T0 + ENDED_TASK_RETENTION_MS + 10;
    expect(create(state, '3', spec({ idempotencyKey: 'k' }), later)).toMatchObject({
      created: [{ taskId: '3', created: true }],
    });
  });

  it('refuses a taken id without touching the existing task', () => {
    const state = new SchedulerState();
    create(state, '1', spec());
    expect(create(state, '1', spec({ jitterMs: 9 }))).toEqual({
      ok: true,
      created: [{ error: 'id_taken', taskId: '1' }],
    });
    expect(state.tasks.get('1')?.spec.jitterMs).toBe(0);
  });

  it('pauses and resumes a crontab without owing the fires of the pause', () => {
    const state = new SchedulerState();
    create(state, '1', spec());
    state.apply({ t: 'pause', atMs: T0 + 100, taskId: '1' });
    expect(state.tasks.get('1')?.status).toBe('paused');
    state.apply({ t: 'resume', atMs: T0 + 30_500, taskId: '1' });
    expect(state.tasks.get('1')).toMatchObject({ status: 'active', nextFireAtMs: T0 + 31_000 });
  });

  it('answers not_found for commands on unknown tasks', () => {
    const state = new SchedulerState();
    const commands: SchedulerCommand[] = [
      { t: 'delete', atMs: T0, taskId: '9' },
      { t: 'pause', atMs: T0, taskId: '9' },
      { t: 'resume', atMs: T0, taskId: '9' },
      { t: 'run', atMs: T0, taskId: '9', scheduledAtMs: T0 },
    ];
    for (const command of commands)
      expect(state.apply(command)).toEqual({ error: 'not_found', taskId: '9' });
  });

  it('keeps a manual fire until its record, beside the schedule', () => {
    const state = new SchedulerState();
    create(state, '1', spec({ schedule: { kind: 'once', runAtMs: T0 + 3_600_000 } }));
    state.apply({ t: 'run', atMs: T0 + 5, taskId: '1', scheduledAtMs: T0 + 5 });
    expect(state.tasks.get('1')?.manualFires).toEqual([T0 + 5]);
    state.apply({ t: 'record', atMs: T0 + 9, records: [fired('1', T0 + 5, { manual: true })] });
    const task = state.tasks.get('1')!;
    expect(task.manualFires).toEqual([]);
    expect(task.nextFireAtMs).toBe(T0 + 3_600_000);
    expect(task.history[0].manual).toBe(true);
  });

  it('ends a crontab at end_at', () => {
    const state = new SchedulerState();
    create(state, '1', spec({ endAtMs: T0 + 1_500 }));
    state.apply({ t: 'record', atMs: T0, records: [fired('1', T0)] });
    state.apply({ t: 'record', atMs: T0 + 1_000, records: [fired('1', T0 + 1_000)] });
    expect(state.tasks.get('1')?.status).toBe('completed');
  });
});
