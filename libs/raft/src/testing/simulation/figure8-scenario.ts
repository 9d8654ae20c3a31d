import type { InjectedBugs, NodeId } from '../../core/types';
import { encodeKvWrite } from './kv-state-machine';
import { Simulation } from './simulation';

/**
 * Figure 8 of the Raft paper, played on the simulation (five nodes, one entry per Append so that a
 * new leader's old entries reach a majority before its own no-op does):
 * (a) S1 leads, and replicates an entry at index 2 to S2 only; S1 crashes.
 * (b) S5 is elected by S3, S4, S5 and appends its own entry at index 2, seen by no one; S5 crashes.
 * (c) S1 comes back, is elected, and re-replicates its old index-2 entry to S3 — it is now on a
 *     majority. S1 crashes the moment it considers index 2 committed.
 * (d) S5 comes back and asks S3 and S4 for votes. If S1 committed index 2 by counting replicas of
 *     a previous term's entry (the bug), S5 can win and overwrite it: a committed entry is lost,
 *     which the safety checker reports. A correct S1 commits index 2 only with its own term's
 *     no-op on a majority, and S5 can no longer win.
 * Returns whether S5 managed to lead after (c); throws a SimulationFailure on a safety violation.
 */
export function runFigure8Scenario(
  seed: number,
  bugs?: InjectedBugs,
): { overwriterElected: boolean } {
  const sim = new Simulation({
    nodes: 5,
    seed,
    appendBytesMax: 1,
    inflightCountMax: 1,
    preVote: false,
    checkQuorum: false,
    bugs,
  });
  const [s1, s2, s3, s4, s5] = sim.ids;
  const within = (ms: number, done: () => boolean, what: string): void => {
    if (!sim.runUntil(done, ms))
      sim.fail(`figure 8 scenario: ${what} did not happen within ${ms} ms`);
  };
  /** Makes `id` the leader: by a transfer when someone leads, else by a campaign (retried). */
  const elect = (id: NodeId): void => {
    const done = (): boolean => sim.isAlive(id) && sim.status(id).role === 'leader';
    for (let attempt = 0; attempt < 10 && !done(); attempt++) {
      const leader = sim.leader();
      if (leader && leader.id !== id) sim.transferLeadership(id);
      else sim.node(id).core.campaign();
      sim.runUntil(done, 500);
    }
    if (!done()) sim.fail(`figure 8 scenario: ${id} could not be elected`);
  };

  // (a)
  within(3_000, () => sim.leader() !== undefined, 'a first leader');
  elect(s1);
  within(
    1_000,
    () =>
      sim.ids.every(
        (id) => sim.status(id).commit >= sim.status(s1).commit && sim.status(s1).commit > 0,
      ),
    'the first no-op committing',
  );
  sim.partition([s1, s2], [s3, s4, s5]);
  const old = sim.propose(s1, encodeKvWrite({ op: 'put', key: 'x', value: 'from-s1' }));
  if (old.outcome.status === 'rejected')
    sim.fail(`figure 8 scenario: S1 refused the write (${old.outcome.reason})`);
  const oldIndex = sim.status(s1).lastIndex;
  within(1_000, () => sim.status(s2).lastIndex >= oldIndex, 'S2 receiving the old entry');
  sim.crash(s1);

  // (b)
  sim.partition([s2], [s3, s4, s5]);
  elect(s5);
  sim.isolate(s5);
  sim.propose(s5, encodeKvWrite({ op: 'put', key: 'x', value: 'from-s5' }));
  sim.runFor(20);
  sim.crash(s5);

  // (c)
  sim.heal();
  sim.isolate(s4);
  sim.restart(s1);
  elect(s1);
  within(
    3_000,
    () =>
      !sim.isAlive(s1) ||
      sim.status(s1).commit >= oldIndex ||
      sim.status(s3).lastIndex >= oldIndex + 1,
    'S1 re-replicating',
  );
  sim.crash(s1);

  // (d)
  sim.heal();
  sim.isolate(s2);
  sim.restart(s5);
  sim.node(s5).core.campaign();
  const overwriterElected = sim.runUntil(
    () => sim.isAlive(s5) && sim.status(s5).role === 'leader',
    1_000,
  );
  if (overwriterElected) {
    // Let S5 replicate over the old entry: the checker sees index 2 committed twice, differently.
    sim.propose(s5, encodeKvWrite({ op: 'put', key: 'x', value: 'after' }));
    sim.runUntil(() => sim.status(s5).commit > oldIndex, 2_000);
    for (const id of [s3, s4]) if (sim.isAlive(id)) sim.status(id);
  }
  sim.heal();
  sim.restart(s1);
  sim.runFor(2_000);
  sim.checker.checkLogMatching(sim.aliveIds().map((id) => sim.node(id)));
  return { overwriterElected };
}
