import type { ClockPort } from '../wheel/clock-port';
import type { DueFire, TimerItem } from './fire-runtime';
import { WheelFireTimer } from './wheel-fire-timer';

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
