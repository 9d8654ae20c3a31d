import { crc32c } from '@node-rs/crc32';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotMeta } from '../core/types';
import { checkSnapshotMeta } from './log-plan';
import { SerialRunner } from './serial-runner';
import {
  decodeSnapshotHeader,
  encodeSnapshotHeader,
  fixedHeaderBytes,
  parseSnapshotFileName,
  readFixedHeader,
  SNAPSHOT_FIXED_HEADER_BYTES_MAX,
  snapshotFileName,
  type SnapshotInfo,
} from './snapshot-format';
import { encodeSnapshotMetaJson } from './snapshot-meta-json';
import {
  RAFT_STORAGE_LIMITS,
  SNAPSHOT_FILE_PREFIX,
  SNAPSHOT_FLAG_STATE_IN_MACHINE,
  SNAPSHOT_LIMITS,
  TEMP_FILE_SUFFIX,
} from './storage.constants';
import { invalidArgument, limitExceeded, StorageCorruptionError } from './storage.errors';
import {
  hex32,
  readAt,
  StagedWriter,
  syncDir,
  writeFully,
  type TempSnapshot,
} from './snapshot-file-io';
import {
  checkExpectation,
  FileSnapshotReceiver,
  type SnapshotExpectation,
  type SnapshotReceiver,
} from './snapshot-receiver';

export type { SnapshotExpectation, SnapshotReceiver } from './snapshot-receiver';
export type { SnapshotInfo } from './snapshot-format';

export interface SnapshotStoreLogger {
  warn(message: string): void;
}

export interface SnapshotStoreOptions {
  /** Snapshots kept (newest first); older ones are deleted after each write. Default 2. */
  retainCount?: number;
  /** Default chunk size of `chunks()`. Default 1 MiB. */
  readChunkBytes?: number;
  /** Where a fallback from a corrupt snapshot is reported. Default: console.warn. */
  logger?: SnapshotStoreLogger;
}

export interface StoredSnapshot extends SnapshotInfo {
  /**
   * The data as chunks of at most `chunkBytes` (each a fresh buffer the caller may keep), read from
   * the file on demand. After the last chunk the CRC is checked: a mismatch (or a file cut short)
   * throws a StorageCorruptionError naming the file. If a newer write deleted this file meanwhile,
   * the read fails with ENOENT: take latest() again. A `stateInMachine` file has no data: reading
   * it throws (InvalidArgument), the state is the state machine's own.
   */
  chunks(options?: { chunkBytes?: number }): AsyncIterable<Uint8Array>;
}

/**
 * Snapshot files in one directory: `snapshot-<index, 20 digits>-<term>.snap` (see
 * snapshot-format.ts). Every file appears under its final name only complete and fsync'd (temp
 * name, fdatasync, rename, directory fsync), so a crash leaves at worst a temp file, removed on
 * open. Reads verify the CRC; a corrupt newest snapshot makes latest() fall back to the previous.
 */
export class SnapshotStore {
  /** Commits (rename + retention) one at a time, so two never prune each other's files. */
  private readonly commits = new SerialRunner();
  private tempSequence = 0;

  private constructor(
    readonly dirPath: string,
    private readonly retainCount: number,
    private readonly readChunkBytes: number,
    private readonly logger: SnapshotStoreLogger,
  ) {}

  static async open(dirPath: string, options: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    const retainCount = options.retainCount ?? SNAPSHOT_LIMITS.retainCountDefault;
    checkRange(
      retainCount,
      SNAPSHOT_LIMITS.retainCountMin,
      SNAPSHOT_LIMITS.retainCountMax,
      'retainCount',
    );
    const readChunkBytes = options.readChunkBytes ?? SNAPSHOT_LIMITS.readChunkBytesDefault;
    checkChunkBytes(readChunkBytes);
    await fsp.mkdir(dirPath, { recursive: true });
    const store = new SnapshotStore(
      dirPath,
      retainCount,
      readChunkBytes,
      options.logger ?? console,
    );
    await store.removeTempFiles();
    return store;
  }

  /**
   * Writes a snapshot from the state machine's bytes (streamed: memory stays bounded whatever the
   * size) and makes it durable; then deletes snapshots beyond the newest `retainCount`.
   * Chunks may be reused by the producer once the next one is requested.
   */
  async write(
    meta: SnapshotMeta,
    data: AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<SnapshotInfo> {
    const temp = await this.createTemp(meta);
    try {
      const writer = new StagedWriter(temp.handle, temp.dataStart);
      if (data instanceof Uint8Array) await writer.write(data);
      else for await (const chunk of data) await writer.write(chunk);
      await writer.flush();
      return await this.commitTemp(temp, meta, writer.dataBytes, writer.crc);
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  /**
   * Writes a snapshot file without data, flagged `stateInMachine`: the state machine keeps its
   * state durably on its own and has made it durable up to at least `meta.index` (a durable state
   * machine's local snapshot: the file records the meta, the membership and the compaction point).
   */
  async writeStateInMachine(meta: SnapshotMeta): Promise<SnapshotInfo> {
    const temp = await this.createTemp(meta, SNAPSHOT_FLAG_STATE_IN_MACHINE);
    try {
      return await this.commitTemp(temp, meta, 0, 0, SNAPSHOT_FLAG_STATE_IN_MACHINE);
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  /**
   * The newest valid snapshot, or undefined when the directory holds none. A corrupt one is logged
   * and skipped for the previous; if every snapshot is corrupt, throws (the node must not start as
   * if it had none). `verifyData` (default true) reads the data once to check its CRC; without it
   * only the header is checked here and the data is checked by `chunks()`.
   */
  async latest(options: { verifyData?: boolean } = {}): Promise<StoredSnapshot | undefined> {
    const verifyData = options.verifyData ?? true;
    const names = await this.snapshotNames();
    let firstCorruption: StorageCorruptionError | undefined;
    for (const name of names) {
      try {
        const info = await this.inspect(name);
        if (verifyData) {
          for await (const _chunk of this.readData(info, this.readChunkBytes)) {
            // Reading is the check: readData throws at the end on a CRC mismatch.
          }
        }
        return this.stored(info);
      } catch (error) {
        // A file deleted by a concurrent write's retention is simply not a candidate any more.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        if (!(error instanceof StorageCorruptionError)) throw error;
        firstCorruption ??= error;
        this.logger.warn(`${error.message}; falling back to the previous snapshot`);
      }
    }
    if (firstCorruption !== undefined) {
      throw new StorageCorruptionError(
        this.dirPath,
        `${names.length} snapshot file(s)`,
        `no valid snapshot left (newest: ${firstCorruption.message})`,
      );
    }
    return undefined;
  }

  /**
   * Starts receiving a snapshot from the leader; nothing is visible until finish(). Without
   * `expected` (a leader streaming a state machine's snapshot does not know its size up front),
   * the size and CRC must be given to finish().
   */
  async beginReceive(
    meta: SnapshotMeta,
    expected?: SnapshotExpectation,
  ): Promise<SnapshotReceiver> {
    if (expected !== undefined) checkExpectation(expected);
    const temp = await this.createTemp(meta);
    return new FileSnapshotReceiver(temp, meta, expected, (dataBytes, crc) =>
      this.commitTemp(temp, meta, dataBytes, crc),
    );
  }

  private async createTemp(meta: SnapshotMeta, flags = 0): Promise<TempSnapshot> {
    checkSnapshotMeta(meta);
    const metaJson = encodeSnapshotMetaJson(meta);
    if (metaJson.length > RAFT_STORAGE_LIMITS.snapshotMetaJsonBytesMax) {
      throw limitExceeded(`snapshot meta of ${metaJson.length} bytes exceeds the limit`);
    }
    const finalName = snapshotFileName(meta.index, meta.term);
    this.tempSequence += 1;
    const path = join(
      this.dirPath,
      `${finalName}.${process.pid}-${this.tempSequence}${TEMP_FILE_SUFFIX}`,
    );
    const openFlags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;
    const handle = await fsp.open(path, openFlags, 0o644);
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    return {
      path,
      finalPath: join(this.dirPath, finalName),
      handle,
      metaJson,
      dataStart: fixedHeaderBytes(flags) + metaJson.length,
      close,
      discard: async () => {
        await close().catch(() => undefined);
        await fsp.rm(path, { force: true });
      },
    };
  }

  /** Header, fdatasync, close, rename, directory fsync, retention. */
  private async commitTemp(
    temp: TempSnapshot,
    meta: SnapshotMeta,
    dataBytes: number,
    crc: number,
    flags = 0,
  ): Promise<SnapshotInfo> {
    await writeFully(temp.handle, encodeSnapshotHeader(temp.metaJson, dataBytes, crc, flags), 0);
    await temp.handle.datasync();
    await temp.close();
    return this.commits.run(async () => {
      await fsp.rename(temp.path, temp.finalPath);
      await syncDir(this.dirPath);
      await this.applyRetention();
      return {
        meta,
        dataBytes,
        dataCrc32c: crc,
        filePath: temp.finalPath,
        stateInMachine: (flags & SNAPSHOT_FLAG_STATE_IN_MACHINE) !== 0,
      };
    });
  }

  private async applyRetention(): Promise<void> {
    const names = await this.snapshotNames();
    // Deleting needs no directory fsync: a file that comes back after a crash is pruned next time.
    for (const name of names.slice(this.retainCount)) {
      await fsp.rm(join(this.dirPath, name), { force: true });
    }
  }

  /** Snapshot file names, newest (highest index, then term) first. */
  private async snapshotNames(): Promise<string[]> {
    const parsed: { name: string; index: number; term: number }[] = [];
    for (const name of await fsp.readdir(this.dirPath)) {
      const position = parseSnapshotFileName(name);
      if (position !== undefined) parsed.push({ name, ...position });
    }
    parsed.sort((a, b) => b.index - a.index || b.term - a.term);
    return parsed.map((p) => p.name);
  }

  private async removeTempFiles(): Promise<void> {
    let removed = 0;
    for (const name of await fsp.readdir(this.dirPath)) {
      if (name.startsWith(SNAPSHOT_FILE_PREFIX) && name.endsWith(TEMP_FILE_SUFFIX)) {
        await fsp.rm(join(this.dirPath, name), { force: true });
        removed += 1;
      }
    }
    if (removed > 0) await syncDir(this.dirPath);
  }

  /** Reads and checks the header of `name` (not the data). */
  private async inspect(name: string): Promise<SnapshotInfo> {
    const filePath = join(this.dirPath, name);
    const corrupt = (location: string, reason: string): StorageCorruptionError =>
      new StorageCorruptionError(filePath, location, reason);
    const handle = await fsp.open(filePath, 'r');
    try {
      const sizeBytes = (await handle.stat()).size;
      const start = await readAt(handle, 0, SNAPSHOT_FIXED_HEADER_BYTES_MAX);
      const fixed = readFixedHeader(start);
      if (typeof fixed === 'string') throw corrupt('byte 0', fixed);
      const { fixedBytes, metaBytes } = fixed;
      const meta = await readAt(handle, fixedBytes, metaBytes);
      const header = decodeSnapshotHeader(Buffer.concat([start.subarray(0, fixedBytes), meta]));
      if (typeof header === 'string') throw corrupt('byte 0', header);
      const named = parseSnapshotFileName(name);
      if (named?.index !== header.meta.index || named.term !== header.meta.term) {
        throw corrupt('byte 0', `header says index ${header.meta.index} term ${header.meta.term}`);
      }
      const expectedBytes = fixedBytes + metaBytes + header.dataBytes;
      if (sizeBytes !== expectedBytes) {
        throw corrupt(
          `byte ${Math.min(sizeBytes, expectedBytes)}`,
          `file of ${sizeBytes} bytes, header says ${expectedBytes}`,
        );
      }
      return {
        meta: header.meta,
        dataBytes: header.dataBytes,
        dataCrc32c: header.dataCrc32c,
        filePath,
        stateInMachine: (header.flags & SNAPSHOT_FLAG_STATE_IN_MACHINE) !== 0,
      };
    } finally {
      await handle.close();
    }
  }

  private stored(info: SnapshotInfo): StoredSnapshot {
    return {
      ...info,
      chunks: (options = {}) => {
        if (info.stateInMachine) {
          throw invalidArgument(
            `snapshot ${info.filePath} carries no data: the state lives in the state machine`,
          );
        }
        const chunkBytes = options.chunkBytes ?? this.readChunkBytes;
        checkChunkBytes(chunkBytes);
        return this.readData(info, chunkBytes);
      },
    };
  }

  private async *readData(info: SnapshotInfo, chunkBytes: number): AsyncGenerator<Uint8Array> {
    const handle = await fsp.open(info.filePath, 'r');
    try {
      const dataStart = await this.headerBytes(handle, info.filePath);
      let crc = 0;
      let offset = 0;
      while (offset < info.dataBytes) {
        const wanted = Math.min(chunkBytes, info.dataBytes - offset);
        const chunk = await readAt(handle, dataStart + offset, wanted);
        if (chunk.length < wanted) {
          throw new StorageCorruptionError(
            info.filePath,
            `byte ${dataStart + offset + chunk.length}`,
            'data cut short',
          );
        }
        crc = crc32c(chunk, crc);
        offset += chunk.length;
        yield chunk;
      }
      if (crc !== info.dataCrc32c) {
        throw new StorageCorruptionError(
          info.filePath,
          `byte ${dataStart}`,
          `data checksum mismatch (header 0x${hex32(info.dataCrc32c)}, data 0x${hex32(crc)})`,
        );
      }
    } finally {
      await handle.close();
    }
  }

  /** Where the data starts, from the file's own header (the handle may be a newer file of the same name). */
  private async headerBytes(handle: fsp.FileHandle, filePath: string): Promise<number> {
    const fixed = readFixedHeader(await readAt(handle, 0, SNAPSHOT_FIXED_HEADER_BYTES_MAX));
    if (typeof fixed === 'string') throw new StorageCorruptionError(filePath, 'byte 0', fixed);
    return fixed.fixedBytes + fixed.metaBytes;
  }
}

function checkRange(value: number, min: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`${what} ${value} is not an integer in [${min}, ${max}]`);
  }
}

function checkChunkBytes(chunkBytes: number): void {
  checkRange(
    chunkBytes,
    SNAPSHOT_LIMITS.readChunkBytesMin,
    SNAPSHOT_LIMITS.readChunkBytesMax,
    'chunkBytes',
  );
}
