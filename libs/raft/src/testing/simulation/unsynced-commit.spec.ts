/**
 * A hard state that changed only in its commit index is written without a sync (Ready.mustSync,
 * etcd's MustSync): a power loss may then bring back an older commit. These scripts make that
 * happen on purpose — to one follower, and to the whole cluster at once — and check that nothing
 * committed is lost: the nodes re-learn the commit from the leader (a new leader commits it again
 * with its no-op), apply everything, and agree. The Simulation checks the safety properties after
 * every step; its disk keeps only synced writes across a crash (SimStorage.crash).
 */
import type { NodeId } from '../../core/types';
import {
  acknowledge,
  awaitLeader,
  check,
  commitOne,
  expectAppliedEverywhere,
  followersOf,
  hasApplied,
  healAndConverge,
  newSim,
  type Write,
} from './scenario-helpers';
import type { Simulation } from './simulation';

function committedIndex(write: Write): number {
  const outcome = write.handle.outcome;
  if (outcome.status !== 'committed') throw new Error(`${write.key} is ${outcome.status}`);
  return outcome.index;
}

/** Runs until `id` knows `index` committed from a write without a sync (its disk has less). */
function awaitUnsyncedCommit(sim: Simulation, id: NodeId, index: number): void {
  const storage = sim.node(id).storage;
  const reached = sim.runUntil(() => sim.status(id).commit >= index, 1_000);
  check(sim, reached, `${id} did not learn commit ${index}`);
  check(
    sim,
    storage.hardState.commit < index,
    `${id}'s commit ${index} reached its disk with a sync (${storage.hardState.commit})`,
  );
}

describe.each([false, true])(
  'a commit written without a sync, lost by a power loss (durable state machine: %s)',
  (durableStateMachine) => {
    it.each([1, 2, 3])(
      'a follower restarts with an older commit and re-learns it from the leader (seed %i)',
      (seed) => {
        const sim = newSim(seed, { durableStateMachine });
        const leader = awaitLeader(sim);
        const first = commitOne(sim, 'a', 3);
        acknowledge(sim, first);
        const follower = followersOf(sim, leader)[0];
        awaitUnsyncedCommit(sim, follower, committedIndex(first));

        const lostBefore = sim.counts.unsyncedCommitsLost;
        sim.crash(follower);
        expect(sim.counts.unsyncedCommitsLost).toBe(lostBefore + 1);
        sim.restart(follower);
        expect(sim.status(follower).commit).toBeLessThan(committedIndex(first));

        const relearned = sim.runUntil(
          () => sim.status(follower).commit >= committedIndex(first),
          1_000,
        );
        check(sim, relearned, `${follower} did not re-learn commit ${committedIndex(first)}`);
        const second = commitOne(sim, 'b', 3);
        acknowledge(sim, second);
        expectAppliedEverywhere(sim, [first, second]);
        healAndConverge(sim);
      },
    );

    it.each([1, 2, 3])(
      'the whole cluster loses power after a commit reached it unsynced: a new leader commits it again (seed %i)',
      (seed) => {
        const sim = newSim(seed, { durableStateMachine });
        awaitLeader(sim);
        const write = commitOne(sim, 'a', 3);
        acknowledge(sim, write);
        for (const id of sim.ids) awaitUnsyncedCommit(sim, id, committedIndex(write));

        for (const id of sim.ids) sim.crash(id);
        expect(sim.counts.unsyncedCommitsLost).toBeGreaterThanOrEqual(3);
        for (const id of sim.ids) sim.restart(id);
        for (const id of sim.ids) expect(sim.status(id).commit).toBeLessThan(committedIndex(write));

        awaitLeader(sim);
        const after = commitOne(sim, 'b', 3);
        acknowledge(sim, after);
        expectAppliedEverywhere(sim, [write, after]);
        for (const id of sim.ids) expect(hasApplied(sim, id, write)).toBe(true);
        healAndConverge(sim);
      },
    );
  },
);
