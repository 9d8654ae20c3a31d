import { realClock, type ClockPort } from '../wheel/clock-port';
import type { WheelHandle } from '../wheel/timing-wheel';
import { WheelTimer } from '../wheel/wheel-timer';
import type { DueFire, FireTimer } from './fire-runtime';

/**
 * The fire runtime's one timer: every pending fire of the leader in a timing wheel driven by a
 * single Node timer (WheelTimer), never early. `clear()` (leadership lost, state replaced) drops
 * the wheel and starts an empty one.
 */
export class WheelFireTimer implements FireTimer {
  private timer: WheelTimer<DueFire>;

  constructor(
    private readonly onDue: (fire: DueFire) => void,
    private readonly clock: ClockPort = realClock,
  ) {
    this.timer = this.newTimer();
  }

  schedule(fire: DueFire, dueMs: number): unknown {
    return this.timer.schedule(fire, dueMs);
  }

  cancel(handle: unknown): void {
    this.timer.cancel(handle as WheelHandle);
  }

  clear(): void {
    this.timer.close();
    this.timer = this.newTimer();
  }

  close(): void {
    this.timer.close();
  }

  get size(): number {
    return this.timer.size;
  }

  private newTimer(): WheelTimer<DueFire> {
    return new WheelTimer<DueFire>(this.clock, (fire) => this.onDue(fire));
  }
}
