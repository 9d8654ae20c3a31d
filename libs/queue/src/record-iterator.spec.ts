import { RecordIterator } from './record-iterator';

/** A source of batches that says whether it was closed, like recordBatches closing its file. */
function source(batches: number[][], failAfter?: number) {
  const state = { closed: false, pulled: 0 };
  async function* generate(): AsyncGenerator<number[]> {
    try {
      for (const batch of batches) {
        if (failAfter !== undefined && state.pulled === failAfter) throw new Error('bad record');
        state.pulled += 1;
        await Promise.resolve();
        yield batch;
      }
    } finally {
      state.closed = true;
    }
  }
  return { iterator: new RecordIterator(generate()), state };
}

async function collect(iterator: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const value of iterator) out.push(value);
  return out;
}

describe('RecordIterator', () => {
  it('hands out every record of every batch in order, skipping empty batches', async () => {
    const { iterator, state } = source([[1, 2, 3], [], [4], [5, 6]]);
    expect(await collect(iterator)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(state.closed).toBe(true);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('answers calls of next in order even when they are not awaited one by one', async () => {
    const { iterator } = source([[1, 2], [3], [4, 5]]);
    const results = await Promise.all(Array.from({ length: 7 }, () => iterator.next()));
    expect(results.map((r) => (r.done === true ? 'done' : r.value))).toEqual([
      1,
      2,
      3,
      4,
      5,
      'done',
      'done',
    ]);
  });

  it('closes its source when the loop breaks early', async () => {
    const { iterator, state } = source([
      [1, 2],
      [3, 4],
    ]);
    for await (const value of iterator) {
      if (value === 2) break;
    }
    expect(state.closed).toBe(true);
    expect(state.pulled).toBe(1);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('closes its source and rethrows on throw', async () => {
    const { iterator, state } = source([[1], [2]]);
    await iterator.next();
    await expect(iterator.throw(new Error('stop'))).rejects.toThrow('stop');
    expect(state.closed).toBe(true);
  });

  it('passes on an error of its source and then ends', async () => {
    const { iterator, state } = source([[1], [2], [3]], 2);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of iterator) seen.push(value);
      })(),
    ).rejects.toThrow('bad record');
    expect(seen).toEqual([1, 2]);
    expect(state.closed).toBe(true);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});
