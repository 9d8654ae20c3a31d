/**
 * Micro-measurement (not a test): entries/s of ClassicLevelRaftStorage.save() with sync: true for
 * batches of 1, 64 and 1,000 entries of 200 bytes; chained vs array batches on raw classic-level;
 * the cost of the entry encoding. Run from the repo root:
 *   node -r @swc-node/register libs/raft/src/storage/testing/measure-save-throughput.ts
 */
import { ClassicLevel } from 'classic-level';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type Entry } from '../../core/types';
import { ClassicLevelRaftStorage } from '../classic-level-raft-storage';
import { encodeEntryRecords } from '../log-record-codec';
import { payloadForIndex } from './entry-payload';

const ENTRY_BYTES = 200;
const BATCH_SIZES = [1, 64, 1000];
/** Roughly how long each figure is measured for. */
const RUN_MS = 2_000;

function makeEntries(from: number, count: number): Entry[] {
  const list: Entry[] = [];
  for (let i = 0; i < count; i++) {
    list.push({
      index: from + i,
      term: 1,
      type: EntryType.Normal,
      data: payloadForIndex(from + i, ENTRY_BYTES),
    });
  }
  return list;
}

async function measureStore(batchSize: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'xcron-measure-'));
  const storage = await ClassicLevelRaftStorage.open(dir);
  await storage.bootstrap('m', { index: 0, term: 0, membership: { members: [] } });
  const template = makeEntries(1, batchSize);
  let next = 1;
  let saved = 0;
  const startMs = performance.now();
  while (performance.now() - startMs < RUN_MS) {
    const entries = template.map((e, i) => ({ ...e, index: next + i }));
    await storage.save({ hardState: { term: 1, vote: 'n1', commit: next - 1 }, entries });
    next += batchSize;
    saved += batchSize;
  }
  const rate = saved / ((performance.now() - startMs) / 1000);
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  return rate;
}

type Db = ClassicLevel<Uint8Array, Uint8Array>;

async function measureRaw(
  db: Db,
  batchSize: number,
  kind: 'chained' | 'array',
  base: number,
): Promise<number> {
  const pairs: [Uint8Array, Uint8Array][] = [];
  encodeEntryRecords(makeEntries(1, batchSize), (key, value) => pairs.push([key, value]));
  let written = 0;
  const startMs = performance.now();
  let round = base;
  while (performance.now() - startMs < RUN_MS / 2) {
    // Keys shift each round so LevelDB does not just overwrite one hot set.
    const keys = pairs.map(([key]) => {
      const shifted = Buffer.from(key);
      shifted.writeUInt32BE(round, 1);
      return shifted;
    });
    if (kind === 'chained') {
      const batch = db.batch();
      for (let i = 0; i < pairs.length; i++) batch.put(keys[i], pairs[i][1]);
      await batch.write({ sync: true });
    } else {
      await db.batch(
        pairs.map(([, value], i) => ({ type: 'put' as const, key: keys[i], value })),
        { sync: true },
      );
    }
    written += batchSize;
    round += 1;
  }
  return written / ((performance.now() - startMs) / 1000);
}

function measureEncoding(): { binaryUsPerEntry: number; jsonUsPerEntry: number } {
  const entries = makeEntries(1, 10_000);
  let sink = 0;
  const binaryStart = performance.now();
  for (let r = 0; r < 20; r++) encodeEntryRecords(entries, (_key, value) => (sink += value.length));
  const binaryUs = ((performance.now() - binaryStart) * 1000) / (20 * entries.length);
  const jsonStart = performance.now();
  for (let r = 0; r < 20; r++) {
    for (const e of entries) {
      sink += Buffer.from(
        JSON.stringify({
          term: e.term,
          type: e.type,
          data: Buffer.from(e.data).toString('base64'),
        }),
      ).length;
    }
  }
  const jsonUs = ((performance.now() - jsonStart) * 1000) / (20 * entries.length);
  if (sink < 0) console.log(sink);
  return { binaryUsPerEntry: binaryUs, jsonUsPerEntry: jsonUs };
}

async function main(): Promise<void> {
  console.log(`ClassicLevelRaftStorage.save, ${ENTRY_BYTES}-byte entries, sync: true`);
  for (const size of BATCH_SIZES) {
    const rate = await measureStore(size);
    console.log(
      `  batch ${String(size).padStart(5)}: ${Math.round(rate).toLocaleString('en')} entries/s, ${Math.round(rate / size).toLocaleString('en')} saves/s`,
    );
  }

  console.log('raw classic-level, chained vs array batch, sync: true (alternating, 3 rounds each)');
  const dir = await mkdtemp(join(tmpdir(), 'xcron-measure-raw-'));
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  let base = 0;
  for (const size of BATCH_SIZES) {
    const rates = { chained: [] as number[], array: [] as number[] };
    for (let round = 0; round < 3; round++) {
      for (const kind of ['chained', 'array'] as const) {
        rates[kind].push(await measureRaw(db, size, kind, base));
        base += 100_000;
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
    const chained = median(rates.chained);
    const array = median(rates.array);
    console.log(
      `  batch ${String(size).padStart(5)}: chained ${Math.round(chained).toLocaleString('en')}/s, array ${Math.round(array).toLocaleString('en')}/s, chained/array ${(chained / array).toFixed(2)}`,
    );
  }
  await db.close();
  await rm(dir, { recursive: true, force: true });

  const encoding = measureEncoding();
  console.log(
    `encoding: binary ${encoding.binaryUsPerEntry.toFixed(2)} µs/entry (CRC included), JSON+base64 ${encoding.jsonUsPerEntry.toFixed(2)} µs/entry`,
  );
}

void main();
