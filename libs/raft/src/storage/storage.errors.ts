/** Error codes of Raft's storage; every error it throws on purpose is a StorageError with one of them. */
export enum StorageErrorCode {
  /** Bytes on disk that do not decode or fail their checksum. Never skipped. */
  Corruption = 'RAFT_STORAGE_CORRUPTION',
  /** Written by a newer (or unknown) format of this store. */
  UnsupportedFormat = 'RAFT_STORAGE_UNSUPPORTED_FORMAT',
  /** The store could not be opened (held by another process, missing permissions, …). */
  OpenFailed = 'RAFT_STORAGE_OPEN_FAILED',
  /** bootstrap() on a store that already holds a cluster. */
  NotEmpty = 'RAFT_STORAGE_NOT_EMPTY',
  /** A call that breaks the port's contract (a gap in the log, an entry below the snapshot, …). */
  InvalidArgument = 'RAFT_STORAGE_INVALID_ARGUMENT',
  /** A write beyond one of the limits in storage.constants.ts. */
  LimitExceeded = 'RAFT_STORAGE_LIMIT_EXCEEDED',
  /** A snapshot chunk whose offset is not where the previous one ended. */
  ChunkOutOfOrder = 'RAFT_STORAGE_CHUNK_OUT_OF_ORDER',
  /** A received snapshot whose size or CRC is not the one announced. */
  ChecksumMismatch = 'RAFT_STORAGE_CHECKSUM_MISMATCH',
  /** The disk refused a write or a read (full, I/O error); the write did not happen. */
  IoFailed = 'RAFT_STORAGE_IO_FAILED',
  Closed = 'RAFT_STORAGE_CLOSED',
}

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** Bad bytes on disk, reported with where they are: the store or file path, and the key or offset. */
export class StorageCorruptionError extends StorageError {
  constructor(
    readonly path: string,
    /** The record's key (e.g. `entry 42`, `hard-state`) or a byte offset within a file. */
    readonly location: string,
    readonly reason: string,
  ) {
    super(StorageErrorCode.Corruption, `corrupt record in ${path} at ${location}: ${reason}`);
    this.name = 'StorageCorruptionError';
  }
}

export function invalidArgument(message: string): StorageError {
  return new StorageError(StorageErrorCode.InvalidArgument, message);
}

export function limitExceeded(message: string): StorageError {
  return new StorageError(StorageErrorCode.LimitExceeded, message);
}

export function closedError(what: string): StorageError {
  return new StorageError(StorageErrorCode.Closed, `${what} is closed`);
}
