import { SeededRandom } from '@xcron/testing';
import { backoffCapMs, backoffDelayMs, parseRetryAfterMs } from './backoff';

const policy = { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 5_000 };

describe('backoffCapMs', () => {
  it('doubles from the initial backoff up to the cap', () => {
    const caps = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffCapMs(policy, n));
    expect(caps).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  it('stays finite for huge attempt numbers and is 0 without an initial backoff', () => {
    expect(backoffCapMs(policy, 5_000)).toBe(5_000);
    expect(backoffCapMs({ ...policy, initialBackoffMs: 0 }, 5_000)).toBe(0);
    expect(backoffCapMs({ ...policy, maxBackoffMs: 0 }, 3)).toBe(0);
  });

  it('never exceeds maxBackoffMs, even when it is below the initial backoff', () => {
    expect(backoffCapMs({ maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 300 }, 1)).toBe(
      300,
    );
  });
});

describe('backoffDelayMs (equal jitter)', () => {
  it('is an integer in [cap/2, cap] for every attempt, over many seeds', () => {
    const violations: string[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const random = new SeededRandom(seed);
      let previousCap = 0;
      for (let attempt = 1; attempt <= 20; attempt++) {
        const cap = backoffCapMs(policy, attempt);
        const delay = backoffDelayMs(policy, attempt, () => random.nextFloat());
        if (
          cap < previousCap ||
          cap > policy.maxBackoffMs ||
          !Number.isInteger(delay) ||
          delay < Math.floor(cap / 2) ||
          delay > cap
        ) {
          violations.push(`seed ${seed} attempt ${attempt}: cap ${cap}, delay ${delay}`);
        }
        previousCap = cap;
      }
    }
    expect(violations).toEqual([]);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number): number[] => {
      const random = new SeededRandom(seed);
      return [1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(policy, n, () => random.nextFloat()));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('spans the jitter range: random 0 gives half the cap, random near 1 the cap', () => {
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(200);
    expect(backoffDelayMs(policy, 3, () => 0.999_999_9)).toBe(399);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(300);
  });

  it('clamps a misbehaving random source into the range', () => {
    expect(backoffDelayMs(policy, 3, () => 7)).toBe(400);
    expect(backoffDelayMs(policy, 3, () => -1)).toBe(200);
    expect(backoffDelayMs(policy, 3, () => Number.NaN)).toBe(200);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('reads delta seconds', () => {
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP-date relative to now, and a past date as 0', () => {
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 12:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unparseable values', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
  });
});
