import type { Schedule } from './schedule';

/** A one-shot: a single fire at runAtMs. */
export class OnceSchedule implements Schedule {
  constructor(readonly runAtMs: number) {}

  nextAfter(afterMs: number): number | undefined {
    return this.runAtMs > afterMs ? this.runAtMs : undefined;
  }
}
