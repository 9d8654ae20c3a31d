import { SeededRandom } from '@xcron/testing';
import type { TaskSpec } from '../task/task.model';
import type { FireRecord, SchedulerCommand } from './scheduler-command';
import { ENDED_TASK_RETENTION_MS } from './scheduler-state';
import { decodeExecution, FAMILY, familyRange } from './state-store-codec';
import { randomCommands } from './testing/random-commands';
import { FoldHarness } from './testing/state-harness';

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

function create(state: FoldHarness, taskId: string, s: TaskSpec, atMs = T0) {
  return state.apply({ t: 'create', atMs, tasks: [{ taskId, spec: s }] });
}

describe('SchedulerState', () => {
  it('creates a crontab whose first fire is the first matching time after creation', async () => {
    const state = new FoldHarness();
    expect(create(state, '1', spec(), T0 + 500)).toEqual({
      ok: true,
      created: [{ taskId: '1', created: true }],
    });
    expect((await state.task('1'))?.nextFireAtMs).toBe(T0 + 1_000);
  });

  it('advances the watermark over fires recorded in order and out of order', async () => {
    const state = new FoldHarness();
    create(state, '1', spec());
    // T0 itself matches "every second" and is the first fire.
    expect((await state.task('1'))?.nextFireAtMs).toBe(T0);
    state.apply({ t: 'record', atMs: T0 + 10, records: [fired('1', T0 + 1_000)] });
    const before = (await state.task('1'))!;
    expect(before.nextFireAtMs).toBe(T0);
    expect(before.recordedAhead).toEqual([T0 + 1_000]);
    state.apply({ t: 'record', atMs: T0 + 20, records: [fired('1', T0)] });
    const task = (await state.task('1'))!;
    expect(task.nextFireAtMs).toBe(T0 + 2_000);
    expect(task.recordedAhead).toEqual([]);
    expect(task.runCount).toBe(2);
  });

  it('counts a second record of the same fire as a duplicate and changes nothing', async () => {
    const state = new FoldHarness();
    const duplicates: FireRecord[] = [];
    state.state.observer = {
      taskChanged: () => undefined,
      duplicateRecorded: (r) => duplicates.push(r),
    };
    create(state, '1', spec());
    state.apply({ t: 'record', atMs: T0, records: [fired('1', T0)] });
    state.apply({ t: 'record', atMs: T0, records: [fired('1', T0)] });
    expect(duplicates).toHaveLength(1);
    expect((await state.task('1'))?.runCount).toBe(1);
  });

  it('completes a one-shot on its record, keeps it queryable, and forgets it after the retention', async () => {
    const state = new FoldHarness();
    create(state, '1', spec({ schedule: { kind: 'once', runAtMs: T0 + 60_000 } }));
    state.apply({ t: 'record', atMs: T0 + 60_010, records: [fired('1', T0 + 60_000)] });
    expect((await state.task('1'))?.status).toBe('completed');
    state.apply({ t: 'pause', atMs: T0 + ENDED_TASK_RETENTION_MS + 120_000, taskId: 'other' });
    expect(state.has('1')).toBe(false);
  });

  it('skips a run of missed crontab fires in one record', async () => {
    const state = new FoldHarness();
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
    const task = (await state.task('1'))!;
    expect(task.nextFireAtMs).toBe(T0 + 59_000);
    expect(task.runCount).toBe(0);
    expect(task.history[0]).toMatchObject({ status: 'skipped', skipReason: 'misfire' });
  });

  it('returns the same task for a reused idempotency key and refuses one with other parameters', async () => {
    const state = new FoldHarness();
    create(state, '1', spec({ idempotencyKey: 'k' }));
    expect(create(state, '2', spec({ idempotencyKey: 'k' }))).toEqual({
      ok: true,
      created: [{ taskId: '1', created: false }],
    });
    expect(create(state, '3', spec({ idempotencyKey: 'k', jitterMs: 5 }))).toEqual({
      ok: true,
      created: [{ error: 'idempotency_conflict', idempotencyKey: 'k', existingTaskId: '1' }],
    });
    expect(state.state.size).toBe(1);
  });

  it('keeps an idempotency key for the retention after delete', async () => {
    const state = new FoldHarness();
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

  it('refuses a taken id without touching the existing task', async () => {
    const state = new FoldHarness();
    create(state, '1', spec());
    expect(create(state, '1', spec({ jitterMs: 9 }))).toEqual({
      ok: true,
      created: [{ error: 'id_taken', taskId: '1' }],
    });
    expect((await state.task('1'))?.spec).toEqual(spec());
  });

  it('pauses and resumes a crontab without owing the fires of the pause', async () => {
    const state = new FoldHarness();
    create(state, '1', spec());
    state.apply({ t: 'pause', atMs: T0 + 100, taskId: '1' });
    expect((await state.task('1'))?.status).toBe('paused');
    state.apply({ t: 'resume', atMs: T0 + 30_500, taskId: '1' });
    expect(await state.task('1')).toMatchObject({ status: 'active', nextFireAtMs: T0 + 31_000 });
  });

  it('answers not_found for commands on unknown tasks', async () => {
    const state = new FoldHarness();
    const commands: SchedulerCommand[] = [
      { t: 'delete', atMs: T0, taskId: '9' },
      { t: 'pause', atMs: T0, taskId: '9' },
      { t: 'resume', atMs: T0, taskId: '9' },
      { t: 'run', atMs: T0, taskId: '9', scheduledAtMs: T0 },
    ];
    for (const command of commands)
      expect(state.apply(command)).toEqual({ error: 'not_found', taskId: '9' });
  });

  it('keeps a manual fire until its record, beside the schedule', async () => {
    const state = new FoldHarness();
    create(state, '1', spec({ schedule: { kind: 'once', runAtMs: T0 + 3_600_000 } }));
    state.apply({ t: 'run', atMs: T0 + 5, taskId: '1', scheduledAtMs: T0 + 5 });
    expect((await state.task('1'))?.manualFires).toEqual([T0 + 5]);
    state.apply({ t: 'record', atMs: T0 + 9, records: [fired('1', T0 + 5, { manual: true })] });
    const task = (await state.task('1'))!;
    expect(task.manualFires).toEqual([]);
    expect(task.nextFireAtMs).toBe(T0 + 3_600_000);
    expect(task.history[0].manual).toBe(true);
  });

  it('ends a crontab at end_at', async () => {
    const state = new FoldHarness();
    create(state, '1', spec({ endAtMs: T0 + 1_500 }));
    state.apply({ t: 'record', atMs: T0, records: [fired('1', T0)] });
    state.apply({ t: 'record', atMs: T0 + 1_000, records: [fired('1', T0 + 1_000)] });
    expect((await state.task('1'))?.status).toBe('completed');
  });

  it('writes a task to the store and deletes all of it when the task goes', async () => {
    const state = new FoldHarness();
    const s = spec({ name: 'n', callback: { url: 'http://x/', body: [1], headers: { a: 'b' } } });
    create(state, '1', s);
    for (let i = 0; i < 25; i++)
      state.apply({ t: 'record', atMs: T0 + i * 1_000, records: [fired('1', T0 + i * 1_000)] });
    const task = (await state.task('1'))!;
    expect(task.spec).toEqual(s);
    expect(task.runCount).toBe(25);
    // The ring keeps the last EXECUTION_HISTORY_PER_TASK, oldest first.
    expect(task.history.map((e) => e.scheduledAtMs)).toEqual(
      Array.from({ length: 20 }, (_, i) => T0 + (i + 5) * 1_000),
    );
    expect(await countFamily(state, FAMILY.history)).toBe(20);
    state.apply({ t: 'delete', atMs: T0 + 30_000, taskId: '1' });
    for (const family of [FAMILY.row, FAMILY.delivery, FAMILY.history])
      expect(await countFamily(state, family)).toBe(0);
  });

  it('deletes a forgotten task and key from the store after the retention', async () => {
    const state = new FoldHarness();
    create(
      state,
      '1',
      spec({ schedule: { kind: 'once', runAtMs: T0 + 1_000 }, idempotencyKey: 'k' }),
    );
    state.apply({ t: 'record', atMs: T0 + 1_010, records: [fired('1', T0 + 1_000)] });
    expect(await countFamily(state, FAMILY.row)).toBe(1);
    expect(await countFamily(state, FAMILY.key)).toBe(1);
    state.apply({ t: 'pause', atMs: T0 + ENDED_TASK_RETENTION_MS + 2_000, taskId: 'x' });
    expect(state.has('1')).toBe(false);
    expect(state.state.idempotencyKeys.size).toBe(0);
    expect(state.store.size).toBe(0);
  });

  it('keeps the key of a completed one-shot that an update revived, as a reload does', async () => {
    const state = new FoldHarness();
    create(
      state,
      '1',
      spec({ schedule: { kind: 'once', runAtMs: T0 + 1_000 }, idempotencyKey: 'k' }),
    );
    state.apply({ t: 'record', atMs: T0 + 1_010, records: [fired('1', T0 + 1_000)] });
    const later = T0 + 2 * ENDED_TASK_RETENTION_MS;
    const revived = spec({ schedule: { kind: 'once', runAtMs: later }, idempotencyKey: 'k' });
    state.apply({ t: 'update', atMs: T0 + 2_000, taskId: '1', spec: revived });
    const reloaded = await state.reloaded();
    expect(await reloaded.dump()).toEqual(await state.dump());
    // Past the retention of the first completion: the task lives, and so does its key.
    for (const fold of [state, reloaded]) {
      fold.apply({ t: 'pause', atMs: T0 + ENDED_TASK_RETENTION_MS + 5_000, taskId: 'x' });
      expect((await fold.task('1'))?.status).toBe('active');
      expect(fold.state.idempotencyKeys.get('k')?.taskId).toBe('1');
    }
    expect(await reloaded.dump()).toEqual(await state.dump());
  });

  it('lets the old key of a task updated to another key expire, as a reload does', async () => {
    const state = new FoldHarness();
    create(
      state,
      '1',
      spec({ schedule: { kind: 'once', runAtMs: T0 + 1_000 }, idempotencyKey: 'a' }),
    );
    state.apply({ t: 'record', atMs: T0 + 1_010, records: [fired('1', T0 + 1_000)] });
    const later = T0 + 2 * ENDED_TASK_RETENTION_MS;
    const moved = spec({ schedule: { kind: 'once', runAtMs: later }, idempotencyKey: 'b' });
    state.apply({ t: 'update', atMs: T0 + 2_000, taskId: '1', spec: moved });
    const reloaded = await state.reloaded();
    for (const fold of [state, reloaded]) {
      fold.apply({ t: 'pause', atMs: T0 + ENDED_TASK_RETENTION_MS + 5_000, taskId: 'x' });
      expect((await fold.task('1'))?.status).toBe('active');
      expect(fold.state.idempotencyKeys.has('a')).toBe(false);
    }
    expect(await reloaded.dump()).toEqual(await state.dump());
  });

  it.each([21, 22, 23, 24])(
    'a state reloaded from its store folds on like the original (seed %i)',
    async (seed) => {
      const commands = randomCommands(seed, 400, { dayJumps: 0.03, updates: true });
      const random = new SeededRandom(seed);
      let original = new FoldHarness();
      let reloaded = original;
      for (let i = 0; i < commands.length; i++) {
        if (random.nextFloat() < 0.02) {
          reloaded = await reloaded.reloaded();
          expect(await reloaded.dump()).toEqual(await original.dump());
        }
        const a = original.apply(commands[i]);
        if (reloaded !== original) expect(reloaded.apply(commands[i])).toEqual(a);
        else original = reloaded;
      }
      expect(await reloaded.dump()).toEqual(await original.dump());
      expect(await storeEntries(reloaded)).toEqual(await storeEntries(original));
    },
  );
});

describe('the dead-letter index (FAMILY.failed)', () => {
  it.each([31, 32, 33])(
    'holds exactly the ring slots whose stored execution failed, through ring wraps, re-runs and deletes (seed %i)',
    async (seed) => {
      const random = new SeededRandom(seed);
      const fold = new FoldHarness();
      const next = new Map<string, number>();
      let atMs = T0;
      let created = 0;
      const create = (): void => {
        const taskId = String(100 + created++);
        fold.apply({ t: 'create', atMs, tasks: [{ taskId, spec: spec() }] });
        next.set(taskId, atMs - (atMs % 1_000) + 1_000);
      };
      for (let i = 0; i < 4; i++) create();
      for (let step = 0; step < 400; step++) {
        atMs += 1_000;
        const ids = [...next.keys()];
        const taskId = ids[random.nextIntInRange(0, ids.length)];
        const pick = random.nextFloat();
        if (pick < 0.03) {
          fold.apply({ t: 'delete', atMs, taskId });
          next.delete(taskId);
          create();
        } else if (pick < 0.08) {
          fold.apply({ t: 'run', atMs, taskId, scheduledAtMs: atMs });
          const status = random.nextFloat() < 0.5 ? 'failed' : 'succeeded';
          fold.apply({
            t: 'record',
            atMs,
            records: [fired(taskId, atMs, { status, manual: true, finishedAtMs: atMs })],
          });
        } else {
          const scheduledAtMs = next.get(taskId)!;
          next.set(taskId, scheduledAtMs + 1_000);
          const status = random.nextFloat() < 0.3 ? 'failed' : 'succeeded';
          fold.apply({ t: 'record', atMs, records: [fired(taskId, scheduledAtMs, { status })] });
        }
      }
      const failedSlots = new Set<string>();
      const indexed = new Set<string>();
      let slots = 0;
      const view = fold.store.view();
      try {
        for await (const batch of view.entries(familyRange(FAMILY.history)))
          for (const [key, value] of batch) {
            slots++;
            if (decodeExecution('?', value).status === 'failed')
              failedSlots.add(Buffer.from(key.subarray(1)).toString('hex'));
          }
        for await (const batch of view.entries(familyRange(FAMILY.failed)))
          for (const [key] of batch) indexed.add(Buffer.from(key.subarray(1)).toString('hex'));
      } finally {
        await view.close();
      }
      // Rings wrapped (400 records over a handful of tasks, 20 slots each) and some failed.
      expect(slots).toBeGreaterThan(40);
      expect(failedSlots.size).toBeGreaterThan(0);
      expect([...indexed].sort()).toEqual([...failedSlots].sort());
    },
  );
});

async function countFamily(state: FoldHarness, family: number): Promise<number> {
  let count = 0;
  const view = state.store.view();
  for await (const batch of view.entries(familyRange(family))) count += batch.length;
  await view.close();
  return count;
}

async function storeEntries(state: FoldHarness): Promise<string[]> {
  const out: string[] = [];
  const view = state.store.view();
  for await (const batch of view.entries({ gte: new Uint8Array(0), lt: Uint8Array.of(0xff) }))
    for (const [key, value] of batch)
      out.push(`${Buffer.from(key).toString('hex')}=${Buffer.from(value).toString('hex')}`);
  await view.close();
  return out;
}
