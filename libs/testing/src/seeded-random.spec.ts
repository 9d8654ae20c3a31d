import { SeededRandom } from './seeded-random';

function draws(random: SeededRandom, count: number): number[] {
  return Array.from({ length: count }, () => random.nextUint32());
}

describe('SeededRandom', () => {
  it('produces the reference mulberry32 sequence, so printed seeds keep reproducing runs', () => {
    expect(draws(new SeededRandom(0), 4)).toEqual([1144304738, 1416247, 958946056, 627933444]);
    expect(draws(new SeededRandom(1), 4)).toEqual([2693262067, 11749833, 2265367787, 4213581821]);
    expect(draws(new SeededRandom(42), 4)).toEqual([
      2581720956, 1925393290, 3661312704, 2876485805,
    ]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(draws(new SeededRandom(7), 100)).toEqual(draws(new SeededRandom(7), 100));
    expect(draws(new SeededRandom(7), 100)).not.toEqual(draws(new SeededRandom(8), 100));
  });

  it('uses the low 32 bits of the seed and rejects non-integers', () => {
    expect(draws(new SeededRandom(2 ** 32 + 5), 3)).toEqual(draws(new SeededRandom(5), 3));
    expect(draws(new SeededRandom(-1), 3)).toEqual(draws(new SeededRandom(0xffffffff), 3));
    expect(() => new SeededRandom(1.5)).toThrow(RangeError);
    expect(() => new SeededRandom(Number.NaN)).toThrow(RangeError);
  });

  it('keeps every value in range', () => {
    const random = new SeededRandom(3);
    for (let i = 0; i < 10_000; i++) {
      const u = random.nextUint32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      const f = random.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const n = random.nextInt(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
      const r = random.nextIntInRange(-3, 4);
      expect(Number.isInteger(r) && r >= -3 && r < 4).toBe(true);
    }
  });

  it('covers the whole range of nextInt roughly uniformly', () => {
    const random = new SeededRandom(11);
    const counts = new Array<number>(10).fill(0);
    const samples = 100_000;
    for (let i = 0; i < samples; i++) {
      counts[random.nextInt(10)] += 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(samples / 10 - 500);
      expect(count).toBeLessThan(samples / 10 + 500);
    }
  });

  it('handles the extreme bounds of nextInt and rejects invalid ones', () => {
    const random = new SeededRandom(5);
    expect(random.nextInt(1)).toBe(0);
    const big = random.nextInt(2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
    expect(() => random.nextInt(0)).toThrow(RangeError);
    expect(() => random.nextInt(2.5)).toThrow(RangeError);
    expect(() => random.nextInt(2 ** 32 + 1)).toThrow(RangeError);
    expect(() => random.nextIntInRange(3, 3)).toThrow(RangeError);
  });

  it('chance(0) is never true, chance(1) always, and chance(p) is about p', () => {
    const random = new SeededRandom(9);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) {
      expect(random.chance(0)).toBe(false);
      expect(random.chance(1)).toBe(true);
      if (random.chance(0.25)) {
        hits += 1;
      }
    }
    expect(hits).toBeGreaterThan(2_300);
    expect(hits).toBeLessThan(2_700);
    expect(() => random.chance(1.5)).toThrow(RangeError);
    expect(() => random.chance(Number.NaN)).toThrow(RangeError);
  });

  it('picks members and shuffles into a permutation', () => {
    const random = new SeededRandom(13);
    const items = ['a', 'b', 'c', 'd', 'e'];
    for (let i = 0; i < 100; i++) {
      expect(items).toContain(random.pick(items));
    }
    expect(() => random.pick([])).toThrow(RangeError);
    const shuffled = random.shuffle([...items]);
    expect([...shuffled].sort()).toEqual(items);
    expect(new SeededRandom(13).shuffle([...items])).toEqual(
      new SeededRandom(13).shuffle([...items]),
    );
  });

  it('forks independent, reproducible generators', () => {
    const parent = new SeededRandom(21);
    const child = parent.fork();
    const again = new SeededRandom(21).fork();
    expect(draws(child, 5)).toEqual(draws(again, 5));
    expect(draws(parent, 5)).not.toEqual(draws(new SeededRandom(21).fork(), 5));
  });
});
