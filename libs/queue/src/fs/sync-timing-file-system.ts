import type { FileHandle, FileSystem, OpenMode } from './file-system';

/**
 * A FileSystem that reports how long each fdatasync of a file and each fsync of a directory took
 * to `observe`, for an fsync-duration metric; every call goes to the inner file system unchanged.
 */
export class SyncTimingFileSystem implements FileSystem {
  constructor(
    private readonly inner: FileSystem,
    private readonly observe: (durationMs: number) => void,
  ) {}

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    return new SyncTimingFileHandle(await this.inner.open(path, mode), this.observe);
  }

  async create(path: string): Promise<FileHandle> {
    return new SyncTimingFileHandle(await this.inner.create(path), this.observe);
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return this.inner.rename(fromPath, toPath);
  }

  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }

  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }

  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }

  syncDir(dir: string): Promise<void> {
    return timed(() => this.inner.syncDir(dir), this.observe);
  }
}

class SyncTimingFileHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly observe: (durationMs: number) => void,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, positionBytes: number): Promise<number> {
    return this.inner.read(buffer, offset, length, positionBytes);
  }

  writev(buffers: readonly Uint8Array[], positionBytes: number): Promise<void> {
    return this.inner.writev(buffers, positionBytes);
  }

  writevSync(buffers: readonly Uint8Array[], positionBytes: number): void {
    this.inner.writevSync(buffers, positionBytes);
  }

  datasync(): Promise<void> {
    return timed(() => this.inner.datasync(), this.observe);
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.inner.truncate(sizeBytes);
  }

  sizeBytes(): Promise<number> {
    return this.inner.sizeBytes();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Runs `sync` and reports how long it took, if it succeeds (a failure is the caller's). */
async function timed(
  sync: () => Promise<void>,
  observe: (durationMs: number) => void,
): Promise<void> {
  const startedMs = performance.now();
  await sync();
  observe(performance.now() - startedMs);
}
