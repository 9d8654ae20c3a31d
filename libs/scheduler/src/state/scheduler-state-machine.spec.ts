import { cpSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type Entry } from '@xcron/raft';
import { SeededRandom } from '@xcron/testing';
import { MemoryStateStore } from '../store/testing/memory-state-store';
import { decodeResult, type SchedulerCommand } from './scheduler-command';
import { readSnapshotStream } from './scheduler-snapshot';
import {
  SchedulerStateMachine,
  type SchedulerStateMachineOptions,
} from './scheduler-state-machine';
import { T0, entriesOf, randomCommands, randomSpec } from './testing/random-commands';
import { FoldHarness, dumpState } from './testing/state-harness';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const META = { term: 1, membership: { members: [] } };

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'xcron-sm-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A state machine on a real classic-level store: `name`/journal and `name`/state in the temp dir. */
function open(
  name: string,
  options: Partial<SchedulerStateMachineOptions> = {},
): Promise<SchedulerStateMachine> {
  return SchedulerStateMachine.open({
    journalDir: join(dir, name, 'journal'),
    stateDir: join(dir, name, 'state'),
    logger: quiet,
    ...options,
  });
}

function commands(seed: number, count: number): SchedulerCommand[] {
  return randomCommands(seed, count, { updates: true });
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** The state as plain data (tasks with spec and history from the store, keys, clock). */
function dump(machine: SchedulerStateMachine): Promise<unknown> {
  return dumpState(machine.state, machine);
}

/** Every entry of the machine's store, through its snapshot stream, as hex. */
async function storeEntries(machine: SchedulerStateMachine): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of readSnapshotStream(machine.snapshot()))
    for (const [key, value] of batch)
      out.push(`${Buffer.from(key).toString('hex')}=${Buffer.from(value).toString('hex')}`);
  return out;
}

/** The state a fresh fold of the commands gives. */
function foldOf(list: readonly SchedulerCommand[]): Promise<unknown> {
  const fold = new FoldHarness();
  fold.applyAll(list);
  return fold.dump();
}

describe('SchedulerStateMachine', () => {
  it.each([1, 2, 3, 4, 5])(
    'snapshot then restore gives the state replay gives (seed %i)',
    async (seed) => {
      const list = commands(seed, 400);
      const stream = entriesOf(list);
      const original = await open('a');
      await original.apply(stream.slice(0, 250));
      const snapshot = await collect(original.snapshot());
      await original.apply(stream.slice(250));

      const restored = await open('b');
      await restored.restore({ index: 250, ...META }, replay(snapshot));
      expect(restored.appliedIndex).toBe(250);
      expect(await dump(restored)).toEqual(await foldOf(list.slice(0, 250)));
      await restored.apply(stream.slice(250));
      expect(await dump(restored)).toEqual(await dump(original));
      expect(await dump(original)).toEqual(await foldOf(list));
      expect(restored.appliedIndex).toBe(400);
      // The stores hold the same bytes too (meta record included).
      expect(await storeEntries(restored)).toEqual(await storeEntries(original));
      await original.close();
      await restored.close();
    },
  );

  it.each([11, 12, 13])(
    'a snapshot stream read while later entries apply shows the state at the snapshot() call (seed %i)',
    async (seed) => {
      // Big callback bodies: the stream spans several chunks and store read batches, so the
      // applies below land between reads of one LevelDB snapshot.
      const random = new SeededRandom(seed);
      const big: SchedulerCommand[] = Array.from({ length: 400 }, (_, i) => ({
        t: 'create',
        atMs: T0,
        tasks: [
          {
            taskId: String(900_000 + i),
            spec: {
              ...randomSpec(random),
              callback: { url: 'http://127.0.0.1:9/h', body: 'x'.repeat(4_000 + i) },
            },
          },
        ],
      }));
      const list = [...big, ...commands(seed, 600)];
      const stream = entriesOf(list);
      const live = await open('live');
      await live.apply(stream.slice(0, 700));
      const snapshot = live.snapshot()[Symbol.asyncIterator]();
      // Applies go on before and while the stream is read (the Raft node does not wait for it).
      await live.apply(stream.slice(700, 800));
      const chunks: Uint8Array[] = [];
      for (let next = await snapshot.next(); !next.done; next = await snapshot.next()) {
        chunks.push(next.value);
        const at = live.appliedIndex;
        if (at < list.length) await live.apply(stream.slice(at, at + 100));
      }
      expect(chunks.length).toBeGreaterThan(1);
      await live.apply(stream.slice(live.appliedIndex));
      expect(live.appliedIndex).toBe(1_000);

      const restored = await open('restored');
      await restored.restore({ index: 700, ...META }, replay(chunks));
      expect(restored.appliedIndex).toBe(700);
      expect(await dump(restored)).toEqual(await foldOf(list.slice(0, 700)));
      // And the live state is untouched by the view.
      await restored.apply(stream.slice(700));
      expect(await dump(restored)).toEqual(await dump(live));
      expect(await dump(live)).toEqual(await foldOf(list));
      for (const machine of [live, restored]) await machine.close();
    },
  );

  it('restarts from its store, and skips what Raft re-applies', async () => {
    const stream = entriesOf(commands(7, 300));
    const first = await open('r');
    await first.apply(stream);
    const expected = await dump(first);
    await first.close();

    // Restart: the store holds all 300 entries; Raft re-applies from its newest snapshot (here
    // index 100) and each command must be folded in once.
    const second = await open('r');
    expect(second.appliedIndex).toBe(300);
    const results = await second.apply(stream.slice(100));
    expect(results.every((result) => result.length === 0)).toBe(true);
    expect(await dump(second)).toEqual(expected);
    await second.close();
  });

  it('lists the failed executions from its index, and builds the index of a store from before it', async () => {
    const cron = { kind: 'cron', expression: '* * * * * *' } as const;
    const base = randomSpec(new SeededRandom(5), T0);
    const list: SchedulerCommand[] = [
      {
        t: 'create',
        atMs: T0,
        tasks: ['1', '2'].map((taskId) => ({
          taskId,
          spec: {
            ...base,
            schedule: cron,
            startAtMs: undefined,
            endAtMs: undefined,
            expireAtMs: undefined,
          },
        })),
      },
    ];
    for (let k = 1; k <= 25; k++)
      for (const taskId of ['1', '2'])
        list.push({
          t: 'record',
          atMs: T0 + k * 1_000,
          records: [
            {
              taskId,
              scheduledAtMs: T0 + k * 1_000,
              // Task 1 fails every 4th fire; task 2 fails its first fire only, which its ring
              // (20 slots) overwrote since.
              status: (taskId === '1' ? k % 4 === 0 : k === 1) ? 'failed' : 'succeeded',
              attempts: 1,
              durationMs: 2,
              node: 'n1',
              finishedAtMs: T0 + k * 1_000 + 2,
            },
          ],
        });
    const failedTimes = async (machine: SchedulerStateMachine): Promise<string[]> => {
      const out: string[] = [];
      for await (const execution of machine.failedExecutions())
        out.push(`${execution.taskId}@${(execution.scheduledAtMs - T0) / 1_000}`);
      return out.sort();
    };
    // Task 1's failures still in its ring: fires 8, 12, 16, 20, 24 (fires 6-25 are kept).
    const expected = ['1@12', '1@16', '1@20', '1@24', '1@8'];
    const first = await open('f');
    await first.apply(entriesOf(list));
    expect(await failedTimes(first)).toEqual(expected);
    await first.close();

    // The same store as an earlier version left it: no index, no marker.
    const { ClassicLevelStateStore } = await import('../store/classic-level-state-store');
    const { FAMILY, FAILED_INDEX_MARKER_KEY, familyRange } = await import('./state-store-codec');
    const raw = await ClassicLevelStateStore.open(join(dir, 'f', 'state'));
    const view = raw.view();
    const drop: { type: 'del'; key: Uint8Array }[] = [
      { type: 'del', key: FAILED_INDEX_MARKER_KEY },
    ];
    for await (const batch of view.entries(familyRange(FAMILY.failed)))
      for (const [key] of batch) drop.push({ type: 'del', key });
    await view.close();
    expect(drop.length).toBe(6);
    await raw.write(drop, { sync: true });
    await raw.close();

    const logged: string[] = [];
    const second = await open('f', { logger: { ...quiet, log: (m) => logged.push(m) } });
    expect(logged).toContain(
      'state store: indexed 5 failed execution(s) (a store from before the dead-letter index)',
    );
    expect(await failedTimes(second)).toEqual(expected);
    await second.close();
  });

  it('restarts from a store behind its journal by replaying the journal', async () => {
    const list = commands(8, 300);
    const stream = entriesOf(list);
    const first = await open('r');
    await first.apply(stream.slice(0, 100));
    expect(await first.persist()).toBe(100);
    await first.close();
    // The store as it was at index 100 (what a power loss could leave of a store with later
    // unsynced batches: LevelDB keeps a prefix of its log).
    cpSync(join(dir, 'r', 'state'), join(dir, 'state-at-100'), { recursive: true });
    const again = await open('r');
    await again.apply(stream.slice(100));
    await again.close();
    rmSync(join(dir, 'r', 'state'), { recursive: true });
    renameSync(join(dir, 'state-at-100'), join(dir, 'r', 'state'));

    let resets = 0;
    const second = await open('r');
    second.onReset = () => resets++;
    // The journal held 101..300.
    expect(second.appliedIndex).toBe(300);
    expect(second.durableState.persistedIndex()).toBe(100);
    expect(await dump(second)).toEqual(await foldOf(list));
    const results = await second.apply(stream.slice(100));
    expect(results.every((result) => result.length === 0)).toBe(true);
    expect(resets).toBe(0); // open() replays before anyone listens
    await second.close();
  });

  it('restores a snapshot behind its journal, then replays the journal after it', async () => {
    const list = commands(9, 300);
    const stream = entriesOf(list);
    const first = await open('j');
    await first.apply(stream.slice(0, 100));
    const snapshot = await collect(first.snapshot());
    await first.apply(stream.slice(100));
    const expected = await dump(first);
    await first.close();

    // The Raft node restores snapshot 100; the journal holds 101..300; Raft then re-applies
    // 101..300 from its own log — each command must be folded in once.
    const second = await open('j');
    let resets = 0;
    second.onReset = () => resets++;
    await second.restore({ index: 100, ...META }, replay(snapshot));
    expect(second.appliedIndex).toBe(300);
    expect(resets).toBeGreaterThan(0);
    const results = await second.apply(stream.slice(100));
    expect(results.every((result) => result.length === 0)).toBe(true);
    expect(await dump(second)).toEqual(expected);
    await second.close();
  });

  it('answers each proposal with its command result', async () => {
    const machine = await open('p');
    const [created, missing] = await machine.apply(
      entriesOf([
        { t: 'create', atMs: T0, tasks: [{ taskId: '5', spec: randomSpec(new SeededRandom(1)) }] },
        { t: 'pause', atMs: T0, taskId: '404' },
      ]),
    );
    expect(decodeResult(created)).toEqual({ ok: true, created: [{ taskId: '5', created: true }] });
    expect(decodeResult(missing)).toEqual({ error: 'not_found', taskId: '404' });
    await machine.close();
  });

  it('skips no-ops and membership entries without journaling them', async () => {
    const machine = await open('n');
    const results = await machine.apply([
      { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) },
      { index: 2, term: 1, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3]) },
    ]);
    expect(results.map((result) => result.length)).toEqual([0, 0]);
    expect(machine.appliedIndex).toBe(2);
    expect(machine.journalLastSeq).toBe(0);
    await machine.close();
  });

  it('rebuilds a journal whose records it cannot read, and says so', async () => {
    const list = commands(10, 50);
    const stream = entriesOf(list);
    const first = await open('c');
    await first.apply(stream.slice(0, 20));
    await first.persist();
    await first.close();
    cpSync(join(dir, 'c', 'state'), join(dir, 'state-at-20'), { recursive: true });
    const again = await open('c');
    await again.apply(stream.slice(20));
    await again.close();
    // The store fell back to index 20, and the journal that held the rest is garbage.
    rmSync(join(dir, 'c', 'state'), { recursive: true });
    renameSync(join(dir, 'state-at-20'), join(dir, 'c', 'state'));
    const segments = readdirSync(join(dir, 'c', 'journal')).filter((n) => n.endsWith('.seg'));
    expect(segments.length).toBeGreaterThan(0);
    // Garbage over the whole segment: its header no longer parses.
    for (const segment of segments)
      writeFileSync(join(dir, 'c', 'journal', segment), Buffer.alloc(4096, 0xab));

    const errors: string[] = [];
    const second = await open('c', { logger: { ...quiet, error: (m) => errors.push(m) } });
    expect(errors.join('\n')).toMatch(/journal/);
    expect(second.appliedIndex).toBe(20);
    expect(await dump(second)).toEqual(await foldOf(list.slice(0, 20)));
    // Raft re-applies everything after the store's index: the state is whole again, and the
    // rebuilt journal goes on from there.
    await second.apply(stream);
    expect(await dump(second)).toEqual(await foldOf(list));
    expect(second.journalLastSeq).toBe(50);
    await second.close();
  });

  describe('durability (power loss through MemoryStateStore)', () => {
    it.each([31, 32, 33, 34])(
      'keeps at least what persist() made durable (seed %i)',
      async (seed) => {
        const random = new SeededRandom(seed);
        const list = commands(seed, 300);
        const stream = entriesOf(list);
        const store = new MemoryStateStore();
        const first = await SchedulerStateMachine.open({
          journalDir: join(dir, 'journal'),
          store,
          logger: quiet,
        });
        const cut = random.nextIntInRange(1, 200);
        // Several applies before and after the persist, in random batches.
        await applyInBatches(first, stream.slice(0, cut), random);
        const persisted = await first.persist();
        expect(persisted).toBe(cut);
        expect(first.durableState.persistedIndex()).toBe(cut);
        await applyInBatches(first, stream.slice(cut), random);
        await first.close();
        store.loseUnsynced();

        // The journal was lost with the store's unsynced writes: a fresh journal dir.
        const second = await SchedulerStateMachine.open({
          journalDir: join(dir, 'journal-after-loss'),
          store,
          logger: quiet,
        });
        expect(second.appliedIndex).toBeGreaterThanOrEqual(persisted);
        expect(second.durableState.persistedIndex()).toBe(second.appliedIndex);
        expect(await dump(second)).toEqual(await foldOf(list.slice(0, second.appliedIndex)));
        // The Raft log re-applies the rest (from its snapshot at `persisted`).
        await second.apply(stream.slice(persisted));
        expect(await dump(second)).toEqual(await foldOf(list));
        await second.close();
      },
    );

    it('answers an apply before its store batch is written; a failed batch fails the next apply and persist', async () => {
      const stream = entriesOf(commands(36, 30));
      const store = new MemoryStateStore();
      const machine = await SchedulerStateMachine.open({
        journalDir: join(dir, 'journal'),
        store,
        logger: quiet,
      });
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const write = store.write.bind(store);
      store.write = async (ops, options) => {
        await held;
        return write(ops, options);
      };
      // The fold's results come back while the batch waits.
      expect((await machine.apply(stream.slice(0, 10))).length).toBe(10);
      // A read of the store waits for it.
      let read = false;
      const executions = (async () => {
        for await (const _ of machine.allExecutions()) break;
        read = true;
      })();
      await new Promise((resolve) => setImmediate(resolve));
      expect(read).toBe(false);
      release();
      await executions;
      store.write = () => Promise.reject(new Error('disk full'));
      await machine.apply(stream.slice(10, 20));
      await expect(machine.apply(stream.slice(20))).rejects.toThrow('disk full');
      await expect(machine.persist()).rejects.toThrow('disk full');
      await machine.close().catch(() => undefined);
    });

    it('replays the journal past what the store kept', async () => {
      const list = commands(35, 200);
      const stream = entriesOf(list);
      const store = new MemoryStateStore();
      const options = { journalDir: join(dir, 'journal'), store, logger: quiet };
      const first = await SchedulerStateMachine.open(options);
      await first.apply(stream.slice(0, 80));
      await first.persist();
      await first.apply(stream.slice(80));
      await first.close(); // the journal is synced at close; the store is not
      store.loseUnsynced();
      const second = await SchedulerStateMachine.open(options);
      expect(second.appliedIndex).toBe(200);
      expect(await dump(second)).toEqual(await foldOf(list));
      await second.close();
    });
  });
});

async function applyInBatches(
  machine: SchedulerStateMachine,
  entries: readonly Entry[],
  random: SeededRandom,
): Promise<void> {
  for (let at = 0; at < entries.length;) {
    const n = random.nextIntInRange(1, 20);
    await machine.apply(entries.slice(at, at + n));
    at += n;
  }
}
