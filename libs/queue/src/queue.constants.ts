/**
 * Every limit of the disk queue, in one place (TIGER_STYLE: put a limit on everything, name it).
 * Options may lower or raise a default within the hard bounds below.
 */
export const QUEUE_LIMITS = {
  /** Default size at which a segment file is rolled. */
  segmentBytesDefault: 64 * 1024 * 1024,
  /** Smallest segment allowed: small enough for tests that roll often, big enough for a header and a record. */
  segmentBytesMin: 4 * 1024,
  /** Largest segment allowed: offsets stay far from 2^53 and a scan of one segment stays bounded. */
  segmentBytesMax: 1024 * 1024 * 1024,
  /** Default largest payload of one record. */
  recordBytesMaxDefault: 8 * 1024 * 1024,
  /** Default largest number of records in one appendBatch call. */
  batchRecordsMaxDefault: 65_536,
  /** Appended-but-unwritten bytes beyond which append refuses (callers must await their appends). */
  pendingBytesMaxDefault: 256 * 1024 * 1024,
  /** Size of one buffer that appends are framed into before a vectored write. */
  writeChunkBytes: 1024 * 1024,
  /** Default early-writeback interval of `none` and `interval` (see DiskQueueOptions.writebackBytes). */
  writebackBytesDefault: 8 * 1024 * 1024,
  /**
   * Under `always`, a group's write of at most this many bytes is made on the event loop (writevSync:
   * measured 30–55 µs for a group of 64 records of 200 bytes, against 90–200 µs through the thread
   * pool) instead of on a worker thread.
   */
  syncWriteBytesMax: 64 * 1024,
  /** Default read buffer of iterators and scans; a record larger than it gets a buffer of its own. */
  readBufferBytesDefault: 1024 * 1024,
  /** One sparse-index entry (seq → offset) per this many bytes of segment, for random reads. */
  indexIntervalBytes: 64 * 1024,
  /** Default period of the `interval` sync policy. */
  syncIntervalMsDefault: 100,
  /** Largest sequence number: records keep 64 bits on disk, the API uses exact JavaScript numbers. */
  seqMax: Number.MAX_SAFE_INTEGER,
} as const;

/** Segment file header: magic, format version, base sequence (must match the file name). */
export const SEGMENT_MAGIC = 0x51524358; // "XCRQ" read as little-endian u32
export const SEGMENT_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;

/** Record frame header: payload length u32, CRC32C u32 (of sequence and payload), sequence u64. */
export const FRAME_HEADER_BYTES = 16;

/** Cursor file: magic, version, committed sequence u64, CRC32C of the preceding 16 bytes. */
export const CURSOR_MAGIC = 0x43524358; // "XCRC"
export const CURSOR_FORMAT_VERSION = 1;
export const CURSOR_FILE_BYTES = 20;

export const SEGMENT_SUFFIX = '.seg';
export const CURSOR_SUFFIX = '.cursor';
export const TEMP_SUFFIX = '.tmp';
/** A fully written empty segment that becomes the whole queue once a reset completes. */
export const RESET_SUFFIX = '.reset';
