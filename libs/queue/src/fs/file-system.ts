/**
 * The file-system port of the disk queue. Every byte the queue reads or writes goes through it,
 * so that a test double can decide what survives a power loss (see `testing/`).
 *
 * Contract shared by every implementation:
 * - Errors carry Node's `code` (`ENOENT`, `EEXIST`, `ENOTEMPTY`, …) so callers can tell them apart.
 * - `write` puts bytes in the operating system's cache only; they survive a process kill but not a
 *   power loss until `datasync` has returned on that file.
 * - Creating, renaming and unlinking change a directory; such a change survives a power loss only
 *   once `syncDir` has returned on that directory.
 * - `rename` replaces the target atomically.
 */
export interface FileHandle {
  /** Reads up to `length` bytes at `positionBytes` into `buffer[offset…]`; resolves with the count (0 at end of file). */
  read(buffer: Uint8Array, offset: number, length: number, positionBytes: number): Promise<number>;
  /** Writes every byte of `buffers`, in order, starting at `positionBytes` (one vectored write where possible). */
  writev(buffers: readonly Uint8Array[], positionBytes: number): Promise<void>;
  /**
   * `writev` on the calling thread: returns (or throws) once the bytes are in the operating system's
   * cache. For small writes only, where the hop to a worker thread costs more than the write itself;
   * it blocks the event loop while it runs.
   */
  writevSync(buffers: readonly Uint8Array[], positionBytes: number): void;
  /** fdatasync: every byte written to this file so far is durable when it resolves. */
  datasync(): Promise<void>;
  /** Cuts (or extends with zeros) the file to `sizeBytes`. Durable after `datasync`. */
  truncate(sizeBytes: number): Promise<void>;
  /** The file's current size, unsynced writes included. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

export type OpenMode = 'r' | 'rw';

export interface FileSystem {
  /** Opens an existing file. Rejects with code ENOENT when there is none. */
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  /** Creates a new, empty file opened read-write. Rejects with code EEXIST when the name is taken. */
  create(path: string): Promise<FileHandle>;
  rename(fromPath: string, toPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Names (not paths) of the entries of `dir`, in no particular order. */
  readdir(dir: string): Promise<string[]>;
  /** Creates `dir` and its missing parents; durable at once. */
  mkdirp(dir: string): Promise<void>;
  /** fsync of the directory itself: makes its entries' creations, renames and unlinks durable. */
  syncDir(dir: string): Promise<void>;
}

/** True when `error` is a file-system error with the given code (ENOENT, EEXIST, …). */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
