import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Member } from '../core/types';
import { RaftNode } from './raft-node';
import {
  CountingMachine,
  loopbackNodeOptions,
  loopbackVoters,
  waitFor,
} from './testing/integration-support';

/**
 * quorumContactAgeMs on three real nodes in one process (TCP on 127.0.0.1, classic-level): small
 * while the followers answer; once both are gone, it grows with the time since the last answer,
 * while the leader is still leader (check-quorum waits a whole election timeout).
 */

const TICK_MS = 20;
const ELECTION_TICKS = 50; // 1–2 s: the leader stays leader past the ages looked at

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('RaftNode.quorumContactAgeMs', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-quorum-'));
  const nodes: RaftNode[] = [];
  let members: Member[] = [];

  beforeAll(async () => {
    members = await loopbackVoters(3);
    for (const member of members)
      nodes.push(
        await RaftNode.start({
          ...loopbackNodeOptions(member, members, join(root, member.id.replace(':', '_'))),
          tickMs: TICK_MS,
          electionTicks: ELECTION_TICKS,
          stateMachine: new CountingMachine(),
          logger: silent,
        }),
      );
  });

  afterAll(async () => {
    for (const node of nodes) await node.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('stays within a few heartbeats while a majority answers, and grows once none does', async () => {
    await waitFor('a leader', () => nodes.some((n) => n.status().role === 'leader'), 20_000);
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    await leader.propose(Uint8Array.of(1));
    expect(leader.electionTimeoutMs).toBe(TICK_MS * ELECTION_TICKS);
    // Heartbeats go every tick, and each is answered.
    await waitFor('fresh contact', () => leader.quorumContactAgeMs() < 10 * TICK_MS, 5_000);

    for (const follower of nodes.filter((n) => n !== leader)) await follower.stop();
    await waitFor('stale contact', () => leader.quorumContactAgeMs() > 400, 5_000);
    expect(leader.clusterInfo().role).toBe('leader');
    expect(leader.quorumContactAgeMs()).toBeLessThan(leader.electionTimeoutMs * 2);
  });
});
