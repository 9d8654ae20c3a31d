/**
 * Benchmark of the disk queue (libs/queue): `npm run bench:queue [-- --records N]`.
 *
 * (a) append throughput under `syncMode: 'none'`, one append per record and appendBatch of 1,000,
 *     against plain fs.writeSync of the same framed bytes, with a profile of where the time goes;
 *     and, as a second, separately labelled ratio, against the same writeSync loop plus one
 *     fdatasync per 64 MiB: the queue must fdatasync a segment before the next one gets a byte (only
 *     the last segment may have a torn tail), so that baseline does the disk work the queue must do;
 * (b) group commit under `syncMode: 'always'` with 64 concurrent appenders, against a plain
 *     write-64-frames-then-fdatasync loop;
 * (c) sequential reads of the records written in (a), against plain fs.readSync of the segments.
 *
 * The machine is shared and noisy (absolute figures drift 2–4× between runs), so every figure is
 * paired with a baseline measured in the same run, next to it in time, and reported as a ratio:
 * in (a) and (c) the baseline runs before and after ours and is averaged, in (b) the two alternate
 * in slices, so that drift during the run cancels out. The queue runs on a thin FileSystem wrapper
 * that times its writev and fdatasync calls (per group commit or write chunk, not per record),
 * which is how the profile can say how much of an append run was I/O. The last line printed is one
 * JSON object with every figure.
 */
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  openSync,
  readSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import {
  DiskQueue,
  NodeFileSystem,
  type FileHandle,
  type FileSystem,
  type OpenMode,
} from '@xcron/queue';
import { crc32c } from '@xcron/queue/crc32c';
import { FRAME_HEADER_BYTES, QUEUE_LIMITS } from '@xcron/queue/queue.constants';
import { encodeFrame } from '@xcron/queue/record-frame';
import {
  Timer,
  leastMs,
  formatMs,
  formatNumber,
  formatRate,
  integerFlag,
  machineDescription,
  makeTempDir,
  mbPerS,
  nowMs,
  perS,
  percentiles,
  ratio,
  removeTempDir,
  removeTempDirs,
  round,
  sig,
  yieldToLoop,
} from './bench-util';

// ---- limits (every loop below is bounded by one of these) -----------------------------------

const RECORDS_DEFAULT = 1_000_000;
/** Kept low enough that the pre-built frames (records × 216 bytes) fit one Buffer comfortably. */
const RECORDS_MAX = 4_000_000;
const RECORDS_MIN = 1_000;
const PAYLOAD_BYTES = 200;
const FRAMED_BYTES = FRAME_HEADER_BYTES + PAYLOAD_BYTES;
/**
 * Distinct random payloads, cycled through: random bytes (nothing for a disk or a CRC to shortcut)
 * without keeping a million Buffer objects alive, which would make the GC part of the benchmark.
 */
const PAYLOAD_POOL = 65_536;
/** Appends issued before the benchmark awaits them (the queue refuses more than pendingBytesMax unwritten). */
const WINDOW_RECORDS = 10_000;
const BATCH_RECORDS = 1_000;
const BASELINE_WRITE_CHUNK_BYTES = 64 * 1024;
const BASELINE_READ_CHUNK_BYTES = 1024 * 1024;
const ALWAYS_APPENDERS = 64;
const ALWAYS_RECORDS_MAX = 200_000;
/** (b) alternates ours and the baseline in this many slices (see groupCommit). */
const ALWAYS_SLICES = 8;
/** Time bound of each side of (b), summed over its slices; a slow disk ends the section early. */
const ALWAYS_TIME_BOUND_MS = 10_000;

/** The CPU pieces of the profile are timed over this many records, PROFILE_RUNS times (least kept). */
const PROFILE_SAMPLE_RECORDS = 200_000;
const PROFILE_RUNS = 3;

const GOALS = { appendRatio: 0.3, alwaysRecordsPerS: 50_000, alwaysRatio: 0.7 } as const;

// ---- payloads --------------------------------------------------------------------------------

const payloadPool: Buffer[] = (() => {
  const backing = randomFillSync(Buffer.allocUnsafeSlow(PAYLOAD_POOL * PAYLOAD_BYTES));
  const views: Buffer[] = [];
  for (let i = 0; i < PAYLOAD_POOL; i++) {
    views.push(backing.subarray(i * PAYLOAD_BYTES, (i + 1) * PAYLOAD_BYTES));
  }
  return views;
})();

function payloadAt(index: number): Buffer {
  return payloadPool[index & (PAYLOAD_POOL - 1)];
}

/** Frames of records 1…count (the sequences the queue assigns), laid out as the queue writes them. */
function encodeFrames(target: Buffer, count: number): void {
  for (let i = 0; i < count; i++) encodeFrame(target, i * FRAMED_BYTES, i + 1, payloadAt(i));
}

// ---- a file system that times the queue's I/O ------------------------------------------------

interface IoStats {
  writevMs: number;
  writevCalls: number;
  writevBytes: number;
  datasyncMs: number;
  datasyncCalls: number;
  /** create, open, close, syncDir, rename, unlink: everything else the queue asks of the disk. */
  otherMs: number;
}

function emptyIoStats(): IoStats {
  return {
    writevMs: 0,
    writevCalls: 0,
    writevBytes: 0,
    datasyncMs: 0,
    datasyncCalls: 0,
    otherMs: 0,
  };
}

/**
 * Delegates to NodeFileSystem and adds up the time of each kind of call, so the profile can say how
 * much of an append run was spent in the kernel. It costs one extra await per call, and calls are
 * per group commit (hundreds per run), not per record.
 */
class TimedFileSystem implements FileSystem {
  stats = emptyIoStats();
  private readonly inner = new NodeFileSystem();

  /** Returns what was counted since the previous take and starts counting afresh. */
  take(): IoStats {
    const taken = this.stats;
    this.stats = emptyIoStats();
    return taken;
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    return new TimedFileHandle(await this.other(() => this.inner.open(path, mode)), this);
  }

  async create(path: string): Promise<FileHandle> {
    return new TimedFileHandle(await this.other(() => this.inner.create(path)), this);
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return this.other(() => this.inner.rename(fromPath, toPath));
  }

  unlink(path: string): Promise<void> {
    return this.other(() => this.inner.unlink(path));
  }

  readdir(dir: string): Promise<string[]> {
    return this.other(() => this.inner.readdir(dir));
  }

  mkdirp(dir: string): Promise<void> {
    return this.other(() => this.inner.mkdirp(dir));
  }

  syncDir(dir: string): Promise<void> {
    return this.other(() => this.inner.syncDir(dir));
  }

  async other<T>(call: () => Promise<T>): Promise<T> {
    const start = nowMs();
    try {
      return await call();
    } finally {
      this.stats.otherMs += nowMs() - start;
    }
  }
}

class TimedFileHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly owner: TimedFileSystem,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, positionBytes: number): Promise<number> {
    // Reads are measured as a whole in (c); timing each one here would only add overhead.
    return this.inner.read(buffer, offset, length, positionBytes);
  }

  async writev(buffers: readonly Uint8Array[], positionBytes: number): Promise<void> {
    const start = nowMs();
    try {
      await this.inner.writev(buffers, positionBytes);
    } finally {
      const stats = this.owner.stats;
      stats.writevMs += nowMs() - start;
      stats.writevCalls += 1;
      for (const buffer of buffers) stats.writevBytes += buffer.length;
    }
  }

  writevSync(buffers: readonly Uint8Array[], positionBytes: number): void {
    const start = nowMs();
    try {
      this.inner.writevSync(buffers, positionBytes);
    } finally {
      const stats = this.owner.stats;
      stats.writevMs += nowMs() - start;
      stats.writevCalls += 1;
      for (const buffer of buffers) stats.writevBytes += buffer.length;
    }
  }

  async datasync(): Promise<void> {
    const start = nowMs();
    try {
      await this.inner.datasync();
    } finally {
      this.owner.stats.datasyncMs += nowMs() - start;
      this.owner.stats.datasyncCalls += 1;
    }
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.owner.other(() => this.inner.truncate(sizeBytes));
  }

  sizeBytes(): Promise<number> {
    return this.owner.other(() => this.inner.sizeBytes());
  }

  close(): Promise<void> {
    return this.owner.other(() => this.inner.close());
  }
}

// ---- (a) append, sync none -------------------------------------------------------------------

/** Plain writeSync of pre-built frames in 64 KiB chunks to one file: the syscall ceiling. */
function baselineWriteMs(path: string, frames: Buffer): number {
  const fd = openSync(path, 'w');
  try {
    const timer = new Timer();
    for (let offset = 0; offset < frames.length;) {
      const end = Math.min(frames.length, offset + BASELINE_WRITE_CHUNK_BYTES);
      offset += writeSync(fd, frames, offset, end - offset);
    }
    const ms = timer.elapsedMs();
    // Outside the timing: write the dirty pages back now, or their writeback would slow whatever
    // is measured next and the comparison would depend on the order of the measurements.
    fdatasyncSync(fd);
    return ms;
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

/**
 * The same writeSync loop, plus an fdatasync each time another segment's worth (64 MiB) is written,
 * inside the timing: the disk work that the queue's roll rule makes it do (the queue fdatasyncs a
 * segment before the next one gets its first byte). The last partial segment is synced outside the
 * timing, like the plain baseline's whole file.
 */
function baselineWriteRollSyncMs(path: string, frames: Buffer): number {
  const fd = openSync(path, 'w');
  try {
    const timer = new Timer();
    let nextSync = QUEUE_LIMITS.segmentBytesDefault;
    for (let offset = 0; offset < frames.length;) {
      const end = Math.min(frames.length, offset + BASELINE_WRITE_CHUNK_BYTES);
      offset += writeSync(fd, frames, offset, end - offset);
      if (offset >= nextSync) {
        fdatasyncSync(fd);
        nextSync += QUEUE_LIMITS.segmentBytesDefault;
      }
    }
    const ms = timer.elapsedMs();
    fdatasyncSync(fd);
    return ms;
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

interface AppendRun {
  ms: number;
  /** Time spent awaiting the queue (its writes, roll fdatasyncs, event-loop hops), out of `ms`. */
  waitMs: number;
  /** CPU time of the whole process (main thread and thread pool) during the run. */
  cpuMs: number;
  io: IoStats;
}

type AppendStyle = 'each' | 'batch';

/**
 * Appends `count` records to a new queue in `dir` and returns the time until the last one resolved
 * (plus a flush, which then has nothing left to do). The queue is closed outside the timing: close
 * syncs, and `none` promises no sync.
 */
async function appendNone(dir: string, count: number, style: AppendStyle): Promise<AppendRun> {
  const fileSystem = new TimedFileSystem();
  const queue = await DiskQueue.open(dir, { syncMode: 'none', fileSystem });
  try {
    const batch: Uint8Array[] = [];
    fileSystem.take();
    const cpuBefore = process.cpuUsage();
    const timer = new Timer();
    let waitMs = 0;
    for (let start = 0; start < count; start += WINDOW_RECORDS) {
      const end = Math.min(count, start + WINDOW_RECORDS);
      let last: Promise<number> | undefined;
      if (style === 'each') {
        for (let i = start; i < end; i++) last = queue.append(payloadAt(i));
      } else {
        for (let first = start; first < end; first += BATCH_RECORDS) {
          batch.length = 0;
          for (let i = first; i < Math.min(end, first + BATCH_RECORDS); i++)
            batch.push(payloadAt(i));
          // appendBatch frames its records before returning, so the array can be refilled at once.
          last = queue.appendBatch(batch);
        }
      }
      // Appends resolve in order (one group at a time, each group's waiters in order), so the last
      // one resolving means the whole window is written. Awaiting every promise would add a cost the
      // API lets callers skip; a failed write rejects them all, and the unawaited rejections then
      // stop this script loudly, which is what a benchmark should do.
      const waitStart = nowMs();
      await last;
      waitMs += nowMs() - waitStart;
    }
    const flushStart = nowMs();
    await queue.flush();
    waitMs += nowMs() - flushStart;
    const ms = timer.elapsedMs();
    const cpu = process.cpuUsage(cpuBefore);
    const io = fileSystem.take();
    if (queue.lastSeq !== count)
      throw new Error(`expected ${count} records appended, the queue says ${queue.lastSeq}`);
    return { ms, waitMs, cpuMs: (cpu.user + cpu.system) / 1000, io };
  } finally {
    await queue.close();
  }
}

let parkedResolve: ((seq: number) => void) | undefined;
function parkResolve(resolve: (seq: number) => void): void {
  parkedResolve = resolve;
}

/**
 * The promise machinery of one append per record, alone, as AppendGroup.wait does it: per record a
 * Promise whose resolve function (parked by a shared executor) and sequence go into two arrays,
 * resolved a window at a time after a hop through the event loop (standing in for the write
 * callback), awaiting each window's last promise.
 */
async function promiseOverhead(count: number): Promise<void> {
  const resolvers: Array<(seq: number) => void> = [];
  const seqs: number[] = [];
  for (let start = 0; start < count; start += WINDOW_RECORDS) {
    const end = Math.min(count, start + WINDOW_RECORDS);
    resolvers.length = seqs.length = 0;
    let last: Promise<number> | undefined;
    for (let i = start; i < end; i++) {
      last = new Promise<number>(parkResolve);
      resolvers.push(parkedResolve as (seq: number) => void);
      seqs.push(i + 1);
    }
    await yieldToLoop();
    for (let i = 0; i < resolvers.length; i++) resolvers[i](seqs[i]);
    await last;
  }
}

/**
 * CRC32C alone over exactly the bytes encodeFrame checksums (sequence and payload of each frame), as
 * the queue computes it (libs/queue crc32c: JavaScript for inputs this small) or, for comparison,
 * through the native @node-rs/crc32 (one call and one subarray per record).
 */
function crcOnly(frames: Buffer, count: number, native: boolean): number {
  let checksum = 0;
  for (let i = 0; i < count; i++) {
    const offset = i * FRAMED_BYTES;
    // Folded into a result that is used, so the calls cannot be optimised away.
    checksum ^= native
      ? nativeCrc32c(frames.subarray(offset + 8, offset + FRAMED_BYTES))
      : crc32c(frames, offset + 8, offset + FRAMED_BYTES);
  }
  return checksum;
}

// ---- (b) append, sync always, 64 appenders ---------------------------------------------------

interface GroupCommitResult {
  ours: { records: number; ms: number; io: IoStats; latenciesMs: Float64Array };
  loop: { records: number; ms: number };
  /** ours / loop in records/s, slice by slice: shows how much the disk drifted during the section. */
  sliceRatios: number[];
}

/**
 * The baseline of (b): one writeSync of 64 concatenated frames, then fdatasync, round after round,
 * appending to one file (so, like the queue's segment, the file grows with every sync).
 */
class GroupCommitLoop {
  private readonly fd: number;
  private readonly group = Buffer.allocUnsafe(ALWAYS_APPENDERS * FRAMED_BYTES);

  constructor(private readonly path: string) {
    for (let i = 0; i < ALWAYS_APPENDERS; i++) {
      encodeFrame(this.group, i * FRAMED_BYTES, i + 1, payloadAt(i));
    }
    this.fd = openSync(path, 'w');
  }

  run(rounds: number, timeBoundMs: number): { records: number; ms: number } {
    const timer = new Timer();
    let done = 0;
    while (done < rounds && timer.elapsedMs() < timeBoundMs) {
      for (let offset = 0; offset < this.group.length;) {
        offset += writeSync(this.fd, this.group, offset, this.group.length - offset);
      }
      fdatasyncSync(this.fd);
      done += 1;
    }
    return { records: done * ALWAYS_APPENDERS, ms: timer.elapsedMs() };
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}

/**
 * Runs ours and the loop in alternating slices (loop first in even slices, ours first in odd ones):
 * fdatasync latency on this machine swings by 10× within seconds, and one long run of each would
 * mostly compare two different moments. Each side stops at `total` records or `timeBoundMs`.
 */
async function groupCommit(
  root: string,
  total: number,
  timeBoundMs: number,
): Promise<GroupCommitResult> {
  const fileSystem = new TimedFileSystem();
  const dir = join(root, 'append-always');
  const queue = await DiskQueue.open(dir, { syncMode: 'always', fileSystem });
  const loop = new GroupCommitLoop(join(root, 'group-commit.bin'));
  const latenciesMs = new Float64Array(total);
  const sliceRecords = Math.max(
    ALWAYS_APPENDERS,
    Math.floor(total / ALWAYS_SLICES / ALWAYS_APPENDERS) * ALWAYS_APPENDERS,
  );
  const ours = { records: 0, ms: 0 };
  const base = { records: 0, ms: 0 };
  const sliceRatios: number[] = [];
  try {
    fileSystem.take();
    const runOurs = async (): Promise<number> => {
      const end = Math.min(total, ours.records + sliceRecords);
      const boundMs = timeBoundMs - ours.ms;
      let issued = ours.records;
      const timer = new Timer();
      const appender = async (): Promise<void> => {
        while (issued < end && timer.elapsedMs() < boundMs) {
          const index = issued++;
          const start = nowMs();
          await queue.append(payloadAt(index));
          latenciesMs[index] = nowMs() - start;
        }
      };
      await Promise.all(Array.from({ length: ALWAYS_APPENDERS }, appender));
      const ms = timer.elapsedMs();
      const records = issued - ours.records;
      ours.records = issued;
      ours.ms += ms;
      return perS(records, ms);
    };
    const runLoop = (): number => {
      const result = loop.run(sliceRecords / ALWAYS_APPENDERS, timeBoundMs - base.ms);
      base.records += result.records;
      base.ms += result.ms;
      return perS(result.records, result.ms);
    };
    for (let slice = 0; slice < ALWAYS_SLICES; slice++) {
      if (ours.records >= total || ours.ms >= timeBoundMs || base.ms >= timeBoundMs) break;
      let oursRate: number;
      let loopRate: number;
      if (slice % 2 === 0) {
        loopRate = runLoop();
        oursRate = await runOurs();
      } else {
        oursRate = await runOurs();
        loopRate = runLoop();
      }
      sliceRatios.push(ratio(oursRate, loopRate));
    }
    const io = fileSystem.take();
    // With 64 appenders a group holds at most 64 records, so fewer fdatasyncs than records / 64
    // means appends were acknowledged unsynced: the figure would be a fake, so refuse to report it.
    if (io.datasyncCalls * ALWAYS_APPENDERS < ours.records) {
      throw new Error(
        `${ours.records} appends acknowledged with only ${io.datasyncCalls} fdatasync calls: syncMode always is not syncing`,
      );
    }
    if (queue.durableSeq !== ours.records) {
      throw new Error(
        `expected ${ours.records} durable records, the queue says ${queue.durableSeq}`,
      );
    }
    return {
      ours: { ...ours, io, latenciesMs: latenciesMs.subarray(0, ours.records) },
      loop: base,
      sliceRatios,
    };
  } finally {
    loop.close();
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- (c) sequential read ---------------------------------------------------------------------

interface ReadRun {
  records: number;
  bytes: number;
  ms: number;
}

/** Reads every record through recordBatches (one array per read buffer) or records (one per record). */
async function readQueue(
  dir: string,
  style: 'batches' | 'records',
  expected: number,
): Promise<ReadRun> {
  // Opening scans the last segment (crash recovery); that is not part of a sequential read.
  const queue = await DiskQueue.open(dir, { syncMode: 'none' });
  try {
    let records = 0;
    let bytes = 0;
    let lastSeq = 0;
    const timer = new Timer();
    if (style === 'batches') {
      for await (const batch of queue.recordBatches()) {
        // The least a consumer does: look at every record.
        for (const record of batch) bytes += FRAME_HEADER_BYTES + record.payload.length;
        records += batch.length;
        lastSeq = batch[batch.length - 1].seq;
      }
    } else {
      for await (const record of queue.records()) {
        bytes += FRAME_HEADER_BYTES + record.payload.length;
        records += 1;
        lastSeq = record.seq;
      }
    }
    const ms = timer.elapsedMs();
    if (records !== expected || lastSeq !== expected) {
      throw new Error(`expected records 1…${expected}, read ${records} ending at ${lastSeq}`);
    }
    return { records, bytes, ms };
  } finally {
    await queue.close();
  }
}

/** Plain readSync of every segment file in 1 MiB chunks into one reused buffer: the read ceiling. */
function baselineReadSegments(dir: string): { bytes: number; ms: number } {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => join(dir, name));
  const buffer = Buffer.allocUnsafe(BASELINE_READ_CHUNK_BYTES);
  let bytes = 0;
  const timer = new Timer();
  for (const file of files) {
    const fd = openSync(file, 'r');
    try {
      let got: number;
      do {
        got = readSync(fd, buffer, 0, buffer.length, null);
        bytes += got;
      } while (got > 0);
    } finally {
      closeSync(fd);
    }
  }
  return { bytes, ms: timer.elapsedMs() };
}

// ---- report ----------------------------------------------------------------------------------

function line(label: string, text: string): void {
  console.log(`  ${label.padEnd(34)} ${text}`);
}

function ratioText(value: number, goal?: number): string {
  const text = `${value.toFixed(2)}×`;
  if (goal === undefined) return text;
  return `${text} (goal ≥ ${goal}: ${value >= goal ? 'met' : 'MISSED'})`;
}

async function main(): Promise<void> {
  const count = integerFlag(
    process.argv.slice(2),
    'records',
    RECORDS_DEFAULT,
    RECORDS_MIN,
    RECORDS_MAX,
  );
  const framedBytes = count * FRAMED_BYTES;
  const root = makeTempDir('xcron-bench-queue-');
  console.log(`queue benchmark — ${machineDescription()}`);
  console.log(
    `  ${formatNumber(count)} records of ${PAYLOAD_BYTES} random bytes (${FRAMED_BYTES} framed, ${formatNumber(framedBytes / 1e6, 1)} MB), ` +
      `segments of ${QUEUE_LIMITS.segmentBytesDefault / 1024 / 1024} MiB, in ${root}`,
  );

  // ---- (a) --------------------------------------------------------------------------------------
  console.log('\n(a) append throughput, syncMode none');
  const frames = Buffer.allocUnsafeSlow(framedBytes);
  // Builds the baseline's bytes (and warms up encodeFrame for everything after it).
  encodeFrames(frames, count);
  // The CPU pieces of the profile: least of PROFILE_RUNS runs over a sample, scaled to `count`.
  // Timed once over the full count they swung 3× between runs of this script.
  const sample = Math.min(count, PROFILE_SAMPLE_RECORDS);
  const scale = count / sample;
  let checksum = 0;
  const framingMs = scale * (await leastMs(PROFILE_RUNS, () => encodeFrames(frames, sample)));
  const crcMs =
    scale * (await leastMs(PROFILE_RUNS, () => (checksum ^= crcOnly(frames, sample, false))));
  const crcNativeMs =
    scale * (await leastMs(PROFILE_RUNS, () => (checksum ^= crcOnly(frames, sample, true))));
  const promisesMs = scale * (await leastMs(PROFILE_RUNS, () => promiseOverhead(sample)));

  const baselineFile = join(root, 'baseline.bin');
  const writeBefore = baselineWriteMs(baselineFile, frames);
  const rollSyncBefore = baselineWriteRollSyncMs(baselineFile, frames);
  const eachDir = join(root, 'append-each');
  const each = await appendNone(eachDir, count, 'each');
  const writeMiddle = baselineWriteMs(baselineFile, frames);
  const rollSyncMiddle = baselineWriteRollSyncMs(baselineFile, frames);
  const batchDir = join(root, 'append-batch');
  const batched = await appendNone(batchDir, count, 'batch');
  const writeAfter = baselineWriteMs(baselineFile, frames);
  const rollSyncAfter = baselineWriteRollSyncMs(baselineFile, frames);
  // Each queue run is compared with the mean of the baselines just before and after it.
  const baselineEachMs = (writeBefore + writeMiddle) / 2;
  const baselineBatchMs = (writeMiddle + writeAfter) / 2;
  const rollSyncEachMs = (rollSyncBefore + rollSyncMiddle) / 2;
  const rollSyncBatchMs = (rollSyncMiddle + rollSyncAfter) / 2;
  rmSync(batchDir, { recursive: true, force: true });

  const appendEach = {
    records_per_s: sig(perS(count, each.ms)),
    mb_per_s: sig(mbPerS(framedBytes, each.ms)),
    baseline_mb_per_s: sig(mbPerS(framedBytes, baselineEachMs)),
    ratio: round(ratio(baselineEachMs, each.ms), 3),
    baseline_roll_sync_mb_per_s: sig(mbPerS(framedBytes, rollSyncEachMs)),
    ratio_vs_roll_sync: round(ratio(rollSyncEachMs, each.ms), 3),
  };
  const appendBatch = {
    records_per_s: sig(perS(count, batched.ms)),
    mb_per_s: sig(mbPerS(framedBytes, batched.ms)),
    baseline_mb_per_s: sig(mbPerS(framedBytes, baselineBatchMs)),
    ratio: round(ratio(baselineBatchMs, batched.ms), 3),
    baseline_roll_sync_mb_per_s: sig(mbPerS(framedBytes, rollSyncBatchMs)),
    ratio_vs_roll_sync: round(ratio(rollSyncBatchMs, batched.ms), 3),
  };
  line(
    'append (one call per record)',
    `${formatRate(appendEach.mb_per_s, 'MB')}, ${formatRate(appendEach.records_per_s, 'records')} in ${formatMs(each.ms)}`,
  );
  line(
    'appendBatch (1,000 per call)',
    `${formatRate(appendBatch.mb_per_s, 'MB')}, ${formatRate(appendBatch.records_per_s, 'records')} in ${formatMs(batched.ms)}`,
  );
  line(
    'baseline writeSync 64 KiB',
    `${formatRate(appendEach.baseline_mb_per_s, 'MB')} (runs: ${[writeBefore, writeMiddle, writeAfter].map(formatMs).join(', ')})`,
  );
  line('ratio append / baseline', ratioText(appendEach.ratio, GOALS.appendRatio));
  line('ratio appendBatch / baseline', ratioText(appendBatch.ratio, GOALS.appendRatio));
  line(
    'baseline + fdatasync per 64 MiB',
    `${formatRate(appendEach.baseline_roll_sync_mb_per_s, 'MB')} (runs: ${[rollSyncBefore, rollSyncMiddle, rollSyncAfter].map(formatMs).join(', ')}; the roll rule's disk work)`,
  );
  line('ratio append / that baseline', ratioText(appendEach.ratio_vs_roll_sync));
  line('ratio appendBatch / that baseline', ratioText(appendBatch.ratio_vs_roll_sync));

  // Measured directly: the time inside the append calls (checks, framing, promises) and the time the
  // loop awaited its windows (the flush: checksums, which the queue computes per chunk just before
  // writing it, writev on the thread pool, roll fdatasync waits, resolving the promises). Early
  // writeback runs most fdatasyncs in the background, overlapping everything else, so their figure is
  // time in flight and is not subtracted: "rest" is the total less the CPU pieces timed alone, the
  // writes and open/create/close (it holds roll waits, bookkeeping, GC and noise, and can come out
  // negative on a busy machine).
  const issueEachMs = each.ms - each.waitMs;
  const issueBatchMs = batched.ms - batched.waitMs;
  const restEachMs = each.ms - framingMs - promisesMs - each.io.writevMs - each.io.otherMs;
  const restBatchMs = batched.ms - framingMs - batched.io.writevMs - batched.io.otherMs;
  console.log(
    '  where the time goes (CPU pieces timed alone in this run, I/O timed inside the queue run):',
  );
  line(
    '  append',
    `total ${formatMs(each.ms)} (process CPU ${formatMs(each.cpuMs)}; in append calls ` +
      `${formatMs(issueEachMs)}, awaiting windows ${formatMs(each.waitMs)}) = crc+framing ${formatMs(framingMs)} ` +
      `(crc alone ${formatMs(crcMs)}; native crc would be ${formatMs(crcNativeMs)}) + promises ` +
      `${formatMs(promisesMs)} + writes ${formatMs(each.io.writevMs)} (${each.io.writevCalls} writev) + ` +
      `open/create/close ${formatMs(each.io.otherMs)} + rest ${formatMs(restEachMs)}; fdatasync in ` +
      `flight ${formatMs(each.io.datasyncMs)} (${each.io.datasyncCalls}, mostly background early writeback)`,
  );
  line(
    '  appendBatch',
    `total ${formatMs(batched.ms)} (process CPU ${formatMs(batched.cpuMs)}; in appendBatch calls ` +
      `${formatMs(issueBatchMs)}, awaiting windows ${formatMs(batched.waitMs)}) = crc+framing ` +
      `${formatMs(framingMs)} + writes ${formatMs(batched.io.writevMs)} (${batched.io.writevCalls} writev) + ` +
      `open/create/close ${formatMs(batched.io.otherMs)} + rest ${formatMs(restBatchMs)}; fdatasync in ` +
      `flight ${formatMs(batched.io.datasyncMs)} (${batched.io.datasyncCalls})`,
  );
  line('  baseline writeSync of the same bytes', formatMs(baselineEachMs));
  line('  baseline + fdatasync per 64 MiB', formatMs(rollSyncEachMs));

  // ---- (b) --------------------------------------------------------------------------------------
  console.log(`\n(b) syncMode always, ${ALWAYS_APPENDERS} concurrent appenders (group commit)`);
  const alwaysTotal = Math.max(
    ALWAYS_APPENDERS,
    Math.floor(Math.min(ALWAYS_RECORDS_MAX, count) / ALWAYS_APPENDERS) * ALWAYS_APPENDERS,
  );
  const always = await groupCommit(root, alwaysTotal, ALWAYS_TIME_BOUND_MS);
  const alwaysRecordsPerS = perS(always.ours.records, always.ours.ms);
  const loopRecordsPerS = perS(always.loop.records, always.loop.ms);
  const [p50, p99, p999] = percentiles(always.ours.latenciesMs, [50, 99, 99.9]);
  const syncs = Math.max(1, always.ours.io.datasyncCalls);
  const appendAlways64 = {
    records_per_s: sig(alwaysRecordsPerS),
    p50_ms: round(p50, 3),
    p99_ms: round(p99, 3),
    p999_ms: round(p999, 3),
    records_per_fdatasync: round(always.ours.records / syncs, 1),
    baseline_records_per_s: sig(loopRecordsPerS),
    ratio: round(ratio(alwaysRecordsPerS, loopRecordsPerS), 3),
    slice_ratios: always.sliceRatios.map((r) => round(r, 2)),
  };
  line(
    'synced appends',
    `${formatRate(alwaysRecordsPerS, 'records')} (${formatNumber(always.ours.records)} in ${formatMs(always.ours.ms)})`,
  );
  line('latency per append', `p50 ${formatMs(p50)}, p99 ${formatMs(p99)}, p99.9 ${formatMs(p999)}`);
  line(
    'I/O inside the queue',
    `${always.ours.io.datasyncCalls} fdatasync (${formatNumber(always.ours.records / syncs, 1)} records each, ` +
      `mean ${formatMs(always.ours.io.datasyncMs / syncs)}), ${always.ours.io.writevCalls} writev ` +
      `(mean ${formatMs(always.ours.io.writevMs / Math.max(1, always.ours.io.writevCalls))})`,
  );
  line(
    'baseline write+fdatasync loop',
    `${formatRate(loopRecordsPerS, 'records')} (${formatNumber(always.loop.records)} in ${formatMs(always.loop.ms)}, ` +
      `mean ${formatMs(always.loop.ms / Math.max(1, always.loop.records / ALWAYS_APPENDERS))} per round)`,
  );
  line(
    'synced records/s',
    `${formatNumber(alwaysRecordsPerS)} (goal ≥ ${formatNumber(GOALS.alwaysRecordsPerS)}: ` +
      `${alwaysRecordsPerS >= GOALS.alwaysRecordsPerS ? 'met' : 'MISSED'})`,
  );
  line('ratio ours / loop', ratioText(appendAlways64.ratio, GOALS.alwaysRatio));
  line('  slice by slice', appendAlways64.slice_ratios.map((r) => r.toFixed(2)).join(' '));

  // ---- (c) --------------------------------------------------------------------------------------
  console.log('\n(c) sequential read of the records from (a) (hot page cache on both sides)');
  const readBefore = baselineReadSegments(eachDir);
  const viaBatches = await readQueue(eachDir, 'batches', count);
  const readMiddle = baselineReadSegments(eachDir);
  const viaRecords = await readQueue(eachDir, 'records', count);
  const readAfter = baselineReadSegments(eachDir);
  const readBaselineBatches = mbPerS(
    readBefore.bytes + readMiddle.bytes,
    readBefore.ms + readMiddle.ms,
  );
  const readBaselineRecords = mbPerS(
    readMiddle.bytes + readAfter.bytes,
    readMiddle.ms + readAfter.ms,
  );
  const read = {
    batches_records_per_s: sig(perS(viaBatches.records, viaBatches.ms)),
    batches_mb_per_s: sig(mbPerS(viaBatches.bytes, viaBatches.ms)),
    records_records_per_s: sig(perS(viaRecords.records, viaRecords.ms)),
    records_mb_per_s: sig(mbPerS(viaRecords.bytes, viaRecords.ms)),
    baseline_mb_per_s: sig((readBaselineBatches + readBaselineRecords) / 2),
    batches_ratio: round(ratio(mbPerS(viaBatches.bytes, viaBatches.ms), readBaselineBatches), 3),
    records_ratio: round(ratio(mbPerS(viaRecords.bytes, viaRecords.ms), readBaselineRecords), 3),
  };
  line(
    'recordBatches()',
    `${formatRate(read.batches_mb_per_s, 'MB')}, ${formatRate(read.batches_records_per_s, 'records')} in ${formatMs(viaBatches.ms)}`,
  );
  line(
    'records() (one per record)',
    `${formatRate(read.records_mb_per_s, 'MB')}, ${formatRate(read.records_records_per_s, 'records')} in ${formatMs(viaRecords.ms)}`,
  );
  line(
    'baseline readSync 1 MiB',
    `${formatRate(read.baseline_mb_per_s, 'MB')} (runs: ${[readBefore, readMiddle, readAfter].map((r) => formatMs(r.ms)).join(', ')})`,
  );
  line('ratio recordBatches / baseline', ratioText(read.batches_ratio));
  line('ratio records / baseline', ratioText(read.records_ratio));
  removeTempDir(root);

  const summary = {
    records: count,
    machine: machineDescription(),
    append_none: appendEach,
    append_batch: appendBatch,
    append_always_64: appendAlways64,
    read,
    profile_ms: {
      append_total: round(each.ms, 1),
      append_cpu: round(each.cpuMs, 1),
      framing_crc: round(framingMs, 1),
      crc_only: round(crcMs, 1),
      crc_native_only: round(crcNativeMs, 1),
      promises: round(promisesMs, 1),
      writev: round(each.io.writevMs, 1),
      /** Time fdatasync calls were in flight (with early writeback, mostly in the background). */
      roll_fdatasync: round(each.io.datasyncMs, 1),
      fdatasync_calls: each.io.datasyncCalls,
      append_issuing: round(issueEachMs, 1),
      append_waiting: round(each.waitMs, 1),
      open_create_close: round(each.io.otherMs, 1),
      rest: round(restEachMs, 1),
      batch_total: round(batched.ms, 1),
      batch_cpu: round(batched.cpuMs, 1),
      batch_writev: round(batched.io.writevMs, 1),
      batch_roll_fdatasync: round(batched.io.datasyncMs, 1),
      batch_issuing: round(issueBatchMs, 1),
      batch_waiting: round(batched.waitMs, 1),
      batch_rest: round(restBatchMs, 1),
      baseline_write: round(baselineEachMs, 1),
      baseline_write_roll_sync: round(rollSyncEachMs, 1),
    },
    goals: {
      append_ratio_ge_0_3: appendEach.ratio >= GOALS.appendRatio,
      append_batch_ratio_ge_0_3: appendBatch.ratio >= GOALS.appendRatio,
      /** Informational: the same goal against the baseline that also does the roll rule's fdatasyncs. */
      append_ratio_vs_roll_sync_ge_0_3: appendEach.ratio_vs_roll_sync >= GOALS.appendRatio,
      append_batch_ratio_vs_roll_sync_ge_0_3: appendBatch.ratio_vs_roll_sync >= GOALS.appendRatio,
      always_records_per_s_ge_50000: alwaysRecordsPerS >= GOALS.alwaysRecordsPerS,
      always_ratio_ge_0_7: appendAlways64.ratio >= GOALS.alwaysRatio,
    },
  };
  // Keeps the CRC pass's result observable (and checks it ran).
  if (!Number.isInteger(checksum)) throw new Error('the CRC pass produced no checksum');
  console.log('');
  console.log(JSON.stringify(summary));
}

main()
  .catch((error: unknown) => {
    // A bad flag is a usage error: its message says it all. Anything else gets its stack.
    if (error instanceof RangeError) console.error(`bench:queue: ${error.message}`);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  .finally(removeTempDirs);
