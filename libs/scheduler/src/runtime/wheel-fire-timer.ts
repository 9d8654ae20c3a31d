import { TimingWheel, type WheelHandle } from '../wheel/timing-wheel';
import type { DueFire, FireTimer } from './fire-runtime';

/** Longest single sleep: the timer re-checks at least this often (clock jumps, far-future items). */
const MAX_SLEEP_MS = 60_000;

/**
 * The fire runtime's one timer: every pending fire sits in a TimingWheel, and a single Node timer
 * sleeps until the wheel's earliest due time. Never early: a fire is handed out only once the
 * clock has reached its due time (Node timers may wake a millisecond early: then it sleeps again).
 */
export class WheelFireTimer implements FireTimer {
  private wheel: TimingWheel<DueFire>;
  private timer: NodeJS.Timeout | undefined;
  private armedForMs = Infinity;
  private closed = false;

  constructor(
    private readonly onDue: (fire: DueFire) => void,
    private readonly nowMs: () => number,
  ) {
    this.wheel = new TimingWheel<DueFire>(nowMs());
  }

  schedule(fire: DueFire, dueMs: number): unknown {
    const handle = this.wheel.schedule(fire, dueMs);
    if (dueMs < this.armedForMs) this.arm();
    return handle;
  }

  cancel(handle: unknown): void {
    this.wheel.cancel(handle as WheelHandle);
  }

  clear(): void {
    this.wheel = new TimingWheel<DueFire>(this.nowMs());
    this.disarm();
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  get size(): number {
    return this.wheel.size;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.armedForMs = Infinity;
    const due: DueFire[] = [];
    // Hand out after advancing: onDue schedules the task's next fire into the wheel.
    this.wheel.advance(this.nowMs(), (fire) => due.push(fire));
    for (const fire of due) this.onDue(fire);
    this.arm();
  };

  private arm(): void {
    if (this.closed) return;
    const nextMs = this.wheel.nextDueMs();
    if (nextMs === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && nextMs >= this.armedForMs) return;
    this.disarm();
    this.armedForMs = nextMs;
    const delayMs = Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil(nextMs - this.nowMs())));
    this.timer = setTimeout(this.tick, delayMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedForMs = Infinity;
  }
}
