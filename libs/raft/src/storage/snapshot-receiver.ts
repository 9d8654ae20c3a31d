import { crc32c } from '@node-rs/crc32';
import type { SnapshotMeta } from '../core/types';
import type { SnapshotInfo } from './snapshot-format';
import { hex32, writeFully, type TempSnapshot } from './snapshot-file-io';
import { SerialRunner } from './serial-runner';
import { invalidArgument, StorageError, StorageErrorCode } from './storage.errors';

/** What the leader announced ahead of a snapshot's chunks. */
export interface SnapshotExpectation {
  dataBytes: number;
  dataCrc32c: number;
}

/** The follower side of InstallSnapshot: chunks in order, committed on finish(). */
export interface SnapshotReceiver {
  /**
   * Appends `bytes` at `offsetBytes`, which must be where the previous chunk ended (else
   * ChunkOutOfOrder, and nothing changes: the right chunk may still follow). Keep `bytes` unchanged
   * until the promise resolves.
   */
  writeChunk(offsetBytes: number, bytes: Uint8Array): Promise<void>;
  /**
   * Verifies size and CRC against the expectation, then makes the snapshot durable under its final
   * name (fdatasync, rename, directory fsync) and applies retention. On a mismatch the partial file
   * is deleted and ChecksumMismatch is thrown.
   */
  finish(): Promise<SnapshotInfo>;
  /**
   * Deletes the partial file. Idempotent; a no-op after finish(). A receiver dropped without
   * abort() leaves its temp file until the store is next opened.
   */
  abort(): Promise<void>;
}

type ReceiverState = 'open' | 'finishing' | 'done' | 'aborted';

/** Writes the chunks to a temp file; `commit` (the store's) makes it durable under its final name. */
export class FileSnapshotReceiver implements SnapshotReceiver {
  private state: ReceiverState = 'open';
  private receivedBytes = 0;
  private crc = 0;
  /** Positional writes run in call order; offset and CRC advance synchronously at each call. */
  private readonly writes = new SerialRunner();
  private writeError: unknown;

  constructor(
    private readonly temp: TempSnapshot,
    private readonly meta: SnapshotMeta,
    private readonly expected: SnapshotExpectation,
    private readonly commit: (dataBytes: number, crc: number) => Promise<SnapshotInfo>,
  ) {}

  writeChunk(offsetBytes: number, bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') {
      return Promise.reject(
        invalidArgument(`snapshot ${this.describe()} receiver is ${this.state}`),
      );
    }
    if (offsetBytes !== this.receivedBytes) {
      return Promise.reject(
        new StorageError(
          StorageErrorCode.ChunkOutOfOrder,
          `snapshot ${this.describe()}: chunk at offset ${offsetBytes}, expected ${this.receivedBytes}`,
        ),
      );
    }
    if (this.receivedBytes + bytes.length > this.expected.dataBytes) {
      return Promise.reject(
        invalidArgument(
          `snapshot ${this.describe()}: chunk ends at ${this.receivedBytes + bytes.length}, past the announced ${this.expected.dataBytes} bytes`,
        ),
      );
    }
    this.crc = crc32c(bytes, this.crc);
    this.receivedBytes += bytes.length;
    const position = this.temp.dataStart + offsetBytes;
    return this.writes.run(async () => {
      try {
        await writeFully(this.temp.handle, bytes, position);
      } catch (error) {
        this.writeError ??= error;
        throw error;
      }
    });
  }

  async finish(): Promise<SnapshotInfo> {
    if (this.state !== 'open') {
      throw invalidArgument(`snapshot ${this.describe()} receiver is ${this.state}`);
    }
    this.state = 'finishing';
    await this.writes.drain();
    if (this.writeError !== undefined) {
      await this.discard();
      throw new StorageError(
        StorageErrorCode.IoFailed,
        `snapshot ${this.describe()}: a chunk could not be written (${(this.writeError as Error).message})`,
        { cause: this.writeError },
      );
    }
    const mismatch =
      this.receivedBytes !== this.expected.dataBytes
        ? `received ${this.receivedBytes} bytes, announced ${this.expected.dataBytes}`
        : this.crc !== this.expected.dataCrc32c
          ? `CRC32C 0x${hex32(this.crc)}, announced 0x${hex32(this.expected.dataCrc32c)}`
          : undefined;
    if (mismatch !== undefined) {
      await this.discard();
      throw new StorageError(
        StorageErrorCode.ChecksumMismatch,
        `snapshot ${this.describe()}: ${mismatch}`,
      );
    }
    try {
      const info = await this.commit(this.receivedBytes, this.crc);
      this.state = 'done';
      return info;
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'done' || this.state === 'aborted') return;
    await this.writes.drain();
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.state = 'aborted';
    await this.temp.discard();
  }

  private describe(): string {
    return `${this.meta.index} (term ${this.meta.term})`;
  }
}
