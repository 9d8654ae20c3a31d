import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageType, type Member } from '../core/types';
import { RaftNode } from './raft-node';
import {
  CountingMachine,
  loopbackNodeOptions,
  loopbackVoters,
  waitFor,
} from './testing/integration-support';

/**
 * What a leader sends when a commit resolves proposers who propose again at once (a closed loop):
 * one Append per follower carrying the new entries and the commit, not a bare commit first. Three
 * real nodes in one process (TCP on 127.0.0.1, classic-level in temp directories).
 */

const PROPOSERS = 16;
const ROUNDS = 25;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Appends a follower's core steps: with entries, and without (a bare commit or a probe). */
interface AppendCount {
  withEntries: number;
  bare: number;
}

function countAppends(node: RaftNode): AppendCount {
  const count: AppendCount = { withEntries: 0, bare: 0 };
  const step = node.core.step.bind(node.core);
  node.core.step = (message) => {
    if (message.type === MessageType.Append) {
      if ((message.entries?.length ?? 0) > 0) count.withEntries += 1;
      else count.bare += 1;
    }
    step(message);
  };
  return count;
}

describe('RaftNode: a commit travels with the entries proposed after it', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-batching-'));
  const nodes: RaftNode[] = [];
  let members: Member[] = [];

  beforeAll(async () => {
    members = await loopbackVoters(3);
    for (const member of members) {
      nodes.push(
        await RaftNode.start({
          ...loopbackNodeOptions(member, members, join(root, member.id.replace(':', '_'))),
          // Heartbeats (which carry the commit too, in a message of their own) stay rare.
          tickMs: 200,
          stateMachine: new CountingMachine(),
          logger: silent,
        }),
      );
    }
  });

  afterAll(async () => {
    for (const node of nodes) await node.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('sends the next entries with the commit instead of a bare commit before them', async () => {
    await waitFor('a leader', () => nodes.some((n) => n.status().role === 'leader'), 20_000);
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    await leader.propose(Uint8Array.of(0));
    const counts = nodes.filter((n) => n !== leader).map(countAppends);
    const proposer = async (id: number): Promise<void> => {
      for (let round = 0; round < ROUNDS; round++) await leader.propose(Uint8Array.of(id, round));
    };
    await Promise.all(Array.from({ length: PROPOSERS }, (_, id) => proposer(id)));

    for (const count of counts) {
      // Every proposer waits for its previous proposal: at most one batch per round, so at least
      // ROUNDS Appends with entries; those rounds' commits ride on them. A bare commit is left
      // for the last round (nothing follows it) and a stray one when a batch straddles two turns.
      expect(count.withEntries).toBeGreaterThanOrEqual(ROUNDS);
      expect(count.bare).toBeLessThanOrEqual(Math.ceil(count.withEntries / 5));
    }
  });
});
