import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskQueue, type DiskQueueOptions } from './index';
import { CorruptionError, QueueError, QueueErrorCode } from './queue.errors';
import { CapturingLogger } from '@xcron/testing';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './queue.constants';
import { encodeSegmentHeader } from './record-frame';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xcron-queue-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function payloadOf(seq: number, bytes = 40): Buffer {
  const text = `record-${seq}-`;
  return Buffer.from(text.repeat(Math.ceil(bytes / text.length)).slice(0, bytes));
}

async function appendMany(queue: DiskQueue, count: number, bytes = 40): Promise<number[]> {
  const first = queue.lastSeq + 1;
  const seqs = [];
  for (let i = 0; i < count; i++) seqs.push(queue.append(payloadOf(first + i, bytes)));
  return Promise.all(seqs);
}

async function collect(queue: DiskQueue, fromSeq?: number): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  for await (const record of queue.records(fromSeq))
    out.push([record.seq, record.payload.toString()]);
  return out;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort();
}

async function open(dir: string, options: DiskQueueOptions = {}): Promise<DiskQueue> {
  return DiskQueue.open(dir, { logger: new CapturingLogger(), ...options });
}

describe('DiskQueue on real files', () => {
  it('round-trips records in order, by read and by iteration', async () => {
    const queue = await open(tempDir());
    expect(queue.firstSeq).toBe(1);
    expect(queue.lastSeq).toBe(0);
    const seqs = await appendMany(queue, 50);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(queue.durableSeq).toBe(50);
    for (const seq of [1, 17, 50])
      expect((await queue.read(seq))?.toString()).toBe(payloadOf(seq).toString());
    expect(await queue.read(51)).toBeUndefined();
    expect(await queue.read(0)).toBeUndefined();
    const all = await collect(queue);
    expect(all.map(([seq]) => seq)).toEqual(seqs);
    expect(all[9][1]).toBe(payloadOf(10).toString());
    expect((await collect(queue, 45)).map(([seq]) => seq)).toEqual([45, 46, 47, 48, 49, 50]);
    await queue.close();
  });

  it('keeps empty and binary payloads intact', async () => {
    const queue = await open(tempDir());
    const binary = Buffer.from([0, 255, 1, 254, 0, 0, 7]);
    await queue.append(Buffer.alloc(0));
    await queue.append(binary);
    expect((await queue.read(1))?.length).toBe(0);
    expect(await queue.read(2)).toEqual(binary);
    await queue.close();
  });

  it('takes caller-supplied sequences with gaps and refuses one that goes backwards', async () => {
    const queue = await open(tempDir());
    expect(await queue.append(payloadOf(5), 5)).toBe(5);
    expect(await queue.append(payloadOf(9), 9)).toBe(9);
    expect(await queue.append(payloadOf(10))).toBe(10);
    expect(() => queue.append(payloadOf(10), 10)).toThrow(
      /sequence 10 must be an integer above the last one, 10/,
    );
    expect(() => queue.append(payloadOf(3), 3)).toThrow(QueueError);
    expect(() => queue.append(payloadOf(1), 2 ** 53)).toThrow(/must be an integer/);
    expect(await queue.read(7)).toBeUndefined();
    expect((await collect(queue)).map(([seq]) => seq)).toEqual([5, 9, 10]);
    await queue.close();
    const reopened = await open(queue.dir);
    expect(reopened.lastSeq).toBe(10);
    expect(await reopened.append(payloadOf(11))).toBe(11);
    await reopened.close();
  });

  it('appends a batch as a whole, or nothing of it', async () => {
    const queue = await open(tempDir(), { batchRecordsMax: 10, recordBytesMax: 100 });
    expect(
      await queue.appendBatch([payloadOf(1), { seq: 4, payload: payloadOf(4) }, payloadOf(5)]),
    ).toBe(5);
    expect(() => queue.appendBatch([payloadOf(6), { seq: 6, payload: payloadOf(6) }])).toThrow(
      /sequence 6/,
    );
    expect(() => queue.appendBatch([payloadOf(6), Buffer.alloc(101)])).toThrow(
      /record 1: 101 bytes exceeds the limit of 100 bytes/,
    );
    expect(() => queue.appendBatch(Array.from({ length: 11 }, (_, i) => payloadOf(i)))).toThrow(
      expect.objectContaining({ code: QueueErrorCode.BatchTooLarge }),
    );
    expect(queue.lastSeq).toBe(5);
    expect(await queue.appendBatch([])).toBe(5);
    expect((await collect(queue)).map(([seq]) => seq)).toEqual([1, 4, 5]);
    await queue.close();
  });

  it('rolls over many segments and iterates and reads across their boundaries', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096, readBufferBytes: 4096 });
    await appendMany(queue, 1000, 100);
    const files = segmentFiles(dir);
    expect(files.length).toBe(
      Math.ceil(1000 / Math.floor((4096 - SEGMENT_HEADER_BYTES) / (FRAME_HEADER_BYTES + 100))),
    );
    expect(files[0]).toBe('00000000000000000001.seg');
    for (const file of files) expect(statSync(join(dir, file)).size).toBeLessThanOrEqual(4096);
    expect((await collect(queue)).map(([seq]) => seq)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    // Every segment boundary, from both sides.
    for (const file of files.slice(1)) {
      const base = Number(file.slice(0, 20));
      const tail = await collect(queue, base - 1);
      expect(tail[0][0]).toBe(base - 1);
      expect(tail.length).toBe(1000 - base + 2);
      expect((await queue.read(base))?.toString()).toBe(payloadOf(base, 100).toString());
    }
    await queue.close();
    const reopened = await open(dir, { segmentBytes: 4096 });
    expect(reopened.lastSeq).toBe(1000);
    for (const seq of [1, 333, 999, 1000])
      expect((await reopened.read(seq))?.toString()).toBe(payloadOf(seq, 100).toString());
    expect(await reopened.verify()).toEqual({
      segments: files.length,
      records: 1000,
      bytes: 1000 * (FRAME_HEADER_BYTES + 100),
    });
    await reopened.close();
  });

  it('reads random records of large segments through the sparse index', async () => {
    const queue = await open(tempDir(), { readBufferBytes: 4096 });
    await appendMany(queue, 5000, 200);
    for (const seq of [1, 2, 1234, 4321, 4999, 5000]) {
      expect((await queue.read(seq))?.toString()).toBe(payloadOf(seq, 200).toString());
    }
    expect((await collect(queue, 4990)).length).toBe(11);
    await queue.close();
  });

  it('keeps a record larger than the read buffer whole', async () => {
    const queue = await open(tempDir(), { readBufferBytes: 4096, segmentBytes: 64 * 1024 });
    await queue.append(payloadOf(1, 10));
    await queue.append(payloadOf(2, 20_000));
    await queue.append(payloadOf(3, 10));
    expect((await collect(queue)).map(([seq, text]) => [seq, text.length])).toEqual([
      [1, 10],
      [2, 20_000],
      [3, 10],
    ]);
    await queue.close();
  });

  it('persists named cursors across a reopen', async () => {
    const dir = tempDir();
    const queue = await open(dir);
    await appendMany(queue, 20);
    expect(queue.cursor('scheduler')).toBe(0);
    await queue.commit('scheduler', 12);
    await queue.commit('audit', 3);
    await expect(queue.commit('scheduler', 21)).rejects.toThrow(
      'cursor scheduler cannot move to 21: the queue holds 1–20',
    );
    await expect(queue.commit('bad/name', 1)).rejects.toThrow(/cursor name "bad\/name"/);
    await queue.close();
    const reopened = await open(dir);
    expect(reopened.cursor('scheduler')).toBe(12);
    expect(reopened.cursor('audit')).toBe(3);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    await reopened.close();
  });

  it('coalesces concurrent commits of one cursor and keeps the last value', async () => {
    const dir = tempDir();
    const queue = await open(dir);
    await appendMany(queue, 10);
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((seq) => queue.commit('c', seq)));
    expect(queue.cursor('c')).toBe(7);
    await queue.close();
    const reopened = await open(dir);
    expect(reopened.cursor('c')).toBe(7);
    await reopened.close();
  });

  it('refuses a damaged cursor file by name', async () => {
    const dir = tempDir();
    const queue = await open(dir);
    await appendMany(queue, 3);
    await queue.commit('c', 2);
    await queue.close();
    const path = join(dir, 'c.cursor');
    const bytes = readFileSync(path);
    bytes[9] ^= 0xff;
    writeFileSync(path, bytes);
    await expect(open(dir)).rejects.toThrow(
      `corrupt data in ${path} at byte 0: cursor checksum mismatch`,
    );
  });

  it('truncates whole segments before a sequence, never past a cursor or the active segment', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 400, 100);
    const before = segmentFiles(dir);
    await queue.commit('slow', 150);
    const deleted = await queue.truncateBefore(300);
    const after = segmentFiles(dir);
    expect(deleted).toBe(before.length - after.length);
    expect(deleted).toBeGreaterThan(0);
    // The slow cursor still needs 151: the segment holding it survives.
    expect(queue.firstSeq).toBeLessThanOrEqual(151);
    expect((await queue.read(151))?.toString()).toBe(payloadOf(151, 100).toString());
    expect(await queue.read(queue.firstSeq - 1)).toBeUndefined();
    await expect(collect(queue, queue.firstSeq - 1)).rejects.toThrow(
      expect.objectContaining({ code: QueueErrorCode.Compacted }),
    );
    await queue.commit('slow', 400);
    await queue.truncateBefore(Number.MAX_SAFE_INTEGER);
    expect(segmentFiles(dir)).toEqual([after[after.length - 1]]);
    expect((await collect(queue, queue.firstSeq)).at(-1)?.[0]).toBe(400);
    await queue.close();
    const reopened = await open(dir, { segmentBytes: 4096 });
    expect(reopened.firstSeq).toBe(Number(after[after.length - 1].slice(0, 20)));
    expect(reopened.lastSeq).toBe(400);
    await reopened.close();
  });

  it('resets to a new sequence, discarding everything and moving cursors', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 300, 100);
    await queue.commit('scheduler', 250);
    await queue.reset(1000);
    expect(segmentFiles(dir)).toEqual(['00000000000000001000.seg']);
    expect(queue.firstSeq).toBe(1000);
    expect(queue.lastSeq).toBe(999);
    expect(queue.cursor('scheduler')).toBe(999);
    expect(await queue.read(250)).toBeUndefined();
    expect(await queue.append(payloadOf(1000))).toBe(1000);
    await queue.close();
    const reopened = await open(dir);
    expect(reopened.cursor('scheduler')).toBe(999);
    expect((await collect(reopened)).map(([seq]) => seq)).toEqual([1000]);
    // Backwards too: a reset may restart below the old records.
    await reopened.reset(10);
    expect(await reopened.append(payloadOf(10))).toBe(10);
    expect((await collect(reopened)).map(([seq]) => seq)).toEqual([10]);
    await reopened.close();
  });

  it('completes a reset that a crash interrupted after its commit point', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 200, 100);
    await queue.commit('c', 150);
    await queue.close();
    // The state a crash leaves right after the `.reset` marker became durable.
    writeFileSync(join(dir, '00000000000000000500.seg.reset'), encodeSegmentHeader(500));
    writeFileSync(join(dir, 'c.cursor.tmp'), Buffer.from('half-written'));
    const logger = new CapturingLogger();
    const reopened = await DiskQueue.open(dir, { segmentBytes: 4096, logger });
    expect(segmentFiles(dir)).toEqual(['00000000000000000500.seg']);
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000500.seg', 'c.cursor']);
    expect(reopened.lastSeq).toBe(499);
    expect(reopened.cursor('c')).toBe(499);
    expect(logger.lines.some((line) => line.includes('completing a reset'))).toBe(true);
    await reopened.close();
  });

  it('cuts a torn last record at every byte offset, plain or zero-filled, and appends after it', async () => {
    const dir = tempDir();
    const queue = await open(dir);
    await appendMany(queue, 5, 30);
    await queue.close();
    const file = join(dir, segmentFiles(dir)[0]);
    const whole = readFileSync(file);
    const lastStart = SEGMENT_HEADER_BYTES + 4 * (FRAME_HEADER_BYTES + 30);
    expect(whole.length).toBe(lastStart + FRAME_HEADER_BYTES + 30);
    for (let cut = lastStart; cut < whole.length; cut++) {
      for (const zeroFilled of [false, true]) {
        const copy = tempDir();
        const torn = Buffer.from(whole);
        if (zeroFilled) torn.fill(0, cut);
        writeFileSync(join(copy, segmentFiles(dir)[0]), zeroFilled ? torn : torn.subarray(0, cut));
        const logger = new CapturingLogger();
        const reopened = await DiskQueue.open(copy, { logger });
        expect(reopened.lastSeq).toBe(4);
        if (cut > lastStart || zeroFilled) {
          expect(
            logger.lines.some(
              (line) => line.startsWith('warn') && line.includes(`at byte ${lastStart}`),
            ),
          ).toBe(true);
        }
        expect(statSync(join(copy, segmentFiles(dir)[0])).size).toBe(lastStart);
        expect(await reopened.append(payloadOf(5, 30))).toBe(5);
        expect((await collect(reopened)).map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5]);
        await reopened.close();
        rmSync(copy, { recursive: true });
      }
    }
  });

  it('starts a last segment again when even its header was torn', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 100, 100);
    await queue.close();
    const files = segmentFiles(dir);
    const last = join(dir, files[files.length - 1]);
    const lastBase = Number(files[files.length - 1].slice(0, 20));
    truncateSync(last, 7);
    const reopened = await open(dir, { segmentBytes: 4096 });
    expect(reopened.lastSeq).toBe(lastBase - 1);
    expect(await reopened.append(payloadOf(lastBase, 100))).toBe(lastBase);
    expect(await reopened.verify()).toMatchObject({ records: lastBase });
    await reopened.close();
  });

  it('refuses corruption before the tail of the last segment, naming file and offset', async () => {
    const dir = tempDir();
    const queue = await open(dir);
    await appendMany(queue, 10, 30);
    await queue.close();
    const file = join(dir, segmentFiles(dir)[0]);
    const bytes = readFileSync(file);
    const thirdRecord = SEGMENT_HEADER_BYTES + 2 * (FRAME_HEADER_BYTES + 30);
    bytes[thirdRecord + FRAME_HEADER_BYTES + 3] ^= 0x01;
    writeFileSync(file, bytes);
    const error = await open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptionError);
    expect((error as CorruptionError).message).toMatch(
      new RegExp(`corrupt data in ${file} at byte ${thirdRecord}: checksum mismatch`),
    );
    expect(readFileSync(file)).toEqual(bytes); // nothing was cut
  });

  it('refuses a corrupt middle segment when a read, an iteration or verify reaches it', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 300, 100);
    await queue.close();
    const files = segmentFiles(dir);
    const middle = join(dir, files[3]);
    const middleBase = Number(files[3].slice(0, 20));
    const bytes = readFileSync(middle);
    const secondRecord = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + 100;
    bytes[secondRecord + 20] ^= 0x40;
    writeFileSync(middle, bytes);

    const reopened = await open(dir, { segmentBytes: 4096 });
    expect(reopened.lastSeq).toBe(300); // open reads only headers of sealed segments
    expect((await reopened.read(middleBase - 1))?.toString()).toBe(
      payloadOf(middleBase - 1, 100).toString(),
    );
    const expected = `corrupt data in ${middle} at byte ${secondRecord}`;
    await expect(reopened.read(middleBase + 5)).rejects.toThrow(expected);
    await expect(collect(reopened)).rejects.toThrow(expected);
    await expect(reopened.verify()).rejects.toThrow(expected);
    await reopened.close();
  });

  it('repairs on request by cutting at the first bad record and dropping what follows', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 300, 100);
    await queue.close();
    const files = segmentFiles(dir);
    const middleBase = Number(files[3].slice(0, 20));
    const bytes = readFileSync(join(dir, files[3]));
    bytes[SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + 100 + 20] ^= 0x40;
    writeFileSync(join(dir, files[3]), bytes);
    const logger = new CapturingLogger();
    const repaired = await DiskQueue.open(dir, { segmentBytes: 4096, repair: true, logger });
    expect(repaired.lastSeq).toBe(middleBase);
    expect(segmentFiles(dir)).toEqual(files.slice(0, 4));
    expect(
      logger.lines.some((line) => line.startsWith('error repair:') && line.includes('deleting')),
    ).toBe(true);
    expect(await repaired.verify()).toMatchObject({ records: middleBase });
    await repaired.close();
  });

  it('refuses a sealed segment whose header is not a queue header', async () => {
    const dir = tempDir();
    const queue = await open(dir, { segmentBytes: 4096 });
    await appendMany(queue, 100, 100);
    await queue.close();
    const first = join(dir, segmentFiles(dir)[0]);
    const bytes = readFileSync(first);
    bytes.write('JUNK', 0);
    writeFileSync(first, bytes);
    await expect(open(dir, { segmentBytes: 4096 })).rejects.toThrow(
      `corrupt data in ${first} at byte 0: not a queue segment`,
    );
  });

  it('refuses every limit with a clear error', async () => {
    const dir = tempDir();
    await expect(open(dir, { segmentBytes: 1000 })).rejects.toThrow(
      'segmentBytes must be an integer from 4096 to 1073741824, got 1000',
    );
    await expect(open(dir, { segmentBytes: 2 ** 31 })).rejects.toThrow(
      /segmentBytes must be an integer/,
    );
    await expect(open(dir, { segmentBytes: 4096, recordBytesMax: 4096 })).rejects.toThrow(
      'recordBytesMax must be an integer from 1 to 4064, got 4096',
    );
    await expect(open(dir, { syncMode: 'sometimes' as never })).rejects.toThrow(
      /syncMode must be always, interval or none/,
    );
    const queue = await open(dir, { segmentBytes: 4096, pendingBytesMax: 8192 });
    expect(() => queue.append(Buffer.alloc(4065))).toThrow(
      expect.objectContaining({
        code: QueueErrorCode.RecordTooLarge,
        message: 'record 0: 4065 bytes exceeds the limit of 4064 bytes',
      }),
    );
    const inFlight = [queue.append(Buffer.alloc(4000)), queue.append(Buffer.alloc(4000))];
    expect(() => queue.append(Buffer.alloc(4000))).toThrow(
      expect.objectContaining({ code: QueueErrorCode.Overloaded }),
    );
    await Promise.all(inFlight);
    await queue.append(Buffer.alloc(4000)); // room again once written
    expect(() => queue.append('text' as unknown as Uint8Array)).toThrow(
      /payload must be a Uint8Array/,
    );
    await queue.close();
    expect(() => queue.append(Buffer.alloc(1))).toThrow(
      expect.objectContaining({ code: QueueErrorCode.Closed }),
    );
  });

  it('tracks durability per sync policy', async () => {
    const none = await open(tempDir(), { syncMode: 'none' });
    await appendMany(none, 10);
    expect(none.durableSeq).toBe(0);
    await none.sync();
    expect(none.durableSeq).toBe(10);
    await none.close();

    const always = await open(tempDir(), { syncMode: 'always' });
    await always.append(payloadOf(1));
    expect(always.durableSeq).toBe(1);
    await always.close();
  });

  it('starts a new queue at a chosen first sequence', async () => {
    const queue = await open(tempDir(), { firstSeq: 42 });
    expect(queue.firstSeq).toBe(42);
    expect(queue.lastSeq).toBe(41);
    expect(await queue.append(payloadOf(42))).toBe(42);
    await queue.close();
  });
});
