import { DispatchAdmission, type DispatchAdmissionDeps } from './dispatch-admission';

function admission(overrides: Partial<DispatchAdmissionDeps> = {}): {
  admission: DispatchAdmission;
  state: {
    queued: number;
    ageMs: number;
    holds: boolean[];
    queueWaiters: number[];
    scheduled: { delayMs: number; wake: () => void }[];
  };
} {
  const state = {
    queued: 0,
    ageMs: 0,
    holds: [] as boolean[],
    queueWaiters: [] as number[],
    scheduled: [] as { delayMs: number; wake: () => void }[],
  };
  const deps: DispatchAdmissionDeps = {
    queued: () => state.queued,
    whenQueueBelow: (limit) => state.queueWaiters.push(limit),
    quorumContactAgeMs: () => state.ageMs,
    quorumContactMaxAgeMs: () => 500,
    queuedMax: 256,
    quorumRecheckMs: 20,
    onQuorumHold: (held) => state.holds.push(held),
    schedule: (delayMs, wake) => state.scheduled.push({ delayMs, wake }),
    ...overrides,
  };
  return { admission: new DispatchAdmission(deps), state };
}

describe('DispatchAdmission', () => {
  it('gives the room left in the dispatcher queue, and waits for it to be half as long', () => {
    const { admission: a, state } = admission();
    expect(a.room()).toBe(256);
    state.queued = 300;
    expect(a.room()).toBeLessThanOrEqual(0);
    a.whenRoom(() => undefined);
    expect(state.queueWaiters).toEqual([128]);
    expect(state.holds).toEqual([]);
  });

  it('holds every fire while no majority answered for longer than the bound, and says so once', () => {
    const { admission: a, state } = admission();
    state.ageMs = 501;
    expect(a.room()).toBe(0);
    expect(a.room()).toBe(0);
    expect(state.holds).toEqual([true]);
    let woken = 0;
    a.whenRoom(() => woken++);
    expect(state.queueWaiters).toEqual([]); // not the queue: the majority is what is waited for
    expect(state.scheduled.map((s) => s.delayMs)).toEqual([20]); // asked again in 20 ms
    state.scheduled[0].wake();
    expect(woken).toBe(1);
    state.ageMs = 120; // a majority answers again
    expect(a.room()).toBe(256);
    expect(state.holds).toEqual([true, false]);
  });

  it('never holds a sole voter (its quorum contact age is 0)', () => {
    const { admission: a, state } = admission({ quorumContactAgeMs: () => 0 });
    expect(a.room()).toBe(256);
    expect(state.holds).toEqual([]);
  });
});
