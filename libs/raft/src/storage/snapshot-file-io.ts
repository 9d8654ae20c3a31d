import { crc32c } from '@node-rs/crc32';
import { promises as fsp } from 'node:fs';
import { SNAPSHOT_LIMITS } from './storage.constants';
import { limitExceeded } from './storage.errors';

/** File I/O helpers of the snapshot store: positional full writes and reads, directory fsync. */

export interface TempSnapshot {
  path: string;
  finalPath: string;
  handle: fsp.FileHandle;
  metaJson: Buffer;
  /** The data is written after the header's place; the header itself goes in last. */
  dataStart: number;
  close(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * Gathers small chunks into one buffer before writing (a syscall per 100-byte chunk would dominate),
 * copying them so the producer may reuse its buffers; large chunks are written straight through.
 */
export class StagedWriter {
  crc = 0;
  dataBytes = 0;
  private readonly staging = Buffer.allocUnsafe(SNAPSHOT_LIMITS.writeBufferBytes);
  private stagedBytes = 0;
  private position: number;

  constructor(
    private readonly handle: fsp.FileHandle,
    dataStart: number,
  ) {
    this.position = dataStart;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.dataBytes + chunk.length > SNAPSHOT_LIMITS.dataBytesMax) {
      throw limitExceeded(`snapshot data exceeds ${SNAPSHOT_LIMITS.dataBytesMax} bytes`);
    }
    this.crc = crc32c(chunk, this.crc);
    this.dataBytes += chunk.length;
    if (this.stagedBytes + chunk.length > this.staging.length) await this.flush();
    if (chunk.length >= this.staging.length) {
      await writeFully(this.handle, chunk, this.position);
      this.position += chunk.length;
      return;
    }
    this.staging.set(chunk, this.stagedBytes);
    this.stagedBytes += chunk.length;
  }

  async flush(): Promise<void> {
    if (this.stagedBytes === 0) return;
    await writeFully(this.handle, this.staging.subarray(0, this.stagedBytes), this.position);
    this.position += this.stagedBytes;
    this.stagedBytes = 0;
  }
}

export async function writeFully(
  handle: fsp.FileHandle,
  bytes: Uint8Array,
  positionBytes: number,
): Promise<void> {
  let written = 0;
  // A positional write to a regular file is normally complete; loop for the rare short write.
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(
      bytes,
      written,
      bytes.length - written,
      positionBytes + written,
    );
    written += bytesWritten;
  }
}

/** Up to `length` bytes at `position` (fewer only at the end of the file). */
export async function readAt(
  handle: fsp.FileHandle,
  position: number,
  length: number,
): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

export async function syncDir(dirPath: string): Promise<void> {
  const handle = await fsp.open(dirPath, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}
