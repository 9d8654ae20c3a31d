import { realSleep, systemClock } from './ports';

describe('default ports', () => {
  it('realSleep waits about the time asked', async () => {
    const started = Date.now();
    await realSleep(30, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('realSleep resolves early (never rejects) when the signal aborts, or at once if already aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = realSleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(waiting).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(realSleep(10_000, controller.signal)).resolves.toBeUndefined();
  });

  it('systemClock reads unix milliseconds', () => {
    expect(Math.abs(systemClock.nowMs() - Date.now())).toBeLessThan(1_000);
  });
});
