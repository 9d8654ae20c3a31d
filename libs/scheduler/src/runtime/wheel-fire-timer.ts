import { realClock, type ClockPort } from '../wheel/clock-port';
import type { WheelHandle } from '../wheel/timing-wheel';
import { WheelTimer } from '../wheel/wheel-timer';
import type { FireTimer, TimerItem } from './fire-runtime';

/** Fires handed to the runtime per turn of the event loop when many fall due at once. */
const FIRES_PER_TURN = 256;

/**
 * The fire runtime's one timer: every pending fire of the leader in a timing wheel driven by a
 * single Node timer (WheelTimer), never early. `clear()` (leadership lost, state replaced) drops
 * the wheel and starts an empty one.
 *
 * Due fires are handed to the runtime FIRES_PER_TURN at a time, a turn of the event loop apart:
 * when 20,000 fall due in the same millisecond, the first callbacks go on the wire while the rest
 * are still being handed out, instead of after all of them.
 */
export class WheelFireTimer implements FireTimer {
  private timer: WheelTimer<TimerItem>;
  private due: TimerItem[] = [];
  private dueHead = 0;
  private draining = false;

  constructor(
    private readonly onDue: (item: TimerItem) => void,
    private readonly clock: ClockPort = realClock,
  ) {
    this.timer = this.newTimer();
  }

  schedule(item: TimerItem, dueMs: number): number {
    return this.timer.schedule(item, dueMs);
  }

  cancel(handle: number): void {
    this.timer.cancel(handle as WheelHandle);
  }

  clear(): void {
    this.timer.close();
    this.timer = this.newTimer();
    this.due = [];
    this.dueHead = 0;
  }

  close(): void {
    this.timer.close();
    this.due = [];
    this.dueHead = 0;
  }

  get size(): number {
    return this.timer.size;
  }

  private newTimer(): WheelTimer<TimerItem> {
    return new WheelTimer<TimerItem>(this.clock, (item) => {
      this.due.push(item);
      if (!this.draining) {
        this.draining = true;
        setImmediate(this.drain);
      }
    });
  }

  private readonly drain = (): void => {
    const end = Math.min(this.due.length, this.dueHead + FIRES_PER_TURN);
    // A fire taken out of `due` stays out even if onDue throws: it must not be handed out twice.
    while (this.dueHead < end) this.onDue(this.due[this.dueHead++]);
    if (this.dueHead < this.due.length) {
      setImmediate(this.drain);
      return;
    }
    this.due = [];
    this.dueHead = 0;
    this.draining = false;
  };
}
