import { promises as fsp, constants as fsConstants, writevSync } from 'node:fs';
import type { FileHandle, FileSystem, OpenMode } from './file-system';

/** The real file system, through node:fs/promises (libuv's thread pool keeps fsync off the event loop). */
export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    return new NodeFileHandle(await fsp.open(path, mode === 'r' ? 'r' : 'r+'));
  }

  async create(path: string): Promise<FileHandle> {
    const flags = fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL;
    return new NodeFileHandle(await fsp.open(path, flags, 0o644));
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return fsp.rename(fromPath, toPath);
  }

  unlink(path: string): Promise<void> {
    return fsp.unlink(path);
  }

  readdir(dir: string): Promise<string[]> {
    return fsp.readdir(dir);
  }

  async mkdirp(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
  }

  async syncDir(dir: string): Promise<void> {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

class NodeFileHandle implements FileHandle {
  constructor(private readonly handle: fsp.FileHandle) {}

  async read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    positionBytes: number,
  ): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, offset, length, positionBytes);
    return bytesRead;
  }

  async writev(buffers: readonly Uint8Array[], positionBytes: number): Promise<void> {
    let pending = buffers.filter((b) => b.length > 0);
    let position = positionBytes;
    // A vectored write to a regular file is normally complete; loop for the rare short write.
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending as Uint8Array[], position);
      position += bytesWritten;
      pending = dropBytes(pending, bytesWritten);
    }
  }

  writevSync(buffers: readonly Uint8Array[], positionBytes: number): void {
    let pending = buffers.filter((b) => b.length > 0);
    let position = positionBytes;
    while (pending.length > 0) {
      const bytesWritten = writevSync(this.handle.fd, pending as Uint8Array[], position);
      position += bytesWritten;
      pending = dropBytes(pending, bytesWritten);
    }
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.handle.truncate(sizeBytes);
  }

  async sizeBytes(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

function dropBytes(buffers: Uint8Array[], count: number): Uint8Array[] {
  let remaining = count;
  const out: Uint8Array[] = [];
  for (const buffer of buffers) {
    if (remaining >= buffer.length) {
      remaining -= buffer.length;
      continue;
    }
    out.push(remaining > 0 ? buffer.subarray(remaining) : buffer);
    remaining = 0;
  }
  return out;
}
