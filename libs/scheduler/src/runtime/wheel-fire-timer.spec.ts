import type { ClockPort } from '../wheel/clock-port';
import type { DueFire, TimerItem } from './fire-runtime';
import { WheelFireTimer, type FireAdmission } from './wheel-fire-timer';

/** A clock whose single pending timer the test fires by hand. */
class ManualClock implements ClockPort<number> {
  nowMs = (): number => this.now;
  now = 1_000_000;
  private timers = new Map<number, () => void>();
  private nextHandle = 1;
  setTimer(callback: () => void): number {
    const handle = this.nextHandle++;
    this.timers.set(handle, callback);
    return handle;
  }
  clearTimer(handle: number): void {
    this.timers.delete(handle);
  }
  /** Moves time and runs the timers that were pending. */
  advanceTo(ms: number): void {
    this.now = ms;
    const due = [...this.timers.values()];
    this.timers.clear();
    for (const callback of due) callback();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A timer behind an admission whose room the test sets; each fire handed out takes one. */
function admittedTimer(initialRoom: number): {
  clock: ManualClock;
  handed: DueFire[];
  timer: WheelFireTimer;
  admission: { room: number; wake: (() => void) | undefined };
} {
  const clock = new ManualClock();
  const handed: DueFire[] = [];
  const admission = { room: initialRoom, wake: undefined as (() => void) | undefined };
  const port: FireAdmission = {
    room: () => admission.room,
    whenRoom: (callback) => (admission.wake = callback),
  };
  const timer = new WheelFireTimer(
    (item: TimerItem) => {
      handed.push(item as DueFire);
      admission.room--;
    },
    clock,
    port,
  );
  return { clock, handed, timer, admission };
}

describe('WheelFireTimer', () => {
  it('hands out fires no earlier than due, at most 256 per turn of the event loop', async () => {
    const clock = new ManualClock();
    const handed: DueFire[] = [];
    const timer = new WheelFireTimer((item: TimerItem) => handed.push(item as DueFire), clock);
    for (let i = 0; i < 600; i++)
      timer.schedule(
        { taskId: String(i), scheduledAtMs: clock.now + 10, manual: false },
        clock.now + 10,
      );
    clock.advanceTo(clock.now + 9);
    await turn();
    expect(handed).toHaveLength(0);
    clock.advanceTo(clock.now + 1);
    await turn();
    expect(handed).toHaveLength(256);
    await turn();
    expect(handed).toHaveLength(512);
    await turn();
    expect(handed).toHaveLength(600);
    expect(new Set(handed.map((fire) => fire.taskId)).size).toBe(600);
    timer.close();
  });

  it('with an admission, hands out no more than its room, and goes on when it wakes the timer', async () => {
    const { clock, handed, timer, admission } = admittedTimer(100);
    for (let i = 0; i < 300; i++)
      timer.schedule({ taskId: String(i), scheduledAtMs: 0, manual: false }, clock.now + 1);
    clock.advanceTo(clock.now + 1);
    await turn();
    expect(handed).toHaveLength(100);
    await turn();
    await turn();
    expect(handed).toHaveLength(100);
    const wake = admission.wake;
    expect(wake).toBeDefined();
    admission.room = 300;
    wake?.();
    wake?.(); // a second wake-up hands out nothing twice
    await turn();
    expect(handed).toHaveLength(300);
    expect(new Set(handed.map((fire) => fire.taskId)).size).toBe(300);
    // Drained: a later fire is handed out without waiting for a wake-up.
    timer.schedule({ taskId: 'later', scheduledAtMs: 0, manual: false }, clock.now + 1);
    clock.advanceTo(clock.now + 1);
    await turn();
    expect(handed.at(-1)?.taskId).toBe('later');
    timer.close();
  });

  it('once cleared while it waited for room, hands out the next fires as soon as there is room', async () => {
    const { clock, handed, timer, admission } = admittedTimer(1);
    for (const taskId of ['a', 'b'])
      timer.schedule({ taskId, scheduledAtMs: 0, manual: false }, clock.now + 1);
    clock.advanceTo(clock.now + 1);
    await turn();
    await turn();
    expect(handed.map((fire) => fire.taskId)).toEqual(['a']); // 'b' waits for room
    timer.clear(); // leadership lost: 'b' is dropped; the wake-up it waited for may never come
    admission.room = 10;
    timer.schedule({ taskId: 'c', scheduledAtMs: 0, manual: false }, clock.now + 1);
    clock.advanceTo(clock.now + 1);
    await turn();
    expect(handed.map((fire) => fire.taskId)).toEqual(['a', 'c']);
    timer.close();
  });

  it('drops what is waiting when cleared, and cancels one fire by its handle', async () => {
    const clock = new ManualClock();
    const handed: DueFire[] = [];
    const timer = new WheelFireTimer((item: TimerItem) => handed.push(item as DueFire), clock);
    const keep = timer.schedule({ taskId: 'keep', scheduledAtMs: 0, manual: false }, clock.now + 5);
    const drop = timer.schedule({ taskId: 'drop', scheduledAtMs: 0, manual: false }, clock.now + 5);
    timer.cancel(drop);
    clock.advanceTo(clock.now + 5);
    await turn();
    expect(handed.map((fire) => fire.taskId)).toEqual(['keep']);
    expect(keep).toBeDefined();
    timer.schedule({ taskId: 'later', scheduledAtMs: 0, manual: false }, clock.now + 5);
    timer.clear();
    clock.advanceTo(clock.now + 5);
    await turn();
    expect(handed.map((fire) => fire.taskId)).toEqual(['keep']);
    timer.close();
  });
});
