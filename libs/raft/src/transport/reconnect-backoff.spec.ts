import { reconnectDelayMs } from './reconnect-backoff';

const limits = { backoffMsMin: 100, backoffMsMax: 5_000 };

describe('reconnectDelayMs', () => {
  it('doubles per failure and stays within [ceiling/2, ceiling]', () => {
    const low = [1, 2, 3, 4].map((failures) => reconnectDelayMs(failures, limits, () => 0));
    const high = [1, 2, 3, 4].map((failures) =>
      reconnectDelayMs(failures, limits, () => 0.999_999),
    );
    expect(low).toEqual([50, 100, 200, 400]);
    expect(high).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds backoffMsMax, however many failures', () => {
    for (const failures of [7, 10, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = reconnectDelayMs(failures, limits, () => 0.999_999);
      expect(delay).toBeLessThanOrEqual(5_000);
      expect(delay).toBeGreaterThanOrEqual(2_500);
    }
  });

  it('is a function of the injected random source (replayable)', () => {
    const sequence = [0.1, 0.7, 0.3];
    const run = (): number[] => {
      let i = 0;
      return [1, 2, 3].map((failures) => reconnectDelayMs(failures, limits, () => sequence[i++]));
    };
    expect(run()).toEqual(run());
    expect(run()).toEqual([55, 170, 260]);
  });

  it('clamps a random source that strays outside [0, 1)', () => {
    expect(reconnectDelayMs(1, limits, () => -3)).toBe(50);
    expect(reconnectDelayMs(1, limits, () => 7)).toBe(100);
  });
});
