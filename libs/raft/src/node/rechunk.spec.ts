import { rechunk } from './rechunk';

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of source) out.push(Buffer.from(chunk));
  return out;
}

describe('rechunk', () => {
  it('cuts pieces of any size into chunks of the given size, the last one shorter', async () => {
    const whole = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    async function* pieces(): AsyncGenerator<Uint8Array> {
      // One reused buffer: rechunk must copy what it keeps.
      const scratch = Buffer.alloc(400);
      let start = 0;
      for (const size of [1, 7, 400, 0, 92, 300, 200]) {
        whole.copy(scratch, 0, start, start + size);
        start += size;
        yield scratch.subarray(0, size);
      }
    }
    const chunks = await collect(rechunk(pieces(), 128));
    expect(chunks.map((c) => c.length)).toEqual([128, 128, 128, 128, 128, 128, 128, 104]);
    expect(Buffer.concat(chunks).equals(whole)).toBe(true);
  });

  it('yields nothing for an empty source, and one chunk for a single buffer', async () => {
    expect(await collect(rechunk([], 16))).toEqual([]);
    expect(await collect(rechunk([new Uint8Array(5)], 16))).toEqual([Buffer.alloc(5)]);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield new Uint8Array(10);
      } finally {
        closed = true;
      }
    }
    for await (const _chunk of rechunk(endless(), 25)) break;
    expect(closed).toBe(true);
  });
});
