/**
 * Every limit of Raft's durable storage, in one place (TIGER_STYLE: put a limit on everything,
 * name it). The log store refuses a write beyond a limit with a typed error rather than letting
 * one huge batch stall every fsync behind it.
 */
export const RAFT_STORAGE_LIMITS = {
  /**
   * LevelDB's memtable (writeBufferSize; LevelDB's default is 4 MiB). A full memtable is flushed to
   * a table file in the background, and on ext4 (data=ordered) the next WAL fsync of a save waits
   * for that file's dirty data: the flush size is the size of a commit stall. Smaller flushes, more
   * often, cut the tail (bench:raft, three processes: max-load p99 ~42 -> ~29 ms, half-load p99
   * ~60 -> ~37 ms, same throughput); a larger one (32 MiB) made half-load p99 ~200 ms.
   */
  writeBufferBytes: 1024 * 1024,
  /** Largest data of one entry (a command or a membership change). */
  entryDataBytesMax: 16 * 1024 * 1024,
  /** Largest number of entries in one save(): one LevelDB batch, one fsync. */
  saveEntriesMax: 100_000,
  /** Largest sum of entry data in one save(): bounds the batch LevelDB builds in memory. */
  saveDataBytesMax: 256 * 1024 * 1024,
  /** Largest cluster id (it is derived from the sorted peer list, so it stays short). */
  clusterIdBytesMax: 1024,
  /** Largest node id in a hard state's vote. */
  nodeIdBytesMax: 1024,
  /** Largest JSON of a SnapshotMeta (its membership), in the log store and in snapshot headers. */
  snapshotMetaJsonBytesMax: 1024 * 1024,
  /** Largest index or term: the API works with exact JavaScript numbers, the disk keeps 64 bits. */
  indexMax: Number.MAX_SAFE_INTEGER,
  /** Entries read per `nextv` call when loading the log: bounds memory held by one read. */
  loadReadEntries: 1024,
} as const;

export const SNAPSHOT_LIMITS = {
  /** Snapshots kept by default: the newest and one to fall back to if the newest is corrupt. */
  retainCountDefault: 2,
  retainCountMin: 1,
  retainCountMax: 64,
  /** Default size of the chunks a snapshot is read in (and sent to a follower in). */
  readChunkBytesDefault: 1024 * 1024,
  readChunkBytesMin: 1,
  readChunkBytesMax: 64 * 1024 * 1024,
  /** Small chunks from the state machine are gathered into writes of this size (fewer syscalls). */
  writeBufferBytes: 1024 * 1024,
  /** Largest state machine data in one snapshot. */
  dataBytesMax: 64 * 1024 * 1024 * 1024,
} as const;

/**
 * Format of the log store's keys and values; stored under its own key, checked on open. 2: the
 * hard state, snapshot meta and compacted index sort after the entries (log-record-codec.ts); a
 * format 1 store is moved to 2 when opened.
 */
export const LOG_STORE_FORMAT_VERSION = 2;
/** The older format that open() still reads (and moves to LOG_STORE_FORMAT_VERSION). */
export const LOG_STORE_FORMAT_VERSION_V1 = 1;

/** Snapshot file header: magic, format version, sizes, checksums (see snapshot-format.ts). */
export const SNAPSHOT_MAGIC = 0x53524358; // "XCRS" read as little-endian u32
/** Version 1: a file carrying the state machine's data (header of SNAPSHOT_HEADER_BYTES). */
export const SNAPSHOT_FORMAT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 28;
/**
 * Version 2: the version 1 header plus a u32 of flags (header of SNAPSHOT_HEADER_V2_BYTES). Only a
 * file with flags is written as version 2, so that a data file stays readable by older builds.
 */
export const SNAPSHOT_FORMAT_VERSION_FLAGS = 2;
export const SNAPSHOT_HEADER_V2_BYTES = 32;
/**
 * Flag: the file carries no data — the state lives in the state machine's own durable store,
 * which holds at least the snapshot's index (see DurableState in node/state-machine.ts).
 */
export const SNAPSHOT_FLAG_STATE_IN_MACHINE = 1;
export const SNAPSHOT_FILE_PREFIX = 'snapshot-';
export const SNAPSHOT_FILE_SUFFIX = '.snap';
export const TEMP_FILE_SUFFIX = '.tmp';
/** Index digits in a snapshot's file name: names sort by index like the numbers do. */
export const SNAPSHOT_INDEX_DIGITS = 20;
