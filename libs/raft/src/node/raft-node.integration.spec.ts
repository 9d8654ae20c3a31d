import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotLeaderError } from '../core/errors';
import { EntryType, type Entry, type Member, type SnapshotMeta } from '../core/types';
import { RaftNode, type RoleChange } from './raft-node';
import type { StateMachine } from './state-machine';
import {
  CapturingLogger,
  freePorts,
  loopbackVoters,
  waitFor,
  loopbackNodeOptions,
} from './testing/integration-support';

/**
 * Three real nodes in one process: TCP on 127.0.0.1, classic-level logs and snapshot files in temp
 * directories. Every wait is bounded.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key–value state machine: "key=value" sets, and the result is the number of keys. */
class KvMachine implements StateMachine {
  readonly data = new Map<string, string>();
  appliedIndex = 0;

  apply(entries: readonly Entry[]): Uint8Array[] {
    return entries.map((entry) => {
      this.appliedIndex = entry.index;
      if (entry.type !== EntryType.Normal || entry.data.length === 0) return new Uint8Array(0);
      const [key, value] = decoder.decode(entry.data).split('=');
      this.data.set(key, value);
      return encoder.encode(String(this.data.size));
    });
  }

  snapshot(): Uint8Array {
    return encoder.encode(
      JSON.stringify({ appliedIndex: this.appliedIndex, data: [...this.data] }),
    );
  }

  async restore(_meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const parsed = JSON.parse(decoder.decode(Buffer.concat(parts))) as {
      appliedIndex: number;
      data: Array<[string, string]>;
    };
    this.appliedIndex = parsed.appliedIndex;
    this.data.clear();
    for (const [key, value] of parsed.data) this.data.set(key, value);
  }
}

interface Running {
  node: RaftNode;
  machine: KvMachine;
  logger: CapturingLogger;
}

describe('RaftNode: three nodes over TCP with classic-level', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-node-'));
  let members: Member[] = [];
  const running = new Map<string, Running>();

  const start = async (member: Member, secret = 'right secret'): Promise<Running> => {
    const machine = new KvMachine();
    const logger = new CapturingLogger();
    const port = Number(member.peerAddress.split(':')[1]);
    const node = await RaftNode.start({
      id: member.id,
      dataDir: join(root, member.id.replace(':', '_')),
      listenHost: '127.0.0.1',
      listenPort: port,
      advertisedPeerAddress: member.peerAddress,
      advertisedHttpAddress: `127.0.0.1:${port + 1}`,
      initialMembers: members,
      clusterSecret: secret,
      stateMachine: machine,
      tickMs: 20,
      electionTicks: 10,
      snapshotEveryEntries: 50,
      compactionMarginEntries: 5,
      // A short send queue: messages for a node that is down are dropped, not replayed on its return.
      transportLimits: { sendQueueFramesMax: 8 },
      logger,
    });
    const entry = { node, machine, logger };
    running.set(member.id, entry);
    return entry;
  };

  const leader = (): Running | undefined =>
    [...running.values()].find((r) => r.node.status().role === 'leader');

  beforeAll(async () => {
    members = await loopbackVoters(3);
    await Promise.all(members.map((member) => start(member)));
  });

  afterAll(async () => {
    for (const { node } of running.values()) await node.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('elects a leader and commits a write proposed on a follower on every node', async () => {
    await waitFor('a leader', () => leader() !== undefined);
    const follower = [...running.values()].find((r) => r.node.status().role !== 'leader')!;
    const result = await follower.node.propose(encoder.encode('a=1'));
    expect(decoder.decode(result)).toBe('1');
    await waitFor('every node applying it', () =>
      [...running.values()].every((r) => r.machine.data.get('a') === '1'),
    );
    await follower.node.readBarrier();
    expect(follower.machine.data.get('a')).toBe('1');
  });

  it('survives the loss of the leader: a new leader commits, the old one catches up on restart', async () => {
    const old = leader()!;
    const oldId = old.node.id;
    await old.node.stop();
    running.delete(oldId);
    await waitFor('a new leader', () => leader() !== undefined && leader()!.node.id !== oldId);
    const result = await leader()!.node.propose(encoder.encode('b=2'));
    expect(decoder.decode(result)).toBe('2');

    const restarted = await start(members.find((m) => m.id === oldId)!);
    expect(restarted.machine.data.get('a')).toBe(undefined); // nothing applied before it catches up…
    await waitFor('the old leader catching up', () => restarted.machine.data.get('b') === '2');
    expect(restarted.machine.data.get('a')).toBe('1');
  });

  it('brings a follower that fell far behind up to date with a snapshot', async () => {
    const lagging = [...running.values()].find((r) => r.node.status().role !== 'leader')!;
    const laggingId = lagging.node.id;
    await lagging.node.stop();
    running.delete(laggingId);
    const current = leader()!;
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          current.node.propose(encoder.encode(`k${round * 10 + i}=${round * 10 + i}`)),
        ),
      );
    }
    await waitFor(
      'the leader compacting past the follower',
      () => current.node.status().firstIndex > 10,
    );

    const back = await start(members.find((m) => m.id === laggingId)!);
    await waitFor(
      'the follower receiving the snapshot and catching up',
      () => back.machine.data.get('k199') === '199',
      20_000,
    );
    expect(
      back.logger.lines.some(
        (line) => line.includes('installed the leader') && line.includes('snapshot'),
      ),
    ).toBe(true);
    expect(
      current.logger.lines.some(
        (line) => line.includes(`sent snapshot`) && line.includes(laggingId),
      ),
    ).toBe(true);
  });

  it('refuses a peer with the wrong secret', async () => {
    const [port] = await freePorts(1);
    const intruder: Member = {
      id: `127.0.0.1:${port}`,
      role: 'voter',
      peerAddress: `127.0.0.1:${port}`,
    };
    const before = members;
    members = [...before, intruder];
    const outsider = await start(intruder, 'wrong secret');
    members = before;
    await waitFor('a refusal in the logs', () =>
      [...running.values()].some((r) =>
        r.logger.lines.some(
          (line) => /auth|secret|refus/i.test(line) && line.includes(String(port)),
        ),
      ),
    );
    expect(outsider.node.status().leaderId).not.toBe(leader()!.node.id);
    await outsider.node.stop();
    running.delete(intruder.id);
  });
});

describe('RaftNode: disk loss, run-time membership, leader addresses and role hooks', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-rejoin-'));
  let members: Member[] = [];
  let fourth: Member;
  const running = new Map<string, Running>();
  const dirOf = (id: string): string => join(root, id.replace(':', '_'));

  const start = async (member: Member, joinExisting = false): Promise<Running> => {
    const machine = new KvMachine();
    const logger = new CapturingLogger();
    const node = await RaftNode.start({
      ...loopbackNodeOptions(member, members, dirOf(member.id)),
      stateMachine: machine,
      snapshotEveryEntries: 50,
      compactionMarginEntries: 5,
      joinExisting,
      logger,
    });
    const entry = { node, machine, logger };
    running.set(member.id, entry);
    return entry;
  };
  const stop = async (id: string): Promise<void> => {
    await running.get(id)?.node.stop();
    running.delete(id);
  };
  const leader = (): Running | undefined =>
    [...running.values()].find((r) => r.node.clusterInfo().role === 'leader');
  const awaitLeader = async (): Promise<Running> => {
    await waitFor('a leader', () => leader() !== undefined);
    return leader()!;
  };
  const proposeSomewhere = async (data: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await (await awaitLeader()).node.propose(encoder.encode(data));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  beforeAll(async () => {
    const ports = await freePorts(4);
    members = ports.slice(0, 3).map((port) => ({
      id: `127.0.0.1:${port}`,
      role: 'voter',
      peerAddress: `127.0.0.1:${port}`,
    }));
    fourth = {
      id: `127.0.0.1:${ports[3]}`,
      role: 'voter',
      peerAddress: `127.0.0.1:${ports[3]}`,
    };
    await Promise.all(members.map((member) => start(member)));
  });

  afterAll(async () => {
    for (const id of [...running.keys()]) await stop(id);
    rmSync(root, { recursive: true, force: true });
  });

  it('reports role changes and a NotLeaderError carrying the leader addresses', async () => {
    const changes: RoleChange[] = [];
    const first = [...running.values()][0];
    first.node.onRoleChange((change) => changes.push(change));
    const current = await awaitLeader();
    await proposeSomewhere('x=1');
    const follower = [...running.values()].find((r) => r !== current)!;
    await waitFor(
      'the follower knowing the leader',
      () => follower.node.clusterInfo().leaderId === current.node.id,
    );
    const info = follower.node.clusterInfo();
    expect(info.role).toBe('follower');
    expect(info.term).toBeGreaterThan(0);
    expect(info.members.map((m) => m.id).sort()).toEqual(members.map((m) => m.id).sort());
    await waitFor('http addresses from the handshakes', () =>
      follower.node.clusterInfo().members.every((m) => m.httpAddress !== undefined),
    );
    const leaderPort = Number(current.node.id.split(':')[1]);
    let thrown: unknown;
    try {
      follower.node.transferLeadership(follower.node.id);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NotLeaderError);
    expect(thrown).toMatchObject({
      leaderId: current.node.id,
      leaderPeerAddress: current.node.id,
      leaderHttpAddress: `127.0.0.1:${leaderPort + 1}`,
    });
    expect(changes.some((c) => c.leaderId === current.node.id)).toBe(true);
    if (first === current) expect(changes.some((c) => c.isLeader)).toBe(true);
  });

  it('a follower whose data directory is wiped rejoins as a learner, catches up and is promoted', async () => {
    const current = await awaitLeader();
    const victim = [...running.values()].find((r) => r !== current)!;
    const victimId = victim.node.id;
    await stop(victimId);
    rmSync(dirOf(victimId), { recursive: true, force: true });
    for (let i = 0; i < 60; i++) await proposeSomewhere(`w${i}=${i}`);
    const back = await start(members.find((m) => m.id === victimId)!);
    expect(back.logger.lines.some((l) => l.includes('joining cluster'))).toBe(true);
    expect(back.node.clusterInfo().joining).toBe(true);
    expect(back.node.clusterInfo().role).toBe('learner');
    await waitFor(
      'the wiped node re-admitted, caught up and promoted',
      () =>
        !back.node.clusterInfo().joining &&
        back.machine.data.get('w59') === '59' &&
        leader()
          ?.node.clusterInfo()
          .members.find((m) => m.id === victimId)?.learner === false,
      15_000,
    );
    await waitFor(
      'the node seeing itself a voter',
      () => back.node.clusterInfo().role !== 'learner',
    );
    await proposeSomewhere('after-rejoin=1');
    await waitFor('every node applying the write after the rejoin', () =>
      [...running.values()].every((r) => r.machine.data.get('after-rejoin') === '1'),
    );
  });

  it('adds a fourth node at run time (addMember on a follower, forwarded) and promotes it once caught up', async () => {
    const current = await awaitLeader();
    const follower = [...running.values()].find((r) => r !== current)!;
    await follower.node.addMember({
      id: fourth.id,
      peerAddress: fourth.peerAddress,
      learner: false,
    });
    expect(current.node.clusterInfo().members.find((m) => m.id === fourth.id)?.learner).toBe(true);
    const added = await start(fourth, true);
    await waitFor(
      'the fourth node promoted to voter',
      () =>
        leader()
          ?.node.clusterInfo()
          .members.find((m) => m.id === fourth.id)?.learner === false,
      15_000,
    );
    await proposeSomewhere('four=4');
    await waitFor(
      'the fourth node applying a new write',
      () => added.machine.data.get('four') === '4',
    );
  });

  it('removes a follower, then the leader itself; the rest keeps committing', async () => {
    const current = await awaitLeader();
    const follower = [...running.values()].find((r) => r !== current)!;
    await current.node.removeMember(follower.node.id);
    expect(current.node.clusterInfo().members.some((m) => m.id === follower.node.id)).toBe(false);
    await stop(follower.node.id);

    const oldLeader = await awaitLeader();
    const lostLeadership: RoleChange[] = [];
    oldLeader.node.onRoleChange((change) => lostLeadership.push(change));
    await oldLeader.node.removeMember(oldLeader.node.id);
    await waitFor('a new leader among the remaining nodes', () => {
      const l = leader();
      return l !== undefined && l !== oldLeader;
    });
    expect(lostLeadership.some((c) => !c.isLeader)).toBe(true);
    await stop(oldLeader.node.id);
    await proposeSomewhere('two-left=2');
    expect(leader()!.node.clusterInfo().members).toHaveLength(2);
  });
});

describe('RaftNode: a single-node cluster', () => {
  it('leads at once after a start and a restart, without waiting an election timeout', async () => {
    const root = mkdtempSync(join(tmpdir(), 'xcron-raft-single-'));
    const [port] = await freePorts(1);
    const member: Member = {
      id: `127.0.0.1:${port}`,
      role: 'voter',
      peerAddress: `127.0.0.1:${port}`,
    };
    // An election timeout of 10-20 s: a node that waited for it would fail the 2 s bound below.
    const start = (): Promise<RaftNode> =>
      RaftNode.start({
        id: member.id,
        dataDir: root,
        listenHost: '127.0.0.1',
        listenPort: port,
        advertisedPeerAddress: member.peerAddress,
        advertisedHttpAddress: `127.0.0.1:${port + 1}`,
        initialMembers: [member],
        stateMachine: new KvMachine(),
        tickMs: 1_000,
        electionTicks: 10,
        logger: new CapturingLogger(),
      });
    try {
      for (let run = 0; run < 2; run++) {
        const node = await start();
        try {
          await waitFor(
            'the sole voter to lead',
            () => node.clusterInfo().role === 'leader',
            2_000,
          );
          await node.propose(encoder.encode(`run ${run}`), 2_000);
        } finally {
          await node.stop();
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
