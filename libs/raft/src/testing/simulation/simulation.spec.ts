import type { InjectedBugs } from '../../core/types';
import { runChaos } from './chaos';
import { chaosProfile, diskLossProfile, electionsProfile, figure8Profile } from './chaos-profile';
import { runFigure8Scenario } from './figure8-scenario';
import { SimulationFailure } from './simulation';

/**
 * The randomized proof: bounded numbers of seeds of each profile must run clean (every safety
 * property after every step, convergence, linearizable histories, every fault class exercised),
 * the same seed must replay identically, and each injected bug must make some seed fail.
 * `npm run sim:raft -- --seeds N` runs more.
 */

const CLEAN_SEEDS = { chaos: 25, figure8: 8, elections: 15, diskLoss: 8, durable: 3 };

describe('Raft simulation, clean runs', () => {
  it(`runs ${CLEAN_SEEDS.chaos} seeds of the chaos profile clean, exercising every fault class`, () => {
    const totals = {
      leaderChanges: 0,
      crashes: 0,
      partitions: 0,
      snapshotsInstalled: 0,
      membershipChanges: 0,
      leaderTransfers: 0,
      leaderDownReports: 0,
      falseLeaderDownReports: 0,
      operations: 0,
    };
    for (let seed = 1; seed <= CLEAN_SEEDS.chaos; seed++) {
      const report = runChaos(chaosProfile(seed));
      totals.leaderChanges += report.counts.leaderChanges;
      totals.crashes += report.counts.crashes;
      totals.partitions += report.counts.partitions;
      totals.snapshotsInstalled += report.counts.snapshotsInstalled;
      totals.membershipChanges += report.counts.membershipChanges;
      totals.leaderTransfers += report.counts.leaderTransfers;
      totals.leaderDownReports += report.counts.leaderDownReports;
      totals.falseLeaderDownReports += report.counts.falseLeaderDownReports;
      totals.operations += report.operations;
    }
    for (const [name, value] of Object.entries(totals))
      expect([name, value > 0]).toEqual([name, true]);
  });

  it(`runs ${CLEAN_SEEDS.figure8} seeds of the Figure 8 profile and ${CLEAN_SEEDS.elections} of the election-storm profile clean`, () => {
    for (let seed = 1; seed <= CLEAN_SEEDS.figure8; seed++) runChaos(figure8Profile(seed));
    for (let seed = 1; seed <= CLEAN_SEEDS.elections; seed++) runChaos(electionsProfile(seed));
  });

  it(`runs ${CLEAN_SEEDS.diskLoss} seeds of the disk-loss profile clean: wiped nodes rejoin, are re-admitted and promoted`, () => {
    let readmissions = 0;
    for (let seed = 1; seed <= CLEAN_SEEDS.diskLoss; seed++) {
      const report = runChaos(diskLossProfile(seed));
      expect(report.counts.diskLosses).toBeGreaterThan(0);
      readmissions += report.counts.readmissions;
    }
    expect(readmissions).toBeGreaterThan(0);
  });

  it(`runs ${CLEAN_SEEDS.durable} seeds of the chaos profile clean with durable state machines (local snapshots without data, live snapshots sent, restarts from the durable copy)`, () => {
    let snapshotsInstalled = 0;
    for (let seed = 1; seed <= CLEAN_SEEDS.durable; seed++) {
      const report = runChaos({ ...chaosProfile(seed), durableStateMachine: true });
      snapshotsInstalled += report.counts.snapshotsInstalled;
    }
    expect(snapshotsInstalled).toBeGreaterThan(0);
  });

  it('replays a seed identically', () => {
    const first = runChaos(chaosProfile(7));
    const second = runChaos(chaosProfile(7));
    expect(second).toEqual(first);
  });

  it('plays Figure 8 safely: the overwriting candidate can never win', () => {
    for (let seed = 1; seed <= 5; seed++)
      expect(runFigure8Scenario(seed).overwriterElected).toBe(false);
  });
});

/** Runs seeds until one fails; returns the failure (or undefined after `seedsMax`). */
function firstFailure(
  run: (seed: number) => unknown,
  seedsMax: number,
): SimulationFailure | undefined {
  for (let seed = 1; seed <= seedsMax; seed++) {
    try {
      run(seed);
    } catch (error) {
      if (error instanceof SimulationFailure) return error;
      throw error;
    }
  }
  return undefined;
}

describe('Raft simulation catches injected bugs', () => {
  const cases: Array<{
    bug: keyof InjectedBugs;
    run: (seed: number, bugs: InjectedBugs) => unknown;
    seedsMax: number;
    expected: RegExp;
  }> = [
    {
      bug: 'forgetVote',
      run: (seed, bugs) => runChaos(electionsProfile(seed, undefined, bugs)),
      seedsMax: 120,
      expected: /election safety|leader completeness|committed|lost|linearizable/,
    },
    // Without check-quorum a deposed leader keeps believing it leads: the stale read shows at once.
    {
      bug: 'readWithoutReadIndex',
      run: (seed, bugs) => runChaos({ ...chaosProfile(seed, undefined, bugs), checkQuorum: false }),
      seedsMax: 120,
      expected: /not linearizable/,
    },
    {
      bug: 'applyBeforePersist',
      run: (seed, bugs) => runChaos(chaosProfile(seed, undefined, bugs)),
      seedsMax: 120,
      expected: /leader completeness|election safety|committed|lost|applied|converge/,
    },
    {
      bug: 'rejoinAsNew',
      run: (seed, bugs) => runChaos(diskLossProfile(seed, undefined, bugs)),
      seedsMax: 40,
      expected: /leader completeness|election safety|committed|lost|linearizable/,
    },
    {
      bug: 'commitPreviousTermEntries',
      run: (seed, bugs) => runFigure8Scenario(seed, bugs),
      seedsMax: 20,
      expected: /leader completeness|committed/,
    },
  ];
  for (const { bug, run, seedsMax, expected } of cases) {
    it(`fails a seed when ${bug} is injected`, () => {
      const failure = firstFailure((seed) => run(seed, { [bug]: true }), seedsMax);
      expect(failure).toBeDefined();
      expect(failure!.message).toMatch(expected);
      expect(failure!.message).toMatch(/^simulation seed \d+ failed/);
    });
  }
});
