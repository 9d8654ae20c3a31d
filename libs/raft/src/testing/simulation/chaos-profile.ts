import { SeededRandom } from '@xcron/testing';
import type { InjectedBugs } from '../../core/types';
import type { ChaosOptions } from './chaos';

/**
 * The standard randomized run for a seed. The seed picks the shape of the run too: 3 or 5 nodes,
 * pre-vote and check-quorum on or off (both are options of the core), fast or stalling disks
 * (fsync spikes), plain or leader-hunting crashes with short or long downtimes, on a lossy,
 * duplicating, reordering network with partitions both ways and one way, membership changes,
 * leader transfers and snapshots; the survivors of a crash mostly learn it early (fast failover),
 * and live leaders are reported down by false alarms. The test suite and `npm run sim:raft` share it, so a seed
 * printed by either replays in the other.
 */
export function chaosProfile(seed: number, durationMs = 10_000, bugs?: InjectedBugs): ChaosOptions {
  const shape = new SeededRandom(seed ^ 0x5bd1e995);
  const nodes = seed % 2 === 0 ? 3 : 5;
  const leaderHunting = shape.chance(0.4);
  const required: NonNullable<ChaosOptions['requireFaults']> = [
    'leaderChanges',
    'crashes',
    'partitions',
    'snapshotsTaken',
    'messagesDropped',
    'messagesDuplicated',
  ];
  if (nodes === 5) required.push('membershipChanges');
  return {
    seed,
    nodes,
    durationMs,
    bugs,
    clients: 3,
    keys: 3,
    preVote: shape.chance(0.75),
    checkQuorum: shape.chance(0.75),
    diskLatencyMsMin: 1,
    diskLatencyMsMax: shape.chance(0.5) ? 3 : 25,
    network: {
      dropRate: 0.02,
      duplicateRate: 0.01,
      delayMsMin: 1,
      delayMsMax: shape.chance(0.5) ? 4 : 12,
    },
    crashRate: 0.0008,
    leaderCrashRate: leaderHunting ? 0.001 : 0,
    downtimeMsMax: shape.chance(0.5) ? 200 : 1500,
    partitionRate: 0.001,
    membershipChangeRate: nodes === 5 ? 0.001 : 0,
    transferRate: 0.0003,
    crashAfterVoteRate: shape.chance(0.5) ? 0.2 : 0,
    crashNewLeaderRate: leaderHunting ? 0.3 : 0,
    crashLeaderDuringWriteRate: leaderHunting ? 0.005 : 0,
    // Fast failover: most survivors of a crash learn it within 6 ticks (RaftNode: its connection
    // closed, a reconnect refused), and false alarms about live leaders come twice a second.
    leaderDownEvidenceRate: 0.9,
    leaderDownEvidenceDelayMsMax: 60,
    falseLeaderDownRate: 0.002,
    // One entry per Append in some runs: old-term entries then reach a majority before the new
    // leader's no-op does, which is what Figure 8 is about.
    appendBytesMax: shape.chance(0.5) ? 1 : 64 * 1024,
    inflightCountMax: shape.chance(0.5) ? 4 : 64,
    snapshotEveryEntries: 16,
    compactionMarginEntries: 8,
    requireFaults: required,
  };
}

/**
 * The chaos profile with disk loss: now and then a node comes back with an empty disk (at most one
 * at a time). It must rejoin without voting until the leader re-admitted it; with the injected bug
 * `rejoinAsNew` it votes as if new, and some seed elects a leader that lacks committed entries.
 */
export function diskLossProfile(
  seed: number,
  durationMs = 10_000,
  bugs?: InjectedBugs,
): ChaosOptions {
  const base = chaosProfile(seed, durationMs, bugs);
  return {
    ...base,
    diskLossRate: 0.0006,
    requireFaults: [...(base.requireFaults ?? []), 'diskLosses'],
  };
}

/**
 * The 6.5840 "Figure 8 (unreliable)" shape: five nodes, an unreliable network, and leaders that
 * keep dying soon after they are elected or take writes, so that entries of old terms sit on
 * minorities and new leaders re-replicate them one entry per message. This is the run that catches
 * a leader committing a previous term's entry by counting replicas.
 */
export function figure8Profile(
  seed: number,
  durationMs = 10_000,
  bugs?: InjectedBugs,
): ChaosOptions {
  return {
    seed,
    nodes: 5,
    durationMs,
    bugs,
    clients: 4,
    keys: 4,
    preVote: false,
    checkQuorum: false,
    diskLatencyMsMin: 1,
    diskLatencyMsMax: 10,
    network: { dropRate: 0.05, duplicateRate: 0.01, delayMsMin: 1, delayMsMax: 15 },
    crashRate: 0,
    leaderCrashRate: 0.01,
    crashNewLeaderRate: 0.5,
    downtimeMsMax: 300,
    partitionRate: 0,
    membershipChangeRate: 0,
    transferRate: 0,
    appendBytesMax: 1,
    inflightCountMax: 2,
    snapshotEveryEntries: 1000,
    compactionMarginEntries: 8,
    requireFaults: ['leaderChanges', 'crashes', 'messagesDropped'],
  };
}

/**
 * Election storms: five nodes without pre-vote or check-quorum, leaders dying often, voters
 * crashing right after they grant a vote and coming back within milliseconds, and a network that
 * duplicates and holds back messages — so a vote request can reach a voter again after its restart.
 * This is the run that catches a vote that was not persisted.
 */
export function electionsProfile(
  seed: number,
  durationMs = 5_000,
  bugs?: InjectedBugs,
): ChaosOptions {
  return {
    seed,
    nodes: 5,
    durationMs,
    bugs,
    clients: 2,
    keys: 3,
    preVote: false,
    checkQuorum: false,
    diskLatencyMsMin: 1,
    diskLatencyMsMax: 5,
    network: {
      dropRate: 0.1,
      duplicateRate: 0.2,
      delayMsMin: 1,
      delayMsMax: 10,
      slowRate: 0.2,
      slowDelayMsMax: 100,
    },
    leaderCrashRate: 0.005,
    crashAfterVoteRate: 0.5,
    downtimeMsMax: 50,
    crashRate: 0,
    partitionRate: 0.003,
    membershipChangeRate: 0,
    transferRate: 0,
    snapshotEveryEntries: 1000,
    compactionMarginEntries: 8,
    requireFaults: ['leaderChanges', 'crashes', 'messagesDuplicated'],
  };
}
