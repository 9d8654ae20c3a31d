import { EntryType, type Entry } from '@xcron/raft';
import { SeededRandom } from '@xcron/testing';
import type { TaskSpec } from '../../task/task.model';
import { encodeCommand, type SchedulerCommand } from '../scheduler-command';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

export interface RandomCommandOptions {
  /** Chance that a command comes a day or more after the one before (retention kicks in). */
  readonly dayJumps?: number;
  /** Include updates (one-shots moved, crontabs changed). */
  readonly updates?: boolean;
}

/** A random valid spec: a one-shot or a crontab, sometimes with an idempotency key and extras. */
export function randomSpec(random: SeededRandom, atMs = T0): TaskSpec {
  const once = random.nextFloat() < 0.5;
  const extras = random.nextFloat() < 0.3;
  return {
    ...(random.nextFloat() < 0.2 ? { name: `task ${random.nextInt(1000)}` } : {}),
    schedule: once
      ? { kind: 'once', runAtMs: atMs + random.nextIntInRange(0, 600_000 + 1) }
      : { kind: 'cron', expression: `*/${random.nextIntInRange(1, 30 + 1)} * * * * *` },
    callback: {
      url: 'http://127.0.0.1:9/h',
      body: { n: random.nextIntInRange(0, 1e6 + 1) },
      ...(random.nextFloat() < 0.2 ? { headers: { 'x-n': String(random.nextInt(10)) } } : {}),
    },
    timeoutMs: random.nextFloat() < 0.5 ? 1_000 : 10_000,
    retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 100 },
    jitterMs: extras ? random.nextInt(500) : 0,
    overlap: 'allow',
    misfire: random.nextFloat() < 0.8 ? 'fire_once' : 'skip',
    ...(extras ? { endAtMs: atMs + random.nextIntInRange(60_000, 3_600_000) } : {}),
    ...(random.nextFloat() < 0.3
      ? { idempotencyKey: `key-${random.nextIntInRange(0, 50 + 1)}` }
      : {}),
  };
}

/** A random but valid command stream: creates, records, pauses, resumes, deletes, runs (updates). */
export function randomCommands(
  seed: number,
  count: number,
  options: RandomCommandOptions = {},
): SchedulerCommand[] {
  const random = new SeededRandom(seed);
  const ids: string[] = [];
  const out: SchedulerCommand[] = [];
  let atMs = T0;
  for (let i = 0; i < count; i++) {
    atMs += random.nextIntInRange(0, 2_000 + 1);
    if (options.dayJumps !== undefined && random.nextFloat() < options.dayJumps)
      atMs += 24 * 3_600_000 + random.nextInt(3_600_000);
    const pick = random.nextFloat();
    const taskId = ids.length > 0 ? ids[random.nextIntInRange(0, ids.length - 1 + 1)] : '1';
    if (pick < 0.35 || ids.length === 0) {
      const id = String(1_000 + i);
      ids.push(id);
      out.push({ t: 'create', atMs, tasks: [{ taskId: id, spec: randomSpec(random, atMs) }] });
    } else if (pick < 0.75) {
      const scheduledAtMs = atMs - random.nextIntInRange(0, 60 + 1) * 1_000;
      out.push({
        t: 'record',
        atMs,
        records: [
          {
            taskId,
            scheduledAtMs: scheduledAtMs - (scheduledAtMs % 1_000),
            status: random.nextFloat() < 0.8 ? 'succeeded' : 'failed',
            attempts: 1,
            durationMs: 4,
            node: 'n1',
            finishedAtMs: atMs,
            ...(random.nextFloat() < 0.1 ? { manual: true } : {}),
          },
        ],
      });
    } else if (pick < 0.8) out.push({ t: 'pause', atMs, taskId });
    else if (pick < 0.85) out.push({ t: 'resume', atMs, taskId });
    else if (pick < 0.9 && options.updates)
      out.push({ t: 'update', atMs, taskId, spec: randomSpec(random, atMs) });
    else if (pick < 0.95) out.push({ t: 'run', atMs, taskId, scheduledAtMs: atMs });
    else out.push({ t: 'delete', atMs, taskId });
  }
  return out;
}

/** Commands as Raft entries, indexes from `firstIndex`. */
export function entriesOf(list: readonly SchedulerCommand[], firstIndex = 1): Entry[] {
  return list.map((command, i) => ({
    index: firstIndex + i,
    term: 1,
    type: EntryType.Normal,
    data: encodeCommand(command),
  }));
}
