import { realClock, type ClockPort } from '../wheel/clock-port';
import type { WheelHandle } from '../wheel/timing-wheel';
import { WheelTimer } from '../wheel/wheel-timer';
import type { FireTimer, TimerItem } from './fire-runtime';

/** Fires handed to the runtime per turn of the event loop when many fall due at once. */
const FIRES_PER_TURN = 256;

/**
 * Whether the fires' consumer (the callback dispatcher) can take more now. While it cannot, due
 * fires wait here as timer items (a number each) rather than as queued deliveries.
 */
export interface FireAdmission {
  /** How many more fires may be handed out now (0 = none until `whenRoom` wakes the timer). */
  room(): number;
  /** Calls `wake` once when room() may be above 0 again. */
  whenRoom(wake: () => void): void;
}

/**
 * The fire runtime's one timer: every pending fire of the leader in a timing wheel driven by a
 * single Node timer (WheelTimer), never early. `clear()` (leadership lost, state replaced) drops
 * the wheel and starts an empty one.
 *
 * Due fires are handed to the runtime FIRES_PER_TURN at a time, a turn of the event loop apart:
 * when 20,000 fall due in the same millisecond, the first callbacks go on the wire while the rest
 * are still being handed out, instead of after all of them. With an `admission`, no more are
 * handed out than it has room for: 20,000 fires queued in the dispatcher at once held ~20 objects
 * each for seconds, which the GC copied and promoted (bench:server part 4: GC ~10 µs a fire).
 */
export class WheelFireTimer implements FireTimer {
  private timer: WheelTimer<TimerItem>;
  private due: TimerItem[] = [];
  private dueHead = 0;
  private draining = false;
  /** Waiting for the admission's wake-up (a drain is then not scheduled). */
  private waitingForRoom = false;

  constructor(
    private readonly onDue: (item: TimerItem) => void,
    private readonly clock: ClockPort = realClock,
    private readonly admission?: FireAdmission,
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
    // Start afresh: the next due fire drains at once (asking the admission for room), instead of
    // waiting for a wake-up that was asked for the fires just dropped.
    this.draining = false;
    this.waitingForRoom = false;
  }

  close(): void {
    this.timer.close();
    this.due = [];
    this.dueHead = 0;
  }

  get size(): number {
    return this.timer.size;
  }

  private readonly roomAgain = (): void => {
    if (!this.waitingForRoom) return;
    this.waitingForRoom = false;
    setImmediate(this.drain);
  };

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
    const room = this.admission === undefined ? FIRES_PER_TURN : this.admission.room();
    if (room <= 0) {
      this.waitingForRoom = true;
      this.admission?.whenRoom(this.roomAgain);
      return;
    }
    const end = Math.min(this.due.length, this.dueHead + Math.min(room, FIRES_PER_TURN));
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
