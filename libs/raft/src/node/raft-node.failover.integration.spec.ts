import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Member } from '../core/types';
import { RaftNode } from './raft-node';
import {
  CapturingLogger,
  CountingMachine,
  loopbackVoters,
  loopbackNodeOptions,
  waitFor,
} from './testing/integration-support';

/**
 * Fast failover with three real nodes in one process (TCP on 127.0.0.1, classic-level): when the
 * leader's process goes away, its sockets close and its port refuses connections; the survivors
 * take that as evidence and elect a new leader in a fraction of the election timeout. Every wait
 * is bounded.
 */

const TICK_MS = 20;
/**
 * A long election timeout (4–8 s), so that the fast path is told apart from the timeout with room
 * to spare: on a loaded 2-core machine (the full suite beside benchmarks) the fast path once took
 * 1.5 s, over the 0.5 s bound that a 1–2 s timeout allowed.
 */
const ELECTION_TICKS = 200;
const ELECTION_TIMEOUT_MS = TICK_MS * ELECTION_TICKS;
const EVIDENCE_LINE =
  /leader .* is unreachable \(its connection closed and a reconnect was refused\)/;

interface Running {
  node: RaftNode;
  logger: CapturingLogger;
}

describe('RaftNode: fast failover over TCP', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-failover-'));
  let members: Member[] = [];
  const running = new Map<string, Running>();

  const start = async (member: Member): Promise<void> => {
    const logger = new CapturingLogger();
    const node = await RaftNode.start({
      ...loopbackNodeOptions(member, members, join(root, member.id.replace(':', '_'))),
      tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS,
      stateMachine: new CountingMachine(),
      logger,
    });
    running.set(member.id, { node, logger });
  };
  const leader = (): Running | undefined =>
    [...running.values()].find((r) => r.node.clusterInfo().role === 'leader');

  /** Proposes on `via` until a write commits (a follower forwards it); returns when it did. */
  const commitVia = async (via: Running, data: string): Promise<number> => {
    const deadline = performance.now() + 4 * ELECTION_TIMEOUT_MS;
    for (;;) {
      try {
        await via.node.propose(new TextEncoder().encode(data), 100);
        return performance.now();
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  };

  beforeAll(async () => {
    members = await loopbackVoters(3);
    await Promise.all(members.map((member) => start(member)));
  });

  afterAll(async () => {
    for (const { node } of running.values()) await node.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('after the leader goes away a new leader commits well within the election timeout, one term later', async () => {
    await waitFor('a leader', () => leader() !== undefined, 4 * ELECTION_TIMEOUT_MS);
    const old = leader()!;
    const oldTerm = old.node.clusterInfo().term;
    const [survivor] = [...running.values()].filter((r) => r !== old);
    await commitVia(survivor, 'before');
    await new Promise((resolve) => setTimeout(resolve, 5 * TICK_MS)); // fresh leases everywhere

    const stoppedAt = performance.now();
    await old.node.stop(); // closes its sockets and its listener, as the kernel does for a dead process
    running.delete(old.node.id);
    const committedAt = await commitVia(survivor, 'after');

    expect(committedAt - stoppedAt).toBeLessThan(ELECTION_TIMEOUT_MS / 2);
    const now = leader()!;
    expect(now.node.clusterInfo().term).toBe(oldTerm + 1);
    const told = [...running.values()].filter((r) =>
      r.logger.lines.some((line) => EVIDENCE_LINE.test(line)),
    );
    expect(told.length).toBeGreaterThanOrEqual(1);
  });
});
