import fc from 'fast-check';
import { DiskQueue } from './disk-queue';
import type { DiskQueueOptions, QueueLogger, SyncMode } from './queue.options';
import { QueueErrorCode } from './queue.errors';
import { SeededRandom, SimulatedFileSystem } from './testing';

/**
 * Power loss, through the file-system double that keeps only fdatasync'd bytes (and may tear the
 * last unsynced write). Random appends, syncs, cursor commits, truncations, resets, clean reopens,
 * process crashes and power losses run against a model; after every recovery the queue must hold
 * exactly a prefix of what was appended that contains every record acknowledged as durable, and
 * every committed cursor must be where it was committed (or pulled back to the end of the queue).
 */

const DIR = '/data/journal';
const SEGMENT_BYTES = 4096;
const CURSORS = ['scheduler', 'audit'] as const;

const silentLogger: QueueLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

type Action =
  | { kind: 'append'; sizes: number[]; awaitEach: boolean }
  | { kind: 'appendBatch'; sizes: number[]; gapEvery: number }
  | { kind: 'sync' }
  | { kind: 'commit'; cursor: (typeof CURSORS)[number]; fraction: number }
  | { kind: 'truncate'; fraction: number }
  | { kind: 'reset'; jump: number }
  | { kind: 'reopen' }
  | { kind: 'processCrash' }
  | {
      kind: 'powerLoss';
      keep: 'none' | 'all' | 'random';
      tear: boolean;
      zeros: boolean;
      seed: number;
    };

const sizeArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 100, max: 900 }));
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      sizes: fc.array(sizeArb, { minLength: 1, maxLength: 30 }),
      awaitEach: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('appendBatch' as const),
      sizes: fc.array(sizeArb, { minLength: 1, maxLength: 30 }),
      gapEvery: fc.integer({ min: 0, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      cursor: fc.constantFrom(...CURSORS),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reset' as const),
      jump: fc.integer({ min: -50, max: 500 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'processCrash' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('powerLoss' as const),
      keep: fc.constantFrom('none' as const, 'all' as const, 'random' as const),
      tear: fc.boolean(),
      zeros: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    }),
  },
);

interface ModelRecord {
  seq: number;
  payload: Buffer;
}

/** What the test knows independently of the queue under test. */
class Model {
  records: ModelRecord[] = [];
  /** Every record up to this sequence was acknowledged as durable. */
  durableSeq = 0;
  /** Sequence below which records were truncated or reset away (the queue may keep more). */
  lowSeq = 1;
  lastSeq = 0;
  readonly cursors = new Map<string, number>();
  private payloadCounter = 0;

  payload(size: number): Buffer {
    this.payloadCounter += 1;
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) out[i] = (this.payloadCounter * 131 + i * 7) & 0xff;
    if (size >= 4) out.writeUInt32LE(this.payloadCounter, 0);
    return out;
  }
}

async function run(
  syncMode: SyncMode,
  actions: Action[],
  options: DiskQueueOptions = {},
): Promise<void> {
  const fs = new SimulatedFileSystem({ seed: 7 });
  const openQueue = (): Promise<DiskQueue> =>
    DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      syncMode,
      segmentBytes: SEGMENT_BYTES,
      logger: silentLogger,
      syncIntervalMs: 60_000,
      ...options,
    });
  const model = new Model();
  let queue = await openQueue();

  const recover = async (): Promise<void> => {
    queue = await openQueue();
    await checkRecovered(queue, model);
  };

  for (const action of actions) {
    switch (action.kind) {
      case 'append': {
        const pending: Array<Promise<void>> = [];
        for (const size of action.sizes) {
          const record = { seq: model.lastSeq + 1, payload: model.payload(size) };
          model.records.push(record);
          model.lastSeq = record.seq;
          const acked = queue.append(record.payload).then((seq) => {
            expect(seq).toBe(record.seq);
            if (syncMode === 'always') model.durableSeq = Math.max(model.durableSeq, seq);
          });
          if (action.awaitEach) await acked;
          else pending.push(acked);
        }
        await Promise.all(pending);
        break;
      }
      case 'appendBatch': {
        const batch = action.sizes.map((size, i) => {
          const seq =
            model.lastSeq + 1 + (action.gapEvery > 0 && i % action.gapEvery === 0 ? 3 : 0);
          const record = { seq, payload: model.payload(size) };
          model.records.push(record);
          model.lastSeq = seq;
          return record;
        });
        const last = await queue.appendBatch(batch);
        expect(last).toBe(model.lastSeq);
        if (syncMode === 'always') model.durableSeq = last;
        break;
      }
      case 'sync':
        await queue.sync();
        model.durableSeq = model.lastSeq;
        break;
      case 'commit': {
        const low = queue.firstSeq - 1;
        const seq = low + Math.floor(action.fraction * (model.lastSeq - low));
        await queue.commit(action.cursor, seq);
        model.cursors.set(action.cursor, seq);
        break;
      }
      case 'truncate': {
        const seq = Math.floor(action.fraction * (model.lastSeq + 1));
        await queue.truncateBefore(seq);
        const neededByCursors = Math.min(...[...model.cursors.values()].map((c) => c + 1));
        expect(queue.firstSeq).toBeLessThanOrEqual(
          Math.max(model.lowSeq, Math.min(seq, neededByCursors)),
        );
        model.lowSeq = Math.max(model.lowSeq, queue.firstSeq);
        model.records = model.records.filter((r) => r.seq >= model.lowSeq);
        break;
      }
      case 'reset': {
        const next = Math.max(1, model.lastSeq + 1 + action.jump);
        await queue.reset(next);
        model.records = [];
        model.lastSeq = model.durableSeq = next - 1;
        model.lowSeq = next;
        for (const name of model.cursors.keys()) model.cursors.set(name, next - 1);
        expect(queue.lastSeq).toBe(next - 1);
        break;
      }
      case 'reopen':
        await queue.close();
        model.durableSeq = model.lastSeq; // close syncs
        await recover();
        break;
      case 'processCrash':
        fs.processCrash();
        await queue.close().catch(() => undefined); // the dead process's queue: every call fails
        await recover();
        break;
      case 'powerLoss':
        fs.powerLoss({
          keepUnsynced: action.keep,
          tearLastWrite: action.tear,
          tornTail: action.zeros ? 'zeros' : 'missing',
          random: new SeededRandom(action.seed),
        });
        await queue.close().catch(() => undefined);
        await recover();
        break;
    }
  }
  await queue.close();
}

/** The recovered queue is a prefix of the model holding every durable record; cursors as committed. */
async function checkRecovered(queue: DiskQueue, model: Model): Promise<void> {
  const found: ModelRecord[] = [];
  for await (const batch of queue.recordBatches()) {
    for (const record of batch)
      found.push({ seq: record.seq, payload: Buffer.from(record.payload) });
  }
  // Records below lowSeq may survive (truncation deletes whole segments only); compare from there.
  const kept = found.filter((r) => r.seq >= model.lowSeq);
  const expected = model.records.slice(0, kept.length);
  expect(kept.map((r) => r.seq)).toEqual(expected.map((r) => r.seq));
  for (let i = 0; i < kept.length; i++) {
    if (!kept[i].payload.equals(expected[i].payload))
      throw new Error(`payload of record ${kept[i].seq} differs`);
  }
  const lastKept = kept.length > 0 ? kept[kept.length - 1].seq : model.lowSeq - 1;
  expect(lastKept).toBeGreaterThanOrEqual(model.durableSeq);
  expect(queue.lastSeq).toBeGreaterThanOrEqual(lastKept);
  expect(queue.lastSeq).toBeLessThanOrEqual(model.lastSeq);
  expect(queue.firstSeq).toBeLessThanOrEqual(model.lowSeq);
  for (const [name, committed] of model.cursors) {
    const recovered = queue.cursor(name);
    expect(recovered).toBeLessThanOrEqual(committed);
    expect(recovered).toBe(Math.min(Math.max(committed, queue.firstSeq - 1), queue.lastSeq));
  }
  // From here on the model is what survived: everything in it is durable after recovery.
  model.records = model.records.slice(0, kept.length);
  model.lastSeq = queue.lastSeq;
  model.durableSeq = queue.lastSeq;
  for (const [name] of model.cursors) model.cursors.set(name, queue.cursor(name));
}

describe('DiskQueue under power loss (simulated file system)', () => {
  for (const syncMode of ['always', 'interval', 'none'] as const) {
    it(`recovers a durable prefix with sync ${syncMode}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 40 }), (actions) =>
          run(syncMode, actions),
        ),
        { numRuns: 150, seed: 20261127 },
      );
    });
  }

  for (const syncMode of ['interval', 'none'] as const) {
    it(`recovers a durable prefix with sync ${syncMode} and early writeback in larger segments`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 40 }), (actions) =>
          run(syncMode, actions, { segmentBytes: 4 * SEGMENT_BYTES, writebackBytes: 4096 }),
        ),
        { numRuns: 100, seed: 20261128 },
      );
    });
  }

  it('loses unsynced records without an fsync, so the double would catch a missing one', async () => {
    const fs = new SimulatedFileSystem({ seed: 1 });
    let queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      syncMode: 'none',
      logger: silentLogger,
    });
    await queue.appendBatch([Buffer.from('a'), Buffer.from('b')]);
    await queue.sync();
    await queue.appendBatch([Buffer.from('c'), Buffer.from('d')]);
    fs.powerLoss({ keepUnsynced: 'none' });
    queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      syncMode: 'none',
      logger: silentLogger,
    });
    expect(queue.lastSeq).toBe(2);
    await queue.close();
  });

  it('keeps every acknowledged append of sync always when nothing unsynced survives', async () => {
    const fs = new SimulatedFileSystem({ seed: 2 });
    let queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      syncMode: 'always',
      segmentBytes: SEGMENT_BYTES,
      logger: silentLogger,
    });
    const acked = await Promise.all(
      Array.from({ length: 200 }, (_, i) => queue.append(Buffer.alloc(100, i))),
    );
    const unacknowledged = queue
      .append(Buffer.from('never acknowledged'))
      .catch((error: unknown) => error);
    fs.powerLoss({ keepUnsynced: 'none' });
    expect(await unacknowledged).toMatchObject({ code: 'EIO' });
    queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      segmentBytes: SEGMENT_BYTES,
      logger: silentLogger,
    });
    expect(queue.lastSeq).toBe(acked[acked.length - 1]);
    expect(await queue.verify()).toMatchObject({ records: 200 });
    await queue.close();
  });

  it('refuses appends after a failed write and recovers on reopen', async () => {
    const fs = new SimulatedFileSystem({ seed: 3 });
    const errors: string[] = [];
    const logger: QueueLogger = { ...silentLogger, error: (message) => errors.push(message) };
    let queue = await DiskQueue.open(DIR, { fileSystem: fs.processScope(), logger });
    await queue.append(Buffer.from('kept'));
    fs.failNext('writev', 'ENOSPC');
    await expect(queue.append(Buffer.from('lost'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(() => queue.append(Buffer.from('refused'))).toThrow(
      expect.objectContaining({ code: QueueErrorCode.Failed }),
    );
    expect(errors.some((line) => line.includes('ENOSPC'))).toBe(true);
    await queue.close().catch(() => undefined);
    fs.processCrash();
    queue = await DiskQueue.open(DIR, { fileSystem: fs.processScope(), logger });
    expect(queue.lastSeq).toBe(1);
    expect(await queue.append(Buffer.from('again'))).toBe(2);
    await queue.close();
  });

  it('fails an fdatasync loudly instead of acknowledging', async () => {
    const fs = new SimulatedFileSystem({ seed: 4 });
    const queue = await DiskQueue.open(DIR, {
      fileSystem: fs.processScope(),
      logger: silentLogger,
    });
    fs.failNext('datasync', 'EIO');
    await expect(queue.append(Buffer.from('x'))).rejects.toMatchObject({ code: 'EIO' });
    expect(queue.durableSeq).toBe(0);
    await queue.close().catch(() => undefined);
  });
});
