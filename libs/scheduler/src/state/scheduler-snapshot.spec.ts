import { SeededRandom } from '@xcron/testing';
import { MemoryStateStore } from '../store/testing/memory-state-store';
import { compareBytes } from '../store/state-store';
import { readSnapshotStream, writeSnapshotStream } from './scheduler-snapshot';

type Pair = [Uint8Array, Uint8Array];

/** A store of `count` random entries (empty values, big values, 1-byte keys among them). */
async function storeOf(random: SeededRandom, count: number): Promise<[MemoryStateStore, Pair[]]> {
  const store = new MemoryStateStore();
  const byKey = new Map<string, Pair>();
  for (let i = 0; i < count; i++) {
    const keyLength = 1 + random.nextInt(20);
    const key = bytes(random, keyLength);
    key[0] = 0x40 + random.nextInt(0x20); // the families' range
    const pick = random.nextFloat();
    const valueLength =
      pick < 0.1 ? 0 : pick < 0.15 ? 200_000 + random.nextInt(1_200_000) : random.nextInt(300);
    byKey.set(Buffer.from(key).toString('hex'), [key, bytes(random, valueLength)]);
  }
  const pairs = [...byKey.values()].sort((a, b) => compareBytes(a[0], b[0]));
  await store.write(
    pairs.map(([key, value]) => ({ type: 'put', key, value })),
    { sync: true },
  );
  return [store, pairs];
}

function bytes(random: SeededRandom, length: number): Uint8Array {
  const out = new Uint8Array(length);
  // Random up to 64 bytes, then a cheap pattern from a random start.
  const start = random.nextInt(256);
  for (let i = 0; i < length; i++) out[i] = i < 64 ? random.nextInt(256) : (start + i * 7) & 0xff;
  return out;
}

/** Entries as text (jest compares typed arrays of megabytes element by element, slowly). */
function hex(pairs: readonly Pair[]): string[] {
  return pairs.map(
    ([key, value]) =>
      `${Buffer.from(key).toString('hex')}=${Buffer.from(value).toString('base64')}`,
  );
}

async function write(store: MemoryStateStore): Promise<Uint8Array> {
  const view = store.view();
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeSnapshotStream(view)) chunks.push(chunk.slice());
  await view.close();
  return Buffer.concat(chunks);
}

/** The bytes cut at random points: many 1-byte chunks, some small, some large. */
function rechunk(all: Uint8Array, random: SeededRandom): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < all.length;) {
    const pick = random.nextFloat();
    const size = pick < 0.3 ? 1 : pick < 0.7 ? 1 + random.nextInt(16) : 1 + random.nextInt(300_000);
    chunks.push(all.slice(at, at + size));
    at += size;
  }
  return chunks;
}

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await Promise.resolve();
    yield chunk;
  }
}

async function read(chunks: readonly Uint8Array[]): Promise<Pair[]> {
  const out: Pair[] = [];
  for await (const batch of readSnapshotStream(stream(chunks))) out.push(...batch);
  return out;
}

describe('scheduler snapshot stream', () => {
  it.each([1, 2, 3, 4, 5, 6])(
    'reads back what it wrote, however the bytes are chunked (seed %i)',
    async (seed) => {
      const random = new SeededRandom(seed);
      const [store, pairs] = await storeOf(random, 300);
      const all = await write(store);
      expect(hex(await read([all]))).toEqual(hex(pairs));
      expect(hex(await read(rechunk(all, random)))).toEqual(hex(pairs));
      // The first bytes, the magic included, one at a time.
      const head = Array.from({ length: 40 }, (_, i) => all.subarray(i, i + 1));
      expect(hex(await read([...head, all.subarray(40)]))).toEqual(hex(pairs));
    },
  );

  it('writes chunks of about 1 MiB, and a value bigger than that in a chunk of its own', async () => {
    const random = new SeededRandom(7);
    const [store, pairs] = await storeOf(random, 200);
    const view = store.view();
    const sizes: number[] = [];
    const chunks: Uint8Array[] = [];
    for await (const chunk of writeSnapshotStream(view)) {
      sizes.push(chunk.length);
      chunks.push(chunk.slice());
    }
    await view.close();
    const biggest = Math.max(...pairs.map(([k, v]) => 8 + k.length + v.length));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(Math.max(1024 * 1024, biggest));
    expect(hex(await read(chunks))).toEqual(hex(pairs));
  });

  it('streams an empty store as the header alone', async () => {
    const all = await write(new MemoryStateStore());
    expect(all.length).toBeGreaterThan(0);
    expect(hex(await read([all]))).toEqual(hex([]));
  });

  it('says a stream cut short inside an entry or its header is cut short', async () => {
    const random = new SeededRandom(8);
    const [store] = await storeOf(random, 50);
    const all = await write(store);
    let failed = 0;
    for (let i = 0; i < 20; i++) {
      const cut = 13 + random.nextInt(all.length - 13);
      // A cut that falls on an entry boundary reads as a shorter store (the transport's length
      // and CRC catch those); every other cut must fail, saying so.
      await read([all.subarray(0, cut)]).catch((error: Error) => {
        expect(error.message).toMatch(/ends inside an entry \(\d+ bytes left over\)/);
        failed++;
      });
    }
    expect(failed).toBeGreaterThan(10);
    await expect(read([all.subarray(0, all.length - 1)])).rejects.toThrow(/ends inside an entry/);
    await expect(read([all.subarray(0, 5)])).rejects.toThrow(
      /empty or cut short before its header/,
    );
    await expect(read([])).rejects.toThrow(/empty or cut short before its header/);
  });

  it('refuses bytes that are not a state snapshot', async () => {
    const all = await write(new MemoryStateStore());
    const bad = all.slice();
    bad[3] ^= 0xff;
    await expect(read([bad])).rejects.toThrow(/not an xcron state snapshot \(bad magic\)/);
    const json = new TextEncoder().encode('{"format":1,"tasks":[]}\n');
    await expect(read([json])).rejects.toThrow(/JSON-lines format of an earlier xcron/);
    // Split: the magic is checked once whole.
    await expect(read([bad.subarray(0, 2), bad.subarray(2)])).rejects.toThrow(/bad magic/);
  });

  it('refuses a frame whose length is out of bounds instead of waiting for it', async () => {
    const header = (await write(new MemoryStateStore())).slice();
    const frame = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
    await expect(read([header, frame])).rejects.toThrow(/key length \d+ is out of bounds/);
    const value = Uint8Array.of(0, 0, 0, 1, 0x52, 0x7f, 0xff, 0xff, 0xff);
    await expect(read([header, value])).rejects.toThrow(/value length \d+ is out of bounds/);
  });
});
