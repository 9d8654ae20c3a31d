import { crc32c } from '@node-rs/crc32';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotMeta } from '../core/types';
import { SNAPSHOT_HEADER_BYTES } from './storage.constants';
import { StorageCorruptionError, StorageErrorCode } from './storage.errors';
import { SnapshotStore, type StoredSnapshot } from './snapshot-store';
import { snapshotFileName } from './snapshot-format';

const MEMBERSHIP = {
  members: [{ id: 'n1', role: 'voter' as const, peerAddress: '127.0.0.1:8899' }],
};

function meta(index: number, term = 1): SnapshotMeta {
  return { index, term, membership: MEMBERSHIP };
}

/** Deterministic bytes that differ per snapshot, so a mix-up of files shows. */
function dataFor(seed: number, sizeBytes: number): Buffer {
  const data = Buffer.allocUnsafe(sizeBytes);
  let x = seed * 2654435761;
  for (let i = 0; i < sizeBytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

async function* inChunks(data: Uint8Array, chunkBytes: number): AsyncGenerator<Uint8Array> {
  // One reused buffer: the store must copy what it keeps before asking for the next chunk.
  const scratch = new Uint8Array(chunkBytes);
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    const part = data.subarray(offset, offset + chunkBytes);
    scratch.set(part);
    yield scratch.subarray(0, part.length);
  }
}

async function readAll(snapshot: StoredSnapshot, chunkBytes?: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of snapshot.chunks({ chunkBytes })) chunks.push(Buffer.from(chunk));
  return chunks;
}

describe('SnapshotStore', () => {
  let dir: string;
  let warnings: string[];
  const logger = { warn: (message: string) => warnings.push(message) };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xcron-snapshots-'));
    warnings = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const open = (retainCount?: number): Promise<SnapshotStore> =>
    SnapshotStore.open(dir, { logger, retainCount });

  it('returns undefined from an empty directory', async () => {
    expect(await (await open()).latest()).toBeUndefined();
  });

  it('round-trips a snapshot written and read in many chunks', async () => {
    const store = await open();
    const data = dataFor(7, 3 * 1024 * 1024 + 123);
    const info = await store.write(meta(42, 3), inChunks(data, 7 * 1024));
    expect(info).toMatchObject({
      meta: meta(42, 3),
      dataBytes: data.length,
      dataCrc32c: crc32c(data),
    });
    expect(info.filePath).toBe(join(dir, 'snapshot-00000000000000000042-3.snap'));

    const latest = (await (await open()).latest())!;
    expect(latest.meta).toEqual(meta(42, 3));
    expect(latest.dataBytes).toBe(data.length);
    const chunks = await readAll(latest, 256 * 1024);
    expect(chunks).toHaveLength(Math.ceil(data.length / (256 * 1024)));
    expect(chunks.every((c) => c.length <= 256 * 1024)).toBe(true);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('writes a single buffer and an empty snapshot', async () => {
    const store = await open(3);
    const data = dataFor(1, 1000);
    await store.write(meta(1), data);
    await store.write(meta(2), new Uint8Array(0));
    const latest = (await store.latest())!;
    expect(latest.dataBytes).toBe(0);
    expect(await readAll(latest)).toEqual([]);
    expect((await stat(join(dir, snapshotFileName(1, 1)))).size).toBeGreaterThan(1000);
  });

  it('keeps the newest N snapshots', async () => {
    const store = await open();
    for (const index of [10, 30, 20, 40, 50]) await store.write(meta(index), dataFor(index, 100));
    expect((await readdir(dir)).sort()).toEqual([snapshotFileName(40, 1), snapshotFileName(50, 1)]);

    const three = await open(3);
    await three.write(meta(60), dataFor(60, 100));
    await three.write(meta(70), dataFor(70, 100));
    expect((await readdir(dir)).sort()).toEqual([
      snapshotFileName(50, 1),
      snapshotFileName(60, 1),
      snapshotFileName(70, 1),
    ]);
  });

  it('falls back to the previous snapshot when the newest has a damaged byte', async () => {
    const store = await open();
    await store.write(meta(10), dataFor(10, 50_000));
    await store.write(meta(20), dataFor(20, 50_000));
    const newest = join(dir, snapshotFileName(20, 1));
    const bytes = await readFile(newest);
    bytes[bytes.length - 100] ^= 0x40;
    await writeFile(newest, bytes);

    const latest = (await store.latest())!;
    expect(latest.meta.index).toBe(10);
    expect(Buffer.concat(await readAll(latest)).equals(dataFor(10, 50_000))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(newest);
    expect(warnings[0]).toContain('data checksum mismatch');

    // Without the up-front check the damage shows at the end of the stream, naming the file.
    const unchecked = (await store.latest({ verifyData: false }))!;
    expect(unchecked.meta.index).toBe(20);
    const error = await readAll(unchecked, 4096).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as Error).message).toContain(newest);
  });

  it('falls back when the newest has a damaged header or was cut short', async () => {
    const store = await open(3);
    await store.write(meta(10), dataFor(10, 1000));
    await store.write(meta(20), dataFor(20, 1000));
    await store.write(meta(30), dataFor(30, 1000));
    const header = join(dir, snapshotFileName(30, 1));
    const bytes = await readFile(header);
    bytes[SNAPSHOT_HEADER_BYTES + 3] ^= 0x01; // inside the meta JSON: the header CRC catches it
    await writeFile(header, bytes);
    await truncate(join(dir, snapshotFileName(20, 1)), 500);

    expect((await store.latest())!.meta.index).toBe(10);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('header checksum mismatch');
    expect(warnings[1]).toContain('header says');
  });

  it('throws when every snapshot is corrupt rather than start as if there were none', async () => {
    const store = await open();
    await store.write(meta(10), dataFor(10, 1000));
    await truncate(join(dir, snapshotFileName(10, 1)), 10);
    await expect(store.latest()).rejects.toMatchObject({ code: StorageErrorCode.Corruption });
  });

  it('removes leftover temp files on open, and nothing else', async () => {
    const leftover = `${snapshotFileName(5, 1)}.1234-1.tmp`;
    await writeFile(join(dir, leftover), 'half a snapshot');
    await writeFile(join(dir, 'notes.txt'), 'not ours');
    await open();
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it('leaves no file behind when the data stream fails', async () => {
    const store = await open();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield dataFor(1, 1000);
      throw new Error('state machine failed');
    }
    await expect(store.write(meta(10), failing())).rejects.toThrow('state machine failed');
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes a state-in-machine snapshot: a flagged file without data, newest like any other', async () => {
    const store = await open();
    await store.write(meta(10), dataFor(10, 1000));
    const info = await store.writeStateInMachine(meta(20, 2));
    expect(info).toMatchObject({ meta: meta(20, 2), dataBytes: 0, stateInMachine: true });
    const latest = (await (await open()).latest())!;
    expect(latest).toMatchObject({ meta: meta(20, 2), dataBytes: 0, stateInMachine: true });
    expect(() => latest.chunks()).toThrow('carries no data');
    // A data file is still written as version 1 (readable by older builds), and says so.
    const bytes = await readFile(join(dir, snapshotFileName(10, 1)));
    expect(bytes.readUInt32LE(4)).toBe(1);
    expect((await readFile(info.filePath)).readUInt32LE(4)).toBe(2);
    await store.write(meta(30), dataFor(30, 10));
    expect((await store.latest())!).toMatchObject({ dataBytes: 10, stateInMachine: false });
  });

  it('falls back from a state-in-machine snapshot whose header is damaged', async () => {
    const store = await open();
    await store.write(meta(10), dataFor(10, 1000));
    const info = await store.writeStateInMachine(meta(20));
    const bytes = await readFile(info.filePath);
    bytes[24] ^= 0x02; // the flags: covered by the header CRC
    await writeFile(info.filePath, bytes);
    expect((await store.latest())!.meta.index).toBe(10);
    expect(warnings[0]).toContain('header checksum mismatch');
  });

  describe('receiver', () => {
    const data = dataFor(99, 100_000);
    const expected = { dataBytes: data.length, dataCrc32c: crc32c(data) };

    it('commits chunks received in order on finish', async () => {
      const store = await open();
      const receiver = await store.beginReceive(meta(500, 4), expected);
      for (let offset = 0; offset < data.length; offset += 30_000) {
        await receiver.writeChunk(offset, data.subarray(offset, offset + 30_000));
      }
      expect(await store.latest()).toBeUndefined(); // nothing visible before finish
      const info = await receiver.finish();
      expect(info.meta).toEqual(meta(500, 4));
      const latest = (await store.latest())!;
      expect(Buffer.concat(await readAll(latest)).equals(data)).toBe(true);
      expect(await readdir(dir)).toEqual([snapshotFileName(500, 4)]);
    });

    it('rejects an out-of-order chunk and accepts the right one after it', async () => {
      const store = await open();
      const receiver = await store.beginReceive(meta(500), expected);
      await receiver.writeChunk(0, data.subarray(0, 60_000));
      await expect(receiver.writeChunk(70_000, data.subarray(70_000))).rejects.toMatchObject({
        code: StorageErrorCode.ChunkOutOfOrder,
      });
      await expect(receiver.writeChunk(0, data.subarray(0, 10))).rejects.toMatchObject({
        code: StorageErrorCode.ChunkOutOfOrder,
      });
      await receiver.writeChunk(60_000, data.subarray(60_000));
      await receiver.finish();
      expect(Buffer.concat(await readAll((await store.latest())!)).equals(data)).toBe(true);
    });

    it('refuses to commit data whose CRC differs from the announced one', async () => {
      const store = await open();
      await store.write(meta(100), dataFor(100, 10));
      const receiver = await store.beginReceive(meta(500), {
        ...expected,
        dataCrc32c: expected.dataCrc32c ^ 1,
      });
      await receiver.writeChunk(0, data);
      await expect(receiver.finish()).rejects.toMatchObject({
        code: StorageErrorCode.ChecksumMismatch,
      });
      expect(await readdir(dir)).toEqual([snapshotFileName(100, 1)]);
      expect((await store.latest())!.meta.index).toBe(100);
    });

    it('takes the size and CRC at finish when the leader streams data of unknown length', async () => {
      const store = await open();
      const receiver = await store.beginReceive(meta(500, 4));
      for (let offset = 0; offset < data.length; offset += 30_000) {
        await receiver.writeChunk(offset, data.subarray(offset, offset + 30_000));
      }
      await receiver.finish(expected);
      expect(Buffer.concat(await readAll((await store.latest())!)).equals(data)).toBe(true);

      const wrong = await store.beginReceive(meta(600));
      await wrong.writeChunk(0, data);
      await expect(
        wrong.finish({ dataBytes: data.length, dataCrc32c: expected.dataCrc32c ^ 1 }),
      ).rejects.toMatchObject({ code: StorageErrorCode.ChecksumMismatch });
      const untold = await store.beginReceive(meta(700));
      await untold.writeChunk(0, data);
      await expect(untold.finish()).rejects.toMatchObject({
        code: StorageErrorCode.InvalidArgument,
      });
      await untold.abort();
      expect(await readdir(dir)).toEqual([snapshotFileName(500, 4)]);
    });

    it('refuses to commit fewer bytes than announced, or more', async () => {
      const store = await open();
      const short = await store.beginReceive(meta(500), expected);
      await short.writeChunk(0, data.subarray(0, 1000));
      await expect(short.finish()).rejects.toMatchObject({
        code: StorageErrorCode.ChecksumMismatch,
      });
      const long = await store.beginReceive(meta(500), { dataBytes: 10, dataCrc32c: 0 });
      await expect(long.writeChunk(0, data.subarray(0, 11))).rejects.toMatchObject({
        code: StorageErrorCode.InvalidArgument,
      });
      await long.abort();
      await long.abort();
      expect(await readdir(dir)).toEqual([]);
    });
  });
});
