import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Member } from '../core/types';
import { DurableKvMachine } from '../testing/durable-kv-machine';
import { RaftNode } from './raft-node';
import {
  CapturingLogger,
  loopbackVoters,
  waitFor,
  loopbackNodeOptions,
} from './testing/integration-support';

/**
 * RaftNode with a durable state machine (its own classic-level database is the snapshot): three
 * real nodes in one process, TCP on 127.0.0.1, temp directories. Every wait is bounded.
 */

const encoder = new TextEncoder();

/** The snapshot files of a node: index, format version, flags and data bytes, newest first. */
function snapshotFiles(
  dataDir: string,
): Array<{ index: number; version: number; stateInMachine: boolean; dataBytes: number }> {
  const dir = join(dataDir, 'snapshots');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.snap'))
    .sort()
    .reverse()
    .map((name) => {
      const bytes = readFileSync(join(dir, name));
      const version = bytes.readUInt32LE(4);
      const fixed = version === 2 ? 32 : 28;
      return {
        index: Number(name.split('-')[1]),
        version,
        stateInMachine: version === 2 && (bytes.readUInt32LE(24) & 1) === 1,
        dataBytes: bytes.length - fixed - bytes.readUInt32LE(8),
      };
    });
}

interface Running {
  node: RaftNode;
  machine: DurableKvMachine;
  logger: CapturingLogger;
}

describe('RaftNode with a durable state machine: three nodes over TCP with classic-level', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-durable-'));
  let members: Member[] = [];
  const running = new Map<string, Running>();
  const dirOf = (id: string): string => join(root, id.replace(':', '_'));

  const openMachine = (id: string): Promise<DurableKvMachine> =>
    DurableKvMachine.open(join(dirOf(id), 'state'));

  const start = async (member: Member, machine?: DurableKvMachine): Promise<Running> => {
    machine ??= await openMachine(member.id);
    const logger = new CapturingLogger();
    const node = await RaftNode.start({
      ...loopbackNodeOptions(member, members, dirOf(member.id)),
      stateMachine: machine,
      snapshotEveryEntries: 50,
      compactionMarginEntries: 5,
      transportLimits: { sendQueueFramesMax: 8 },
      logger,
    });
    const entry = { node, machine, logger };
    running.set(member.id, entry);
    return entry;
  };

  /** A clean stop: the node, then the state machine's database (nothing synced on purpose). */
  const stop = async (id: string, crash = false): Promise<DurableKvMachine> => {
    const entry = running.get(id)!;
    running.delete(id);
    await entry.node.stop();
    if (crash) await entry.machine.simulateCrash();
    else await entry.machine.close();
    return entry.machine;
  };

  const leader = (): Running | undefined =>
    [...running.values()].find((r) => r.node.status().role === 'leader');
  const awaitLeader = async (): Promise<Running> => {
    await waitFor('a leader', () => leader() !== undefined);
    return leader()!;
  };
  const follower = async (): Promise<Running> => {
    const current = await awaitLeader();
    return [...running.values()].find((r) => r !== current)!;
  };
  const proposeMany = async (prefix: string, count: number): Promise<void> => {
    const current = await awaitLeader();
    for (let from = 0; from < count; from += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, count - from) }, (_, i) =>
          current.node.propose(encoder.encode(`${prefix}${from + i}=${from + i}`)),
        ),
      );
    }
  };
  /** Every running node applied the same state, up to the same index. */
  const converged = (): boolean => {
    const all = [...running.values()];
    const commit = leader()?.node.status().commit ?? -1;
    return all.every(
      (r) =>
        r.machine.appliedIndex === commit &&
        r.machine.data.size === all[0].machine.data.size &&
        [...r.machine.data].every(([key, value]) => all[0].machine.data.get(key) === value),
    );
  };

  beforeAll(async () => {
    members = await loopbackVoters(3);
    await Promise.all(members.map((member) => start(member)));
  });

  afterAll(async () => {
    for (const id of [...running.keys()]) await stop(id);
    rmSync(root, { recursive: true, force: true });
  });

  it('takes local snapshots as files without data, never reading the state machine, and compacts the log', async () => {
    await proposeMany('a', 120);
    await waitFor('every node compacting its log', () =>
      [...running.values()].every((r) => r.node.status().firstIndex > 50),
    );
    for (const { node, machine } of running.values()) {
      const files = snapshotFiles(dirOf(node.id));
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((f) => f.stateInMachine && f.dataBytes === 0)).toBe(true);
      expect(machine.snapshotCalls).toBe(0);
      expect(machine.restores).toBe(0);
      // persist() came before each file: the durable state holds at least the newest snapshot.
      expect(machine.durableIndex).toBeGreaterThanOrEqual(files[0].index);
    }
    await waitFor('the nodes converging', converged);
  });

  it("brings a follower stopped far behind up to date with the leader's state machine streamed as InstallSnapshot", async () => {
    const lagging = await follower();
    const laggingId = lagging.node.id;
    const stoppedAt = lagging.machine.appliedIndex;
    await stop(laggingId);
    await proposeMany('b', 200);
    const current = await awaitLeader();
    await waitFor(
      'the leader compacting past the follower',
      () => current.node.status().firstIndex > stoppedAt + 1,
    );
    const back = await start(members.find((m) => m.id === laggingId)!);
    await waitFor(
      'the follower catching up',
      () => back.machine.data.get('b199') === '199',
      20_000,
    );
    await waitFor('the nodes converging', converged);
    expect(back.machine.restores).toBeGreaterThanOrEqual(1);
    expect(current.machine.snapshotCalls).toBeGreaterThanOrEqual(1);
    expect(
      current.logger.lines.some((l) => /sent snapshot .*streamed from the state machine/.test(l)),
    ).toBe(true);
    expect(back.logger.lines.some((l) => l.includes("installed the leader's snapshot"))).toBe(true);
    // What the stream held was not executed again: every executed index is past what it restored.
    const firstExecuted = back.machine.executed[0];
    expect(back.machine.executed).toEqual(
      Array.from({ length: back.machine.executed.length }, (_, i) => firstExecuted + i),
    );
    expect(back.machine.data.get('a0')).toBe('0');
  });

  it('restarts a stopped node without a restore, applying again only what it lacks', async () => {
    const target = await follower();
    const id = target.node.id;
    await waitFor('the follower taking a snapshot of its own', () =>
      snapshotFiles(dirOf(id)).some((f) => f.stateInMachine),
    );
    const heldAtStop = (await stop(id)).appliedIndex;
    // Fewer writes than the compaction margin (5): the leader keeps the entries this node lacks.
    await proposeMany('c', 4);
    const machine = await openMachine(id);
    expect(machine.durableState.persistedIndex()).toBe(heldAtStop);
    const back = await start(
      members.find((m) => m.id === id)!,
      machine,
    );
    await waitFor('the restarted node converging', converged);
    expect(back.machine.restores).toBe(0);
    expect(back.machine.executed[0]).toBe(heldAtStop + 1);
    expect(back.machine.executed).toEqual(
      Array.from({ length: back.machine.executed.length }, (_, i) => heldAtStop + 1 + i),
    );
    expect(back.logger.lines.some((l) => l.includes('not restored'))).toBe(true);
  });

  it('restarts after a crash that lost what persist() had not made durable, without a restore', async () => {
    const target = await follower();
    const id = target.node.id;
    // Writes one at a time until the follower holds some that are not durable yet.
    for (let i = 0; target.machine.appliedIndex - target.machine.durableIndex < 5; i++) {
      await (await awaitLeader()).node.propose(encoder.encode(`d${i}=${i}`));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const machineBefore = await stop(id, true);
    const durable = machineBefore.durableIndex;
    expect(machineBefore.appliedIndex).toBeGreaterThan(durable);
    const newest = snapshotFiles(dirOf(id))[0];
    expect(durable).toBeGreaterThanOrEqual(newest.index);

    const machine = await openMachine(id);
    expect(machine.durableState.persistedIndex()).toBe(durable);
    const back = await start(
      members.find((m) => m.id === id)!,
      machine,
    );
    await proposeMany('e', 5);
    await waitFor('the crashed node converging', converged);
    expect(back.machine.restores).toBe(0);
    expect(back.machine.executed[0]).toBe(durable + 1);
  });

  it("refuses to start when the state machine's data is behind a snapshot file without data", async () => {
    const target = await follower();
    const id = target.node.id;
    // Its newest file may be the leader's snapshot it installed (with data): write until it took
    // one of its own.
    for (let round = 0; !snapshotFiles(dirOf(id))[0].stateInMachine; round++) {
      if (round === 20) throw new Error('no snapshot of its own after 200 writes');
      await proposeMany(`g${round}-`, 10);
      await waitFor('the follower applying them', converged);
    }
    await stop(id);
    const newest = snapshotFiles(dirOf(id))[0];
    expect(newest.stateInMachine).toBe(true);
    rmSync(join(dirOf(id), 'state'), { recursive: true, force: true });
    const machine = await openMachine(id);
    const error = await start(
      members.find((m) => m.id === id)!,
      machine,
    ).catch((e: unknown) => e as Error);
    await machine.close();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`snapshot ${newest.index}`);
    expect((error as Error).message).toContain(`holds only index 0 < ${newest.index}`);
    expect((error as Error).message).toContain('lost or rolled back');
    // Start-up released what it had opened: the node starts once its state is back (here: wiped
    // whole, it rejoins and receives a snapshot streamed from the leader's state machine).
    rmSync(dirOf(id), { recursive: true, force: true });
    const back = await start(members.find((m) => m.id === id)!);
    await proposeMany('f', 5);
    await waitFor('the wiped node converging', converged, 20_000);
    expect(back.machine.restores).toBe(1);
  });
});
