import { join } from 'node:path';
import { AppendGroup, ChunkPool, writeChecksums, type SegmentWrite } from './append-group';
import { CursorStore } from './cursor-store';
import { readFrameBatches, type FrameRecord } from './frame-reader';
import { RecordIterator } from './record-iterator';
import { hasErrorCode, type FileHandle, type FileSystem } from './fs/file-system';
import {
  FRAME_HEADER_BYTES,
  QUEUE_LIMITS,
  RESET_SUFFIX,
  SEGMENT_HEADER_BYTES,
  SEGMENT_SUFFIX,
  TEMP_SUFFIX,
} from './queue.constants';
import { CorruptionError, QueueError, QueueErrorCode, invalidArgument } from './queue.errors';
import {
  resolveQueueOptions,
  type DiskQueueOptions,
  type ResolvedQueueOptions,
} from './queue.options';
import { encodeSegmentHeader, segmentHeaderProblem } from './record-frame';
import { Segment, parseSegmentFileName, segmentFileName } from './segment';

export interface QueueRecord {
  seq: number;
  /** A view into a read buffer that the queue never reuses; copy it only to drop the rest of the buffer. */
  payload: Buffer;
}

/** A record of appendBatch: a bare payload takes the next sequence, or the caller names one. */
export type AppendInput = Uint8Array | { seq: number; payload: Uint8Array };

export interface VerifyReport {
  segments: number;
  records: number;
  bytes: number;
}

/** How a scan treats the first bad frame: as an error, or as a torn tail to cut away (last segment on open). */
type ScanMode = 'strict' | 'recover';

/**
 * An append-only queue of records in segment files (the event journal of DESIGN.md).
 *
 * Durability contract: with `syncMode: 'always'` an append resolves only once fdatasync covered it;
 * `durableSeq` says how far that is true under any policy. After a crash or power loss `open`
 * restores a prefix of what was appended that contains every durable record: a torn tail of the last
 * segment is cut (and logged), anything bad before it is a CorruptionError naming file and offset.
 *
 * Concurrency: appends are synchronous bookkeeping plus one group write per flush; every operation
 * that touches segment files runs on one serial chain, so a flush, a sync, a truncation and a reset
 * never interleave.
 */
export class DiskQueue {
  private readonly fs: FileSystem;
  private segments: Segment[] = [];
  private readonly cursors: CursorStore;
  private readonly chunkPool = new ChunkPool();
  private group: AppendGroup | undefined;
  /** The setImmediate that will flush the open group, if one is pending. */
  private flushImmediate: NodeJS.Immediate | undefined;
  private ioChain: Promise<unknown> = Promise.resolve();
  /** Handles with writes not yet fdatasync'd, and whether a created segment awaits a directory fsync. */
  private readonly dirtyHandles = new Set<FileHandle>();
  private dirDirty = false;
  /**
   * Early writeback: background fdatasyncs of the active segment in flight, by handle. Each settles
   * with the error it met (undefined when it succeeded) and never rejects; a failed one stays here so
   * that the next fdatasync of that handle reports it instead of claiming durability.
   */
  private readonly writebacks = new Map<FileHandle, Promise<unknown>>();
  private lastAppendedSeq = 0;
  private lastWrittenSeq = 0;
  private lastDurableSeq = 0;
  /** Bytes of the group being written by the flush in progress (the open group counts its own). */
  private writingBytes = 0;
  private failure: unknown;
  private state: 'open' | 'resetting' | 'closing' | 'closed' = 'open';
  private syncTimer: NodeJS.Timeout | undefined;
  /** Bumped by reset; iterators from before a reset stop instead of mixing old and new records. */
  private generation = 0;

  private constructor(
    readonly dir: string,
    private readonly options: ResolvedQueueOptions,
  ) {
    this.fs = options.fileSystem;
    this.cursors = new CursorStore(this.fs, dir);
  }

  /** Opens (creating if needed) the queue in `dir`, recovering from any crash. */
  static async open(dir: string, options: DiskQueueOptions = {}): Promise<DiskQueue> {
    const queue = new DiskQueue(dir, resolveQueueOptions(options));
    try {
      await queue.recover();
    } catch (error) {
      await queue.releaseAfterFailedOpen();
      throw error;
    }
    return queue;
  }

  /** Lowest sequence that may still be present (records before it were truncated or reset away). */
  get firstSeq(): number {
    return this.segments[0].baseSeq;
  }

  /** Highest sequence appended (written or not); firstSeq - 1 when the queue is empty. */
  get lastSeq(): number {
    return this.lastAppendedSeq;
  }

  /** Highest sequence known to be on stable storage. */
  get durableSeq(): number {
    return this.lastDurableSeq;
  }

  append(payload: Uint8Array, seq?: number): Promise<number> {
    this.assertWritable();
    const assigned = this.checkNext(seq, this.lastAppendedSeq);
    this.checkPayload(payload, 0);
    this.checkPending(FRAME_HEADER_BYTES + payload.length);
    const group = this.openGroup();
    this.frame(group, assigned, payload);
    return group.wait(assigned);
  }

  /** Appends records in order; resolves with the last sequence. Checked whole before anything is appended. */
  appendBatch(records: readonly AppendInput[]): Promise<number> {
    this.assertWritable();
    if (records.length === 0) return Promise.resolve(this.lastAppendedSeq);
    if (records.length > this.options.batchRecordsMax) {
      throw new QueueError(
        QueueErrorCode.BatchTooLarge,
        `a batch of ${records.length} records exceeds the limit of ${this.options.batchRecordsMax}`,
      );
    }
    const seqs = new Array<number>(records.length);
    let previous = this.lastAppendedSeq;
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const payload = record instanceof Uint8Array ? record : record.payload;
      seqs[i] = previous = this.checkNext(
        record instanceof Uint8Array ? undefined : record.seq,
        previous,
      );
      this.checkPayload(payload, i);
      bytes += FRAME_HEADER_BYTES + payload.length;
    }
    this.checkPending(bytes);
    const group = this.openGroup();
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      this.frame(group, seqs[i], record instanceof Uint8Array ? record : record.payload);
    }
    return group.wait(previous);
  }

  /** Resolves once every record appended so far is written (and synced, under `always`). */
  flush(): Promise<void> {
    return this.enqueueFlush();
  }

  /** Resolves once every record appended so far is on stable storage, whatever the policy. */
  async sync(): Promise<void> {
    await this.enqueueFlush();
    await this.serially(() => this.syncDirty());
  }

  /** The payload of record `seq`, or undefined when there is none (a gap, truncated, or not appended). */
  async read(seq: number): Promise<Buffer | undefined> {
    this.assertOpen();
    if (seq > this.lastWrittenSeq && seq <= this.lastAppendedSeq) await this.flush();
    const segment = this.segmentFor(seq);
    if (segment === undefined) return undefined;
    if (!segment.indexed) await this.scanSealed(segment);
    if (seq > segment.lastSeq) return undefined;
    for await (const records of this.segmentRecords(segment, segment.scanStartFor(seq))) {
      for (const record of records) {
        if (record.seq === seq) return record.payload;
        if (record.seq > seq) return undefined;
      }
    }
    return undefined;
  }

  /** Every written record with a sequence at or after `fromSeq`, in order, read with a bounded buffer. */
  records(fromSeq: number = this.firstSeq): AsyncGenerator<QueueRecord> {
    return new RecordIterator(this.recordBatches(fromSeq));
  }

  /**
   * Like `records`, a buffer's worth at a time (the fast path for replay). Ends at the last record
   * written when it gets there; a CorruptionError stops it at the first bad record.
   */
  async *recordBatches(fromSeq: number = this.firstSeq): AsyncGenerator<QueueRecord[]> {
    this.assertOpen();
    if (fromSeq < this.firstSeq) {
      throw new QueueError(
        QueueErrorCode.Compacted,
        `records before ${this.firstSeq} were truncated; cannot read from ${fromSeq}`,
      );
    }
    const generation = this.generation;
    let segment = this.segmentFor(fromSeq) ?? this.segments[0];
    while (true) {
      const start = segment.indexed ? segment.scanStartFor(fromSeq) : SEGMENT_HEADER_BYTES;
      for await (const records of this.segmentRecords(segment, start)) {
        if (this.generation !== generation) {
          throw new QueueError(QueueErrorCode.Closed, 'the queue was reset while being read');
        }
        const wanted =
          records[0].seq >= fromSeq ? records : records.filter((r) => r.seq >= fromSeq);
        if (wanted.length > 0) yield wanted;
      }
      const next = this.segments.find((s) => s.baseSeq > segment.baseSeq);
      if (next === undefined || next.pendingCreate) return;
      segment = next;
    }
  }

  /** The committed position of a consumer: the last sequence it has processed. */
  cursor(name: string): number {
    return this.cursors.get(name) ?? this.firstSeq - 1;
  }

  /** Durably records that consumer `name` has processed every record up to `seq`. */
  async commit(name: string, seq: number): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(seq) || seq < this.firstSeq - 1 || seq > this.lastAppendedSeq) {
      throw invalidArgument(
        `cursor ${name} cannot move to ${seq}: the queue holds ${this.firstSeq}–${this.lastAppendedSeq}`,
      );
    }
    await this.cursors.commit(name, seq);
  }

  /**
   * Deletes whole segments whose records are all below `seq` and that no cursor still needs.
   * The segment being appended to is never deleted. Resolves with the number of segments deleted.
   */
  truncateBefore(seq: number): Promise<number> {
    this.assertOpen();
    return this.serially(async () => {
      let limit = seq;
      for (const name of this.cursors.names()) limit = Math.min(limit, this.cursor(name) + 1);
      let deletable = 0;
      while (deletable + 1 < this.segments.length) {
        const next = this.segments[deletable + 1];
        if (next.pendingCreate || next.baseSeq > limit) break;
        deletable += 1;
      }
      if (deletable === 0) return 0;
      // Oldest first: a crash part-way leaves a contiguous run of segments.
      for (const segment of this.segments.slice(0, deletable)) await this.fs.unlink(segment.path);
      await this.fs.syncDir(this.dir);
      this.segments = this.segments.slice(deletable);
      return deletable;
    });
  }

  /**
   * Discards every record and continues at `nextSeq` (after a snapshot install). Every cursor moves
   * to `nextSeq - 1`. Crash-safe: a fully written `.reset` segment is the commit point, completed on
   * the next open if need be.
   */
  async reset(nextSeq: number): Promise<void> {
    this.assertWritable();
    if (!Number.isSafeInteger(nextSeq) || nextSeq < 1 || nextSeq > QUEUE_LIMITS.seqMax) {
      throw invalidArgument(
        `reset needs a sequence from 1 to ${QUEUE_LIMITS.seqMax}, got ${String(nextSeq)}`,
      );
    }
    this.state = 'resetting';
    try {
      await this.enqueueFlush();
      await this.serially(() => this.resetFiles(nextSeq));
      for (const name of this.cursors.names()) await this.cursors.commit(name, nextSeq - 1);
    } finally {
      if (this.state === 'resetting') this.state = 'open';
    }
  }

  /** Reads every record of every segment, checking checksums and order. Throws at the first problem. */
  async verify(): Promise<VerifyReport> {
    this.assertOpen();
    await this.flush();
    const report: VerifyReport = { segments: 0, records: 0, bytes: 0 };
    for (const segment of [...this.segments]) {
      for await (const records of this.segmentRecords(segment, SEGMENT_HEADER_BYTES)) {
        for (const record of records) {
          report.records += 1;
          report.bytes += record.frameBytes;
        }
      }
      report.segments += 1;
    }
    return report;
  }

  /** Writes and syncs everything appended, waits for cursor commits, and releases the files. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    if (this.syncTimer) clearInterval(this.syncTimer);
    try {
      await this.enqueueFlush();
      await this.serially(() => this.syncDirty());
    } finally {
      await this.cursors.drain();
      await this.serially(async () => {
        for (const segment of this.segments) await this.closeWriteHandle(segment);
      });
      this.state = 'closed';
    }
  }

  // ---- appending ----------------------------------------------------------------------------

  private checkNext(seq: number | undefined, previous: number): number {
    if (seq === undefined) {
      if (previous >= QUEUE_LIMITS.seqMax)
        throw invalidArgument('the queue has used every sequence number');
      return previous + 1;
    }
    if (!Number.isSafeInteger(seq) || seq <= previous) {
      throw new QueueError(
        QueueErrorCode.SequenceOutOfOrder,
        `sequence ${String(seq)} must be an integer above the last one, ${previous}`,
      );
    }
    return seq;
  }

  private checkPayload(payload: Uint8Array, index: number): void {
    if (!(payload instanceof Uint8Array))
      throw invalidArgument(`record ${index}: the payload must be a Uint8Array`);
    if (payload.length > this.options.recordBytesMax) {
      throw new QueueError(
        QueueErrorCode.RecordTooLarge,
        `record ${index}: ${payload.length} bytes exceeds the limit of ${this.options.recordBytesMax} bytes`,
      );
    }
  }

  private checkPending(bytes: number): void {
    const unwrittenBytes = (this.group?.bytes ?? 0) + this.writingBytes;
    if (unwrittenBytes + bytes > this.options.pendingBytesMax) {
      throw new QueueError(
        QueueErrorCode.Overloaded,
        `${unwrittenBytes} bytes are waiting to be written (limit ${this.options.pendingBytesMax}); await earlier appends`,
      );
    }
  }

  private openGroup(): AppendGroup {
    if (this.group === undefined) this.group = new AppendGroup(this.chunkPool);
    // Appends issued in the same tick join this group: one write, one fdatasync.
    this.flushImmediate ??= setImmediate(this.flushOpenGroup);
    return this.group;
  }

  private readonly flushOpenGroup = (): void => {
    void this.enqueueFlush().catch(() => undefined);
  };

  /**
   * Under `always`, once a group is durable and its `released` waiters resolved: if, when their
   * continuations have run (a microtask queued behind them), the open group holds at least as many
   * waiters, every appender came straight back, and the next flush starts now instead of after the
   * event loop's check phase (setImmediate). Appenders that take longer still join a group by the
   * setImmediate, as before: a group is never cut short of one that is still filling.
   */
  private flushWhenRefilled(released: number): void {
    queueMicrotask(() => {
      if (this.group !== undefined && this.group.waiterCount >= released) this.flushOpenGroup();
    });
  }

  private frame(group: AppendGroup, seq: number, payload: Uint8Array): void {
    const length = FRAME_HEADER_BYTES + payload.length;
    let segment = this.segments[this.segments.length - 1];
    if (segment.hasRecords && segment.sizeBytes + length > this.options.segmentBytes) {
      segment = this.rollTo(seq);
    }
    if (
      segment.pendingCreate &&
      segment.sizeBytes === SEGMENT_HEADER_BYTES &&
      !segment.hasRecords
    ) {
      const headerOffset = group.reserve(segment, SEGMENT_HEADER_BYTES);
      group.chunk.set(encodeSegmentHeader(segment.baseSeq), headerOffset);
      group.writes[group.writes.length - 1].startOffsetBytes = 0;
    }
    group.frame(group.reserve(segment, length), seq, payload);
    segment.noteRecord(seq, segment.sizeBytes, length);
    group.lastSeq = seq;
    this.lastAppendedSeq = seq;
  }

  private rollTo(seq: number): Segment {
    const segment = new Segment(this.dir, seq);
    segment.pendingCreate = true;
    segment.indexed = true;
    this.segments.push(segment);
    return segment;
  }

  private enqueueFlush(): Promise<void> {
    return this.serially(async () => {
      if (this.flushImmediate !== undefined) {
        clearImmediate(this.flushImmediate); // this task takes the group it was for
        this.flushImmediate = undefined;
      }
      const group = this.group;
      this.group = undefined;
      if (group === undefined) return;
      this.writingBytes = group.bytes;
      try {
        if (this.failure !== undefined) throw this.failedError();
        await this.writeGroup(group);
        group.resolveAll();
        if (this.options.syncMode === 'always') this.flushWhenRefilled(group.waiterCount);
      } catch (error) {
        this.noteWriteFailure(error);
        group.rejectAll(error);
        throw error;
      } finally {
        this.writingBytes = 0;
        group.release();
      }
    });
  }

  /** The first failed write or fdatasync stops appends until the queue is reopened. */
  private noteWriteFailure(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.options.logger.error(
      `write failed, the queue refuses further appends until reopened: ${String(error)}`,
    );
  }

  private async writeGroup(group: AppendGroup): Promise<void> {
    group.seal();
    for (const write of group.writes) {
      const segment = write.segment;
      if (segment.pendingCreate) await this.createRolledSegment(segment);
      const handle = segment.writeHandle;
      if (handle === undefined)
        throw new Error(`assertion failed: no write handle for ${segment.path}`);
      if (this.options.syncMode === 'always' && write.bytes <= QUEUE_LIMITS.syncWriteBytesMax) {
        // The fdatasync that follows bounds what is dirty, so a small write cannot stall on writeback.
        for (let i = 0; i < write.buffers.length; i++) writeChecksums(write, i);
        handle.writevSync(write.buffers, write.startOffsetBytes);
      } else {
        await this.writeChunks(handle, write);
      }
      segment.writtenBytes = write.startOffsetBytes + write.bytes;
      this.dirtyHandles.add(handle);
    }
    this.lastWrittenSeq = group.lastSeq;
    if (this.options.syncMode === 'always') await this.syncDirty();
    else this.startWriteback(group.writes[group.writes.length - 1].segment);
  }

  /**
   * Writes `write`'s chunks in order, one writev each, checksumming a chunk while the previous one is
   * being written (the checksums are CPU on this thread, the write waits on a worker thread). Each
   * write starts only once the previous one is done, so a crash leaves a prefix, as one writev would.
   */
  private async writeChunks(handle: FileHandle, write: SegmentWrite): Promise<void> {
    let position = write.startOffsetBytes;
    let writing: Promise<void> | undefined;
    for (let i = 0; i < write.buffers.length; i++) {
      writeChecksums(write, i);
      if (writing !== undefined) await writing;
      writing = handle.writev([write.buffers[i]], position);
      position += write.buffers[i].length;
    }
    await writing;
  }

  /**
   * Under `none` and `interval`, starts a background fdatasync of the active segment once
   * `writebackBytes` were written to it since the last one started, without waiting for it. The
   * fdatasync a roll owes the segment (see createRolledSegment) then finds little left to flush
   * instead of a whole segment's worth, and the disk works while appends go on. It only ever makes
   * more bytes durable sooner; `durableSeq` is not advanced by it.
   */
  private startWriteback(segment: Segment): void {
    const handle = segment.writeHandle;
    if (handle === undefined || this.writebacks.has(handle)) return;
    if (segment.writtenBytes - segment.writebackStartBytes < this.options.writebackBytes) return;
    segment.writebackStartBytes = segment.writtenBytes;
    const writeback: Promise<unknown> = handle.datasync().then(
      () => {
        if (this.writebacks.get(handle) === writeback) this.writebacks.delete(handle);
        return undefined;
      },
      (error: unknown) => {
        this.noteWriteFailure(error);
        return error;
      },
    );
    this.writebacks.set(handle, writeback);
  }

  /** fdatasync of `handle`, after any early writeback of it, whose failure it reports. */
  private async datasync(handle: FileHandle): Promise<void> {
    await this.settleWriteback(handle);
    await handle.datasync();
  }

  /** Waits for the early writeback of `handle`, if any; rejects with its error if it failed. */
  private async settleWriteback(handle: FileHandle): Promise<void> {
    const writeback = this.writebacks.get(handle);
    if (writeback === undefined) return;
    const error = await writeback;
    if (this.writebacks.get(handle) === writeback) this.writebacks.delete(handle);
    if (error !== undefined) throw error;
  }

  /**
   * The previous segment is fdatasync'd before the next one gets its first byte, under every policy:
   * so only the last segment can ever have a torn tail, and recovery can tell a tear from corruption.
   */
  private async createRolledSegment(segment: Segment): Promise<void> {
    const index = this.segments.indexOf(segment);
    const previous = this.segments[index - 1];
    if (previous?.writeHandle) {
      await this.datasync(previous.writeHandle);
      await this.closeWriteHandle(previous);
    }
    segment.writeHandle = await this.fs.create(segment.path);
    segment.pendingCreate = false;
    this.dirDirty = true;
  }

  private async syncDirty(): Promise<void> {
    const upTo = this.lastWrittenSeq;
    const handles = [...this.dirtyHandles];
    this.dirtyHandles.clear();
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    await Promise.all(handles.map((handle) => this.datasync(handle)));
    if (dirDirty) await this.fs.syncDir(this.dir);
    this.lastDurableSeq = Math.max(this.lastDurableSeq, upTo);
  }

  private async closeWriteHandle(segment: Segment): Promise<void> {
    const handle = segment.writeHandle;
    if (handle === undefined) return;
    segment.writeHandle = undefined;
    this.dirtyHandles.delete(handle);
    // Never close under a background fdatasync; its failure, if any, is already the queue's failure.
    await this.settleWriteback(handle).catch(() => undefined);
    await handle.close();
  }

  /** Runs `task` after every earlier file operation has finished (successfully or not). */
  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.ioChain.then(task);
    this.ioChain = result.catch(() => undefined);
    return result;
  }

  // ---- reading ------------------------------------------------------------------------------

  /** The segment that would hold `seq`: the last one whose base is not above it. */
  private segmentFor(seq: number): Segment | undefined {
    let low = 0;
    let high = this.segments.length - 1;
    let found: Segment | undefined;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (this.segments[mid].baseSeq <= seq) {
        found = this.segments[mid];
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /**
   * The records of `segment` from `startOffsetBytes` up to what is written, checked strictly: any
   * bad frame is a CorruptionError naming the file and offset.
   */
  private async *segmentRecords(
    segment: Segment,
    startOffsetBytes: number,
  ): AsyncGenerator<FrameRecord[]> {
    const handle = await this.fs.open(segment.path, 'r');
    try {
      const isActive = segment === this.activeSegment();
      const end = isActive || segment.indexed ? segment.writtenBytes : await handle.sizeBytes();
      const upper = this.upperSeqOf(segment);
      let previous = segment.baseSeq - 1;
      for await (const batch of readFrameBatches(handle, this.readOptions(startOffsetBytes, end))) {
        for (const record of batch.records) {
          checkOrder(segment, upper, record, previous);
          previous = record.seq;
        }
        if (batch.records.length > 0) yield batch.records;
        if (batch.problem)
          throw new CorruptionError(segment.path, batch.problem.offsetBytes, batch.problem.reason);
      }
    } finally {
      await handle.close();
    }
  }

  /** Builds the index of a sealed segment found on open, verifying it on the way. */
  private async scanSealed(segment: Segment): Promise<void> {
    const handle = await this.fs.open(segment.path, 'r');
    try {
      await this.scanInto(segment, handle, 'strict');
    } finally {
      await handle.close();
    }
  }

  /**
   * Reads a whole segment into its index. In `recover` mode (the last segment, on open) a bad frame
   * followed only by zeros or the end of the file is a torn write, cut away; anything else is
   * corruption. Returns the offset where the good records end.
   */
  private async scanInto(segment: Segment, handle: FileHandle, mode: ScanMode): Promise<number> {
    const fileBytes = await handle.sizeBytes();
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const headerBytes = await handle.read(header, 0, SEGMENT_HEADER_BYTES, 0);
    const headerProblem = segmentHeaderProblem(header.subarray(0, headerBytes), segment.baseSeq);
    segment.resetIndex();
    if (headerProblem !== undefined) {
      if (
        mode === 'recover' &&
        (await this.onlyZerosFrom(
          handle,
          headerPrefixEnd(header, headerBytes, segment.baseSeq),
          fileBytes,
        ))
      ) {
        return 0; // the segment's very first write was torn: it holds nothing
      }
      throw new CorruptionError(segment.path, 0, headerProblem);
    }
    const upper = this.upperSeqOf(segment);
    let previous = segment.baseSeq - 1;
    for await (const batch of readFrameBatches(
      handle,
      this.readOptions(SEGMENT_HEADER_BYTES, fileBytes),
    )) {
      for (const record of batch.records) {
        checkOrder(segment, upper, record, previous);
        previous = record.seq;
        segment.noteRecord(record.seq, record.offsetBytes, record.frameBytes);
      }
      const problem = batch.problem;
      if (problem === undefined) continue;
      const tornTail =
        mode === 'recover' &&
        (problem.kind === 'incomplete' ||
          (await this.onlyZerosFrom(
            handle,
            problem.offsetBytes + problem.declaredBytes,
            fileBytes,
          )));
      if (!tornTail) throw new CorruptionError(segment.path, problem.offsetBytes, problem.reason);
      break;
    }
    segment.writtenBytes = segment.writebackStartBytes = segment.sizeBytes;
    segment.indexed = true;
    return segment.sizeBytes;
  }

  /** Highest sequence `segment` may hold: just below the next segment's base. */
  private upperSeqOf(segment: Segment): number {
    const next = this.segments[this.segments.indexOf(segment) + 1];
    return next === undefined ? QUEUE_LIMITS.seqMax : next.baseSeq - 1;
  }

  private async onlyZerosFrom(
    handle: FileHandle,
    fromBytes: number,
    toBytes: number,
  ): Promise<boolean> {
    const buffer = Buffer.allocUnsafe(
      Math.min(this.options.readBufferBytes, Math.max(0, toBytes - fromBytes)),
    );
    for (let position = fromBytes; position < toBytes;) {
      const got = await handle.read(
        buffer,
        0,
        Math.min(buffer.length, toBytes - position),
        position,
      );
      if (got === 0) break;
      for (let i = 0; i < got; i++) if (buffer[i] !== 0) return false;
      position += got;
    }
    return true;
  }

  private readOptions(startOffsetBytes: number, endOffsetBytes: number) {
    return {
      startOffsetBytes,
      endOffsetBytes,
      readBufferBytes: this.options.readBufferBytes,
      recordBytesMax: this.options.recordBytesMax,
    };
  }

  private activeSegment(): Segment {
    return this.segments[this.segments.length - 1];
  }

  // ---- recovery -----------------------------------------------------------------------------

  private async recover(): Promise<void> {
    await this.fs.mkdirp(this.dir);
    let names = await this.fs.readdir(this.dir);
    names = await this.removeTempFiles(names);
    names = await this.completeReset(names);
    const bases = names
      .map(parseSegmentFileName)
      .filter((b): b is number => b !== undefined)
      .sort((a, b) => a - b);
    this.segments = bases.map((base) => new Segment(this.dir, base));
    if (this.segments.length === 0) {
      await this.createEmptySegment(this.options.firstSeq);
    } else {
      if (this.options.repair) await this.repairFirstBadRecord();
      for (const segment of this.segments.slice(0, -1)) await this.checkSealedHeader(segment);
      await this.recoverActive();
    }
    await this.cursors.load(names);
    await this.clampCursors();
    const active = this.activeSegment();
    this.lastAppendedSeq = this.lastWrittenSeq = this.lastDurableSeq = active.lastSeq;
    if (this.options.syncMode === 'interval') {
      this.syncTimer = setInterval(() => void this.syncInterval(), this.options.syncIntervalMs);
      this.syncTimer.unref();
    }
  }

  private async releaseAfterFailedOpen(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const segment of this.segments)
      await this.closeWriteHandle(segment).catch(() => undefined);
    this.state = 'closed';
  }

  private async removeTempFiles(names: string[]): Promise<string[]> {
    const temps = names.filter((name) => name.endsWith(TEMP_SUFFIX));
    for (const name of temps) await this.fs.unlink(join(this.dir, name));
    if (temps.length > 0) await this.fs.syncDir(this.dir);
    return names.filter((name) => !name.endsWith(TEMP_SUFFIX));
  }

  /** Finishes a reset that a crash interrupted after its commit point (the `.reset` file). */
  private async completeReset(names: string[]): Promise<string[]> {
    const markers = names.filter((name) => name.endsWith(RESET_SUFFIX));
    if (markers.length === 0) return names;
    if (markers.length > 1) {
      throw new CorruptionError(
        this.dir,
        0,
        `more than one interrupted reset (${markers.join(', ')})`,
      );
    }
    const segmentName = markers[0].slice(0, -RESET_SUFFIX.length);
    if (parseSegmentFileName(segmentName) === undefined) {
      throw new CorruptionError(
        join(this.dir, markers[0]),
        0,
        'reset marker does not name a segment',
      );
    }
    this.options.logger.warn(
      `completing a reset interrupted by a crash: the queue continues at ${segmentName}`,
    );
    for (const name of names) {
      if (name.endsWith(SEGMENT_SUFFIX)) await this.fs.unlink(join(this.dir, name));
    }
    await this.fs.syncDir(this.dir);
    await this.fs.rename(join(this.dir, markers[0]), join(this.dir, segmentName));
    await this.fs.syncDir(this.dir);
    return [
      ...names.filter((name) => !name.endsWith(SEGMENT_SUFFIX) && name !== markers[0]),
      segmentName,
    ];
  }

  private async createEmptySegment(baseSeq: number): Promise<void> {
    const segment = new Segment(this.dir, baseSeq);
    const handle = await this.fs.create(segment.path);
    await handle.writev([encodeSegmentHeader(baseSeq)], 0);
    await handle.datasync();
    await this.fs.syncDir(this.dir);
    segment.writeHandle = handle;
    segment.indexed = true;
    this.segments = [segment];
  }

  private async checkSealedHeader(segment: Segment): Promise<void> {
    const handle = await this.fs.open(segment.path, 'r');
    try {
      const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
      const got = await handle.read(header, 0, SEGMENT_HEADER_BYTES, 0);
      const problem = segmentHeaderProblem(header.subarray(0, got), segment.baseSeq);
      if (problem !== undefined) throw new CorruptionError(segment.path, 0, problem);
    } finally {
      await handle.close();
    }
  }

  /** Scans the last segment in full, cuts a torn tail, and opens it for appending. */
  private async recoverActive(): Promise<void> {
    const segment = this.activeSegment();
    const handle = await this.fs.open(segment.path, 'rw');
    try {
      const fileBytes = await handle.sizeBytes();
      const goodBytes = await this.scanInto(segment, handle, 'recover');
      if (goodBytes === 0) {
        this.options.logger.warn(
          `${segment.path}: header torn by a crash; the segment starts again empty`,
        );
        await handle.truncate(0);
        await handle.writev([encodeSegmentHeader(segment.baseSeq)], 0);
        segment.resetIndex();
      } else if (goodBytes < fileBytes) {
        this.options.logger.warn(
          `${segment.path}: cut a torn tail of ${fileBytes - goodBytes} bytes at byte ${goodBytes} (a write interrupted by a crash); last record is ${segment.lastSeq}`,
        );
        await handle.truncate(goodBytes);
      }
      // Whatever survived a process crash sits in the page cache: make it durable before trusting it.
      await handle.datasync();
      segment.writeHandle = handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The operator's repair: cut at the first bad record anywhere, dropping everything after it. */
  private async repairFirstBadRecord(): Promise<void> {
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i];
      try {
        await this.scanSealed(segment);
        continue;
      } catch (error) {
        if (!(error instanceof CorruptionError)) throw error;
        const dropped = this.segments.slice(i + 1);
        this.options.logger.error(
          `repair: ${error.message}; truncating ${segment.path} at byte ${error.offsetBytes} and deleting ${dropped.length} later segment(s)`,
        );
        for (const later of dropped.reverse()) await this.fs.unlink(later.path);
        this.segments = this.segments.slice(0, i + 1);
        const handle = await this.fs.open(segment.path, 'rw');
        try {
          if (error.offsetBytes < SEGMENT_HEADER_BYTES) {
            await handle.truncate(0);
            await handle.writev([encodeSegmentHeader(segment.baseSeq)], 0);
          } else {
            await handle.truncate(error.offsetBytes);
          }
          await handle.datasync();
        } finally {
          await handle.close();
        }
        await this.fs.syncDir(this.dir);
        return;
      }
    }
  }

  /** Keeps every cursor within what the queue holds; a cursor past the end (after power loss) comes back. */
  private async clampCursors(): Promise<void> {
    const low = this.firstSeq - 1;
    const high = this.activeSegment().lastSeq;
    for (const name of this.cursors.names()) {
      const value = this.cursor(name);
      const clamped = Math.min(Math.max(value, low), high);
      if (clamped === value) continue;
      this.options.logger.warn(
        `cursor ${name} moved from ${value} to ${clamped}: the queue now holds ${low + 1}–${high}`,
      );
      await this.cursors.commit(name, clamped);
    }
  }

  private async resetFiles(nextSeq: number): Promise<void> {
    for (const segment of this.segments) await this.closeWriteHandle(segment);
    const segmentName = segmentFileName(nextSeq);
    const tempPath = join(this.dir, segmentName + TEMP_SUFFIX);
    const markerPath = join(this.dir, segmentName + RESET_SUFFIX);
    await this.fs.unlink(tempPath).catch((error: unknown) => {
      if (!hasErrorCode(error, 'ENOENT')) throw error;
    });
    const temp = await this.fs.create(tempPath);
    try {
      await temp.writev([encodeSegmentHeader(nextSeq)], 0);
      await temp.datasync();
    } finally {
      await temp.close();
    }
    await this.fs.rename(tempPath, markerPath);
    await this.fs.syncDir(this.dir); // commit point: from here on, open completes the reset
    for (const segment of this.segments) await this.fs.unlink(segment.path);
    await this.fs.syncDir(this.dir);
    const segment = new Segment(this.dir, nextSeq);
    await this.fs.rename(markerPath, segment.path);
    await this.fs.syncDir(this.dir);
    segment.indexed = true;
    segment.writeHandle = await this.fs.open(segment.path, 'rw');
    this.segments = [segment];
    this.dirtyHandles.clear();
    this.dirDirty = false;
    this.generation += 1;
    this.lastAppendedSeq = this.lastWrittenSeq = this.lastDurableSeq = nextSeq - 1;
  }

  private async syncInterval(): Promise<void> {
    if (
      this.state !== 'open' ||
      (this.dirtyHandles.size === 0 && !this.dirDirty && this.group === undefined)
    )
      return;
    try {
      await this.sync();
    } catch (error) {
      this.options.logger.error(`interval sync failed: ${String(error)}`);
    }
  }

  // ---- state checks -------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.state === 'closed' || this.state === 'closing') {
      throw new QueueError(QueueErrorCode.Closed, `the queue in ${this.dir} is closed`);
    }
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.state === 'resetting')
      throw new QueueError(QueueErrorCode.Closed, 'the queue is being reset');
    if (this.failure !== undefined) throw this.failedError();
  }

  private failedError(): QueueError {
    return new QueueError(
      QueueErrorCode.Failed,
      `the queue in ${this.dir} stopped after a write error (${String(this.failure)}); reopen it to recover`,
      { cause: this.failure },
    );
  }
}

/**
 * Where a torn header's good prefix ends: the bytes that match the expected header. A header torn by
 * a crash is a prefix of the right one followed by zeros or nothing.
 */
function headerPrefixEnd(header: Buffer, headerBytes: number, baseSeq: number): number {
  const expected = encodeSegmentHeader(baseSeq);
  let i = 0;
  while (i < headerBytes && header[i] === expected[i]) i++;
  return i;
}

function checkOrder(
  segment: Segment,
  upperSeq: number,
  record: FrameRecord,
  previous: number,
): void {
  if (record.seq <= previous || record.seq < segment.baseSeq || record.seq > upperSeq) {
    throw new CorruptionError(
      segment.path,
      record.offsetBytes,
      `record sequence ${record.seq} is out of order (after ${previous}; the segment holds ${segment.baseSeq}–${upperSeq})`,
    );
  }
}
