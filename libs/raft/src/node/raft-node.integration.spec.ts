import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type Entry, type Member, type SnapshotMeta } from '../core/types';
import { RaftNode, type RaftNodeLogger } from './raft-node';
import type { StateMachine } from './state-machine';

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

class CapturingLogger implements RaftNodeLogger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const server = createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    const ports = await freePorts(3);
    members = ports.map((port) => ({
      id: `127.0.0.1:${port}`,
      role: 'voter',
      peerAddress: `127.0.0.1:${port}`,
    }));
    for (const member of members) await start(member);
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
