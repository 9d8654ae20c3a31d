import fc from 'fast-check';
import { TimingWheel, type TimingWheelOptions, type WheelHandle } from './timing-wheel';

interface Fired {
  readonly item: string;
  readonly dueMs: number;
}

function advance<T>(wheel: TimingWheel<T>, nowMs: number): Array<{ item: T; dueMs: number }> {
  const fired: Array<{ item: T; dueMs: number }> = [];
  const count = wheel.advance(nowMs, (item, dueMs) => fired.push({ item, dueMs }));
  expect(count).toBe(fired.length);
  return fired;
}

describe('TimingWheel basics', () => {
  it('fires an item when its time comes, not before', () => {
    const wheel = new TimingWheel<string>(1_000);
    wheel.schedule('a', 1_050);
    expect(wheel.size).toBe(1);
    expect(advance(wheel, 1_049)).toEqual([]);
    expect(advance(wheel, 1_050)).toEqual([{ item: 'a', dueMs: 1_050 }]);
    expect(wheel.size).toBe(0);
    expect(wheel.nextDueMs()).toBeUndefined();
  });

  it('fires in nondecreasing dueMs order across levels and big jumps', () => {
    const wheel = new TimingWheel<number>(0);
    const dues = [5, 3_600_000, 70, 64, 63, 4_096, 1, 86_400_000 * 40, 262_144, 65, 2];
    dues.forEach((dueMs) => wheel.schedule(dueMs, dueMs));
    const fired = advance(wheel, 86_400_000 * 41).map((entry) => entry.dueMs);
    expect(fired).toEqual([...dues].sort((a, b) => a - b));
  });

  it('fires overdue items (scheduled before the wheel time) at the next advance, oldest first', () => {
    const wheel = new TimingWheel<string>(10_000);
    wheel.schedule('late', 9_000);
    wheel.schedule('later', 9_500);
    wheel.schedule('oldest', 100);
    expect(wheel.nextDueMs()).toBe(100);
    expect(advance(wheel, 10_000).map((f) => f.item)).toEqual(['oldest', 'late', 'later']);
    expect(advance(wheel, 5_000)).toEqual([]);
  });

  it('an advance to an earlier time fires only overdue items and keeps the wheel time', () => {
    const wheel = new TimingWheel<string>(1_000);
    wheel.schedule('future', 1_200);
    wheel.schedule('past', 999);
    expect(advance(wheel, 500).map((f) => f.item)).toEqual(['past']);
    expect(wheel.nowMs).toBe(1_000);
    expect(advance(wheel, 1_200).map((f) => f.item)).toEqual(['future']);
  });

  it('fires many items due in the same millisecond', () => {
    const wheel = new TimingWheel<number>(0);
    for (let i = 0; i < 1_000; i++) wheel.schedule(i, 777);
    const fired = advance(wheel, 800);
    expect(fired).toHaveLength(1_000);
    expect(new Set(fired.map((f) => f.item)).size).toBe(1_000);
  });

  it('reaches far beyond the top level through the overflow list', () => {
    const options: TimingWheelOptions = { slotBits: 2, levels: 2 }; // the levels span 16 ms
    const wheel = new TimingWheel<string>(0, options);
    wheel.schedule('far', 1_000);
    wheel.schedule('near', 10);
    expect(advance(wheel, 999).map((f) => f.item)).toEqual(['near']);
    expect(wheel.nextDueMs()).toBeLessThanOrEqual(1_000);
    expect(advance(wheel, 1_000).map((f) => f.item)).toEqual(['far']);
  });

  it('works with the default geometry beyond 2^42 ms (the top level span)', () => {
    const startMs = Date.UTC(2025, 0, 1);
    const wheel = new TimingWheel<string>(startMs);
    const farMs = Date.UTC(2200, 0, 1);
    wheel.schedule('far', farMs);
    expect(wheel.nextDueMs()).toBeLessThanOrEqual(farMs);
    let nowMs = startMs;
    const fired: Fired[] = [];
    // A driver wakes at each nextDueMs; a handful of wakes reach the item.
    for (let wakes = 0; wakes < 20 && fired.length === 0; wakes++) {
      nowMs = wheel.nextDueMs()!;
      fired.push(...advance(wheel, nowMs));
    }
    expect(fired).toEqual([{ item: 'far', dueMs: farMs }]);
    expect(nowMs).toBe(farMs);
  });

  it('never fires a fractional dueMs early', () => {
    const wheel = new TimingWheel<string>(0);
    wheel.schedule('a', 100.5);
    expect(advance(wheel, 100)).toEqual([]);
    expect(advance(wheel, 100.9)).toEqual([]);
    expect(advance(wheel, 101)).toEqual([{ item: 'a', dueMs: 100.5 }]);
  });

  it('refuses non-finite times', () => {
    const wheel = new TimingWheel<string>(0);
    expect(() => wheel.schedule('a', NaN)).toThrow(RangeError);
    expect(() => wheel.schedule('a', Infinity)).toThrow(RangeError);
    expect(() => wheel.advance(NaN, () => undefined)).toThrow(RangeError);
    expect(() => new TimingWheel<string>(NaN)).toThrow(RangeError);
  });

  it('grows past its initial capacity and reuses freed entries', () => {
    const wheel = new TimingWheel<number>(0, { initialCapacity: 16 });
    for (let i = 0; i < 10_000; i++) wheel.schedule(i, 1 + (i % 5_000));
    expect(wheel.size).toBe(10_000);
    expect(advance(wheel, 5_000)).toHaveLength(10_000);
    for (let i = 0; i < 10_000; i++) wheel.schedule(i, 6_000);
    expect(advance(wheel, 6_000)).toHaveLength(10_000);
  });
});

describe('TimingWheel cancel', () => {
  it('cancels once; a second cancel and a cancel after firing return false', () => {
    const wheel = new TimingWheel<string>(0);
    const a = wheel.schedule('a', 10);
    const b = wheel.schedule('b', 20);
    expect(wheel.cancel(a)).toBe(true);
    expect(wheel.cancel(a)).toBe(false);
    expect(wheel.size).toBe(1);
    expect(advance(wheel, 100).map((f) => f.item)).toEqual(['b']);
    expect(wheel.cancel(b)).toBe(false);
  });

  it('a stale handle does not cancel the item that reused its entry', () => {
    const wheel = new TimingWheel<string>(0);
    const old = wheel.schedule('old', 10);
    expect(wheel.cancel(old)).toBe(true);
    const fresh = wheel.schedule('fresh', 10);
    expect(fresh).not.toBe(old);
    expect(wheel.cancel(old)).toBe(false);
    expect(advance(wheel, 10).map((f) => f.item)).toEqual(['fresh']);
  });

  it('ignores handles that were never issued', () => {
    const wheel = new TimingWheel<string>(0);
    wheel.schedule('a', 10);
    for (const bogus of [0, 1, -1, 0.5, 2 ** 40, NaN])
      expect(wheel.cancel(bogus as WheelHandle)).toBe(false);
    expect(wheel.size).toBe(1);
  });

  it('cancels overdue and overflow items', () => {
    const wheel = new TimingWheel<string>(1_000, { slotBits: 2, levels: 2 });
    const overdue = wheel.schedule('overdue', 10);
    const overflow = wheel.schedule('overflow', 50_000);
    expect(wheel.cancel(overdue)).toBe(true);
    expect(wheel.cancel(overflow)).toBe(true);
    expect(advance(wheel, 100_000)).toEqual([]);
    expect(wheel.size).toBe(0);
  });

  it('onDue may cancel items of the same batch and schedule new ones', () => {
    const wheel = new TimingWheel<string>(0);
    const handles = new Map<string, WheelHandle>();
    for (const name of ['a', 'b', 'c']) handles.set(name, wheel.schedule(name, 50));
    handles.set('old1', wheel.schedule('old1', -5));
    handles.set('old2', wheel.schedule('old2', -4));
    const fired: string[] = [];
    wheel.advance(100, (item) => {
      fired.push(item);
      if (item === 'old1') wheel.cancel(handles.get('old2')!);
      if (item === fired[1]) {
        // Cancel whichever of a, b, c has not fired yet, then schedule one in range and one now.
        for (const name of ['a', 'b', 'c'])
          if (!fired.includes(name)) wheel.cancel(handles.get(name)!);
        wheel.schedule('in-range', 80);
        wheel.schedule('due-now', 20);
      }
    });
    expect(fired[0]).toBe('old1');
    expect(fired).not.toContain('old2');
    expect(fired).toContain('in-range');
    expect(fired).not.toContain('due-now');
    expect(fired.filter((name) => ['a', 'b', 'c'].includes(name))).toHaveLength(1);
    expect(advance(wheel, 100).map((f) => f.item)).toEqual(['due-now']);
  });

  it('keeps the rest scheduled when onDue throws', () => {
    const wheel = new TimingWheel<string>(0);
    wheel.schedule('a', 10);
    wheel.schedule('b', 10);
    wheel.schedule('c', 30);
    let thrownFor: string | undefined;
    expect(() =>
      wheel.advance(50, (item) => {
        thrownFor = item;
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(wheel.size).toBe(2);
    const rest = advance(wheel, 50).map((f) => f.item);
    expect([thrownFor, ...rest].sort()).toEqual(['a', 'b', 'c']);
    expect(rest[rest.length - 1]).toBe('c');
  });

  it('refuses a nested advance from onDue', () => {
    const wheel = new TimingWheel<string>(0);
    wheel.schedule('a', 1);
    expect(() => wheel.advance(1, () => wheel.advance(2, () => undefined))).toThrow(/own onDue/);
  });
});

/** Commands for the model-based test. */
type Command =
  | { readonly kind: 'schedule'; readonly offsetMs: number }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'advance'; readonly byMs: number };

const offsetArbitrary = fc.oneof(
  fc.integer({ min: -100, max: 0 }), // overdue or due now
  fc.integer({ min: 1, max: 70 }),
  fc.integer({ min: 1, max: 5_000 }),
  fc.integer({ min: 1, max: 2_000_000 }), // beyond the small geometries' spans
  fc.double({ min: -5, max: 300, noNaN: true }), // fractional
);

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: offsetArbitrary.map((offsetMs) => ({ kind: 'schedule' as const, offsetMs })),
  },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'cancel' as const, pick })) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.integer({ min: -10, max: 5 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 3_000_000 }),
      )
      .map((byMs) => ({ kind: 'advance' as const, byMs })),
  },
);

interface ModelEntry {
  readonly id: number;
  readonly dueMs: number;
  readonly handle: WheelHandle;
  live: boolean;
}

function checkAgainstModel(
  options: TimingWheelOptions,
  startMs: number,
  commands: readonly Command[],
): void {
  const wheel = new TimingWheel<number>(startMs, { ...options, initialCapacity: 16 });
  const model: ModelEntry[] = [];
  let clockMs = startMs;
  for (const command of commands) {
    if (command.kind === 'schedule') {
      const dueMs = clockMs + command.offsetMs;
      const id = model.length;
      model.push({ id, dueMs, handle: wheel.schedule(id, dueMs), live: true });
    } else if (command.kind === 'cancel') {
      if (model.length === 0) continue;
      const entry = model[command.pick % model.length];
      expect(wheel.cancel(entry.handle)).toBe(entry.live);
      entry.live = false;
    } else {
      clockMs += command.byMs;
      const wheelTimeMs = Math.max(wheel.nowMs, Math.floor(clockMs));
      const live = model.filter((entry) => entry.live);
      const trueEarliestMs =
        live.length === 0 ? undefined : Math.min(...live.map((entry) => entry.dueMs));
      const nextDueMs = wheel.nextDueMs();
      if (trueEarliestMs === undefined) expect(nextDueMs).toBeUndefined();
      else expect(nextDueMs).toBeLessThanOrEqual(Math.ceil(trueEarliestMs));

      const fired = advance(wheel, clockMs);
      const expected = live.filter((entry) => Math.ceil(entry.dueMs) <= wheelTimeMs);
      expect(fired.map((f) => f.item).sort((a, b) => a - b)).toEqual(
        expected.map((entry) => entry.id),
      );
      for (const f of fired) {
        expect(f.dueMs).toBe(model[f.item].dueMs);
        expect(Math.ceil(f.dueMs)).toBeLessThanOrEqual(wheelTimeMs);
        model[f.item].live = false;
      }
      for (let i = 1; i < fired.length; i++) {
        expect(Math.ceil(fired[i].dueMs)).toBeGreaterThanOrEqual(Math.ceil(fired[i - 1].dueMs));
      }
    }
    expect(wheel.size).toBe(model.filter((entry) => entry.live).length);
  }
}

describe('TimingWheel against a sorted-array model', () => {
  const geometries: Array<[string, TimingWheelOptions]> = [
    ['tiny (2 bits x 2 levels)', { slotBits: 2, levels: 2 }],
    ['small (2 bits x 4 levels)', { slotBits: 2, levels: 4 }],
    ['odd (3 bits x 3 levels)', { slotBits: 3, levels: 3 }],
    ['default (6 bits x 7 levels)', {}],
  ];
  it.each(geometries)('%s', (_name, options) => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -1_000, max: 1_000 }),
          fc.constant(Date.UTC(2025, 5, 1, 12, 0, 0, 7)),
        ),
        fc.array(commandArbitrary, { maxLength: 120 }),
        (startMs, commands) => checkAgainstModel(options, startMs, commands),
      ),
      { numRuns: 300 },
    );
  });
});
