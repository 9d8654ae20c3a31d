/**
 * Small building blocks for scripted scenarios on the Simulation (the 6.5840 lab tests in
 * `scenarios.spec.ts`): find the current leader of a group, commit one write the way the lab's
 * `one()` does, keep clients writing through faults, and check that what was acknowledged is
 * applied on every node. Every failure goes through `sim.fail`, so it carries the seed, the trace
 * and one line per node.
 *
 * Writes are puts of a unique key (the key is the value), so "node X applied write W" is simply
 * `X's state machine has W's key`, which stays true across snapshots and restarts.
 */
import { EntryType, type NodeId } from '../../core/types';
import { describeNodes } from './chaos';
import { encodeKvWrite } from './kv-state-machine';
import type { ProposalHandle } from './sim-node';
import { Simulation, type SimulationOptions } from './simulation';

/** A client write: a put of `key` (whose value is the key itself) and the handle of its last attempt. */
export interface Write {
  key: string;
  handle: ProposalHandle;
}

export type ScenarioOptions = Omit<SimulationOptions, 'seed' | 'nodes'> & { nodes?: number };

/** A simulation with the defaults of the scenarios (3 nodes, reliable network). */
export function newSim(seed: number, options: ScenarioOptions = {}): Simulation {
  return new Simulation({ nodes: 3, seed, ...options });
}

/** One election timeout of the simulation, in simulated milliseconds (the lower bound). */
export function electionTimeoutMs(sim: Simulation): number {
  return sim.options.electionTicks * sim.options.tickMs;
}

/** Fails the run (with seed, trace and node states) unless `ok`. */
export function check(sim: Simulation, ok: boolean, what: string): void {
  if (!ok) sim.fail(`${what}\n${describeNodes(sim)}`);
}

/**
 * The leader of `group` as its members see it: the one live member that leads at the highest term
 * any live member of the group has reached (a stale leader of an older term does not count).
 */
export function leaderOf(sim: Simulation, group: readonly NodeId[] = sim.ids): NodeId | undefined {
  const alive = group.filter((id) => sim.isAlive(id));
  if (alive.length === 0) return undefined;
  const top = Math.max(...alive.map((id) => sim.status(id).term));
  const leaders = alive.filter(
    (id) => sim.status(id).role === 'leader' && sim.status(id).term === top,
  );
  return leaders.length === 1 ? leaders[0] : undefined;
}

/** Runs until `group` has a leader (see `leaderOf`), at most `maxMs`; fails otherwise. */
export function awaitLeader(
  sim: Simulation,
  group: readonly NodeId[] = sim.ids,
  maxMs = 3000,
): NodeId {
  const found = sim.runUntil(() => leaderOf(sim, group) !== undefined, maxMs);
  check(sim, found, `no leader among ${group.join(',')} within ${maxMs} ms`);
  return leaderOf(sim, group)!;
}

/** Live nodes in `role`, whatever their term (for 'leader': a stale leader included). */
export function nodesInRole(sim: Simulation, role: 'leader' | 'follower'): NodeId[] {
  return sim.aliveIds().filter((id) => sim.status(id).role === role);
}

/** Live followers of the current leader. */
export function followersOf(sim: Simulation, leader: NodeId): NodeId[] {
  return sim.aliveIds().filter((id) => id !== leader);
}

/** Proposes the write `key` on `id` (no retry). */
export function proposeWrite(sim: Simulation, id: NodeId, key: string): Write {
  return { key, handle: sim.propose(id, encodeKvWrite({ op: 'put', key, value: key })) };
}

/** Does live node `id` hold `write` in its state machine? */
export function hasApplied(sim: Simulation, id: NodeId, write: Write): boolean {
  return sim.isAlive(id) && sim.node(id).sm.get(write.key) === write.key;
}

/** Live nodes that applied `write`. */
export function appliedOn(sim: Simulation, write: Write): NodeId[] {
  return sim.aliveIds().filter((id) => hasApplied(sim, id, write));
}

/**
 * The lab's `one()`: proposes `key` on the current leader, retrying (on whoever leads then) when
 * the attempt fails, stays unanswered for 2 s, or its node stops leading, until the write is
 * acknowledged and applied on at least `expectedNodes` live nodes. A retried put of the same key is
 * harmless. Fails after `maxMs`.
 */
export function commitOne(
  sim: Simulation,
  key: string,
  expectedNodes: number,
  maxMs = 10_000,
): Write {
  const deadline = sim.nowMs + maxMs;
  while (sim.nowMs < deadline) {
    const leader = leaderOf(sim, sim.aliveIds());
    if (leader === undefined) {
      sim.runFor(10);
      continue;
    }
    const write = proposeWrite(sim, leader, key);
    // Wait for the outcome, unless the node stops leading first (a cut-off leader steps down).
    sim.runUntil(
      () =>
        write.handle.outcome.status !== 'pending' ||
        !sim.isAlive(leader) ||
        sim.status(leader).role !== 'leader',
      2000,
    );
    if (write.handle.outcome.status !== 'committed') continue;
    const spread = sim.runUntil(
      () => appliedOn(sim, write).length >= expectedNodes,
      Math.max(0, deadline - sim.nowMs),
    );
    check(sim, spread, `${key} committed but applied on ${appliedOn(sim, write).join(',')} only`);
    return write;
  }
  return sim.fail(`${key} was not committed on ${expectedNodes} nodes within ${maxMs} ms`);
}

/** `commitOne` for `count` keys `${prefix}-1` … in sequence. */
export function commitMany(
  sim: Simulation,
  prefix: string,
  count: number,
  expectedNodes: number,
): Write[] {
  return Array.from({ length: count }, (_, i) =>
    commitOne(sim, `${prefix}-${i + 1}`, expectedNodes),
  );
}

/** Runs until every write in `writes` is committed (or failed otherwise); returns whether all committed. */
export function awaitCommitted(sim: Simulation, writes: readonly Write[], maxMs: number): boolean {
  return (
    sim.runUntil(() => writes.every((w) => w.handle.outcome.status !== 'pending'), maxMs) &&
    writes.every((w) => w.handle.outcome.status === 'committed')
  );
}

/** Fails unless each of `ids` (default: all nodes) is alive and applied every write. */
export function expectAppliedEverywhere(
  sim: Simulation,
  writes: readonly Write[],
  ids: readonly NodeId[] = sim.ids,
): void {
  for (const id of ids) {
    const missing = writes.filter((w) => !hasApplied(sim, id, w)).map((w) => w.key);
    check(
      sim,
      missing.length === 0,
      `${id} misses ${missing.length} writes: ${missing.slice(0, 10).join(',')}`,
    );
  }
}

/** Fails if any live node applied any of `writes`. */
export function expectAppliedNowhere(sim: Simulation, writes: readonly Write[]): void {
  for (const write of writes) {
    const on = appliedOn(sim, write);
    check(sim, on.length === 0, `${write.key} should never apply, but ${on.join(',')} applied it`);
  }
}

/**
 * Heals the network and restarts every node, then runs until all of them applied the highest
 * commit index any node reached and hold identical state machines. Returns the simulated time it took.
 */
export function healAndConverge(sim: Simulation, maxMs = 10_000): number {
  sim.heal();
  for (const id of sim.ids) sim.restart(id);
  const started = sim.nowMs;
  const converged = sim.runUntil(() => {
    const leader = leaderOf(sim);
    if (leader === undefined) return false;
    const goal = Math.max(sim.checker.highestCommitted, sim.status(leader).commit);
    return sim.ids.every((id) => sim.isAlive(id) && sim.status(id).applied >= goal);
  }, maxMs);
  check(sim, converged, `the healed cluster did not converge within ${maxMs} ms`);
  const states = sim.ids.map((id) => new TextDecoder().decode(sim.node(id).sm.snapshot()));
  check(sim, new Set(states).size === 1, 'converged nodes hold different state machines');
  sim.checker.checkLogMatching(sim.ids.map((id) => sim.node(id)));
  return sim.nowMs - started;
}

/** Tells the SafetyChecker that the client learned `write` committed (it then checks it stays). */
export function acknowledge(sim: Simulation, write: Write): void {
  const outcome = write.handle.outcome;
  if (outcome.status !== 'committed') return;
  sim.checker.acknowledge({
    index: outcome.index,
    term: outcome.term,
    type: EntryType.Normal,
    data: encodeKvWrite({ op: 'put', key: write.key, value: write.key }),
  });
}

/**
 * Clients that keep `concurrency` writes in flight on whichever node leads, through crashes and
 * partitions: an attempt refused, lost, abandoned by a crash or unanswered for `timeoutMs` is
 * replaced by a new write. Call `poll()` once per simulated millisecond.
 */
export class WritingClients {
  readonly writes: Write[] = [];
  private inFlight: Array<{ write: Write; sinceMs: number }> = [];
  private counter = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly prefix: string,
    private readonly concurrency = 3,
    private readonly timeoutMs = 1000,
  ) {}

  poll(): void {
    const now = this.sim.nowMs;
    this.inFlight = this.inFlight.filter(
      ({ write, sinceMs }) =>
        write.handle.outcome.status === 'pending' &&
        !this.sim.abandoned.has(write.handle) &&
        now - sinceMs < this.timeoutMs,
    );
    const leader = this.sim.leader();
    if (leader === undefined) return;
    while (this.inFlight.length < this.concurrency) {
      const write = proposeWrite(this.sim, leader.id, `${this.prefix}-${++this.counter}`);
      this.writes.push(write);
      this.inFlight.push({ write, sinceMs: now });
    }
  }

  /** Writes whose client was told they committed. */
  get committed(): Write[] {
    return this.writes.filter((w) => w.handle.outcome.status === 'committed');
  }
}

/** Runs `ms` of simulated time, letting `clients` write and `each` inject faults before every step. */
export function runWithClients(
  sim: Simulation,
  ms: number,
  clients: WritingClients,
  each: () => void = () => undefined,
): void {
  for (let i = 0; i < ms; i++) {
    each();
    clients.poll();
    sim.step();
  }
}

/** Leaders seen per term while it ran: the script's own view of election safety. */
export class LeaderWatch {
  readonly leadersByTerm = new Map<number, Set<NodeId>>();

  constructor(private readonly sim: Simulation) {}

  observe(): void {
    for (const id of this.sim.aliveIds()) {
      const status = this.sim.status(id);
      if (status.role !== 'leader') continue;
      let leaders = this.leadersByTerm.get(status.term);
      if (leaders === undefined) this.leadersByTerm.set(status.term, (leaders = new Set()));
      leaders.add(id);
    }
  }

  /** `sim.runUntil`, observing before every step. */
  runUntil(done: () => boolean, maxMs: number): boolean {
    return this.sim.runUntil(() => {
      this.observe();
      return done();
    }, maxMs);
  }

  runFor(ms: number): void {
    this.runUntil(() => false, ms);
  }

  /** Terms that had more than one leader (none, if Raft is right). */
  termsWithSeveralLeaders(): number[] {
    return [...this.leadersByTerm].filter(([, ids]) => ids.size > 1).map(([term]) => term);
  }
}
