/**
 * The time a WheelTimer runs on: injected so tests drive a simulated clock and production uses
 * the real one.
 */
export interface ClockPort<TimerHandle = unknown> {
  /** Unix ms (due times are unix ms, so the wall clock, not a monotonic one). */
  nowMs(): number;
  /** Calls callback once, about delayMs from now (possibly a little early: the caller checks). */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Date.now and setTimeout; timers are unref'd so a pending fire does not keep the process up. */
export const realClock: ClockPort<NodeJS.Timeout> = {
  nowMs: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle),
};
