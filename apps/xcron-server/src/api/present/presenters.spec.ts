import type { TaskView } from '@xcron/scheduler/task/task.model';
import { msToSeedSeconds, presentSeedTask, presentTask } from './presenters';

const cronTask: TaskView = {
  id: '289057701458138645',
  spec: {
    schedule: { kind: 'cron', expression: '0 1 * * *', timezone: 'Europe/Paris' },
    callback: { url: 'http://cb.test', body: { a: 1 } },
    timeoutMs: 10_000,
    retry: { maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 60_000 },
    jitterMs: 0,
    overlap: 'skip',
    misfire: 'fire_once',
    endAtMs: 1_900_000_000_000,
  },
  status: 'paused',
  createdAtMs: 1_800_000_000_250,
  updatedAtMs: 1_800_000_001_000,
  runCount: 4,
  failureCount: 1,
  nextFireAtMs: 1_800_003_600_000,
};

describe('presenters', () => {
  it('writes unix ms as seed seconds, with a fraction only when there is one', () => {
    expect(msToSeedSeconds(1_800_000_000_000)).toBe('1800000000');
    expect(msToSeedSeconds(1_800_000_000_250)).toBe('1800000000.25');
    expect(msToSeedSeconds(1_800_000_000_001)).toBe('1800000000.001');
  });

  it('gives /v1 a task in the shape POST /v1/tasks takes, plus read-only fields', () => {
    expect(presentTask(cronTask, [1, 2])).toEqual({
      task_id: '289057701458138645',
      status: 'paused',
      cron: '0 1 * * *',
      timezone: 'Europe/Paris',
      callback: { url: 'http://cb.test', body: { a: 1 } },
      timeout_ms: 10_000,
      retry: { max_attempts: 3, initial_backoff_ms: 1000, max_backoff_ms: 60_000 },
      end_at_ms: 1_900_000_000_000,
      jitter_ms: 0,
      overlap: 'skip',
      misfire: 'fire_once',
      created_at_ms: 1_800_000_000_250,
      updated_at_ms: 1_800_000_001_000,
      run_count: 4,
      failure_count: 1,
      next_fire_at_ms: 1_800_003_600_000,
      next_fire_times_ms: [1, 2],
    });
  });

  it("gives the seed's queryTask the original fields first", () => {
    expect(presentSeedTask(cronTask)).toMatchObject({
      task_id: '289057701458138645',
      create_time: '1800000000.25',
      type: 1,
      format: '0 1 * * *',
      run_count: 4,
      callback: { url: 'http://cb.test', body: { a: 1 } },
      status: 'paused',
      next_fire_time: '1800003600',
      timezone: 'Europe/Paris',
      end_at: '1900000000',
    });
    const once = presentSeedTask({
      ...cronTask,
      spec: { ...cronTask.spec, schedule: { kind: 'once', runAtMs: 1_900_000_000_000 } },
    });
    expect(once).toMatchObject({ type: 2, format: '1900000000' });
    expect(once).not.toHaveProperty('timezone');
  });
});
