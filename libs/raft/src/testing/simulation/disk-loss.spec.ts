/**
 * Disk loss: a node that comes back with an empty disk while its peers hold a cluster must not vote
 * as if new. Scripted on the deterministic Simulation (which checks election safety, leader
 * completeness, log matching and state-machine safety after every simulated millisecond), then
 * randomized by the disk-loss chaos profile in simulation.spec.ts.
 */
import type { InjectedBugs } from '../../core/types';
import {
  acknowledge,
  awaitLeader,
  check,
  commitOne,
  electionTimeoutMs,
  expectAppliedEverywhere,
  healAndConverge,
  leaderOf,
  newSim,
} from './scenario-helpers';
import { SimulationFailure } from './simulation';

/**
 * L leads, F1 and F2 follow. F2 is cut off while W commits on L and F1; then F1 loses its disk
 * and L crashes. Only F1 (empty) and F2 (without W) are up: a leader among them would lack W.
 */
function loseTheOnlyOtherCopy(seed: number, bugs?: InjectedBugs) {
  const sim = newSim(seed, { bugs });
  const leader = awaitLeader(sim);
  const [f1, f2] = sim.ids.filter((id) => id !== leader);
  sim.partition([leader, f1], [f2]);
  const w = commitOne(sim, 'w', 2);
  acknowledge(sim, w);
  sim.wipe(f1);
  sim.crash(leader);
  sim.heal();
  sim.restart(f1);
  return { sim, leader, f1, f2, w };
}

describe('disk loss: a wiped node rejoins without voting as if new', () => {
  it.each([1, 2, 3])(
    'elects no leader without the committed write; the leader re-admits the wiped node as a learner and promotes it once caught up (seed %i)',
    (seed) => {
      const { sim, leader, f1, f2, w } = loseTheOnlyOtherCopy(seed);
      expect(sim.status(f1).joining).toBe(true);
      sim.runFor(5 * electionTimeoutMs(sim));
      check(sim, leaderOf(sim, [f1, f2]) === undefined, 'a leader without the committed write');
      check(sim, sim.status(f1).vote === '', `${f1} voted while joining`);

      sim.restart(leader);
      awaitLeader(sim);
      const readmitted = sim.runUntil(() => {
        const member = sim.membership().members.find((m) => m.id === f1);
        return member?.role === 'voter' && member.incarnation !== undefined;
      }, 5_000);
      check(sim, readmitted, `${f1} was not re-admitted and promoted`);
      check(sim, sim.counts.readmissions >= 1, 'no readmit change was proposed');
      check(sim, !sim.status(f1).joining, `${f1} still joining after its promotion`);
      const after = commitOne(sim, 'after', 3);
      expectAppliedEverywhere(sim, [w, after]);
      healAndConverge(sim);
    },
  );

  it('a node wiped twice is re-admitted twice (each incarnation on its own)', () => {
    const sim = newSim(4);
    awaitLeader(sim);
    const writes = [commitOne(sim, 'a', 3)];
    for (let round = 0; round < 2; round++) {
      const victim = sim.ids.find((id) => id !== sim.leader()!.id)!;
      sim.wipe(victim);
      sim.restart(victim);
      const back = sim.runUntil(
        () =>
          !sim.status(victim).joining &&
          sim.membership().members.find((m) => m.id === victim)?.role === 'voter',
        5_000,
      );
      check(sim, back, `${victim} did not come back as a voter (round ${round + 1})`);
      writes.push(commitOne(sim, `r${round}`, 3));
    }
    expectAppliedEverywhere(sim, writes);
    expect(sim.counts.readmissions).toBe(2);
  });

  it('with the injected bug rejoinAsNew (the wiped node votes as if new) the same script breaks leader completeness', () => {
    const failures: string[] = [];
    for (const seed of [1, 2, 3]) {
      try {
        const { sim } = loseTheOnlyOtherCopy(seed, { rejoinAsNew: true });
        sim.runFor(5 * electionTimeoutMs(sim));
      } catch (error) {
        if (!(error instanceof SimulationFailure)) throw error;
        failures.push(error.message.split('\n')[0]);
      }
    }
    expect(failures).toHaveLength(3);
    for (const failure of failures) expect(failure).toMatch(/leader completeness/);
  });
});
