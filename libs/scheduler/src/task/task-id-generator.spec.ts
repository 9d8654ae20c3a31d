import { TaskIdGenerator, idOf, isTaskId } from './task-id-generator';

const ID_EPOCH_MS = Date.UTC(2024, 0, 1);

/** The ids as the sonyflake layout defines them: (ms << 22) | (node << 12) | sequence. */
function expected(ms: number, node: number, sequence: number): string {
  return ((BigInt(ms) << 22n) | (BigInt(node) << 12n) | BigInt(sequence)).toString();
}

describe('TaskIdGenerator', () => {
  it('mints (ms, node, sequence) ids, the sequence counting within a millisecond', () => {
    let now = ID_EPOCH_MS + 1_234_567_890;
    const ids = new TaskIdGenerator(1023, () => now);
    expect(ids.next()).toBe(expected(1_234_567_890, 1023, 0));
    expect(ids.next()).toBe(expected(1_234_567_890, 1023, 1));
    now += 5;
    expect(ids.next()).toBe(expected(1_234_567_895, 1023, 0));
    now -= 100; // the clock stepped back: go on from the last millisecond
    expect(ids.next()).toBe(expected(1_234_567_895, 1023, 1));
  });

  it('borrows the next millisecond when a sequence runs out', () => {
    const ms = 987_654_321;
    const ids = new TaskIdGenerator(7, () => ID_EPOCH_MS + ms);
    const minted = Array.from({ length: 4096 + 3 }, () => ids.next());
    expect(minted[4095]).toBe(expected(ms, 7, 4095));
    expect(minted[4096]).toBe(expected(ms + 1, 7, 0));
    expect(minted[4098]).toBe(expected(ms + 1, 7, 2));
    expect(new Set(minted).size).toBe(minted.length);
  });

  it('writes every id as the BigInt would, whatever its last six digits carry', () => {
    // Millisecond counts whose base ends just below a million in its last six digits, so that
    // adding the sequence carries into the digits above; and small ones (ids below a million).
    const cases: number[] = [1, 2, 3, 200, 2 ** 41 - 1];
    for (let ms = 1; cases.length < 30; ms = (ms * 7 + 12_345) % 2 ** 41) {
      const low = Number(idOf(ms, 5, 0) % 1_000_000n);
      if (low > 995_000 || cases.length < 15) cases.push(ms);
    }
    for (const ms of cases)
      for (const node of [0, 1023]) {
        const ids = new TaskIdGenerator(node, () => ID_EPOCH_MS + ms);
        const minted = Array.from({ length: 4096 }, () => ids.next());
        expect(minted).toEqual(Array.from({ length: 4096 }, (_, n) => expected(ms, node, n)));
      }
  });

  it('mints task ids (decimal, below 2^63)', () => {
    const ids = new TaskIdGenerator(1023, () => ID_EPOCH_MS + 2 ** 41 - 1);
    for (let n = 0; n < 5; n++) expect(isTaskId(ids.next())).toBe(true);
  });
});
