import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Member } from '../core/types';
import { ClassicLevelRaftStorage } from '../storage/classic-level-raft-storage';
import type {
  RaftLogStorage,
  RaftPersistentState,
  RaftStorageUpdate,
} from '../storage/raft-storage';
import { DurableKvMachine } from '../testing/durable-kv-machine';
import { RaftNode } from './raft-node';
import {
  CapturingLogger,
  freePorts,
  loopbackNodeOptions,
  waitFor,
} from './testing/integration-support';

const encoder = new TextEncoder();

/**
 * The real log store, except that a save without sync never reaches it: what a power loss may do
 * to a write that was not synced (the worst case). Records what the driver asked for.
 */
class PowerLossStorage implements RaftLogStorage {
  readonly saves: Array<{ sync: boolean; entries: number; commit?: number }> = [];

  constructor(private readonly inner: ClassicLevelRaftStorage) {}

  load(): Promise<RaftPersistentState | undefined> {
    return this.inner.load();
  }

  bootstrap(...args: Parameters<RaftLogStorage['bootstrap']>): Promise<void> {
    return this.inner.bootstrap(...args);
  }

  async save(update: RaftStorageUpdate): Promise<void> {
    const sync = update.sync !== false;
    this.saves.push({ sync, entries: update.entries.length, commit: update.hardState?.commit });
    if (sync) await this.inner.save(update);
  }

  compact(index: number): Promise<void> {
    return this.inner.compact(index);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('RaftNode: a commit index written without a sync (Ready.mustSync false)', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-unsynced-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('goes to the store unsynced; lost, the node restarts from an older commit with a durable state machine ahead of it, skips what it holds and goes on', async () => {
    const [port] = await freePorts(1);
    const member: Member = {
      id: `127.0.0.1:${port}`,
      role: 'voter',
      peerAddress: `127.0.0.1:${port}`,
    };
    const start = async (): Promise<{
      node: RaftNode;
      machine: DurableKvMachine;
      storage: PowerLossStorage;
    }> => {
      const machine = await DurableKvMachine.open(join(root, 'state'));
      const storage = new PowerLossStorage(await ClassicLevelRaftStorage.open(join(root, 'log')));
      const node = await RaftNode.start({
        ...loopbackNodeOptions(member, [member], root),
        stateMachine: machine,
        storage,
        logger: new CapturingLogger(),
      });
      return { node, machine, storage };
    };

    const first = await start();
    await waitFor('the sole voter to lead', () => first.node.clusterInfo().role === 'leader');
    await first.node.propose(encoder.encode('a=1'));
    await first.node.propose(encoder.encode('b=2'));
    // The sole voter's commit advances once its own write is done: a Ready of its own, unsynced.
    await waitFor('a save of the commit alone', () =>
      first.storage.saves.some((s) => !s.sync && s.entries === 0),
    );
    expect(first.storage.saves.filter((s) => !s.sync).every((s) => s.entries === 0)).toBe(true);
    const applied = first.machine.appliedIndex;
    expect(await first.machine.durableState.persist()).toBe(applied);
    await first.node.stop();
    await first.machine.close();
    const persisted = await (async () => {
      const store = await ClassicLevelRaftStorage.open(join(root, 'log'));
      try {
        return (await store.load())!;
      } finally {
        await store.close();
      }
    })();
    // The power loss took the commit: the log's is behind what the state machine holds.
    expect(persisted.hardState.commit).toBeLessThan(applied);
    expect(persisted.entries[persisted.entries.length - 1].index).toBeGreaterThanOrEqual(applied);

    const second = await start();
    try {
      expect(second.machine.appliedIndex).toBe(applied);
      await waitFor('the sole voter to lead', () => second.node.clusterInfo().role === 'leader');
      await second.node.propose(encoder.encode('c=3'));
      await second.node.readBarrier();
      expect([...second.machine.data]).toEqual([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]);
      // Entries the state machine held were skipped, not executed again.
      expect(second.machine.executed.every((index) => index > applied)).toBe(true);
      expect(second.node.status().commit).toBeGreaterThan(applied);
    } finally {
      await second.node.stop();
      await second.machine.close();
    }
  });
});
