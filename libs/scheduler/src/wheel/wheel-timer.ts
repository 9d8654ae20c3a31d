import type { ClockPort } from './clock-port';
import { TimingWheel, type TimingWheelOptions, type WheelHandle } from './timing-wheel';

/** setTimeout takes at most 2^31 - 1 ms; a longer delay would fire at once. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Drives a TimingWheel with one timer: armed for the wheel's next due time, moved earlier when an
 * earlier item is scheduled, and on expiry hands every due item to onDue. Never early: an item is
 * handed out only once clock.nowMs() >= its dueMs (a timer that fires early just re-arms).
 *
 * onDue runs inside the timer callback; it may schedule and cancel. It should not throw: if it
 * does, the timer is re-armed (items not yet handed out stay scheduled) and the error propagates
 * to the timer's caller (an uncaught exception with the real clock).
 */
export class WheelTimer<T, TimerHandle = unknown> {
  private readonly wheel: TimingWheel<T>;
  private timer: TimerHandle | undefined;
  /** The time the pending timer was armed for. */
  private armedForMs: number | undefined;
  private firing = false;
  private closed = false;

  constructor(
    private readonly clock: ClockPort<TimerHandle>,
    private readonly onDue: (item: T, dueMs: number) => void,
    wheelOptions?: TimingWheelOptions,
  ) {
    this.wheel = new TimingWheel<T>(clock.nowMs(), wheelOptions);
  }

  get size(): number {
    return this.wheel.size;
  }

  /** The time the single timer is armed for, if it is (for metrics and tests). */
  get armedForMsOrUndefined(): number | undefined {
    return this.armedForMs;
  }

  schedule(item: T, dueMs: number): WheelHandle {
    if (this.closed) throw new Error('WheelTimer is closed');
    const handle = this.wheel.schedule(item, dueMs);
    // Armed for this time or earlier: that wake-up re-arms for what is next (planning a million
    // tasks would otherwise ask the wheel for its next due time a million times).
    if (this.armedForMs === undefined || dueMs < this.armedForMs) this.arm();
    return handle;
  }

  /** False when the item already fired or was cancelled. Leaves the timer be (a spare wake-up is cheap). */
  cancel(handle: WheelHandle): boolean {
    return this.wheel.cancel(handle);
  }

  /** Stops the timer; the items are dropped with the wheel. */
  close(): void {
    this.closed = true;
    this.disarm();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.armedForMs = undefined;
    this.firing = true;
    try {
      this.wheel.advance(this.clock.nowMs(), this.onDue);
    } finally {
      this.firing = false;
      this.arm();
    }
  };

  /** Arms the timer for the wheel's next due time unless it is armed for that time or earlier. */
  private arm(): void {
    if (this.firing || this.closed) return;
    const nextDueMs = this.wheel.nextDueMs();
    if (nextDueMs === undefined) {
      this.disarm();
      return;
    }
    if (this.armedForMs !== undefined && this.armedForMs <= nextDueMs) return;
    this.disarm();
    const delayMs = Math.min(
      MAX_TIMER_DELAY_MS,
      Math.max(0, Math.ceil(nextDueMs - this.clock.nowMs())),
    );
    this.armedForMs = nextDueMs;
    this.timer = this.clock.setTimer(this.onTimer, delayMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedForMs = undefined;
  }
}
