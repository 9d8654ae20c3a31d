import type { SeededRandom } from '@xcron/testing';
import {
  checkOperations,
  describeFailure,
  kvModel,
  type KvInput,
  type KvOperation,
} from '../linearizability';
import { voters } from '../../core/membership';
import { EntryType, type NodeId } from '../../core/types';
import { encodeKvWrite } from './kv-state-machine';
import type { ProposalHandle, ReadHandle } from './sim-node';
import { Simulation, type SimulationCounts, type SimulationOptions } from './simulation';

export interface ChaosOptions extends SimulationOptions {
  durationMs: number;
  clients?: number;
  keys?: number;
  /** Give up on an operation after this long; a write then has an unknown outcome. */
  clientTimeoutMs?: number;
  /** Per-millisecond probabilities of each fault (0 disables it). */
  crashRate?: number;
  /** Per-millisecond probability of crashing whoever leads (Figure 8 style churn). */
  leaderCrashRate?: number;
  /** Longest downtime of a crashed node. */
  downtimeMsMax?: number;
  partitionRate?: number;
  /**
   * Per-millisecond probability that a node loses its disk (`Simulation.wipe`) and comes back
   * empty; one at a time: only while every node is up and none is joining or waiting to be
   * promoted back to voter.
   */
  diskLossRate?: number;
  membershipChangeRate?: number;
  transferRate?: number;
  /** Fault classes that must have happened at least once, or the run fails. */
  requireFaults?: Array<keyof SimulationCounts>;
}

export interface ChaosReport {
  seed: number;
  counts: SimulationCounts;
  operations: number;
  acknowledgedWrites: number;
  reads: number;
  highestCommitted: number;
}

interface PendingOperation {
  clientId: number;
  input: KvInput;
  callTime: number;
  deadline: number;
  target: NodeId;
  /** After a refusal, the client waits a little before trying another node. */
  retryAtMs: number;
  proposal?: ProposalHandle;
  read?: ReadHandle;
}

/**
 * A randomized run: clients issue puts, appends and linearizable reads against random nodes while
 * the schedule crashes and restarts nodes, partitions the network (both ways and one way), changes
 * the membership one server at a time and transfers leadership. At the end the cluster is healed
 * and must converge; every acknowledged write must be applied where it was acknowledged, and the
 * clients' history must be linearizable.
 */
export function runChaos(options: ChaosOptions): ChaosReport {
  const sim = new Simulation(options);
  const random = sim.random.fork();
  const clients = options.clients ?? 3;
  const keys = options.keys ?? 3;
  const timeoutMs = options.clientTimeoutMs ?? 1500;
  const history: KvOperation[] = [];
  const pending: Array<PendingOperation | undefined> = new Array(clients).fill(undefined);
  const leaderGuess: NodeId[] = new Array(clients).fill(sim.ids[0]);
  let valueCounter = 0;
  let acknowledgedWrites = 0;
  let reads = 0;
  const healAtMs = new Map<string, number>();
  const restartAtMs = new Map<NodeId, number>();
  let membershipBusyUntil = 0;

  const startOperation = (clientId: number): void => {
    const key = `k${random.nextInt(keys)}`;
    const roll = random.nextFloat();
    const input: KvInput =
      roll < 0.4
        ? { op: 'get', key }
        : roll < 0.7
          ? { op: 'append', key, value: `${clientId}.${++valueCounter};` }
          : { op: 'put', key, value: `v${++valueCounter}` };
    pending[clientId] = {
      clientId,
      input,
      callTime: sim.nowMs,
      deadline: sim.nowMs + timeoutMs,
      target: pickTarget(clientId),
      retryAtMs: 0,
    };
    issue(pending[clientId]!);
  };

  const pickTarget = (clientId: number): NodeId => {
    const alive = sim.aliveIds();
    if (alive.includes(leaderGuess[clientId]) && random.chance(0.8)) return leaderGuess[clientId];
    return alive.length > 0 ? random.pick(alive) : sim.ids[0];
  };

  const issue = (op: PendingOperation): void => {
    if (op.input.op === 'get') op.read = sim.read(op.target, op.input.key);
    else
      op.proposal = sim.propose(
        op.target,
        encodeKvWrite({ op: op.input.op, key: op.input.key, value: op.input.value }),
      );
  };

  const finish = (clientId: number, output: KvOperation['output'] | 'unknown'): void => {
    const op = pending[clientId]!;
    if (op.input.op !== 'get')
      sim.log(
        `client ${clientId} ${op.input.op} ${op.input.key} ${op.input.value} via ${op.target}: ${output === 'unknown' ? 'unknown' : 'ok'}`,
      );
    pending[clientId] = undefined;
    if (output === 'unknown') {
      history.push({
        clientId,
        input: op.input,
        callTime: op.callTime,
        returnTime: Infinity,
        outputUnknown: true,
      });
    } else {
      history.push({
        clientId,
        input: op.input,
        output: output as never,
        callTime: op.callTime,
        returnTime: sim.nowMs,
      });
    }
  };

  const retry = (op: PendingOperation, clientId: number): void => {
    if (op.retryAtMs === 0) {
      op.retryAtMs = sim.nowMs + 1 + random.nextInt(10);
      return;
    }
    if (sim.nowMs < op.retryAtMs) return;
    op.retryAtMs = 0;
    op.target = pickTarget(clientId);
    issue(op);
  };

  const pollClient = (clientId: number): void => {
    const op = pending[clientId];
    if (op === undefined) {
      if (random.chance(0.1)) startOperation(clientId);
      return;
    }
    if (op.read) {
      const outcome = op.read.outcome;
      if (outcome.status === 'done') {
        reads += 1;
        finish(clientId, { value: outcome.value });
      } else if (sim.nowMs >= op.deadline) {
        pending[clientId] = undefined; // a read that never answered changed nothing: leave it out
      } else if (outcome.status === 'rejected' || !sim.isAlive(op.target)) {
        retry(op, clientId);
      }
      return;
    }
    const proposal = op.proposal!;
    const outcome = proposal.outcome;
    if (outcome.status === 'committed') {
      acknowledgedWrites += 1;
      const input = op.input as Extract<KvInput, { value: string }>;
      sim.checker.acknowledge({
        index: outcome.index,
        term: outcome.term,
        type: EntryType.Normal,
        data: encodeKvWrite({ op: input.op, key: input.key, value: input.value }),
      });
      leaderGuess[clientId] = op.target;
      finish(clientId, {});
    } else if (outcome.status === 'rejected') {
      // Never entered a log: safe to send again, elsewhere.
      if (outcome.leaderHint) leaderGuess[clientId] = outcome.leaderHint;
      if (sim.nowMs >= op.deadline) {
        pending[clientId] = undefined;
        return;
      }
      retry(op, clientId);
    } else if (outcome.status === 'lost') {
      sim.log(
        `client ${clientId} ${op.input.op} ${op.input.key} ${(op.input as { value: string }).value} via ${op.target}: lost`,
      );
      pending[clientId] = undefined; // overwritten by another leader: it can never apply
    } else if (sim.nowMs >= op.deadline || sim.abandoned.has(proposal)) {
      finish(clientId, 'unknown');
    }
  };

  const injectFaults = (): void => {
    const now = sim.nowMs;
    for (const [id, at] of restartAtMs) {
      if (at <= now) {
        restartAtMs.delete(id);
        sim.restart(id);
      }
    }
    for (const [marker, at] of healAtMs) {
      if (at <= now) {
        healAtMs.delete(marker);
        sim.heal();
      }
    }
    const alive = sim.aliveIds();
    const downtimeMsMax = options.downtimeMsMax ?? 1500;
    if (random.chance(options.crashRate ?? 0) && alive.length > 0) {
      const victim = random.pick(alive);
      sim.crash(victim);
      restartAtMs.set(victim, now + 1 + random.nextInt(downtimeMsMax));
    }
    // (Guarded, so that runs without disk loss draw exactly the random numbers they always did.)
    const diskLossOverdue =
      sim.counts.diskLosses === 0 && now >= options.durationMs / 2 && now % 10 === 0;
    if (
      (options.diskLossRate ?? 0) > 0 &&
      (random.chance(options.diskLossRate ?? 0) || diskLossOverdue) &&
      sim.aliveIds().length === sim.ids.length &&
      sim.ids.every((id) => !sim.node(id).core.isJoining) &&
      // Until a re-admitted node is a voter again the cluster tolerates one fault less. Every
      // node's view: without a leader, one node's may not show the readmission yet.
      !sim.ids.some((id) => sim.status(id).membership.members.some((m) => m.promoteWhenCaughtUp))
    ) {
      const victim = random.pick(sim.ids);
      sim.wipe(victim);
      restartAtMs.set(victim, now + 1 + random.nextInt(downtimeMsMax));
    }
    const currentLeader = sim.leader();
    if (currentLeader && random.chance(options.leaderCrashRate ?? 0)) {
      sim.crash(currentLeader.id);
      restartAtMs.set(currentLeader.id, now + 1 + random.nextInt(downtimeMsMax));
    }
    // Half-way through, make sure every fault class this run requires has had its chance.
    if (now === Math.floor(options.durationMs / 2)) {
      if (sim.counts.partitions === 0 && (options.partitionRate ?? 0) > 0 && healAtMs.size === 0) {
        schedulePartition(sim, random);
        healAtMs.set('partition', now + 100 + random.nextInt(1000));
      }
      if (sim.counts.crashes === 0 && (options.crashRate ?? 0) > 0 && alive.length > 0) {
        const victim = random.pick(alive);
        sim.crash(victim);
        restartAtMs.set(victim, now + 1 + random.nextInt(downtimeMsMax));
      }
    }
    if (random.chance(options.partitionRate ?? 0) && healAtMs.size === 0) {
      schedulePartition(sim, random);
      healAtMs.set('partition', now + 100 + random.nextInt(2000));
    }
    const leader = sim.leader();
    if (leader && random.chance(options.transferRate ?? 0)) {
      sim.transferLeadership(random.pick(voters(leader.core.status().membership)));
    }
    const membershipOverdue =
      (options.membershipChangeRate ?? 0) > 0 &&
      sim.counts.membershipChanges === 0 &&
      now >= options.durationMs / 2 &&
      now % 10 === 0;
    if (
      now >= membershipBusyUntil &&
      (membershipOverdue || random.chance(options.membershipChangeRate ?? 0))
    ) {
      if (changeMembership(sim, random)) membershipBusyUntil = now + 300;
    }
  };

  for (let t = 0; t < options.durationMs; t++) {
    injectFaults();
    for (let c = 0; c < clients; c++) pollClient(c);
    sim.step();
    if (sim.nowMs % 100 === 0)
      sim.checker.checkLogMatching(sim.aliveIds().map((id) => sim.node(id)));
  }

  converge(sim, options.seed);
  // Writes still open: one that committed meanwhile is acknowledged now, one that was lost never
  // happened, any other may or may not have happened.
  for (let c = 0; c < clients; c++) {
    const op = pending[c];
    if (op?.proposal === undefined) continue;
    const status = op.proposal.outcome.status;
    if (status === 'committed') pollClient(c);
    else if (status === 'lost') pending[c] = undefined;
    else finish(c, 'unknown');
  }
  sim.checker.checkAcknowledgedApplied();
  const check = checkOperations(kvModel, history, { maxSteps: 5_000_000 });
  if (check.result === 'illegal')
    sim.fail(`history is not linearizable:\n${describeFailure(kvModel, check)}`);
  for (const required of options.requireFaults ?? []) {
    if (sim.counts[required] === 0)
      sim.fail(`the run never exercised ${required}; counts: ${JSON.stringify(sim.counts)}`);
  }
  return {
    seed: options.seed,
    counts: { ...sim.counts },
    operations: history.length,
    acknowledgedWrites,
    reads,
    highestCommitted: sim.checker.highestCommitted,
  };
}

/** Heals everything, restarts every node, and waits until all members applied the highest commit. */
function converge(sim: Simulation, seed: number): void {
  sim.heal();
  for (const id of sim.ids) sim.restart(id);
  const target = () => sim.checker.highestCommitted;
  const members = () => sim.membership().members.map((m) => m.id);
  const done = sim.runUntil(() => {
    const leader = sim.leader();
    if (leader === undefined) return false;
    const goal = Math.max(target(), leader.core.status().commit);
    return members().every((id) => sim.isAlive(id) && sim.status(id).applied >= goal);
  }, 30_000);
  if (!done)
    sim.fail(
      `seed ${seed}: the healed cluster did not converge within 30 s:\n${describeNodes(sim)}`,
    );
  sim.checker.checkLogMatching(sim.aliveIds().map((id) => sim.node(id)));
}

function schedulePartition(sim: Simulation, random: SeededRandom): void {
  const ids = random.shuffle([...sim.ids]);
  if (random.chance(0.3)) {
    sim.cutOneWay(ids[0], ids[1]);
    return;
  }
  const split = 1 + random.nextInt(ids.length - 1);
  sim.partition(ids.slice(0, split), ids.slice(split));
}

/**
 * One membership step, keeping at least three voters: remove a voter (sometimes the leader
 * itself), or bring a removed node back as a learner, or promote a caught-up learner.
 */
function changeMembership(sim: Simulation, random: SeededRandom): boolean {
  const leader = sim.leader();
  if (leader === undefined) return false;
  const status = leader.core.status();
  const members = status.membership.members;
  const learners = members.filter((m) => m.role === 'learner');
  const caughtUp = learners.find((m) => (status.progress.get(m.id)?.match ?? 0) >= status.commit);
  if (caughtUp) return sim.proposeConfChange({ type: 'promote-learner', nodeId: caughtUp.id });
  const outside = sim.ids.filter((id) => !members.some((m) => m.id === id));
  if (outside.length > 0 && random.chance(0.6)) {
    const id = random.pick(outside);
    return sim.proposeConfChange({ type: 'add-learner', nodeId: id, peerAddress: `${id}:8899` });
  }
  const voterIds = members.filter((m) => m.role === 'voter').map((m) => m.id);
  if (voterIds.length <= 3) return false;
  return sim.proposeConfChange({ type: 'remove-node', nodeId: random.pick(voterIds) });
}

/** One line per node: what a failure report needs to see why a cluster is stuck. */
export function describeNodes(sim: Simulation): string {
  return sim.ids
    .map((id) => {
      if (!sim.isAlive(id)) return `${id}: down`;
      const s = sim.status(id);
      const members = s.membership.members
        .map((m) => `${m.id}${m.role === 'learner' ? '(l)' : ''}`)
        .join(',');
      const progress = [...s.progress]
        .map(([p, pr]) => `${p}:${pr.state}/${pr.match}/${pr.next}`)
        .join(' ');
      return `${id}: ${s.role} term ${s.term} lead ${s.leaderId || '-'} commit ${s.commit} applied ${s.applied} log ${s.firstIndex}-${s.lastIndex} members [${members}] ${progress}`;
    })
    .join('\n');
}
