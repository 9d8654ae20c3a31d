import type { FileSystem } from './fs/file-system';
import { NodeFileSystem } from './fs/node-file-system';
import { FRAME_HEADER_BYTES, QUEUE_LIMITS, SEGMENT_HEADER_BYTES } from './queue.constants';
import { invalidArgument } from './queue.errors';

/**
 * When appended bytes are made durable:
 * - `always`: an append resolves only after the fdatasync that covers it;
 * - `interval`: appends resolve once written; a timer fdatasyncs every `syncIntervalMs`;
 * - `none`: the operating system decides (and `sync()`, a segment roll and `close()` force it; an
 *   early writeback, see `writebackBytes`, makes the active segment durable in the background).
 *   Neither `none` nor `interval` counts a background fdatasync in `durableSeq`.
 */
export type SyncMode = 'always' | 'interval' | 'none';

export interface QueueLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DiskQueueOptions {
  fileSystem?: FileSystem;
  syncMode?: SyncMode;
  syncIntervalMs?: number;
  segmentBytes?: number;
  recordBytesMax?: number;
  batchRecordsMax?: number;
  pendingBytesMax?: number;
  readBufferBytes?: number;
  /**
   * Under `none` and `interval`: once this many bytes were written to the active segment since the
   * last background fdatasync of it started, start another (early writeback), so that a segment roll
   * does not wait for a whole segment to reach the disk. Default 8 MiB; a value above `segmentBytes`
   * turns it off.
   */
  writebackBytes?: number;
  /** Sequence of the first record of a new, empty queue (default 1). */
  firstSeq?: number;
  /**
   * Operator's choice after a corruption error: truncate the queue at the first bad record (in any
   * segment), deleting every later record, and say so in the log. Off by default.
   */
  repair?: boolean;
  logger?: QueueLogger;
}

export type ResolvedQueueOptions = Required<DiskQueueOptions>;

const consoleLogger: QueueLogger = {
  info: (message) => console.info(`[queue] ${message}`),
  warn: (message) => console.warn(`[queue] ${message}`),
  error: (message) => console.error(`[queue] ${message}`),
};

export function resolveQueueOptions(options: DiskQueueOptions): ResolvedQueueOptions {
  const segmentBytes = options.segmentBytes ?? QUEUE_LIMITS.segmentBytesDefault;
  checkInteger(
    'segmentBytes',
    segmentBytes,
    QUEUE_LIMITS.segmentBytesMin,
    QUEUE_LIMITS.segmentBytesMax,
  );
  const recordRoomBytes = segmentBytes - SEGMENT_HEADER_BYTES - FRAME_HEADER_BYTES;
  const recordBytesMax =
    options.recordBytesMax ?? Math.min(QUEUE_LIMITS.recordBytesMaxDefault, recordRoomBytes);
  checkInteger('recordBytesMax', recordBytesMax, 1, recordRoomBytes);
  const resolved: ResolvedQueueOptions = {
    fileSystem: options.fileSystem ?? new NodeFileSystem(),
    syncMode: options.syncMode ?? 'always',
    syncIntervalMs: options.syncIntervalMs ?? QUEUE_LIMITS.syncIntervalMsDefault,
    segmentBytes,
    recordBytesMax,
    batchRecordsMax: options.batchRecordsMax ?? QUEUE_LIMITS.batchRecordsMaxDefault,
    pendingBytesMax: options.pendingBytesMax ?? QUEUE_LIMITS.pendingBytesMaxDefault,
    readBufferBytes: options.readBufferBytes ?? QUEUE_LIMITS.readBufferBytesDefault,
    writebackBytes: options.writebackBytes ?? QUEUE_LIMITS.writebackBytesDefault,
    firstSeq: options.firstSeq ?? 1,
    repair: options.repair ?? false,
    logger: options.logger ?? consoleLogger,
  };
  if (!['always', 'interval', 'none'].includes(resolved.syncMode)) {
    throw invalidArgument(
      `syncMode must be always, interval or none, got ${JSON.stringify(resolved.syncMode)}`,
    );
  }
  checkInteger('syncIntervalMs', resolved.syncIntervalMs, 1, 60_000);
  checkInteger('batchRecordsMax', resolved.batchRecordsMax, 1, 1_048_576);
  checkInteger('pendingBytesMax', resolved.pendingBytesMax, segmentBytes, Number.MAX_SAFE_INTEGER);
  checkInteger('readBufferBytes', resolved.readBufferBytes, 4096, 64 * 1024 * 1024);
  checkInteger('writebackBytes', resolved.writebackBytes, 4096, QUEUE_LIMITS.segmentBytesMax);
  checkInteger('firstSeq', resolved.firstSeq, 1, QUEUE_LIMITS.seqMax);
  return resolved;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}
