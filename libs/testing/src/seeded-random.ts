const TWO_POW_32 = 0x1_0000_0000;

/**
 * A tiny deterministic pseudo-random generator (mulberry32) for simulations and test doubles.
 *
 * Why not `Math.random`: a failing simulation must be replayable from its seed alone, so every
 * random decision of a test harness (what a power loss keeps, which message Raft drops, …) draws
 * from one of these. mulberry32 has 32 bits of state: plenty for tests, not for cryptography.
 *
 * The sequence for a given seed is part of the contract (seeds printed by failed runs must keep
 * reproducing them), so the algorithm must not change.
 */
export class SeededRandom {
  private state: number;

  /** `seed` is any integer; only its low 32 bits matter. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`SeededRandom needs an integer seed, got ${seed}`);
    }
    this.state = seed >>> 0;
  }

  /** The next integer in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** The next float in [0, 1), with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform integer in [0, maxExclusive); `maxExclusive` is an integer in [1, 2^32]. */
  nextInt(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
      throw new RangeError(`nextInt needs an integer bound in [1, 2^32], got ${maxExclusive}`);
    }
    // Rejection sampling: a plain modulo would favour small values when the bound does not divide 2^32.
    const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
    let value = this.nextUint32();
    while (value >= limit) {
      value = this.nextUint32();
    }
    return value % maxExclusive;
  }

  /** A uniform integer in [minInclusive, maxExclusive). */
  nextIntInRange(minInclusive: number, maxExclusive: number): number {
    if (!Number.isInteger(minInclusive) || maxExclusive <= minInclusive) {
      throw new RangeError(`empty or invalid range [${minInclusive}, ${maxExclusive})`);
    }
    return minInclusive + this.nextInt(maxExclusive - minInclusive);
  }

  /** True with probability `probability` (0 never, 1 always). */
  chance(probability: number): boolean {
    if (!(probability >= 0 && probability <= 1)) {
      throw new RangeError(`chance needs a probability in [0, 1], got ${probability}`);
    }
    return this.nextFloat() < probability;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) {
      throw new RangeError('pick needs a non-empty array');
    }
    return items[this.nextInt(items.length)] as T;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const held = items[i] as T;
      items[i] = items[j] as T;
      items[j] = held;
    }
    return items;
  }

  /**
   * An independent generator seeded from this one. Give each simulated component its own fork so
   * that adding random draws to one component does not shift the sequence every other one sees.
   */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}
