import { ClassicLevel } from 'classic-level';
import type { Entry, HardState, SnapshotMeta } from '../core/types';
import {
  checkClusterId,
  checkHardState,
  checkSnapshotMeta,
  logFloor,
  planCompact,
  planSave,
  type IndexRange,
  type LogPosition,
} from './log-plan';
import {
  decodeClusterId,
  decodeCompactedIndex,
  decodeEntry,
  decodeFormatVersion,
  decodeHardState,
  decodeSnapshotMeta,
  describeKey,
  encodeClusterId,
  encodeCompactedIndex,
  encodeEntryRecords,
  encodeFormatVersion,
  encodeHardState,
  encodeSnapshotMeta,
  ENTRY_KEY_MAX,
  ENTRY_KEY_MIN,
  entryKey,
  entryKeys,
  KEY_CLUSTER_ID,
  KEY_COMPACTED_INDEX,
  KEY_FORMAT_VERSION,
  KEY_HARD_STATE,
  KEY_SNAPSHOT_META,
  readEntryIndex,
  RecordDecodeError,
  rekeyRecord,
  V1_KEYS,
} from './log-record-codec';
import type { RaftLogStorage, RaftPersistentState, RaftStorageUpdate } from './raft-storage';
import { SerialRunner } from './serial-runner';
import {
  LOG_STORE_FORMAT_VERSION,
  LOG_STORE_FORMAT_VERSION_V1,
  RAFT_STORAGE_LIMITS,
} from './storage.constants';
import {
  closedError,
  StorageCorruptionError,
  StorageError,
  StorageErrorCode,
} from './storage.errors';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/**
 * RaftLogStorage on classic-level (LevelDB): the raft-boltdb equivalent. Every save() is one chained
 * batch written with `sync: true` (a bare new commit index may go without: `sync: false`), so the
 * hard state, a snapshot meta, new entries and the deletion of a truncated suffix reach the disk
 * together or not at all. LevelDB appends every batch to one log file in order, so a synced save
 * makes the unsynced ones before it durable too.
 *
 * The position of the log (snapshot, compaction point, last index) is kept in memory, read once on
 * open, so that a truncation knows which keys to delete without scanning.
 */
export class ClassicLevelRaftStorage implements RaftLogStorage {
  private readonly serial = new SerialRunner();
  private closed = false;
  /** reclaimSpace() calls in flight (outside `serial`): close() waits for them. */
  private readonly reclaiming = new Set<Promise<void>>();

  private constructor(
    private readonly db: Db,
    readonly dirPath: string,
    /** Undefined until bootstrapped. */
    private position: LogPosition | undefined,
  ) {}

  /** Opens (creating if missing) the store in `dirPath`. One process at a time may hold it. */
  static async open(dirPath: string): Promise<ClassicLevelRaftStorage> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dirPath, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      writeBufferSize: RAFT_STORAGE_LIMITS.writeBufferBytes,
    });
    try {
      await db.open();
    } catch (error) {
      throw openError(dirPath, error);
    }
    try {
      const position = await readPosition(db, dirPath);
      return new ClassicLevelRaftStorage(db, dirPath, position);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  load(): Promise<RaftPersistentState | undefined> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.serial.run(async () => {
      const clusterIdValue = await this.db.get(KEY_CLUSTER_ID);
      if (clusterIdValue === undefined) {
        if (this.position !== undefined || !(await isEmpty(this.db))) {
          throw this.corruption(KEY_CLUSTER_ID, 'missing while the store holds other records');
        }
        return undefined;
      }
      const clusterId = this.decode(KEY_CLUSTER_ID, clusterIdValue, decodeClusterId);
      const hardState = await this.read(KEY_HARD_STATE, decodeHardState);
      const snapshot = await this.read(KEY_SNAPSHOT_META, decodeSnapshotMeta);
      const position = this.bootstrapped();
      const entries = await this.readEntries(logFloor(position));
      const lastIndex = entries.length > 0 ? entries[entries.length - 1].index : logFloor(position);
      if (lastIndex !== position.lastIndex) {
        throw this.corruption(
          ENTRY_KEY_MAX,
          `last entry ${lastIndex} differs from ${position.lastIndex} found on open`,
        );
      }
      return { clusterId, hardState, snapshot, compactedIndex: position.compactedIndex, entries };
    });
  }

  bootstrap(
    clusterId: string,
    initial: SnapshotMeta,
    hardState: HardState = { term: 0, vote: '', commit: 0 },
  ): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.serial.run(async () => {
      checkClusterId(clusterId);
      checkSnapshotMeta(initial);
      checkHardState(hardState);
      if (this.position !== undefined || !(await isEmpty(this.db))) {
        throw new StorageError(
          StorageErrorCode.NotEmpty,
          `cannot bootstrap the raft log store in ${this.dirPath}: it already holds a cluster`,
        );
      }
      await this.db.batch(
        [
          {
            type: 'put',
            key: KEY_FORMAT_VERSION,
            value: encodeFormatVersion(LOG_STORE_FORMAT_VERSION),
          },
          { type: 'put', key: KEY_CLUSTER_ID, value: encodeClusterId(clusterId) },
          { type: 'put', key: KEY_HARD_STATE, value: encodeHardState(hardState) },
          { type: 'put', key: KEY_SNAPSHOT_META, value: encodeSnapshotMeta(initial) },
          { type: 'put', key: KEY_COMPACTED_INDEX, value: encodeCompactedIndex(0) },
        ],
        { sync: true },
      );
      this.position = {
        snapshotIndex: initial.index,
        snapshotTerm: initial.term,
        compactedIndex: 0,
        lastIndex: initial.index,
      };
    });
  }

  save(update: RaftStorageUpdate): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.serial.run(async () => {
      const position = this.bootstrapped();
      const storedTerm =
        update.snapshot === undefined ? undefined : await this.termAt(update.snapshot.index);
      const plan = planSave(position, update, storedTerm);
      const nothingToWrite =
        plan.deletes.length === 0 &&
        !update.hardState &&
        !update.snapshot &&
        update.entries.length === 0;
      if (nothingToWrite) return;
      const batch = this.db.batch();
      try {
        // Deletes first: LevelDB applies a batch in order, so an index deleted (e.g. by a snapshot)
        // and written again by this save's entries ends up written.
        deleteRanges(batch, plan.deletes);
        if (update.hardState) batch.put(KEY_HARD_STATE, encodeHardState(update.hardState));
        if (update.snapshot) batch.put(KEY_SNAPSHOT_META, encodeSnapshotMeta(update.snapshot));
        encodeEntryRecords(update.entries, (key, value) => batch.put(key, value));
      } catch (error) {
        await batch.close();
        throw error;
      }
      await this.write(batch, update.sync !== false, 'save');
      this.position = plan.position;
    });
  }

  compact(index: number): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.serial.run(async () => {
      const plan = planCompact(this.bootstrapped(), index);
      if (plan === undefined) return;
      const batch = this.db.batch();
      deleteRanges(batch, plan.deletes);
      // The marker travels with the deletes (a batch is atomic even unsynced): a crash either keeps
      // both or brings back both, never a gap that load() could not explain.
      batch.put(KEY_COMPACTED_INDEX, encodeCompactedIndex(plan.position.compactedIndex));
      await this.write(batch, false, 'compact');
      this.position = plan.position;
    });
  }

  /**
   * LevelDB's compactRange over the entry keys up to `index`: the tables holding compacted entries
   * (and their deletion markers) are rewritten without them, so the space comes back now rather
   * than whenever LevelDB's own compactions reach that range. LevelDB runs it on its own threads
   * (it flushes the memtable first, as a full memtable would); saves go on meanwhile.
   */
  reclaimSpace(index: number): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    const upTo = Math.min(index, this.position?.compactedIndex ?? 0);
    if (upTo < 1) return Promise.resolve();
    const run = this.db.compactRange(ENTRY_KEY_MIN, entryKey(upTo)).catch((error: unknown) => {
      throw new StorageError(
        StorageErrorCode.IoFailed,
        `reclaiming space in the raft log store in ${this.dirPath} failed: ${(error as Error).message}`,
        { cause: error },
      );
    });
    const tracked = run.finally(() => this.reclaiming.delete(tracked));
    this.reclaiming.add(tracked);
    return tracked;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.reclaiming]);
    await this.serial.drain();
    await this.db.close();
  }

  private async write(batch: ReturnType<Db['batch']>, sync: boolean, what: string): Promise<void> {
    try {
      await batch.write({ sync });
    } catch (error) {
      throw new StorageError(
        StorageErrorCode.IoFailed,
        `${what} to the raft log store in ${this.dirPath} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** The stored term at `index`, or undefined when no entry (or snapshot) is stored there. */
  private async termAt(index: number): Promise<number | undefined> {
    const position = this.bootstrapped();
    if (index === position.snapshotIndex) return position.snapshotTerm;
    if (index <= logFloor(position) || index > position.lastIndex) return undefined;
    const key = entryKey(index);
    const value = await this.db.get(key);
    if (value === undefined) throw this.corruption(key, 'missing inside the stored log');
    return this.decode(key, value, (v) => decodeEntry(key, v)).term;
  }

  private async readEntries(floor: number): Promise<Entry[]> {
    const entries: Entry[] = [];
    const iterator = this.db.iterator({ gte: ENTRY_KEY_MIN, lte: ENTRY_KEY_MAX });
    try {
      while (true) {
        const page = await iterator.nextv(RAFT_STORAGE_LIMITS.loadReadEntries);
        if (page.length === 0) break;
        for (const [key, value] of page) {
          const entry = this.decode(key, value, (v) => decodeEntry(key, v));
          const expected = entries.length === 0 ? floor + 1 : entries[entries.length - 1].index + 1;
          if (entry.index !== expected) {
            throw this.corruption(key, `expected entry ${expected} (log floor ${floor})`);
          }
          entries.push(entry);
        }
      }
    } finally {
      await iterator.close();
    }
    return entries;
  }

  private async read<T>(key: Uint8Array, decode: (value: Uint8Array) => T): Promise<T> {
    const value = await this.db.get(key);
    if (value === undefined) throw this.corruption(key, 'missing');
    return this.decode(key, value, decode);
  }

  private decode<T>(key: Uint8Array, value: Uint8Array, decode: (value: Uint8Array) => T): T {
    return decodeRecord(this.dirPath, key, value, decode);
  }

  private corruption(key: Uint8Array, reason: string): StorageCorruptionError {
    return new StorageCorruptionError(this.dirPath, describeKey(key), reason);
  }

  private bootstrapped(): LogPosition {
    if (this.position === undefined) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        `the raft log store in ${this.dirPath} is not bootstrapped`,
      );
    }
    return this.position;
  }

  private closedError(): StorageError {
    return closedError(`the raft log store in ${this.dirPath}`);
  }
}

/** Reads where the log is (format checked), or undefined for an empty store. */
async function readPosition(db: Db, dirPath: string): Promise<LogPosition | undefined> {
  const versionValue = await db.get(KEY_FORMAT_VERSION);
  if (versionValue === undefined) {
    if (await isEmpty(db)) return undefined;
    throw new StorageCorruptionError(dirPath, describeKey(KEY_FORMAT_VERSION), 'missing');
  }
  const version = decodeRecord(dirPath, KEY_FORMAT_VERSION, versionValue, decodeFormatVersion);
  if (version === LOG_STORE_FORMAT_VERSION_V1) await moveToCurrentFormat(db, dirPath);
  else if (version !== LOG_STORE_FORMAT_VERSION) {
    throw new StorageError(
      StorageErrorCode.UnsupportedFormat,
      `the raft log store in ${dirPath} has format version ${version}; this build reads ${LOG_STORE_FORMAT_VERSION} (and moves ${LOG_STORE_FORMAT_VERSION_V1} to it)`,
    );
  }
  const snapshotValue = await db.get(KEY_SNAPSHOT_META);
  const compactedValue = await db.get(KEY_COMPACTED_INDEX);
  if (snapshotValue === undefined || compactedValue === undefined) {
    const key = snapshotValue === undefined ? KEY_SNAPSHOT_META : KEY_COMPACTED_INDEX;
    throw new StorageCorruptionError(dirPath, describeKey(key), 'missing');
  }
  const snapshot = decodeRecord(dirPath, KEY_SNAPSHOT_META, snapshotValue, decodeSnapshotMeta);
  const compactedIndex = decodeRecord(
    dirPath,
    KEY_COMPACTED_INDEX,
    compactedValue,
    decodeCompactedIndex,
  );
  const floor = Math.max(snapshot.index, compactedIndex);
  const lastKeys = await db
    .keys({ gte: ENTRY_KEY_MIN, lte: ENTRY_KEY_MAX, reverse: true, limit: 1 })
    .all();
  const lastIndex = lastKeys.length === 0 ? floor : readEntryIndex(lastKeys[0]);
  if (lastIndex < floor) {
    throw new StorageCorruptionError(
      dirPath,
      describeKey(lastKeys[0]),
      `entry at or below the log floor ${floor} (a snapshot or compaction should have dropped it)`,
    );
  }
  return { snapshotIndex: snapshot.index, snapshotTerm: snapshot.term, compactedIndex, lastIndex };
}

/**
 * Format 1 → 2: the hard state, snapshot meta and compacted index move from before the entries to
 * after them (see log-record-codec.ts), each checked under its old key; one synced batch with the
 * new version, so a crash leaves either format whole.
 */
async function moveToCurrentFormat(db: Db, dirPath: string): Promise<void> {
  const moves: [Uint8Array, Uint8Array][] = [
    [V1_KEYS.hardState, KEY_HARD_STATE],
    [V1_KEYS.snapshotMeta, KEY_SNAPSHOT_META],
    [V1_KEYS.compactedIndex, KEY_COMPACTED_INDEX],
  ];
  const batch = db.batch();
  try {
    for (const [fromKey, toKey] of moves) {
      const value = await db.get(fromKey);
      // A missing record stays missing: readPosition() and load() report it under its name.
      if (value === undefined) continue;
      batch.put(
        toKey,
        decodeRecord(dirPath, fromKey, value, (v) => rekeyRecord(v, fromKey, toKey)),
      );
      batch.del(fromKey);
    }
    batch.put(KEY_FORMAT_VERSION, encodeFormatVersion(LOG_STORE_FORMAT_VERSION));
  } catch (error) {
    await batch.close();
    throw error;
  }
  try {
    await batch.write({ sync: true });
  } catch (error) {
    throw new StorageError(
      StorageErrorCode.IoFailed,
      `moving the raft log store in ${dirPath} to format ${LOG_STORE_FORMAT_VERSION} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function isEmpty(db: Db): Promise<boolean> {
  const keys = await db.keys({ limit: 1 }).all();
  return keys.length === 0;
}

function deleteRanges(batch: ReturnType<Db['batch']>, ranges: readonly IndexRange[]): void {
  for (const range of ranges) {
    for (const key of entryKeys(range.from, range.to)) batch.del(key);
  }
}

function decodeRecord<T>(
  dirPath: string,
  key: Uint8Array,
  value: Uint8Array,
  decode: (value: Uint8Array) => T,
): T {
  try {
    return decode(value);
  } catch (error) {
    if (!(error instanceof RecordDecodeError)) throw error;
    throw new StorageCorruptionError(dirPath, describeKey(key), error.message);
  }
}

function openError(dirPath: string, error: unknown): StorageError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.message ?? (error as Error).message;
  const hint =
    cause?.code === 'LEVEL_LOCKED'
      ? ' (its LOCK is held: is another xcron node, or another store in this process, using this raft_dir?)'
      : '';
  return new StorageError(
    StorageErrorCode.OpenFailed,
    `cannot open the raft log store in ${dirPath}: ${detail}${hint}`,
    { cause: error },
  );
}
