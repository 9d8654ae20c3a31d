import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type Entry } from '@xcron/raft';
import { SeededRandom } from '@xcron/testing';
import type { TaskSpec } from '../task/task.model';
import { decodeResult, encodeCommand, type SchedulerCommand } from './scheduler-command';
import { SchedulerStateMachine } from './scheduler-state-machine';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'xcron-sm-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function spec(random: SeededRandom): TaskSpec {
  const once = random.nextFloat() < 0.5;
  return {
    schedule: once
      ? { kind: 'once', runAtMs: T0 + random.nextIntInRange(0, 600_000 + 1) }
      : { kind: 'cron', expression: `*/${random.nextIntInRange(1, 30 + 1)} * * * * *` },
    callback: { url: 'http://127.0.0.1:9/h', body: { n: random.nextIntInRange(0, 1e6 + 1) } },
    timeoutMs: 1_000,
    retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 100 },
    jitterMs: 0,
    overlap: 'allow',
    misfire: 'fire_once',
    ...(random.nextFloat() < 0.3
      ? { idempotencyKey: `key-${random.nextIntInRange(0, 50 + 1)}` }
      : {}),
  };
}

/** A random but valid command stream: creates, records, pauses, resumes, deletes, runs. */
function commands(seed: number, count: number): SchedulerCommand[] {
  const random = new SeededRandom(seed);
  const ids: string[] = [];
  const out: SchedulerCommand[] = [];
  let atMs = T0;
  for (let i = 0; i < count; i++) {
    atMs += random.nextIntInRange(0, 2_000 + 1);
    const pick = random.nextFloat();
    const taskId = ids.length > 0 ? ids[random.nextIntInRange(0, ids.length - 1 + 1)] : '1';
    if (pick < 0.35 || ids.length === 0) {
      const id = String(1_000 + i);
      ids.push(id);
      out.push({ t: 'create', atMs, tasks: [{ taskId: id, spec: spec(random) }] });
    } else if (pick < 0.75) {
      out.push({
        t: 'record',
        atMs,
        records: [
          {
            taskId,
            scheduledAtMs: T0 + random.nextIntInRange(0, 60 + 1) * 1_000,
            status: random.nextFloat() < 0.8 ? 'succeeded' : 'failed',
            attempts: 1,
            durationMs: 4,
            node: 'n1',
            finishedAtMs: atMs,
          },
        ],
      });
    } else if (pick < 0.82) out.push({ t: 'pause', atMs, taskId });
    else if (pick < 0.89) out.push({ t: 'resume', atMs, taskId });
    else if (pick < 0.95) out.push({ t: 'run', atMs, taskId, scheduledAtMs: atMs });
    else out.push({ t: 'delete', atMs, taskId });
  }
  return out;
}

function entries(list: SchedulerCommand[], firstIndex = 1): Entry[] {
  return list.map((command, i) => ({
    index: firstIndex + i,
    term: 1,
    type: EntryType.Normal,
    data: encodeCommand(command),
  }));
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** The state as plain data, for comparison. */
function dump(machine: SchedulerStateMachine): unknown {
  const state = machine.state;
  return {
    tasks: [...state.tasks.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
    keys: [...state.idempotencyKeys.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    latestAtMs: state.latestAtMs,
  };
}

describe('SchedulerStateMachine', () => {
  it.each([1, 2, 3, 4, 5])(
    'snapshot then restore gives the state replay gives (seed %i)',
    async (seed) => {
      const stream = entries(commands(seed, 400));
      const original = await SchedulerStateMachine.open({
        journalDir: join(dir, 'a'),
        logger: quiet,
      });
      await original.apply(stream.slice(0, 250));
      const snapshot = await collect(original.snapshot());
      await original.apply(stream.slice(250));

      const restored = await SchedulerStateMachine.open({
        journalDir: join(dir, 'b'),
        logger: quiet,
      });
      await restored.restore(
        { index: 250, term: 1, membership: { members: [] } },
        replay(snapshot),
      );
      await restored.apply(stream.slice(250));
      expect(dump(restored)).toEqual(dump(original));
      expect(restored.appliedIndex).toBe(400);
      await original.close();
      await restored.close();
    },
  );

  it.each([11, 12, 13])(
    'a snapshot read while later entries apply shows the state at the snapshot (seed %i)',
    async (seed) => {
      const stream = entries(commands(seed, 600));
      const live = await SchedulerStateMachine.open({
        journalDir: join(dir, 'live'),
        logger: quiet,
      });
      const prefix = await SchedulerStateMachine.open({
        journalDir: join(dir, 'prefix'),
        logger: quiet,
      });
      await live.apply(stream.slice(0, 300));
      await prefix.apply(stream.slice(0, 300));
      const snapshot = live.snapshot();
      // Applies go on before the stream is read (the Raft node does not wait for it).
      await live.apply(stream.slice(300));
      const chunks = await collect(snapshot);
      const restored = await SchedulerStateMachine.open({
        journalDir: join(dir, 'restored'),
        logger: quiet,
      });
      await restored.restore({ index: 300, term: 1, membership: { members: [] } }, replay(chunks));
      expect(dump(restored)).toEqual(dump(prefix));
      // And the live state is untouched by the view.
      await restored.apply(stream.slice(300));
      expect(dump(restored)).toEqual(dump(live));
      for (const machine of [live, prefix, restored]) await machine.close();
    },
  );

  it('restarts from a snapshot plus its journal, and skips what Raft re-applies', async () => {
    const stream = entries(commands(7, 300));
    const first = await SchedulerStateMachine.open({ journalDir: join(dir, 'j'), logger: quiet });
    await first.apply(stream.slice(0, 100));
    const snapshot = await collect(first.snapshot());
    await first.apply(stream.slice(100));
    const expected = dump(first);
    await first.close();

    // Restart: the Raft node restores snapshot 100; the journal holds 101..300; Raft then
    // re-applies 101..300 from its own log — each command must be folded in once.
    const second = await SchedulerStateMachine.open({ journalDir: join(dir, 'j'), logger: quiet });
    await second.restore({ index: 100, term: 1, membership: { members: [] } }, replay(snapshot));
    expect(second.appliedIndex).toBe(300);
    const results = await second.apply(stream.slice(100));
    expect(results.every((result) => result.length === 0)).toBe(true);
    expect(dump(second)).toEqual(expected);
    await second.close();
  });

  it('answers each proposal with its command result', async () => {
    const machine = await SchedulerStateMachine.open({ journalDir: join(dir, 'r'), logger: quiet });
    const [created, missing] = await machine.apply(
      entries([
        { t: 'create', atMs: T0, tasks: [{ taskId: '5', spec: spec(new SeededRandom(1)) }] },
        { t: 'pause', atMs: T0, taskId: '404' },
      ]),
    );
    expect(decodeResult(created)).toEqual({ ok: true, created: [{ taskId: '5', created: true }] });
    expect(decodeResult(missing)).toEqual({ error: 'not_found', taskId: '404' });
    await machine.close();
  });

  it('skips no-ops and membership entries without journaling them', async () => {
    const machine = await SchedulerStateMachine.open({ journalDir: join(dir, 'n'), logger: quiet });
    const results = await machine.apply([
      { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) },
      { index: 2, term: 1, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3]) },
    ]);
    expect(results.map((result) => result.length)).toEqual([0, 0]);
    expect(machine.appliedIndex).toBe(2);
    expect(machine.journalLastSeq).toBe(0);
    await machine.close();
  });

  it('starts over after a journal whose records it cannot read, and says so', async () => {
    const { writeFileSync, readdirSync } = await import('node:fs');
    const stream = entries(commands(9, 50));
    const first = await SchedulerStateMachine.open({ journalDir: join(dir, 'c'), logger: quiet });
    await first.apply(stream);
    await first.close();
    const segment = readdirSync(join(dir, 'c')).find((name) => name.endsWith('.seg'));
    expect(segment).toBeDefined();
    // Garbage over the whole segment: its header no longer parses.
    writeFileSync(join(dir, 'c', segment!), Buffer.alloc(4096, 0xab));
    const errors: string[] = [];
    const second = await SchedulerStateMachine.open({
      journalDir: join(dir, 'c'),
      logger: { ...quiet, error: (message) => errors.push(message) },
    });
    // Raft re-applies everything: the state is whole again.
    await second.apply(stream);
    expect(second.state.tasks.size).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/journal/);
    await second.close();
  });
});
