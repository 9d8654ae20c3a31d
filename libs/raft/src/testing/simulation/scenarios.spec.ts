/**
 * The 6.5840 (MIT distributed systems) Raft lab scenarios, as scripts on the deterministic
 * Simulation. The Simulation itself checks election safety, log matching, leader completeness and
 * state-machine safety after every simulated millisecond and throws a SimulationFailure (with seed
 * and trace) on a violation; these scripts add the liveness and agreement expectations of the lab.
 *
 * Timing: nodes tick every 10 ms; the election timeout is 100–200 ms; heartbeats go every tick.
 * Every scenario uses fixed seeds, so a failure replays exactly.
 */
import { SeededRandom } from '@xcron/testing';
import type { InjectedBugs, NodeId } from '../../core/types';
import {
  LeaderWatch,
  WritingClients,
  acknowledge,
  appliedOn,
  awaitCommitted,
  awaitLeader,
  check,
  commitMany,
  commitOne,
  electionTimeoutMs,
  expectAppliedEverywhere,
  expectAppliedNowhere,
  followersOf,
  healAndConverge,
  leaderOf,
  newSim,
  nodesInRole,
  proposeWrite,
  runWithClients,
  type Write,
} from './scenario-helpers';
import type { NetworkFaults } from './sim-network';
import { SimulationFailure, type Simulation } from './simulation';

const SEEDS = [1, 2, 3];

const UNRELIABLE: NetworkFaults = {
  dropRate: 0.1,
  duplicateRate: 0.02,
  delayMsMin: 1,
  delayMsMax: 25,
};

/** The entry applied at `index` by `id` (its last application, after restarts). */
function appliedAt(sim: Simulation, id: NodeId, index: number): string | undefined {
  const entries = sim.appliedEntries(id).filter((e) => e.index === index);
  const last = entries[entries.length - 1];
  return last && `${last.term}/${new TextDecoder().decode(last.data)}`;
}

function committedIndex(write: Write): number {
  const outcome = write.handle.outcome;
  if (outcome.status !== 'committed') throw new Error(`${write.key} is ${outcome.status}`);
  return outcome.index;
}

// ---- 3A: leader election ------------------------------------------------------------------------

describe('3A leader election', () => {
  it.each(SEEDS)(
    'initial election: one leader, term ≥ 1, unchanged over 3 s without failures (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      const leader = awaitLeader(sim, sim.ids, 1000);
      const term = sim.status(leader).term;
      expect(term).toBeGreaterThanOrEqual(1);
      expect(sim.ids.map((id) => sim.status(id).term)).toEqual([term, term, term]);

      sim.runFor(3000);

      expect(leaderOf(sim)).toBe(leader);
      expect(sim.ids.map((id) => sim.status(id).term)).toEqual([term, term, term]);
      expect(sim.counts.leaderChanges).toBe(1);
    },
  );

  it.each(SEEDS)(
    're-election: a new leader after the leader is cut off; the old one rejoins without disturbing; no leader without a quorum (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      const leader1 = awaitLeader(sim);
      const term1 = sim.status(leader1).term;
      const others = sim.ids.filter((id) => id !== leader1);

      sim.isolate(leader1);
      const leader2 = awaitLeader(sim, others, 1000);
      const term2 = sim.status(leader2).term;
      expect(term2).toBeGreaterThan(term1);
      // Check-quorum: the cut-off leader steps down by itself; pre-vote keeps its term where it was.
      sim.runFor(2 * electionTimeoutMs(sim));
      expect(sim.status(leader1).role).not.toBe('leader');
      expect(sim.status(leader1).term).toBe(term1);

      sim.heal();
      sim.runFor(2000);
      expect(leaderOf(sim)).toBe(leader2);
      expect(sim.status(leader2).term).toBe(term2);
      expect(sim.status(leader1)).toMatchObject({
        role: 'follower',
        term: term2,
        leaderId: leader2,
      });

      // Nobody can reach anybody: the leader steps down and no one is elected.
      sim.partition(...sim.ids.map((id) => [id]));
      sim.runFor(2000);
      expect(nodesInRole(sim, 'leader')).toEqual([]);

      // A majority again: a leader again.
      const [a, b, c] = sim.ids;
      sim.partition([a, b], [c]);
      awaitLeader(sim, [a, b], 1000);
      sim.heal();
      awaitLeader(sim, sim.ids, 1000);
    },
  );

  it.each([1, 2])(
    'many elections: 7 nodes, 3 random ones cut off ten times: a leader whenever a majority is connected, never two in a term (seed %i)',
    (seed) => {
      const sim = newSim(seed, { nodes: 7 });
      const random = new SeededRandom(seed);
      const watch = new LeaderWatch(sim);
      watch.runUntil(() => leaderOf(sim) !== undefined, 1000);

      for (let round = 0; round < 10; round++) {
        const cutOff = random.shuffle([...sim.ids]).slice(0, 3);
        const majority = sim.ids.filter((id) => !cutOff.includes(id));
        sim.partition(majority, ...cutOff.map((id) => [id]));
        const elected = watch.runUntil(() => leaderOf(sim, majority) !== undefined, 1000);
        check(sim, elected, `round ${round}: no leader among ${majority.join(',')}`);
        watch.runFor(300);
        check(
          sim,
          leaderOf(sim, majority) !== undefined,
          `round ${round}: the majority lost its leader`,
        );
        sim.heal();
        watch.runFor(200);
      }

      expect(watch.runUntil(() => leaderOf(sim) !== undefined, 1000)).toBe(true);
      expect(watch.termsWithSeveralLeaders()).toEqual([]);
      expect(watch.leadersByTerm.size).toBeGreaterThan(1);
    },
  );
});

// ---- 3B: log replication ------------------------------------------------------------------------

describe('3B log replication', () => {
  it.each(SEEDS)(
    'basic agreement: each write commits at the next index, applied there by all nodes (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      awaitLeader(sim);
      let previous = 0;
      for (let i = 1; i <= 3; i++) {
        const write = commitOne(sim, `basic-${i}`, 3);
        const index = committedIndex(write);
        if (previous > 0) expect(index).toBe(previous + 1);
        previous = index;
        const applied = sim.ids.map((id) => appliedAt(sim, id, index));
        expect(new Set(applied).size).toBe(1);
        expect(applied[0]).toContain(`basic-${i}`);
      }
      const read = sim.read(leaderOf(sim)!, 'basic-3');
      sim.runUntil(() => read.outcome.status !== 'pending', 1000);
      expect(read.outcome).toEqual({ status: 'done', value: 'basic-3' });
    },
  );

  it.each(SEEDS)(
    'follower failure: agreement continues on two nodes, the restarted follower catches up, nothing commits on one (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      const writes = [commitOne(sim, 'f-1', 3)];
      const leader = leaderOf(sim)!;
      const [follower, other] = followersOf(sim, leader);

      sim.crash(follower);
      writes.push(commitOne(sim, 'f-2', 2), commitOne(sim, 'f-3', 2));
      sim.restart(follower);
      writes.push(commitOne(sim, 'f-4', 3));
      expectAppliedEverywhere(sim, writes);

      sim.crash(follower);
      sim.crash(other);
      const alone = proposeWrite(sim, leader, 'f-alone');
      sim.runFor(2000);
      expect(alone.handle.outcome.status).toBe('pending');
      expectAppliedNowhere(sim, [alone]);
    },
  );

  it.each(SEEDS)(
    'leader failure: a new leader keeps agreeing, the old one catches up on restart; nothing commits without a majority (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      const writes = [commitOne(sim, 'l-1', 3)];
      const leader1 = leaderOf(sim)!;

      sim.crash(leader1);
      writes.push(commitOne(sim, 'l-2', 2), commitOne(sim, 'l-3', 2));
      const leader2 = leaderOf(sim)!;
      expect(leader2).not.toBe(leader1);
      sim.restart(leader1);
      writes.push(commitOne(sim, 'l-4', 3));
      expectAppliedEverywhere(sim, writes);

      const leader3 = leaderOf(sim)!;
      const orphan = proposeWrite(sim, leader3, 'l-orphan');
      for (const id of followersOf(sim, leader3)) sim.crash(id);
      sim.runFor(2000);
      expect(orphan.handle.outcome.status).toBe('pending');
      expectAppliedNowhere(sim, [orphan]);
    },
  );

  it.each(SEEDS)(
    'no commit without a quorum: with 3 of 5 cut off, the minority leader commits nothing; its write is lost after healing (seed %i)',
    (seed) => {
      const sim = newSim(seed, { nodes: 5 });
      const before = commitOne(sim, 'q-1', 5);
      const leader = leaderOf(sim)!;
      const [peer, ...majority] = followersOf(sim, leader);

      sim.partition([leader, peer], majority);
      const minorityWrite = proposeWrite(sim, leader, 'q-minority');
      expect(minorityWrite.handle.outcome.status).toBe('pending');
      sim.runFor(2000);
      expect(minorityWrite.handle.outcome.status).toBe('pending');
      expectAppliedNowhere(sim, [minorityWrite]);
      const majorityWrite = commitOne(sim, 'q-majority', 3);

      sim.heal();
      const after = commitOne(sim, 'q-2', 5);
      expect(minorityWrite.handle.outcome.status).toBe('lost');
      expectAppliedNowhere(sim, [minorityWrite]);
      expectAppliedEverywhere(sim, [before, majorityWrite, after]);
    },
  );

  it.each(SEEDS)(
    'concurrent proposals: 20 writes proposed in the same millisecond all commit at consecutive indexes (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      commitOne(sim, 'c-0', 3);
      const leader = leaderOf(sim)!;
      const appendsBefore = sim.network.counts.byType.get('append') ?? 0;

      const writes = Array.from({ length: 20 }, (_, i) => proposeWrite(sim, leader, `c-${i + 1}`));
      expect(awaitCommitted(sim, writes, 1000)).toBe(true);

      const indexes = writes.map(committedIndex);
      expect(indexes).toEqual(indexes.map((_, i) => indexes[0] + i));
      sim.runUntil(() => writes.every((w) => appliedOn(sim, w).length === 3), 1000);
      expectAppliedEverywhere(sim, writes);
      // Batching: proposals between two Readies share one Append per follower.
      const appends = (sim.network.counts.byType.get('append') ?? 0) - appendsBefore;
      expect(appends).toBeLessThan(writes.length);
    },
  );

  it.each(SEEDS)(
    'rejoin of a partitioned leader: its uncommitted entries are discarded, the cluster agrees (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      const committed = [commitOne(sim, 'r-1', 3)];
      const leader1 = leaderOf(sim)!;

      sim.isolate(leader1);
      const stale = ['r-stale-1', 'r-stale-2', 'r-stale-3'].map((key) =>
        proposeWrite(sim, leader1, key),
      );
      committed.push(commitOne(sim, 'r-2', 2));
      const leader2 = leaderOf(sim, followersOf(sim, leader1))!;

      // The new leader is cut off; the old one rejoins the third node, which has r-2 and wins.
      const third = sim.ids.find((id) => id !== leader1 && id !== leader2)!;
      sim.partition([leader2], [leader1, third]);
      committed.push(commitOne(sim, 'r-3', 2));

      sim.heal();
      committed.push(commitOne(sim, 'r-4', 3));
      expectAppliedEverywhere(sim, committed);
      expectAppliedNowhere(sim, stale);
      expect(stale.map((w) => w.handle.outcome.status)).toEqual(['lost', 'lost', 'lost']);
    },
  );

  it.each(SEEDS)(
    'backup: leaders with 50 divergent uncommitted entries are brought back quickly (TestBackup, seed %i)',
    (seed) => {
      const sim = newSim(seed, { nodes: 5 });
      const committed = [commitOne(sim, 'b-0', 5)];
      const leader1 = leaderOf(sim)!;
      const [peer1, ...group] = followersOf(sim, leader1);

      // leader1 and one follower take 50 entries that cannot commit.
      sim.partition([leader1, peer1], group);
      const stale1 = Array.from({ length: 50 }, (_, i) =>
        proposeWrite(sim, leader1, `b-stale1-${i}`),
      );
      sim.runFor(electionTimeoutMs(sim) / 2);

      // The other three elect a leader and commit 50.
      committed.push(...commitMany(sim, 'b-group', 50, 3));
      const leader2 = leaderOf(sim, group)!;
      const [other, peer2] = group.filter((id) => id !== leader2);

      // leader2 keeps one follower only and takes 50 entries that cannot commit.
      sim.partition([leader1, peer1], [leader2, peer2], [other]);
      const stale2 = Array.from({ length: 50 }, (_, i) =>
        proposeWrite(sim, leader2, `b-stale2-${i}`),
      );
      sim.runFor(electionTimeoutMs(sim) / 2);

      // The first pair comes back with `other`, whose log wins; they commit 50 more. Repairing
      // their 50 divergent entries takes a few Appends, not one per entry: fast backtracking skips
      // a whole term per round trip (measured: about 15 Appends; about 140 one index at a time).
      sim.partition([leader1, peer1, other], [leader2], [peer2]);
      const appendsBefore = sim.network.counts.byType.get('append') ?? 0;
      committed.push(commitOne(sim, 'b-back-0', 3));
      expect((sim.network.counts.byType.get('append') ?? 0) - appendsBefore).toBeLessThan(50);
      committed.push(...commitMany(sim, 'b-back', 50, 3));

      // Everyone back: the stale logs are repaired (by fast backtracking, a term per round trip,
      // or a snapshot where the leader compacted) and a write commits on all five. Measured: about
      // 20 ms and 50 messages; the lab allows 10 s.
      sim.heal();
      const healedAtMs = sim.nowMs;
      const sentBefore = sim.network.counts.sent;
      committed.push(commitOne(sim, 'b-last', 5, 2000));
      expect(sim.nowMs - healedAtMs).toBeLessThan(200);
      expect(sim.network.counts.sent - sentBefore).toBeLessThan(200);
      expectAppliedEverywhere(sim, committed);
      expectAppliedNowhere(sim, [...stale1, ...stale2]);
    },
  );

  it('RPC counts: an election costs few messages, a write a handful, and an idle second only heartbeats', () => {
    const sim = newSim(1);
    const followers = sim.options.nodes - 1;
    const electedAndAgreed = sim.runUntil(
      () => leaderOf(sim) !== undefined && sim.ids.every((id) => sim.status(id).applied >= 1),
      2000,
    );
    expect(electedAndAgreed).toBe(true);
    expect(sim.network.counts.sent).toBeGreaterThan(0);
    expect(sim.network.counts.sent).toBeLessThanOrEqual(30);

    // Ten writes proposed together: the lab's bound is (writes + 1 + 3) × nodes.
    const leader = leaderOf(sim)!;
    const nonHeartbeat = (): number =>
      [...sim.network.counts.byType]
        .filter(([type]) => type !== 'heartbeat' && type !== 'heartbeat-resp')
        .reduce((sum, [, n]) => sum + n, 0);
    const before = nonHeartbeat();
    const writes = Array.from({ length: 10 }, (_, i) => proposeWrite(sim, leader, `rpc-${i}`));
    expect(awaitCommitted(sim, writes, 1000)).toBe(true);
    sim.runUntil(() => writes.every((w) => appliedOn(sim, w).length === 3), 1000);
    expect(nonHeartbeat() - before).toBeLessThanOrEqual((10 + 1 + 3) * 3);

    // One idle second: heartbeats and their answers, every tick, and nothing else.
    sim.runFor(100);
    const idleStart = sim.network.counts.sent;
    const idleOthers = nonHeartbeat();
    sim.runFor(1000);
    const heartbeatsPerSecond = 1000 / (sim.options.tickMs * sim.options.heartbeatTicks);
    expect(sim.network.counts.sent - idleStart).toBeLessThanOrEqual(
      2 * followers * heartbeatsPerSecond,
    );
    expect(nonHeartbeat()).toBe(idleOthers);
  });
});

// ---- 3C: persistence ------------------------------------------------------------------------------

describe('3C persistence', () => {
  it.each(SEEDS)(
    'committed writes survive crashing every node, the leader alone, and a follower alone (seed %i)',
    (seed) => {
      const sim = newSim(seed);
      const writes = [commitOne(sim, 'p-1', 3)];

      for (const id of sim.ids) sim.crash(id);
      for (const id of sim.ids) sim.restart(id);
      writes.push(commitOne(sim, 'p-2', 3));

      const leader1 = leaderOf(sim)!;
      sim.crash(leader1);
      sim.restart(leader1);
      writes.push(commitOne(sim, 'p-3', 3));

      const leader2 = leaderOf(sim)!;
      sim.crash(leader2);
      writes.push(commitOne(sim, 'p-4', 2));
      sim.restart(leader2);
      sim.runUntil(() => appliedOn(sim, writes[3]).length === 3, 2000);

      const follower = followersOf(sim, leaderOf(sim)!)[0];
      sim.crash(follower);
      writes.push(commitOne(sim, 'p-5', 2));
      sim.restart(follower);
      writes.push(commitOne(sim, 'p-6', 3));

      expectAppliedEverywhere(sim, writes);
    },
  );

  it.each(SEEDS)(
    'crashing leaders and followers alternately, two at a time on 5 nodes, loses nothing (seed %i)',
    (seed) => {
      const sim = newSim(seed, { nodes: 5 });
      const writes: Write[] = [];
      for (let round = 0; round < 5; round++) {
        writes.push(commitOne(sim, `alt-${round}-a`, 5));
        const leader = leaderOf(sim)!;
        const [f1, f2, f3] = followersOf(sim, leader);
        // Two followers down: the other three commit.
        sim.crash(f1);
        sim.crash(f2);
        writes.push(commitOne(sim, `alt-${round}-b`, 3));
        // The leader and another follower down too, then the first two back: a majority of three
        // that must elect among themselves, and bring the two restarted nodes up to date.
        sim.crash(leader);
        sim.crash(f3);
        sim.restart(f1);
        sim.restart(f2);
        sim.runFor(electionTimeoutMs(sim));
        writes.push(commitOne(sim, `alt-${round}-c`, 3));
        sim.restart(leader);
        sim.restart(f3);
      }
      writes.push(commitOne(sim, 'alt-end', 5));
      expectAppliedEverywhere(sim, writes);
    },
  );

  /**
   * The lab's Figure 8 test: 1000 rounds in which every node that believes it leads takes writes
   * (every 5 ms while the round lasts), time passes (mostly a few ms, sometimes up to an election
   * timeout), that leader crashes with probability `crashRate`, and a crashed node restarts whenever
   * fewer than three are up. Entries of old terms are left on minorities and later leaders
   * re-replicate them; one entry per Append (`appendBytesMax: 1`) lets an old-term entry reach a
   * majority before the new leader's no-op does, exactly when counting replicas would be wrong.
   * Returns what happened, for the caller's expectations. Throws SimulationFailure on a violation.
   */
  function figure8(
    seed: number,
    crashRate: number,
    network?: NetworkFaults,
    bugs?: InjectedBugs,
  ): { acknowledged: number; highestCommitted: number; crashes: number } {
    const sim = newSim(seed, { nodes: 5, appendBytesMax: 1, network, bugs });
    const random = new SeededRandom(seed);
    const proposed: Write[] = [];
    let key = 0;
    commitOne(sim, 'fig8-start', 1);

    for (let round = 0; round < 1000; round++) {
      const ms = random.chance(0.1) ? random.nextInt(electionTimeoutMs(sim)) : random.nextInt(13);
      for (let t = 0; t <= ms; t++) {
        if (t % 5 === 0)
          for (const id of nodesInRole(sim, 'leader'))
            proposed.push(proposeWrite(sim, id, `fig8-${++key}`));
        if (t < ms) sim.step();
      }
      // Crash a node that believes it leads (on a lossy network, often one that no longer does).
      const leaders = nodesInRole(sim, 'leader');
      if (leaders.length > 0 && random.chance(crashRate)) sim.crash(leaders[leaders.length - 1]);
      const down = sim.ids.filter((id) => !sim.isAlive(id));
      if (sim.ids.length - down.length < 3) sim.restart(random.pick(down));
    }

    const acknowledged = proposed.filter((w) => w.handle.outcome.status === 'committed');
    for (const write of acknowledged) acknowledge(sim, write);
    sim.network.faults = { dropRate: 0, duplicateRate: 0, delayMsMin: 1, delayMsMax: 1 };
    healAndConverge(sim);
    const last = commitOne(sim, 'fig8-end', 5);
    sim.checker.checkAcknowledgedApplied();
    expectAppliedEverywhere(sim, [...acknowledged, last]);
    return {
      acknowledged: acknowledged.length,
      highestCommitted: sim.checker.highestCommitted,
      crashes: sim.counts.crashes,
    };
  }

  it.each(SEEDS)(
    'Figure 8 (reliable): leaders crash right after taking writes; every acknowledged write survives and the cluster converges (seed %i)',
    (seed) => {
      const run = figure8(seed, 0.5);
      expect(run.crashes).toBeGreaterThan(30);
      expect(run.acknowledged).toBeGreaterThan(50);
    },
  );

  // On a lossy network a leader needs longer to commit anything: it is crashed less often.
  it.each(SEEDS)(
    'Figure 8 (unreliable): the same on a lossy, duplicating, reordering network (seed %i)',
    (seed) => {
      const run = figure8(seed, 0.3, UNRELIABLE);
      expect(run.crashes).toBeGreaterThan(10);
      expect(run.highestCommitted).toBeGreaterThan(10);
    },
  );

  it('Figure 8 (unreliable) has teeth: a leader that commits old-term entries by counting replicas (injected bug) is caught', () => {
    const caught = SEEDS.filter((seed) => {
      try {
        figure8(seed, 0.3, UNRELIABLE, { commitPreviousTermEntries: true });
        return false;
      } catch (error) {
        if (!(error instanceof SimulationFailure)) throw error;
        return true;
      }
    });
    expect(caught.length).toBeGreaterThan(0);
  });

  /**
   * The lab's churn tests: clients keep writing while any node may crash, restart, be cut off or
   * come back. At the end everything heals and every acknowledged write must be applied everywhere.
   */
  function churn(seed: number, network?: NetworkFaults): void {
    const sim = newSim(seed, { nodes: 5, network });
    const random = new SeededRandom(seed);
    const clients = new WritingClients(sim, 'churn', 3);
    const cutOff = new Set<NodeId>();

    for (let round = 0; round < 60; round++) {
      runWithClients(sim, 70, clients);
      const alive = sim.aliveIds();
      const down = sim.ids.filter((id) => !sim.isAlive(id));
      if (random.chance(0.2) && alive.length > 0) cutOff.add(random.pick(alive));
      if (random.chance(0.5) && cutOff.size > 0) cutOff.delete(random.pick([...cutOff]));
      if (random.chance(0.2) && alive.length > 0) sim.crash(random.pick(alive));
      if (random.chance(0.5) && down.length > 0) sim.restart(random.pick(down));
      sim.partition(
        sim.ids.filter((id) => !cutOff.has(id)),
        ...[...cutOff].map((id) => [id]),
      );
    }

    const acknowledged = clients.committed;
    for (const write of acknowledged) acknowledge(sim, write);
    sim.network.faults = { dropRate: 0, duplicateRate: 0, delayMsMin: 1, delayMsMax: 1 };
    healAndConverge(sim);
    sim.checker.checkAcknowledgedApplied();
    expectAppliedEverywhere(sim, acknowledged);
    expect(acknowledged.length).toBeGreaterThan(20);
    expect(sim.counts.crashes).toBeGreaterThan(3);
  }

  it.each([1, 2])(
    'reliable churn: random crashes, restarts and cut-offs while clients write (seed %i)',
    (seed) => {
      churn(seed);
    },
  );

  it.each([1, 2])(
    'unreliable churn: the same on a lossy, duplicating, reordering network (seed %i)',
    (seed) => {
      churn(seed, UNRELIABLE);
    },
  );
});

// ---- 3D: snapshots --------------------------------------------------------------------------------

describe('3D snapshots', () => {
  /** A follower misses 50 writes while the others compact their logs past them. */
  function commitPastCompaction(sim: Simulation): Write[] {
    const writes = commitMany(sim, 'snap', 50, 2);
    const leader = leaderOf(sim)!;
    check(
      sim,
      sim.status(leader).firstIndex > 2,
      `the leader did not compact its log (first index ${sim.status(leader).firstIndex})`,
    );
    return writes;
  }

  it.each(SEEDS)(
    'a crashed follower that restarts behind the compaction point gets a snapshot and catches up (seed %i)',
    (seed) => {
      const sim = newSim(seed, { snapshotEveryEntries: 10, compactionMarginEntries: 2 });
      const first = commitOne(sim, 'snap-0', 3);
      const follower = followersOf(sim, leaderOf(sim)!)[0];

      sim.crash(follower);
      const missed = commitPastCompaction(sim);
      const installedBefore = sim.counts.snapshotsInstalled;
      sim.restart(follower);
      const caughtUp = sim.runUntil(
        () => [first, ...missed].every((w) => appliedOn(sim, w).includes(follower)),
        3000,
      );

      expect(caughtUp).toBe(true);
      expect(sim.counts.snapshotsInstalled).toBeGreaterThan(installedBefore);
      const leader = leaderOf(sim)!;
      for (const write of missed)
        expect(sim.node(follower).sm.get(write.key)).toBe(sim.node(leader).sm.get(write.key));

      // After another crash it restarts from the installed snapshot: no second one is needed.
      const installed = sim.counts.snapshotsInstalled;
      sim.crash(follower);
      sim.restart(follower);
      sim.runUntil(
        () => [first, ...missed].every((w) => appliedOn(sim, w).includes(follower)),
        500,
      );
      expectAppliedEverywhere(sim, [first, ...missed], [follower]);
      expect(sim.counts.snapshotsInstalled).toBe(installed);
      expectAppliedEverywhere(sim, [commitOne(sim, 'snap-after', 3)]);
    },
  );

  it.each(SEEDS)(
    'a partitioned follower that rejoins behind the compaction point gets a snapshot and catches up (seed %i)',
    (seed) => {
      const sim = newSim(seed, { snapshotEveryEntries: 10, compactionMarginEntries: 2 });
      const first = commitOne(sim, 'snap-0', 3);
      const follower = followersOf(sim, leaderOf(sim)!)[0];

      sim.isolate(follower);
      const missed = commitPastCompaction(sim);
      const installedBefore = sim.counts.snapshotsInstalled;
      sim.heal();
      const caughtUp = sim.runUntil(
        () => [first, ...missed].every((w) => appliedOn(sim, w).includes(follower)),
        3000,
      );

      expect(caughtUp).toBe(true);
      expect(sim.counts.snapshotsInstalled).toBeGreaterThan(installedBefore);
      const leader = leaderOf(sim)!;
      expect(sim.node(follower).sm.snapshot()).toEqual(sim.node(leader).sm.snapshot());
      expectAppliedEverywhere(sim, [commitOne(sim, 'snap-after', 3)]);
    },
  );
});
