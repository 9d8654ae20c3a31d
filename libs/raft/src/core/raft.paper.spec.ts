/**
 * The pure Raft core against the rules of the Raft paper ("In Search of an Understandable Consensus
 * Algorithm", extended version) and the thesis extensions it implements (pre-vote, check-quorum,
 * ReadIndex, leader transfer, single-server membership changes). Each `describe` names the section.
 *
 * The tests drive `RaftCore` instances directly: `step()` feeds a message, `ready()` shows what the
 * core wants persisted and sent, `advance()` says the driver did it. `CoreCluster` below is a tiny
 * in-memory network that pumps Readies between cores until nothing moves, with links that can be cut.
 */
import { NotLeaderError, ProposalDroppedError } from './errors';
import { encodeConfChange } from './membership';
import { RaftCore, type RaftOptions } from './raft';
import {
  EntryType,
  MessageType,
  type ConfChange,
  type Entry,
  type HardState,
  type Member,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
} from './types';

const ELECTION_TICKS = 10;
const THREE = ['n1', 'n2', 'n3'];
const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'];

// ---- helpers ------------------------------------------------------------------------------------

interface CoreSetup {
  voters?: NodeId[];
  learners?: NodeId[];
  /** The log, as the term of each entry from index 1 (Figure 7 style). */
  logTerms?: number[];
  /** Extra log entries after `logTerms` (membership changes). */
  extraEntries?: Entry[];
  /** Persisted hard state; the term defaults to the last entry's. */
  hardState?: Partial<HardState>;
  options?: Partial<Omit<RaftOptions, 'id'>>;
}

function newCore(id: NodeId, setup: CoreSetup = {}): RaftCore {
  const members: Member[] = [
    ...(setup.voters ?? THREE).map((m) => ({
      id: m,
      role: 'voter' as const,
      peerAddress: `${m}:1`,
    })),
    ...(setup.learners ?? []).map((m) => ({
      id: m,
      role: 'learner' as const,
      peerAddress: `${m}:1`,
    })),
  ];
  const entries = [...logOf(setup.logTerms ?? []), ...(setup.extraEntries ?? [])];
  const lastTerm = entries[entries.length - 1]?.term ?? 0;
  return new RaftCore(
    {
      id,
      random: () => 0.5,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      ...setup.options,
    },
    {
      hardState: { term: lastTerm, vote: '', commit: 0, ...setup.hardState },
      snapshot: { index: 0, term: 0, membership: { members } },
      entries,
    },
  );
}

const encoder = new TextEncoder();

function entry(index: number, term: number, data = ''): Entry {
  return { index, term, type: EntryType.Normal, data: encoder.encode(data) };
}

function logOf(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => entry(i + 1, term, `e${i + 1}`));
}

function confEntry(index: number, term: number, change: ConfChange): Entry {
  return { index, term, type: EntryType.ConfChange, data: encodeConfChange(change) };
}

function msg(
  type: MessageType,
  from: NodeId,
  to: NodeId,
  term: number,
  fields: Partial<Message> = {},
): Message {
  return { type, from, to, term, ...fields };
}

/** Takes the core's Ready and acknowledges it at once (the driver persisted, sent and applied it). */
function takeReady(core: RaftCore): Ready {
  expect(core.hasReady()).toBe(true);
  const ready = core.ready();
  core.advance(ready);
  return ready;
}

function outbox(ready: Ready): Message[] {
  return [...ready.messages, ...ready.messagesAfterPersist];
}

function ofType(messages: readonly Message[], type: MessageType): Message[] {
  return messages.filter((m) => m.type === type);
}

/** The (index, term) pairs of a core's log: what Figure 7 compares. */
function termsOf(core: RaftCore): number[] {
  const terms: number[] = [];
  for (let i = core.log.firstIndex; i <= core.log.lastIndex; i++) terms.push(core.log.termAt(i)!);
  return terms;
}

/** A candidate that becomes leader of `term` + 1 by stepping grants from `grantors` (no network). */
function electDirectly(core: RaftCore, grantors: NodeId[]): void {
  core.campaign();
  const term = core.status().term;
  for (const from of grantors) core.step(msg(MessageType.VoteResp, from, core.id, term));
  expect(core.status().role).toBe('leader');
}

/**
 * A minimal in-memory network: delivers every message of every Ready, in order, until no core has
 * anything left to say. Links can be cut one way; messages to cores that are not here vanish.
 */
class CoreCluster {
  readonly cores = new Map<NodeId, RaftCore>();
  /** Every message the cores sent (through `pump`), whether or not a cut link dropped it. */
  readonly sent: Message[] = [];
  /** Every message that reached its destination, in delivery order. */
  readonly delivered: Message[] = [];
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly applied = new Map<NodeId, Entry[]>();
  private readonly cut = new Set<string>();

  constructor(cores: RaftCore[]) {
    for (const core of cores) {
      this.cores.set(core.id, core);
      this.readStates.set(core.id, []);
      this.applied.set(core.id, []);
    }
  }

  core(id: NodeId): RaftCore {
    const core = this.cores.get(id);
    if (core === undefined) throw new Error(`no core ${id}`);
    return core;
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}->${to}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.cores.keys()) {
      if (other === id) continue;
      this.cutLink(id, other);
      this.cutLink(other, id);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Steps `messages` into their targets (over links that are not cut), as the network would. */
  deliver(messages: readonly Message[]): void {
    for (const m of messages) {
      const target = this.cores.get(m.to);
      if (target === undefined || this.cut.has(`${m.from}->${m.to}`)) continue;
      this.delivered.push(m);
      target.step(m);
    }
  }

  /** Delivers messages until the cluster is quiet. */
  pump(): void {
    for (let round = 0; round < 1000; round++) {
      const queue: Message[] = [];
      for (const core of this.cores.values()) {
        if (!core.hasReady()) continue;
        const ready = core.ready();
        queue.push(...outbox(ready));
        this.sent.push(...outbox(ready));
        this.readStates.get(core.id)!.push(...ready.readStates);
        this.applied.get(core.id)!.push(...ready.committedEntries);
        core.advance(ready);
      }
      if (queue.length === 0) return;
      this.deliver(queue);
    }
    throw new Error('the cluster did not settle in 1000 rounds');
  }

  /** `times` ticks of every core (or of `only`), pumping the network after each. */
  tick(times = 1, only?: NodeId[]): void {
    for (let i = 0; i < times; i++) {
      for (const [id, core] of this.cores) if (only === undefined || only.includes(id)) core.tick();
      this.pump();
    }
  }

  /** `id` campaigns and the network runs until it is leader (and its no-op is committed). */
  elect(id: NodeId): RaftCore {
    const core = this.core(id);
    core.campaign();
    this.pump();
    expect(core.status().role).toBe('leader');
    return core;
  }

  deliveredOf(type: MessageType): Message[] {
    return ofType(this.delivered, type);
  }
}

/** A cluster of cores with the same setup (all voters unless `setup` says otherwise). */
function cluster(ids: NodeId[], setup: CoreSetup = {}): CoreCluster {
  return new CoreCluster(ids.map((id) => newCore(id, { voters: ids, ...setup })));
}

// ---- §5.1 -----------------------------------------------------------------------------------------

describe('§5.1 terms', () => {
  it('a follower that sees a higher term adopts it, forgets its vote, and persists both', () => {
    const follower = newCore('n1', { hardState: { term: 2, vote: 'n3' } });
    follower.step(msg(MessageType.Heartbeat, 'n2', 'n1', 5, { commit: 0 }));

    const status = follower.status();
    expect(status).toMatchObject({ role: 'follower', term: 5, vote: '', leaderId: 'n2' });
    expect(takeReady(follower).hardState).toEqual({ term: 5, vote: '', commit: 0 });
  });

  it('a leader that sees a higher term steps down to follower of that term', () => {
    const leader = newCore('n1', { options: { preVote: false } });
    electDirectly(leader, ['n2']);
    takeReady(leader);

    leader.step(msg(MessageType.AppendResp, 'n3', 'n1', 3, { logIndex: 0 }));

    expect(leader.status()).toMatchObject({ role: 'follower', term: 3, leaderId: '' });
  });

  it('a candidate that hears from a leader of a higher term becomes its follower', () => {
    const candidate = newCore('n1', { options: { preVote: false } });
    candidate.campaign();
    expect(candidate.status()).toMatchObject({ role: 'candidate', term: 1 });

    candidate.step(msg(MessageType.Heartbeat, 'n3', 'n1', 2, { commit: 0 }));

    expect(candidate.status()).toMatchObject({ role: 'follower', term: 2, leaderId: 'n3' });
  });

  it('an Append of a stale term is refused, and the answer makes the stale leader step down', () => {
    const staleLeader = newCore('n1', { logTerms: [1], options: { preVote: false } });
    electDirectly(staleLeader, ['n2']); // term 2
    const follower = newCore('n3', { logTerms: [1], hardState: { term: 3 } });

    const append = ofType(outbox(takeReady(staleLeader)), MessageType.Append).find(
      (m) => m.to === 'n3',
    )!;
    expect(append).toMatchObject({ term: 2, entries: [{ index: 2, term: 2 }] });
    follower.step(append);

    expect(follower.status()).toMatchObject({ term: 3, lastIndex: 1 });
    const [answer] = outbox(takeReady(follower));
    expect(answer).toMatchObject({ type: MessageType.AppendResp, to: 'n1', term: 3 });

    staleLeader.step(answer);
    expect(staleLeader.status()).toMatchObject({ role: 'follower', term: 3 });
  });

  it('a vote request of a stale term is ignored: no vote, no answer', () => {
    const voter = newCore('n1', { hardState: { term: 3 } });
    voter.step(msg(MessageType.Vote, 'n2', 'n1', 2, { logIndex: 10, logTerm: 2 }));

    expect(voter.status()).toMatchObject({ term: 3, vote: '' });
    expect(voter.hasReady()).toBe(false);
  });

  it('a vote granted in an earlier term is not counted by a candidate of a later term', () => {
    const candidate = newCore('n1', { hardState: { term: 2 }, options: { preVote: false } });
    candidate.campaign(); // term 3

    candidate.step(msg(MessageType.VoteResp, 'n2', 'n1', 2)); // a late answer from term 2

    expect(candidate.status()).toMatchObject({ role: 'candidate', term: 3 });
  });
});

// ---- §5.2 -----------------------------------------------------------------------------------------

describe('§5.2 leader election', () => {
  it('a candidate votes for itself, persists term and vote, and asks every other voter only after that write', () => {
    const candidate = newCore('n1', { voters: FIVE, options: { preVote: false } });
    candidate.campaign();

    const ready = takeReady(candidate);
    expect(ready.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    expect(ready.messages).toEqual([]);
    expect(ready.messagesAfterPersist.map((m) => [m.type, m.to, m.term])).toEqual([
      [MessageType.Vote, 'n2', 1],
      [MessageType.Vote, 'n3', 1],
      [MessageType.Vote, 'n4', 1],
      [MessageType.Vote, 'n5', 1],
    ]);
  });

  it('a follower grants one vote per term, persisted in the same Ready whose messagesAfterPersist carries the grant', () => {
    const voter = newCore('n1');
    voter.step(msg(MessageType.Vote, 'n2', 'n1', 1, { logIndex: 0, logTerm: 0 }));

    const first = takeReady(voter);
    expect(first.hardState).toEqual({ term: 1, vote: 'n2', commit: 0 });
    expect(first.messages).toEqual([]);
    expect(first.messagesAfterPersist).toEqual([
      { type: MessageType.VoteResp, from: 'n1', to: 'n2', term: 1, reject: false },
    ]);

    voter.step(msg(MessageType.Vote, 'n3', 'n1', 1, { logIndex: 0, logTerm: 0 }));
    const second = takeReady(voter);
    expect(second.hardState).toBeUndefined();
    expect(second.messagesAfterPersist).toEqual([
      { type: MessageType.VoteResp, from: 'n1', to: 'n3', term: 1, reject: true },
    ]);
  });

  it('a repeated request from the candidate it voted for is granted again (the first answer may be lost)', () => {
    const voter = newCore('n1');
    const request = msg(MessageType.Vote, 'n2', 'n1', 1, { logIndex: 0, logTerm: 0 });
    voter.step(request);
    takeReady(voter);
    voter.step(request);

    expect(takeReady(voter).messagesAfterPersist).toEqual([
      { type: MessageType.VoteResp, from: 'n1', to: 'n2', term: 1, reject: false },
    ]);
  });

  it('the vote survives a restart: a node reloaded from its persisted hard state refuses a second candidate', () => {
    const voter = newCore('n1');
    voter.step(msg(MessageType.Vote, 'n2', 'n1', 1, { logIndex: 0, logTerm: 0 }));
    const persisted = takeReady(voter).hardState!;

    const restarted = newCore('n1', { hardState: persisted });
    restarted.step(msg(MessageType.Vote, 'n3', 'n1', 1, { logIndex: 0, logTerm: 0 }));

    expect(outbox(takeReady(restarted))).toEqual([
      { type: MessageType.VoteResp, from: 'n1', to: 'n3', term: 1, reject: true },
    ]);
  });

  it('a candidate becomes leader on a majority of grants (3 of 5) and appends a no-op of its term', () => {
    const candidate = newCore('n1', { voters: FIVE, options: { preVote: false } });
    candidate.campaign();
    takeReady(candidate);

    candidate.step(msg(MessageType.VoteResp, 'n2', 'n1', 1));
    expect(candidate.status().role).toBe('candidate');
    candidate.step(msg(MessageType.VoteResp, 'n3', 'n1', 1, { reject: true }));
    expect(candidate.status().role).toBe('candidate');
    candidate.step(msg(MessageType.VoteResp, 'n4', 'n1', 1));

    expect(candidate.status()).toMatchObject({ role: 'leader', term: 1, leaderId: 'n1' });
    const ready = takeReady(candidate);
    expect(ready.softState).toEqual({ role: 'leader', leaderId: 'n1' });
    expect(ready.entries).toEqual([
      { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) },
    ]);
    expect(ofType(ready.messages, MessageType.Append)).toHaveLength(4);
  });

  it('a candidate that hears from a leader of its own term (another candidate won) returns to follower', () => {
    const candidate = newCore('n1', { options: { preVote: false } });
    candidate.campaign();
    candidate.step(
      msg(MessageType.Append, 'n2', 'n1', 1, {
        logIndex: 0,
        logTerm: 0,
        entries: [entry(1, 1)],
        commit: 0,
      }),
    );

    expect(candidate.status()).toMatchObject({
      role: 'follower',
      term: 1,
      leaderId: 'n2',
      lastIndex: 1,
    });
  });

  it('a candidate refused by a majority returns to follower', () => {
    const candidate = newCore('n1', { options: { preVote: false } });
    candidate.campaign();
    candidate.step(msg(MessageType.VoteResp, 'n2', 'n1', 1, { reject: true }));
    candidate.step(msg(MessageType.VoteResp, 'n3', 'n1', 1, { reject: true }));

    expect(candidate.status()).toMatchObject({ role: 'follower', term: 1 });
  });

  it.each([
    [0, 10],
    [0.25, 12],
    [0.5, 15],
    [0.999, 19],
  ])(
    'the election timeout is randomized in [electionTicks, 2 × electionTicks): draw %f campaigns after %i ticks',
    (draw, expectedTicks) => {
      const follower = newCore('n1', { options: { random: () => draw } });
      let ticks = 0;
      while (follower.status().role === 'follower' && ticks < 100) {
        follower.tick();
        ticks += 1;
      }
      expect(ticks).toBe(expectedTicks);
      expect(ticks).toBeGreaterThanOrEqual(ELECTION_TICKS);
      expect(ticks).toBeLessThan(2 * ELECTION_TICKS);
    },
  );

  it('each new term draws a new election timeout', () => {
    const draws = [0, 0.9];
    const candidate = newCore('n1', {
      options: { preVote: false, random: () => draws.shift() ?? 0.5 },
    });
    const ticksToTerm = (term: number): number => {
      let ticks = 0;
      while (candidate.status().term < term) {
        candidate.tick();
        ticks += 1;
      }
      return ticks;
    };
    expect(ticksToTerm(1)).toBe(10); // draw 0
    expect(ticksToTerm(2)).toBe(19); // the split vote times out after draw 0.9
  });
});

// ---- §5.4.1 ---------------------------------------------------------------------------------------

describe('§5.4.1 election restriction: votes go only to candidates whose log is at least as up-to-date', () => {
  // The voter's log: index 1 and 2 of term 1, index 3 of term 2 (last term 2, last index 3).
  it.each([
    {
      kind: MessageType.Vote,
      lastTerm: 1,
      lastIndex: 5,
      granted: false,
      why: 'lower last term, though longer',
    },
    {
      kind: MessageType.Vote,
      lastTerm: 2,
      lastIndex: 2,
      granted: false,
      why: 'same last term, shorter',
    },
    {
      kind: MessageType.Vote,
      lastTerm: 2,
      lastIndex: 3,
      granted: true,
      why: 'same last term and length',
    },
    {
      kind: MessageType.Vote,
      lastTerm: 2,
      lastIndex: 4,
      granted: true,
      why: 'same last term, longer',
    },
    {
      kind: MessageType.Vote,
      lastTerm: 3,
      lastIndex: 1,
      granted: true,
      why: 'higher last term, though shorter',
    },
    {
      kind: MessageType.PreVote,
      lastTerm: 1,
      lastIndex: 5,
      granted: false,
      why: 'pre-vote: lower last term',
    },
    {
      kind: MessageType.PreVote,
      lastTerm: 3,
      lastIndex: 1,
      granted: true,
      why: 'pre-vote: higher last term',
    },
  ])(
    '$kind from a candidate with last (term $lastTerm, index $lastIndex): granted=$granted ($why)',
    ({ kind, lastTerm, lastIndex, granted }) => {
      const voter = newCore('n1', { logTerms: [1, 1, 2] });
      voter.step(msg(kind, 'n2', 'n1', 3, { logIndex: lastIndex, logTerm: lastTerm }));

      const [answer] = outbox(takeReady(voter));
      expect(answer).toMatchObject({
        type: kind === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp,
        to: 'n2',
        reject: !granted,
      });
      expect(voter.status().vote).toBe(kind === MessageType.Vote && granted ? 'n2' : '');
    },
  );
});

// ---- §5.3 -----------------------------------------------------------------------------------------

describe('§5.3 log replication on the follower', () => {
  it('appends entries after a matching previous entry and acknowledges the last new index, after persisting them', () => {
    const follower = newCore('n2', { logTerms: [1, 1] });
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 1, {
        logIndex: 2,
        logTerm: 1,
        entries: [entry(3, 1), entry(4, 1)],
        commit: 3,
      }),
    );

    const ready = takeReady(follower);
    expect(ready.entries.map((e) => e.index)).toEqual([3, 4]);
    expect(ready.messagesAfterPersist).toEqual([
      { type: MessageType.AppendResp, from: 'n2', to: 'n1', term: 1, logIndex: 4 },
    ]);
    expect(follower.status()).toMatchObject({ lastIndex: 4, commit: 3, leaderId: 'n1' });
  });

  it('deletes the conflicting entry and all that follow it, then appends the new ones', () => {
    const follower = newCore('n2', { logTerms: [1, 1, 2, 2, 2] });
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 3, {
        logIndex: 2,
        logTerm: 1,
        entries: [entry(3, 3, 'new')],
        commit: 0,
      }),
    );

    expect(termsOf(follower)).toEqual([1, 1, 3]);
    const ready = takeReady(follower);
    expect(ready.entries).toEqual([entry(3, 3, 'new')]);
    expect(outbox(ready)).toEqual([
      { type: MessageType.AppendResp, from: 'n2', to: 'n1', term: 3, logIndex: 3 },
    ]);
  });

  it('keeps entries it already has: a late, duplicated Append does not truncate what follows', () => {
    const follower = newCore('n2', { logTerms: [1, 1, 1] });
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 1, {
        logIndex: 1,
        logTerm: 1,
        entries: [entry(2, 1, 'e2')],
        commit: 0,
      }),
    );

    expect(follower.status().lastIndex).toBe(3);
    expect(outbox(takeReady(follower))).toEqual([
      { type: MessageType.AppendResp, from: 'n2', to: 'n1', term: 1, logIndex: 2 },
    ]);
  });

  it('rejects an Append whose previous entry it lacks, with a hint at its last entry', () => {
    const follower = newCore('n2', { logTerms: [1, 1, 2, 2] });
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 3, { logIndex: 7, logTerm: 3, entries: [], commit: 0 }),
    );

    expect(outbox(takeReady(follower))).toEqual([
      {
        type: MessageType.AppendResp,
        from: 'n2',
        to: 'n1',
        term: 3,
        logIndex: 7,
        reject: true,
        rejectHint: 4,
        logTerm: 2,
      },
    ]);
    expect(follower.status().lastIndex).toBe(4);
  });

  it('rejects a conflicting previous entry with a hint that skips the whole conflicting term', () => {
    // The follower's log has term 3 at 4..6; the leader (whose entry 6 is of term 4) probes at 6.
    const follower = newCore('n2', { logTerms: [1, 1, 2, 3, 3, 3] });
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 5, { logIndex: 6, logTerm: 4, entries: [], commit: 0 }),
    );

    // The last entry with a term ≤ 4 is 6 (term 3): the leader looks up its own last entry of a
    // term ≤ 3 and retries right after it, instead of one index at a time.
    expect(outbox(takeReady(follower))[0]).toMatchObject({
      reject: true,
      logIndex: 6,
      rejectHint: 6,
      logTerm: 3,
    });

    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 5, { logIndex: 5, logTerm: 2, entries: [], commit: 0 }),
    );
    // Entry 5 is of term 3 > 2: the hint skips back to 3, the last entry of a term ≤ 2.
    expect(outbox(takeReady(follower))[0]).toMatchObject({
      reject: true,
      logIndex: 5,
      rejectHint: 3,
      logTerm: 2,
    });
  });

  it('advances its commit index with the leader, but never past the entries the Append confirmed', () => {
    const follower = newCore('n2', { logTerms: [1, 1, 7, 7] }); // 3 and 4 are unverified
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 8, {
        logIndex: 1,
        logTerm: 1,
        entries: [entry(2, 1, 'e2')],
        commit: 5,
      }),
    );
    expect(follower.status().commit).toBe(2);
  });
});

// ---- Figure 7 -------------------------------------------------------------------------------------

describe('Figure 7: a leader of term 8 brings every follower log into agreement with its own', () => {
  const LEADER_LOG = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const FOLLOWERS: Array<[string, number[]]> = [
    ['(a) missing one entry', [1, 1, 1, 4, 4, 5, 5, 6, 6]],
    ['(b) missing many entries', [1, 1, 1, 4]],
    ['(c) one extra uncommitted entry', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]],
    ['(d) two extra entries of term 7', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]],
    ['(e) missing entries, extra entries of term 4', [1, 1, 1, 4, 4, 4, 4]],
    ['(f) extra entries of terms 2 and 3', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]],
  ];

  it.each(FOLLOWERS)('follower %s', (_name, followerLog) => {
    // n3 is a third voter that only grants the vote (Figure 7 does not show it).
    const leader = newCore('n1', {
      logTerms: LEADER_LOG,
      hardState: { term: 7 },
      options: { preVote: false },
    });
    const follower = newCore('n2', {
      logTerms: followerLog,
      hardState: { term: Math.max(...followerLog) },
    });
    electDirectly(leader, ['n3']);
    expect(leader.status().term).toBe(8);

    const net = new CoreCluster([leader, follower]);
    net.pump();

    const expected = [...LEADER_LOG, 8];
    expect(termsOf(leader)).toEqual(expected);
    expect(termsOf(follower)).toEqual(expected);
    for (let i = 1; i <= expected.length; i++)
      expect(follower.log.entryAt(i)).toEqual(leader.log.entryAt(i));
    // The no-op of term 8 is on n1 and n2, a majority of three: everything is committed.
    expect(leader.status().commit).toBe(11);
    expect(follower.status().commit).toBe(11);
    // Fast backtracking: at most one rejected probe per follower in Figure 7.
    expect(
      net.deliveredOf(MessageType.AppendResp).filter((m) => m.reject).length,
    ).toBeLessThanOrEqual(1);
  });
});

// ---- Figure 8 -------------------------------------------------------------------------------------

describe('Figure 8 / §5.4.2: a leader never commits an entry of an earlier term by counting replicas', () => {
  /**
   * Figure 8 (c): S1 leads term 4 with [1@1, 2@2] and its no-op 3@4; entry 2 (of term 2) reaches
   * S2 and S3, a majority of five, before any of them stores 3. S5 (holding 2@3) could still be
   * elected by S2, S3, S4 and overwrite index 2, so S1 must wait until 3@4 is on a majority.
   */
  function figure8Leader(bugs?: RaftOptions['bugs']): RaftCore {
    const s1 = newCore('n1', {
      voters: FIVE,
      logTerms: [1, 2],
      hardState: { term: 3, commit: 1 },
      options: { preVote: false, bugs },
    });
    electDirectly(s1, ['n2', 'n3']);
    expect(s1.status()).toMatchObject({ term: 4, lastIndex: 3 });
    takeReady(s1); // S1 persisted its no-op: its own match is 3
    return s1;
  }

  const ack = (from: NodeId, logIndex: number): Message =>
    msg(MessageType.AppendResp, from, 'n1', 4, { logIndex });

  it('entry 2 of term 2 on three of five nodes is not committed; it is once the no-op of term 4 is', () => {
    const s1 = figure8Leader();

    s1.step(ack('n2', 2));
    s1.step(ack('n3', 2));
    expect(s1.status().commit).toBe(1);

    s1.step(ack('n2', 3));
    expect(s1.status().commit).toBe(1); // 3@4 is on S1 and S2 only

    s1.step(ack('n3', 3));
    expect(s1.status().commit).toBe(3);
    // Committing 3@4 commits 2@2 with it (Log Matching): both are handed out to apply.
    expect(takeReady(s1).committedEntries.map((e) => [e.index, e.term])).toEqual([
      [2, 2],
      [3, 4],
    ]);
  });

  it('the test has teeth: with the injected commitPreviousTermEntries bug, the same replies commit entry 2 too early', () => {
    const s1 = figure8Leader({ commitPreviousTermEntries: true });
    s1.step(ack('n2', 2));
    s1.step(ack('n3', 2));
    expect(s1.status().commit).toBe(2);
  });
});

// ---- pre-vote -------------------------------------------------------------------------------------

describe('pre-vote (thesis §9.6)', () => {
  it('a pre-candidate asks for the next term without taking it, and a voter changes nothing by answering', () => {
    const candidate = newCore('n1');
    candidate.campaign();
    expect(candidate.status()).toMatchObject({ role: 'pre-candidate', term: 0, vote: '' });
    const requests = outbox(takeReady(candidate));
    expect(requests.map((m) => [m.type, m.term])).toEqual([
      [MessageType.PreVote, 1],
      [MessageType.PreVote, 1],
    ]);

    const voter = newCore('n2');
    voter.step(requests[0]);
    expect(voter.status()).toMatchObject({ term: 0, vote: '' });
    const ready = takeReady(voter);
    expect(ready.hardState).toBeUndefined();
    expect(outbox(ready)).toEqual([
      { type: MessageType.PreVoteResp, from: 'n2', to: 'n1', term: 1, reject: false },
    ]);
  });

  it('a node partitioned away for many election timeouts rejoins without bumping the term', () => {
    const net = cluster(THREE);
    net.elect('n1');
    net.isolate('n3');
    net.tick(10 * ELECTION_TICKS);
    expect(net.core('n3').status()).toMatchObject({ role: 'pre-candidate', term: 1 });

    net.heal();
    net.tick(2);

    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
    expect(net.deliveredOf(MessageType.Vote)).toHaveLength(2); // only those of n1's own election
  });

  it('a node that stops hearing the leader (one-way cut) cannot win a pre-vote while the others still do', () => {
    const net = cluster(THREE);
    net.elect('n1');
    net.cutLink('n1', 'n3'); // n3 still reaches n1 and n2

    net.tick(10 * ELECTION_TICKS);

    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.core('n3').status()).toMatchObject({ role: 'pre-candidate', term: 1 });
  });

  /**
   * Thesis §9.6: a voter still hearing from a valid leader refuses pre-votes even without
   * check-quorum (this test found the core applying that lease only under check-quorum).
   */
  it('pre-vote alone (check-quorum off) keeps a node that stops hearing the leader from deposing it (§9.6)', () => {
    const net = cluster(THREE, { options: { checkQuorum: false } });
    net.elect('n1');
    net.cutLink('n1', 'n3'); // n3 no longer hears n1, but n1 and n2 hear each other

    net.tick(10 * ELECTION_TICKS);

    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('control: without pre-vote the same rejoin disrupts the cluster with a higher term', () => {
    const net = cluster(THREE, { options: { preVote: false } });
    net.elect('n1');
    net.isolate('n3');
    net.tick(10 * ELECTION_TICKS);
    expect(net.core('n3').status().term).toBeGreaterThan(1);

    net.heal();
    net.tick(1);

    expect(net.core('n1').status().term).toBeGreaterThan(1);
  });
});

// ---- fast failover ----------------------------------------------------------------------------------

/** A follower of leader n1 in term 1 (it heard n1's heartbeat), with its own PRNG. */
function followerOfN1(id: NodeId, random: () => number, options: CoreSetup['options'] = {}) {
  const core = newCore(id, { hardState: { term: 1 }, options: { random, ...options } });
  core.step(msg(MessageType.Heartbeat, 'n1', id, 1, { commit: 0 }));
  takeReady(core);
  return core;
}

/** Three cores whose PRNGs differ: a campaign delay of 1 tick for n2, 3 ticks for n3 (max 3). */
function clusterWithDelays(): CoreCluster {
  const randoms: Record<NodeId, () => number> = { n1: () => 0.5, n2: () => 0, n3: () => 0.99 };
  return new CoreCluster(
    THREE.map((id) =>
      newCore(id, { options: { random: randoms[id], leaderUnreachableCampaignTicksMax: 3 } }),
    ),
  );
}

describe('fast failover: the driver reports the leader unreachable (a liveness shortcut beside §5.2)', () => {
  it('a follower told its leader is unreachable starts a pre-vote after a random 1..max ticks, not its election timeout', () => {
    const follower = followerOfN1('n2', () => 0.99, { leaderUnreachableCampaignTicksMax: 3 });

    expect(follower.reportLeaderUnreachable('n1')).toBe(true);
    follower.tick();
    follower.tick();
    expect(follower.status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
    follower.tick(); // 1 + floor(0.99 * 3) = 3 ticks

    expect(follower.status()).toMatchObject({ role: 'pre-candidate', term: 1 });
    expect(outbox(takeReady(follower)).map((m) => [m.type, m.to, m.term])).toEqual([
      [MessageType.PreVote, 'n1', 2],
      [MessageType.PreVote, 'n3', 2],
    ]);
  });

  it('when the leader is gone and both followers are told, one of them leads the next term within a few ticks', () => {
    const net = clusterWithDelays();
    net.elect('n1');
    net.isolate('n1'); // the leader's process died

    expect(net.core('n2').reportLeaderUnreachable('n1')).toBe(true);
    expect(net.core('n3').reportLeaderUnreachable('n1')).toBe(true);
    net.tick(1, ['n2', 'n3']);

    // n3 granted the pre-vote and the vote at once: it no longer honoured n1's lease.
    expect(net.core('n2').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 2, leaderId: 'n2' });
    const afterTerm1 = net.deliveredOf(MessageType.PreVote).filter((m) => m.term > 1);
    expect(afterTerm1.map((m) => [m.from, m.to])).toEqual([['n2', 'n3']]);
  });

  it('both followers campaigning in the same tick do not split the vote: the lower id leads, without a second election', () => {
    const net = new CoreCluster(
      THREE.map((id) => newCore(id, { options: { random: () => 0 } })), // same delay for both
    );
    net.elect('n1');
    net.isolate('n1');
    net.core('n2').reportLeaderUnreachable('n1');
    net.core('n3').reportLeaderUnreachable('n1');

    net.tick(1, ['n2', 'n3']); // both pre-vote in this tick, before either hears the other

    expect(net.core('n2').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 2, leaderId: 'n2' });
    const refused = net.deliveredOf(MessageType.PreVoteResp).filter((m) => m.reject);
    expect(refused.map((m) => [m.from, m.to])).toEqual([['n2', 'n3']]);
    expect(net.deliveredOf(MessageType.Vote).filter((m) => m.term === 2)).toHaveLength(1);
  });

  it('two followers told a tick apart do not split the vote either: the lower id leads, without a second election', () => {
    const net = new CoreCluster(THREE.map((id) => newCore(id, { options: { random: () => 0 } })));
    net.elect('n1');
    net.isolate('n1');
    net.core('n2').reportLeaderUnreachable('n1');
    net.tick(1, ['n2', 'n3']); // n2 pre-votes; n3, not told yet, still honours n1's lease
    net.core('n3').reportLeaderUnreachable('n1');

    net.tick(3, ['n2', 'n3']); // n3 pre-votes a tick into n2's pre-vote, n2 asks n3 again

    expect(net.core('n2').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 2, leaderId: 'n2' });
    expect(net.deliveredOf(MessageType.Vote).filter((m) => m.term === 2)).toHaveLength(1);
  });

  it('a pre-candidate refuses a higher id its pre-vote in the first ticks of its own, and grants it after them', () => {
    const core = newCore('n2', { hardState: { term: 1 }, options: { random: () => 0 } });
    core.campaign();
    core.tick(); // its pre-vote started a tick ago
    takeReady(core);
    core.step(msg(MessageType.PreVote, 'n3', 'n2', 2, { logIndex: 0, logTerm: 0 }));
    expect(outbox(takeReady(core))).toEqual([
      { type: MessageType.PreVoteResp, from: 'n2', to: 'n3', term: 1, reject: true },
    ]);

    core.tick();
    core.tick(); // three ticks (leaderUnreachableCampaignTicksMax): a doomed pre-vote blocks no more
    takeReady(core);
    core.step(msg(MessageType.PreVote, 'n3', 'n2', 2, { logIndex: 0, logTerm: 0 }));
    expect(outbox(takeReady(core))).toEqual([
      { type: MessageType.PreVoteResp, from: 'n2', to: 'n3', term: 2, reject: false },
    ]);
  });

  it('control: without the report the followers wait out their election timeout', () => {
    const net = clusterWithDelays();
    net.elect('n1');
    net.isolate('n1');

    net.tick(ELECTION_TICKS - 1, ['n2', 'n3']);

    expect(net.core('n2').status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
  });

  it('a false alarm: the pre-vote is refused by a follower that still hears the leader, and no term changes', () => {
    const net = clusterWithDelays();
    net.elect('n1');
    net.cutLink('n1', 'n2'); // n2 lost its connection from the leader, which is alive

    expect(net.core('n2').reportLeaderUnreachable('n1')).toBe(true);
    net.tick(ELECTION_TICKS - 1);

    expect(net.core('n2').status()).toMatchObject({ role: 'pre-candidate', term: 1 });
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 1, vote: 'n1' });
    const preVotes = net.deliveredOf(MessageType.PreVote).filter((m) => m.term > 1);
    expect(preVotes.length).toBeGreaterThan(0);
    const granted = net.deliveredOf(MessageType.PreVoteResp).filter((m) => m.term > 1 && !m.reject);
    expect(granted).toEqual([]);
    expect(net.deliveredOf(MessageType.Vote)).toHaveLength(2); // n1's own election only

    net.heal();
    net.tick(1);
    expect(net.core('n2').status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('a false alarm cut short: hearing from the leader cancels the early campaign', () => {
    const net = clusterWithDelays();
    net.elect('n1');

    expect(net.core('n3').reportLeaderUnreachable('n1')).toBe(true);
    net.tick(2 * ELECTION_TICKS);

    expect(net.core('n3').status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
    expect(net.deliveredOf(MessageType.PreVote).filter((m) => m.term > 1)).toEqual([]);
  });

  it('no term increase without a pre-vote quorum: one follower told, the others still in the lease (five nodes)', () => {
    const net = new CoreCluster(
      FIVE.map((id) =>
        newCore(id, { voters: FIVE, options: { random: () => (id === 'n2' ? 0 : 0.5) } }),
      ),
    );
    net.elect('n1');
    net.isolate('n1');
    const others = ['n2', 'n3', 'n4', 'n5'];

    expect(net.core('n2').reportLeaderUnreachable('n1')).toBe(true);
    net.tick(ELECTION_TICKS - 1, others);

    expect(net.core('n2').status().role).toBe('pre-candidate');
    for (const id of others) expect(net.core(id).status().term).toBe(1);
    expect(net.deliveredOf(MessageType.Vote)).toHaveLength(4); // n1's own election only

    // Once their leases end, the usual rules elect a leader of the next term (liveness).
    net.tick(2 * ELECTION_TICKS, others);
    const leaders = others.filter((id) => net.core(id).status().role === 'leader');
    expect(leaders).toHaveLength(1);
    expect(net.core(leaders[0]).status().term).toBe(2);
  });

  it('is ignored by a leader, a (pre-)candidate, a follower of another or of no leader, a learner, and without pre-vote', () => {
    const net = clusterWithDelays();
    const leader = net.elect('n1');
    expect(leader.reportLeaderUnreachable('n2')).toBe(false);
    expect(leader.reportLeaderUnreachable('n1')).toBe(false);
    expect(net.core('n2').reportLeaderUnreachable('n3')).toBe(false); // not its leader
    expect(net.core('n2').reportLeaderUnreachable('')).toBe(false);

    const noLeader = newCore('n2');
    expect(noLeader.reportLeaderUnreachable('n1')).toBe(false);

    const preCandidate = newCore('n2');
    preCandidate.campaign();
    expect(preCandidate.status().role).toBe('pre-candidate');
    expect(preCandidate.reportLeaderUnreachable('n1')).toBe(false);

    const candidate = newCore('n2', { options: { preVote: false } });
    candidate.campaign();
    expect(candidate.status().role).toBe('candidate');
    expect(candidate.reportLeaderUnreachable('n1')).toBe(false);

    const withoutPreVote = followerOfN1('n2', () => 0, { preVote: false });
    expect(withoutPreVote.reportLeaderUnreachable('n1')).toBe(false);

    const learner = newCore('n3', {
      voters: ['n1', 'n2'],
      learners: ['n3'],
      hardState: { term: 1 },
    });
    learner.step(msg(MessageType.Heartbeat, 'n1', 'n3', 1, { commit: 0 }));
    expect(learner.reportLeaderUnreachable('n1')).toBe(false);

    // Ignoring it changes nothing: the follower of another leader keeps its lease and its timeout.
    const follower = net.core('n2');
    follower.tick();
    follower.tick();
    expect(follower.status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n1' });
    follower.step(msg(MessageType.PreVote, 'n3', 'n2', 2, { logIndex: 9, logTerm: 1 }));
    expect(follower.hasReady()).toBe(false); // in the lease: a pre-vote is not even answered
  });
});

// ---- check-quorum ---------------------------------------------------------------------------------

describe('check-quorum (thesis §6.2)', () => {
  it('a leader that hears from no majority for a whole election timeout steps down, keeping its term', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.isolate('n1');

    net.tick(ELECTION_TICKS, ['n1']);
    // The first round still counts the answers that arrived before the partition.
    expect(leader.status().role).toBe('leader');
    net.tick(ELECTION_TICKS, ['n1']);

    expect(leader.status()).toMatchObject({ role: 'follower', term: 1, leaderId: '' });
  });

  it('a leader that hears from a majority (itself and one of two followers) stays leader', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.cutLink('n1', 'n3');
    net.cutLink('n3', 'n1');

    net.tick(5 * ELECTION_TICKS);

    expect(leader.status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it("a learner's answers do not count toward check-quorum", () => {
    const net = cluster(THREE, { voters: ['n1', 'n2'], learners: ['n3'] });
    const leader = net.elect('n1');
    net.isolate('n2'); // n1 still hears from the learner n3, but that is no majority of {n1, n2}

    net.tick(2 * ELECTION_TICKS, ['n1', 'n3']);

    expect(leader.status().role).toBe('follower');
  });

  it('a follower that heard from its leader within the election timeout ignores a higher-term vote request (leader lease)', () => {
    const net = cluster(THREE);
    net.elect('n1');
    const follower = net.core('n2');

    follower.step(msg(MessageType.Vote, 'n3', 'n2', 5, { logIndex: 99, logTerm: 99 }));

    expect(follower.status()).toMatchObject({ term: 1, vote: 'n1', leaderId: 'n1' });
    expect(follower.hasReady()).toBe(false);
  });
});

// ---- ReadIndex ------------------------------------------------------------------------------------

describe('ReadIndex (thesis §6.4)', () => {
  it('a read on the leader is answered only after a majority acknowledged a heartbeat round carrying it', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    const commit = leader.status().commit;

    expect(leader.readIndex('r1')).toBe(true);
    const round = takeReady(leader);
    expect(round.readStates).toEqual([]);
    const heartbeats = ofType(round.messages, MessageType.Heartbeat);
    expect(heartbeats.map((m) => [m.to, m.context])).toEqual([
      ['n2', 'r1'],
      ['n3', 'r1'],
    ]);

    const n2 = net.core('n2');
    n2.step(heartbeats[0]);
    const [ackFromN2] = outbox(takeReady(n2));
    expect(ackFromN2).toMatchObject({ type: MessageType.HeartbeatResp, context: 'r1' });
    leader.step(ackFromN2); // with the leader itself: two of three

    expect(takeReady(leader).readStates).toEqual([{ index: commit, context: 'r1' }]);
  });

  it("a learner's heartbeat acknowledgement does not confirm a read", () => {
    const net = cluster(THREE, { voters: ['n1', 'n2'], learners: ['n3'] });
    const leader = net.elect('n1');
    net.isolate('n2');

    leader.readIndex('r1');
    net.pump();
    expect(
      net.deliveredOf(MessageType.HeartbeatResp).some((m) => m.from === 'n3' && m.context === 'r1'),
    ).toBe(true);
    expect(net.readStates.get('n1')).toEqual([]);

    net.heal();
    net.tick(1);
    expect(net.readStates.get('n1')).toEqual([{ index: 1, context: 'r1' }]);
  });

  it('a leader cut off from the majority never answers a read', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.isolate('n1');

    leader.readIndex('r1');
    net.tick(ELECTION_TICKS - 1, ['n1']);

    expect(leader.status().role).toBe('leader');
    expect(net.readStates.get('n1')).toEqual([]);
  });

  it('a new leader holds reads until it has committed an entry of its own term', () => {
    const net = cluster(THREE, { options: { preVote: false } });
    const leader = net.core('n1');
    leader.campaign();
    leader.step(msg(MessageType.VoteResp, 'n2', 'n1', 1));
    expect(leader.status()).toMatchObject({ role: 'leader', commit: 0 });

    leader.readIndex('early');
    const ready = takeReady(leader);
    expect(ofType(ready.messages, MessageType.Heartbeat)).toHaveLength(0);
    expect(ready.readStates).toEqual([]);

    net.deliver(outbox(ready));
    net.pump(); // the no-op commits, then the held read gets its heartbeat round
    expect(net.readStates.get('n1')).toEqual([{ index: 1, context: 'early' }]);
  });

  it('a sole voter restarted with a lagging persisted commit answers reads only once its no-op commits', () => {
    // It acknowledged entries 1-3 before it stopped, but its hard state says commit 1.
    const core = newCore('n1', { voters: ['n1'], logTerms: [1, 1, 1], hardState: { commit: 1 } });
    core.campaign();
    expect(core.status()).toMatchObject({ role: 'leader', commit: 1 });
    core.readIndex('after-restart');
    // takeReady persists what the Ready holds (the no-op): a sole voter then commits it, and 2
    // and 3 with it. Not before: at commit 1 a read could miss acknowledged entries 2 and 3.
    const first = takeReady(core);
    expect(first.readStates).toEqual([]);
    const second = takeReady(core);
    expect(second.readStates).toEqual([{ index: 4, context: 'after-restart' }]);
  });

  it("a follower's read goes through the leader and comes back with the leader's commit index", () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');

    expect(net.core('n2').readIndex('f1')).toBe(true);
    net.pump();

    const viaLeader = net.deliveredOf(MessageType.ReadIndex);
    expect(viaLeader).toEqual([
      { type: MessageType.ReadIndex, from: 'n2', to: 'n1', term: 1, context: 'f1' },
    ]);
    expect(net.deliveredOf(MessageType.Heartbeat).some((m) => m.context === 'f1')).toBe(true);
    expect(net.deliveredOf(MessageType.ReadIndexResp)).toHaveLength(1);
    expect(net.readStates.get('n2')).toEqual([{ index: leader.status().commit, context: 'f1' }]);
  });

  it('a follower that knows no leader refuses the read at once (the caller retries)', () => {
    expect(newCore('n2').readIndex('f1')).toBe(false);
  });
});

// ---- leader transfer ------------------------------------------------------------------------------

describe('leader transfer (thesis §3.10)', () => {
  it('the leader sends TimeoutNow only once the transferee caught up; it then wins the next term at once', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.isolate('n3');
    leader.propose([encoder.encode('a'), encoder.encode('b')]);
    net.pump();
    expect(leader.status().commit).toBe(3);
    expect(leader.status().progress.get('n3')!.match).toBe(1);

    leader.transferLeadership('n3');
    net.pump();
    expect(leader.status().leadTransferee).toBe('n3');
    expect(() => leader.propose([encoder.encode('c')])).toThrow(ProposalDroppedError);
    expect(ofType(net.sent, MessageType.TimeoutNow)).toHaveLength(0);

    net.heal();
    net.tick(1);

    const timeoutAt = net.delivered.findIndex((m) => m.type === MessageType.TimeoutNow);
    const caughtUpAt = net.delivered.findIndex(
      (m) => m.type === MessageType.AppendResp && m.from === 'n3' && m.logIndex === 3 && !m.reject,
    );
    expect(caughtUpAt).toBeGreaterThanOrEqual(0);
    expect(timeoutAt).toBeGreaterThan(caughtUpAt);
    expect(net.delivered[timeoutAt]).toMatchObject({ from: 'n1', to: 'n3', term: 1 });
    expect(net.core('n3').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(leader.status()).toMatchObject({ role: 'follower', term: 2, leaderId: 'n3' });
  });

  it('a transfer that cannot finish within an election timeout is abandoned, and proposals are accepted again', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.isolate('n3');
    leader.propose([encoder.encode('a')]);
    net.pump();

    leader.transferLeadership('n3');
    net.tick(ELECTION_TICKS - 1, ['n1', 'n2']);
    expect(leader.status().leadTransferee).toBe('n3');
    net.tick(1, ['n1', 'n2']);

    expect(leader.status()).toMatchObject({ role: 'leader', term: 1, leadTransferee: '' });
    expect(() => leader.propose([encoder.encode('b')])).not.toThrow();
  });

  it('an up-to-date transferee gets TimeoutNow at once and is elected despite the leader lease', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');

    leader.transferLeadership('n2');
    const ready = takeReady(leader);
    expect(ofType(ready.messages, MessageType.TimeoutNow)).toEqual([
      { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 },
    ]);
    net.core('n2').step(ofType(ready.messages, MessageType.TimeoutNow)[0]);
    net.pump();

    expect(net.core('n2').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(net.deliveredOf(MessageType.PreVote)).toHaveLength(2); // only n1's own election
  });
});

// ---- membership ---------------------------------------------------------------------------------

describe('membership changes (thesis §4, single-server)', () => {
  const addVoter = (id: NodeId): ConfChange => ({
    type: 'add-voter',
    nodeId: id,
    peerAddress: `${id}:1`,
  });
  const addLearner = (id: NodeId): ConfChange => ({
    type: 'add-learner',
    nodeId: id,
    peerAddress: `${id}:1`,
  });

  it('a learner receives the log but never campaigns, whatever the timeouts, Hup or TimeoutNow', () => {
    const net = cluster(['n1', 'n2', 'n3'], { voters: ['n1', 'n2'], learners: ['n3'] });
    const learner = net.core('n3');
    net.elect('n1');
    expect(learner.status().lastIndex).toBe(net.core('n1').status().lastIndex);

    net.isolate('n3');
    net.tick(10 * ELECTION_TICKS, ['n3']);
    learner.campaign();
    learner.step(msg(MessageType.TimeoutNow, 'n1', 'n3', 1));

    expect(learner.status()).toMatchObject({ role: 'follower', term: 1 });
    expect(learner.hasReady()).toBe(false);
  });

  it("a candidate asks only voters, and a learner's grant does not count toward its majority", () => {
    const candidate = newCore('n1', {
      voters: ['n1', 'n2'],
      learners: ['n3'],
      options: { preVote: false },
    });
    candidate.campaign();
    expect(outbox(takeReady(candidate)).map((m) => m.to)).toEqual(['n2']);

    candidate.step(msg(MessageType.VoteResp, 'n3', 'n1', 1));
    expect(candidate.status().role).toBe('candidate');
    candidate.step(msg(MessageType.VoteResp, 'n2', 'n1', 1));
    expect(candidate.status().role).toBe('leader');
  });

  it('a change takes effect as soon as it is appended, before it commits, on the leader and on followers', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.isolate('n3');

    const { index } = leader.proposeConfChange(addVoter('n4'));
    expect(leader.status().membership.members.map((m) => m.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(leader.status().progress.has('n4')).toBe(true);

    net.pump();
    const follower = net.core('n2');
    expect(follower.status().lastIndex).toBe(index);
    expect(follower.status().membership.members.map((m) => m.id)).toContain('n4');
    // The new configuration already decides its own commit: n1 and n2 are two of four voters.
    expect(leader.status().commit).toBeLessThan(index);

    net.heal();
    net.tick(1);
    expect(leader.status().commit).toBe(index);
  });

  it('a change whose entry is truncated by a new leader is rolled back on the follower', () => {
    const follower = newCore('n2', {
      logTerms: [1],
      extraEntries: [confEntry(2, 1, addVoter('n4'))],
    });
    expect(follower.status().membership.members).toHaveLength(4);

    follower.step(
      msg(MessageType.Append, 'n3', 'n2', 2, {
        logIndex: 1,
        logTerm: 1,
        entries: [entry(2, 2)],
        commit: 0,
      }),
    );

    expect(follower.status().membership.members.map((m) => m.id)).toEqual(THREE);
    expect(takeReady(follower).membership?.members.map((m) => m.id)).toEqual(THREE);
  });

  it('a second change is refused until the first commits', () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    net.isolate('n2');
    net.isolate('n3');

    leader.proposeConfChange(addLearner('n4'));
    expect(() => leader.proposeConfChange(addLearner('n5'))).toThrow(ProposalDroppedError);

    net.heal();
    net.tick(1);
    expect(() => leader.proposeConfChange(addLearner('n5'))).not.toThrow();
  });

  it('a new leader refuses changes until the no-op of its term commits, and a follower refuses them outright', () => {
    const leader = newCore('n1', { options: { preVote: false } });
    electDirectly(leader, ['n2']);
    expect(() => leader.proposeConfChange(addLearner('n4'))).toThrow(ProposalDroppedError);
    expect(() => newCore('n2').proposeConfChange(addLearner('n4'))).toThrow(NotLeaderError);
  });
});

// ---- the driver's write ---------------------------------------------------------------------------

describe("Ready.mustSync (etcd's MustSync): only a bare new commit index may be written without a sync", () => {
  it('a follower syncs new entries, not a commit it learns with no entries', () => {
    const follower = newCore('n2', { logTerms: [1, 1] });
    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 1, {
        logIndex: 2,
        logTerm: 1,
        entries: [entry(3, 1)],
        commit: 2,
      }),
    );
    const withEntries = takeReady(follower);
    expect(withEntries.entries).toHaveLength(1);
    expect(withEntries.mustSync).toBe(true);

    follower.step(
      msg(MessageType.Append, 'n1', 'n2', 1, { logIndex: 3, logTerm: 1, entries: [], commit: 3 }),
    );
    const commitOnly = takeReady(follower);
    expect(commitOnly.hardState).toEqual({ term: 1, vote: '', commit: 3 });
    expect(commitOnly.entries).toEqual([]);
    expect(commitOnly.mustSync).toBe(false);
    // Its acknowledgement is of entries persisted (synced) before.
    expect(commitOnly.messagesAfterPersist).toEqual([
      { type: MessageType.AppendResp, from: 'n2', to: 'n1', term: 1, logIndex: 3 },
    ]);
  });

  it('a new term and a granted vote are synced, even with no entries', () => {
    const voter = newCore('n2', { logTerms: [1], hardState: { commit: 1 } });
    voter.step(msg(MessageType.Vote, 'n3', 'n2', 2, { logIndex: 1, logTerm: 1 }));
    const vote = takeReady(voter);
    expect(vote.hardState).toEqual({ term: 2, vote: 'n3', commit: 1 });
    expect(vote.entries).toEqual([]);
    expect(vote.mustSync).toBe(true);

    voter.step(msg(MessageType.Heartbeat, 'n1', 'n2', 3, { commit: 1 }));
    const newTerm = takeReady(voter);
    expect(newTerm.hardState).toEqual({ term: 3, vote: '', commit: 1 });
    expect(newTerm.mustSync).toBe(true);
  });

  it("a leader's commit that advances alone is not synced; its proposals are", () => {
    const net = cluster(THREE);
    const leader = net.elect('n1');
    leader.propose([encoder.encode('x')]);
    const proposed = leader.ready();
    expect(proposed.entries).toHaveLength(1);
    expect(proposed.mustSync).toBe(true);
    leader.advance(proposed);
    net.deliver(outbox(proposed));
    // The followers' acknowledgements come back; the leader's next Ready carries only the commit.
    for (const id of ['n2', 'n3']) {
      const ready = net.core(id).ready();
      net.core(id).advance(ready);
      net.deliver(outbox(ready).filter((m) => m.to === 'n1'));
    }
    const committed = leader.ready();
    expect(committed.hardState?.commit).toBe(proposed.entries[0].index);
    expect(committed.entries).toEqual([]);
    expect(committed.mustSync).toBe(false);
    leader.advance(committed);
  });

  it('an installed snapshot is synced', () => {
    const follower = newCore('n2', { logTerms: [1] });
    follower.step(
      msg(MessageType.Snapshot, 'n1', 'n2', 1, {
        snapshot: {
          index: 10,
          term: 1,
          membership: {
            members: THREE.map((id) => ({ id, role: 'voter', peerAddress: `${id}:1` })),
          },
        },
      }),
    );
    const ready = takeReady(follower);
    expect(ready.snapshot?.index).toBe(10);
    expect(ready.mustSync).toBe(true);
  });
});
