import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStateStore } from '../store/testing/memory-state-store';
import {
  SchedulerStateMachine,
  type SchedulerStateMachineOptions,
} from './scheduler-state-machine';
import { entriesOf, randomCommands } from './testing/random-commands';
import { dumpState } from './testing/state-harness';

const META = { term: 1, membership: { members: [] } };

let dir: string;
let logged: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcron-ckpt-'));
  logged = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const logger = {
  log: (m: string) => logged.push(m),
  warn: (m: string) => logged.push(m),
  error: (m: string) => logged.push(m),
};

function open(options: Partial<SchedulerStateMachineOptions> = {}): Promise<SchedulerStateMachine> {
  return SchedulerStateMachine.open({
    journalDir: join(dir, 'journal'),
    stateDir: join(dir, 'state'),
    checkpointDir: join(dir, 'checkpoint'),
    logger,
    ...options,
  });
}

function checkpointFiles(): string[] {
  return readdirSync(join(dir, 'checkpoint')).filter((name) => name.endsWith('.ckpt'));
}

describe('state checkpoint', () => {
  it.each([1, 2, 3])(
    'restarts from the checkpoint plus the journal to the same state as from the store (seed %i)',
    async (seed) => {
      const entries = entriesOf(randomCommands(seed, 400, { updates: true }));
      const machine = await open();
      await machine.apply(entries.slice(0, 250));
      expect(await machine.persist()).toBe(250);
      expect(checkpointFiles()).toEqual(['rows-0000000000000250.ckpt']);
      await machine.apply(entries.slice(250));
      const expected = await dumpState(machine.state, machine);
      await machine.close();

      logged = [];
      const fromCheckpoint = await open();
      expect(logged.some((m) => m.startsWith('state checkpoint: loaded'))).toBe(true);
      expect(fromCheckpoint.appliedIndex).toBe(400); // the checkpoint at 250, then the journal
      expect(await dumpState(fromCheckpoint.state, fromCheckpoint)).toEqual(expected);
      await fromCheckpoint.close();

      rmSync(join(dir, 'checkpoint'), { recursive: true });
      logged = [];
      const fromStore = await open();
      expect(logged.some((m) => m.startsWith('state store: loaded'))).toBe(true);
      expect(await dumpState(fromStore.state, fromStore)).toEqual(expected);
      await fromStore.close();
    },
  );

  it('folds later commands the same after a restart from a checkpoint (idempotency keys and retention included)', async () => {
    const all = entriesOf(randomCommands(7, 600, { updates: true, dayJumps: 0.05 }));
    const reference = await open({
      journalDir: join(dir, 'ref', 'journal'),
      stateDir: join(dir, 'ref', 'state'),
      checkpointDir: join(dir, 'ref', 'checkpoint'),
    });
    await reference.apply(all);
    const expected = await dumpState(reference.state, reference);
    await reference.close();

    const machine = await open();
    await machine.apply(all.slice(0, 300));
    await machine.persist();
    await machine.close();
    const restarted = await open();
    // The journal after the checkpoint is empty: what Raft would re-apply comes next.
    expect(restarted.appliedIndex).toBe(300);
    await restarted.apply(all.slice(300));
    expect(await dumpState(restarted.state, restarted)).toEqual(expected);
    await restarted.close();
  });

  it("replays the journal up to the store's own index into memory only, writing nothing to the store", async () => {
    const entries = entriesOf(randomCommands(9, 300, { updates: true }));
    const store = new MemoryStateStore();
    const machine = await open({ store });
    await machine.apply(entries.slice(0, 100));
    await machine.persist();
    await machine.apply(entries.slice(100));
    const expected = await dumpState(machine.state, machine);
    await machine.close();
    const writesBefore = store.writes;
    const reopened = await open({ store });
    expect(reopened.appliedIndex).toBe(300);
    expect(store.writes).toBe(writesBefore);
    expect(await dumpState(reopened.state, reopened)).toEqual(expected);
    await reopened.close();
  });

  it('falls back to the store, saying so, when the checkpoint is corrupt', async () => {
    const entries = entriesOf(randomCommands(4, 200));
    const machine = await open();
    await machine.apply(entries);
    await machine.persist();
    const expected = await dumpState(machine.state, machine);
    await machine.close();
    const [name] = checkpointFiles();
    const path = join(dir, 'checkpoint', name);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(path, bytes);

    logged = [];
    const reopened = await open();
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /state checkpoint .*rows-0+200\.ckpt is corrupt: CRC mismatch; loading the rows from the state store instead/,
        ),
      ]),
    );
    expect(await dumpState(reopened.state, reopened)).toEqual(expected);
    await reopened.close();
  });

  it('keeps only the newest checkpoint, and a snapshot install removes them all', async () => {
    const entries = entriesOf(randomCommands(5, 300));
    const machine = await open();
    await machine.apply(entries.slice(0, 100));
    await machine.persist();
    await machine.apply(entries.slice(100, 200));
    await machine.persist();
    expect(checkpointFiles()).toEqual(['rows-0000000000000200.ckpt']);

    const leader = await open({
      journalDir: join(dir, 'leader', 'journal'),
      stateDir: join(dir, 'leader', 'state'),
      checkpointDir: join(dir, 'leader', 'checkpoint'),
    });
    await leader.apply(entries);
    await machine.restore({ index: 300, ...META }, leader.snapshot());
    expect(checkpointFiles()).toEqual([]);
    expect(await dumpState(machine.state, machine)).toEqual(await dumpState(leader.state, leader));
    await machine.close();
    await leader.close();
  });
});
