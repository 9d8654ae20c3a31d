import { crc32c } from '@node-rs/crc32';
import type { SnapshotMeta } from '../core/types';
import type { SnapshotInfo } from './snapshot-format';
import { hex32, writeFully, type TempSnapshot } from './snapshot-file-io';
import { SerialRunner } from './serial-runner';
import { SNAPSHOT_LIMITS } from './storage.constants';
import { invalidArgument, StorageError, StorageErrorCode } from './storage.errors';

/**
 * The size and CRC32C of a snapshot's data, as the leader announces them: ahead of the chunks (a
 * snapshot file), or after the last one (a state machine's stream, of unknown length up front).
 */
export interface SnapshotExpectation {
  dataBytes: number;
  dataCrc32c: number;
}

/** Throws InvalidArgument unless both are integers in range. */
export function checkExpectation(expected: SnapshotExpectation): void {
  const check = (value: number, max: number, what: string): void => {
    if (!Number.isSafeInteger(value) || value < 0 || value > max) {
      throw invalidArgument(`${what} ${value} is not an integer in [0, ${max}]`);
    }
  };
  check(expected.dataBytes, SNAPSHOT_LIMITS.dataBytesMax, 'announced snapshot size');
  check(expected.dataCrc32c, 0xffff_ffff, 'announced snapshot CRC32C');
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
   * Verifies size and CRC against the expectation (given to beginReceive, or here: `final`, from
   * the end of a stream; both when both are given), then makes the snapshot durable under its final
   * name (fdatasync, rename, directory fsync) and applies retention. On a mismatch the partial file
   * is deleted and ChecksumMismatch is thrown.
   */
  finish(final?: SnapshotExpectation): Promise<SnapshotInfo>;
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
    /** Undefined: announced at finish() (a stream of unknown length). */
    private readonly expected: SnapshotExpectation | undefined,
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
    const limit = this.expected?.dataBytes ?? SNAPSHOT_LIMITS.dataBytesMax;
    if (this.receivedBytes + bytes.length > limit) {
      return Promise.reject(
        invalidArgument(
          `snapshot ${this.describe()}: chunk ends at ${this.receivedBytes + bytes.length}, past the ${this.expected ? 'announced' : 'largest'} ${limit} bytes`,
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

  async finish(final?: SnapshotExpectation): Promise<SnapshotInfo> {
    if (this.state !== 'open') {
      throw invalidArgument(`snapshot ${this.describe()} receiver is ${this.state}`);
    }
    if (final !== undefined) checkExpectation(final);
    else if (this.expected === undefined) {
      throw invalidArgument(`snapshot ${this.describe()}: neither size nor CRC32C was announced`);
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
    const mismatch = [this.expected, final]
      .map((expected) => (expected === undefined ? undefined : this.mismatch(expected)))
      .find((reason) => reason !== undefined);
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

  private mismatch(expected: SnapshotExpectation): string | undefined {
    if (this.receivedBytes !== expected.dataBytes)
      return `received ${this.receivedBytes} bytes, announced ${expected.dataBytes}`;
    if (this.crc !== expected.dataCrc32c)
      return `CRC32C 0x${hex32(this.crc)}, announced 0x${hex32(expected.dataCrc32c)}`;
    return undefined;
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
