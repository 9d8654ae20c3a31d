import fc from 'fast-check';
import type { ClockPort } from './clock-port';
import { realClock } from './clock-port';
import { WheelTimer } from './wheel-timer';

/**
 * A simulated clock: timers run when the test moves time, in time order, and can be made to fire
 * early (as Node timers may, by up to a millisecond, against Date.now).
 */
class SimulatedClock implements ClockPort<number> {
  currentMs: number;
  readonly pending = new Map<number, { atMs: number; callback: () => void }>();
  timersSet = 0;
  private nextTimerId = 1;

  constructor(
    startMs: number,
    /** How early each timer runs, in ms (never before the next ms for a positive delay). */
    private readonly earlyByMs = 0,
  ) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(callback: () => void, delayMs: number): number {
    expect(delayMs).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(delayMs)).toBe(true);
    const id = this.nextTimerId++;
    this.timersSet++;
    // Early, but a timer set for a later ms still runs in a later ms, as Node's do.
    const atMs = this.currentMs + Math.max(Math.min(delayMs, 1), delayMs - this.earlyByMs);
    this.pending.set(id, { atMs, callback });
    return id;
  }

  clearTimer(handle: number): void {
    this.pending.delete(handle);
  }

  /** Moves time to targetMs, running every timer due on the way at its own time. */
  runUntil(targetMs: number): void {
    while (true) {
      let nextId: number | undefined;
      let nextAtMs = Infinity;
      for (const [id, timer] of this.pending) {
        if (timer.atMs < nextAtMs) [nextId, nextAtMs] = [id, timer.atMs];
      }
      if (nextId === undefined || nextAtMs > targetMs) break;
      const timer = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.currentMs = Math.max(this.currentMs, timer.atMs);
      timer.callback();
    }
    this.currentMs = Math.max(this.currentMs, targetMs);
  }
}

interface Delivery {
  readonly item: string;
  readonly dueMs: number;
  readonly atMs: number;
}

function setUp(startMs = 1_000_000, earlyByMs = 0) {
  const clock = new SimulatedClock(startMs, earlyByMs);
  const delivered: Delivery[] = [];
  const timer = new WheelTimer<string, number>(clock, (item, dueMs) =>
    delivered.push({ item, dueMs, atMs: clock.nowMs() }),
  );
  return { clock, delivered, timer };
}

describe('WheelTimer', () => {
  it('keeps one timer, armed for the earliest item', () => {
    const { clock, timer } = setUp();
    expect(clock.pending.size).toBe(0);
    timer.schedule('late', 1_010_000);
    expect(clock.pending.size).toBe(1);
    timer.schedule('later', 1_020_000);
    expect(clock.timersSet).toBe(1);
    timer.schedule('soon', 1_000_500);
    expect(clock.pending.size).toBe(1);
    expect([...clock.pending.values()][0].atMs).toBeLessThanOrEqual(1_000_500);
  });

  it('delivers each item at its time, not before', () => {
    const { clock, delivered, timer } = setUp();
    timer.schedule('b', 1_000_200);
    timer.schedule('a', 1_000_100);
    timer.schedule('c', 1_090_000);
    clock.runUntil(1_000_150);
    expect(delivered).toEqual([{ item: 'a', dueMs: 1_000_100, atMs: 1_000_100 }]);
    clock.runUntil(2_000_000);
    expect(delivered.map((d) => d.item)).toEqual(['a', 'b', 'c']);
    for (const delivery of delivered) expect(delivery.atMs).toBe(delivery.dueMs);
    expect(clock.pending.size).toBe(0);
  });

  it('is never early when timers fire early, and re-arms', () => {
    const { clock, delivered, timer } = setUp(0, 1);
    timer.schedule('a', 100);
    timer.schedule('b', 5_000);
    clock.runUntil(10_000);
    expect(delivered.map((d) => d.item)).toEqual(['a', 'b']);
    for (const delivery of delivered) expect(delivery.atMs).toBeGreaterThanOrEqual(delivery.dueMs);
  });

  it('delivers many items due in the same ms together', () => {
    const { clock, delivered, timer } = setUp();
    for (let i = 0; i < 500; i++) timer.schedule(`item${i}`, 1_000_300);
    const timersBefore = clock.timersSet;
    clock.runUntil(1_000_300);
    expect(delivered).toHaveLength(500);
    for (const delivery of delivered) expect(delivery.atMs).toBe(1_000_300);
    // One wake-up for the 500 items; at most one more where nextDueMs was a lower bound (level 1).
    expect(clock.timersSet - timersBefore).toBeLessThanOrEqual(1);
    expect(clock.pending.size).toBe(0);
  });

  it('delivers past-due items at once', () => {
    const { clock, delivered, timer } = setUp();
    timer.schedule('overdue', 900_000);
    expect([...clock.pending.values()][0].atMs).toBe(1_000_000);
    clock.runUntil(1_000_000);
    expect(delivered).toEqual([{ item: 'overdue', dueMs: 900_000, atMs: 1_000_000 }]);
  });

  it('cancels, and lets onDue schedule the next fire (as a crontab task does)', () => {
    const clock = new SimulatedClock(0);
    const delivered: Delivery[] = [];
    const timer: WheelTimer<string, number> = new WheelTimer(clock, (item, dueMs) => {
      delivered.push({ item, dueMs, atMs: clock.nowMs() });
      if (item === 'every-second' && dueMs < 5_000) timer.schedule(item, dueMs + 1_000);
    });
    timer.schedule('every-second', 1_000);
    const cancelled = timer.schedule('cancelled', 2_500);
    expect(timer.cancel(cancelled)).toBe(true);
    expect(timer.cancel(cancelled)).toBe(false);
    clock.runUntil(60_000);
    expect(delivered.map((d) => d.atMs)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
    expect(timer.size).toBe(0);
    expect(clock.pending.size).toBe(0);
  });

  it('clamps delays to what setTimeout accepts', () => {
    const { clock, delivered, timer } = setUp(0);
    const farMs = 40 * 86_400_000;
    timer.schedule('far', farMs);
    expect([...clock.pending.values()][0].atMs).toBe(2 ** 31 - 1);
    clock.runUntil(farMs);
    expect(delivered).toEqual([{ item: 'far', dueMs: farMs, atMs: farMs }]);
  });

  it('close stops the timer', () => {
    const { clock, delivered, timer } = setUp();
    timer.schedule('a', 1_000_100);
    timer.close();
    expect(clock.pending.size).toBe(0);
    clock.runUntil(2_000_000);
    expect(delivered).toEqual([]);
    expect(() => timer.schedule('b', 1)).toThrow(/closed/);
  });

  it('re-arms after onDue throws', () => {
    const clock = new SimulatedClock(0);
    const delivered: string[] = [];
    const timer = new WheelTimer<string, number>(clock, (item) => {
      if (item === 'bad') throw new Error('handler failed');
      delivered.push(item);
    });
    timer.schedule('bad', 10);
    timer.schedule('good', 20);
    expect(() => clock.runUntil(15)).toThrow('handler failed');
    clock.runUntil(100);
    expect(delivered).toEqual(['good']);
  });

  it('random schedules and cancels: every live item once, never early, one timer at most', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            atMs: fc.integer({ min: 0, max: 100_000 }),
            dueOffsetMs: fc.oneof(
              fc.integer({ min: -50, max: 200 }),
              fc.integer({ min: 0, max: 5_000_000 }),
            ),
            cancelEarlier: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 0, max: 2 }),
        (operations, earlyByMs) => {
          const clock = new SimulatedClock(0, earlyByMs);
          const delivered = new Map<string, Delivery>();
          const timer = new WheelTimer<string, number>(clock, (item, dueMs) => {
            expect(delivered.has(item)).toBe(false);
            expect(clock.nowMs()).toBeGreaterThanOrEqual(dueMs);
            delivered.set(item, { item, dueMs, atMs: clock.nowMs() });
          });
          const live = new Map<string, number>();
          const handles: Array<[string, ReturnType<typeof timer.schedule>]> = [];
          const sorted = [...operations].sort((a, b) => a.atMs - b.atMs);
          sorted.forEach((operation, index) => {
            clock.runUntil(operation.atMs);
            for (const [name] of handles) if (delivered.has(name)) live.delete(name);
            if (operation.cancelEarlier && handles.length > 0) {
              const [name, handle] = handles[index % handles.length];
              expect(timer.cancel(handle)).toBe(live.has(name));
              live.delete(name);
            }
            const name = `item${index}`;
            const dueMs = clock.nowMs() + operation.dueOffsetMs;
            handles.push([name, timer.schedule(name, dueMs)]);
            live.set(name, dueMs);
            expect(clock.pending.size).toBeLessThanOrEqual(1);
          });
          clock.runUntil(10_000_000);
          for (const [name] of handles) if (delivered.has(name)) live.delete(name);
          expect(live.size).toBe(0);
          expect(timer.size).toBe(0);
          for (const delivery of delivered.values()) {
            const expectedAtMs = Math.max(delivery.dueMs, 0);
            expect(delivery.atMs).toBeGreaterThanOrEqual(expectedAtMs);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('realClock', () => {
  it('reads Date.now and sets unref-ed timers', () => {
    const before = Date.now();
    expect(realClock.nowMs()).toBeGreaterThanOrEqual(before);
    const handle = realClock.setTimer(() => undefined, 60_000);
    expect(handle.hasRef()).toBe(false);
    realClock.clearTimer(handle);
  });
});
