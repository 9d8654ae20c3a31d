import { join } from 'node:path';
import { CorruptionError, DiskQueue, type FileSystem } from '@xcron/queue';
import { EntryType, type Entry, type SnapshotMeta, type StateMachine } from '@xcron/raft';
import type { ExecutionView } from '../task/task.model';
import { ClassicLevelStateStore } from '../store/classic-level-state-store';
import type { StateStore, StoreWrite } from '../store/state-store';
import { decodeCommand, encodeResult, type CommandResult } from './scheduler-command';
import { readSnapshotStream, writeSnapshotStream } from './scheduler-snapshot';
import { SchedulerState } from './scheduler-state';
import { readLatestCheckpoint, removeCheckpoints, writeCheckpoint } from './state-checkpoint';
import {
  EXECUTION_HISTORY_PER_TASK,
  FAMILY,
  META_KEY,
  decodeDelivery,
  decodeFireDelivery,
  decodeExecution,
  decodeIdempotencyEntry,
  decodeMeta,
  FAILED_INDEX_MARKER_KEY,
  decodeRow,
  encodeMeta,
  familyRange,
  historyKey,
  idFromKey,
  taskKey,
  type StoreMeta,
  type FireDelivery,
  type TaskDelivery,
} from './state-store-codec';

export interface StateMachineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SchedulerStateMachineOptions {
  /** Directory of the event journal (segment files). */
  journalDir: string;
  /** Directory of the state store (classic-level); or `store`. */
  stateDir?: string;
  /** A state store to use instead of opening one in `stateDir` (tests). */
  store?: StateStore;
  /**
   * Directory of the state checkpoint (state-checkpoint.ts), written after each persist() so that
   * a restart need not iterate the store's rows. Default: beside the journal, unless `store` is
   * given (then none).
   */
  checkpointDir?: string;
  /** The journal syncs on this interval; the Raft log is the durable copy meanwhile. */
  journalSyncIntervalMs?: number;
  journalSegmentBytes?: number;
  fileSystem?: FileSystem;
  logger: StateMachineLogger;
}

/** The journal consumer whose cursor says how far the durable state store covers the journal. */
const STORE_CURSOR = 'scheduler';
const EMPTY_RESULT = new Uint8Array(0);
const textDecoder = new TextDecoder();

/**
 * The Raft state machine of a node. Applying a committed entry = appending it to the event journal
 * (sequence = Raft index), folding its command into SchedulerState and writing what changed to the
 * state store (classic-level, raft_dir/state) with the applied index, one unsynced batch per apply.
 *
 * The store is the durable state (Raft's DurableState): a snapshot is a sync of the store, after
 * which Raft compacts its log and the journal is trimmed; a follower that fell behind is sent the
 * store itself, streamed from a LevelDB snapshot. Restart = load the rows (what scheduling needs)
 * from the store, replay the journal's records after the store's applied index, and Raft
 * re-applies the rest (entries at or below `appliedIndex` are skipped: each is folded in once).
 */
export class SchedulerStateMachine implements StateMachine {
  readonly state = new SchedulerState();
  /** Index of the last entry folded into `state` (and queued to the store). */
  appliedIndex = 0;
  /** Called after the whole state was replaced (restore, journal replay): re-plan every task. */
  onReset: (() => void) | undefined;
  /** Store writes in order: each apply's batch, persist's sync. */
  private storeWrite: Promise<void> = Promise.resolve();
  /** The last apply's store batch (see apply()). */
  private applyWrite: Promise<void> = Promise.resolve();
  private journalWrite: Promise<unknown> = Promise.resolve();
  private persistedThrough = 0;
  /** Delivery reads asked for in this turn of the event loop (see delivery()). */
  private deliveryReads: {
    /** FAMILY.delivery and the task id's 8 bytes (the id's text is made only for an error). */
    readonly key: Uint8Array;
    /** decodeDelivery (a task view) or decodeFireDelivery (a fire). */
    readonly decode: (bytes: Uint8Array) => TaskDelivery | FireDelivery;
    resolve(delivery: TaskDelivery | FireDelivery): void;
    reject(error: unknown): void;
  }[] = [];
  /** Index of the newest checkpoint written (or loaded); the journal is kept from it on. */
  private checkpointIndex = 0;
  /** Index of the last entry the store holds (its meta record), as found at start-up. */
  private storeAppliedIndex = 0;
  private readonly checkpointDir: string | undefined;
  private closed = false;

  readonly durableState: NonNullable<StateMachine['durableState']> = {
    persistedIndex: () => this.persistedThrough,
    persist: () => this.persist(),
  };

  /** The snapshot is read from a LevelDB snapshot: applies go on while it streams. */
  readonly snapshotIsIsolated = true;

  private constructor(
    private journal: DiskQueue,
    private readonly store: StateStore,
    private readonly options: SchedulerStateMachineOptions,
  ) {
    this.checkpointDir =
      options.checkpointDir ??
      (options.store === undefined ? join(options.journalDir, '..', 'checkpoint') : undefined);
  }

  static async open(options: SchedulerStateMachineOptions): Promise<SchedulerStateMachine> {
    const store =
      options.store ??
      (await ClassicLevelStateStore.open(
        options.stateDir ?? join(options.journalDir, '..', 'state'),
      ));
    const journal = await openJournal(options);
    const machine = new SchedulerStateMachine(journal, store, options);
    try {
      await machine.load();
      await machine.replayJournal();
      await machine.ensureFailedIndex();
    } catch (error) {
      await machine.close().catch(() => undefined);
      throw error;
    }
    return machine;
  }

  /**
   * Resolves once the fold is done, before its store batch is written: a leader's Raft loop waits
   * for the apply before its next log write, and the proposers for their answers, and neither
   * needs the store (the Raft log holds the entries; a restart re-applies what the store lacks).
   * Whatever reads the store waits for the queued batches first (delivery(), executions(),
   * allExecutions(); persist() and snapshot() are ordered after them). At most one batch is in
   * flight when an apply starts — a store slower than the log holds applies back instead of
   * queueing batches — and a failed batch fails the next apply (Raft stops the node), or persist().
   */
  async apply(entries: readonly Entry[]): Promise<Uint8Array[]> {
    await this.applyWrite;
    const results = new Array<Uint8Array>(entries.length);
    const journaled: { seq: number; payload: Uint8Array }[] = [];
    // The batch's place in the store's write order is taken before folding: a read that an
    // observer starts while this fold runs (the fire runtime loading a new task's delivery)
    // waits for this batch (see delivery()).
    const write = this.reserveStoreWrite(false);
    try {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i];
        results[i] = EMPTY_RESULT;
        if (entry.index <= this.appliedIndex) continue;
        this.appliedIndex = entry.index;
        if (entry.type !== EntryType.Normal || entry.data.length === 0) continue;
        results[i] = encodeResult(this.applyCommand(entry.data, entry.index));
        journaled.push({ seq: entry.index, payload: entry.data });
      }
    } finally {
      if (journaled.length > 0) this.appendToJournal(journaled);
      write.provide(this.state.takeWrites());
    }
    this.applyWrite = write.written;
    // Seen by the next apply (or persist, or close): not an unhandled rejection meanwhile.
    write.written.catch(() => undefined);
    return results;
  }

  snapshot(): AsyncIterable<Uint8Array> {
    // The stream shows the state at this call: Raft calls it between two applies and reads the
    // stream while later ones go on. apply() does not wait for its store batch, so the view takes
    // its place in the store's write order — after every batch applied so far, before any later.
    const store = this.store;
    const viewTaken = this.storeWrite.then(() => store.view());
    this.storeWrite = viewTaken.then(() => undefined);
    // A failed write before it is seen by the stream's reader, and by the next apply.
    this.storeWrite.catch(() => undefined);
    return (async function* () {
      const view = await viewTaken;
      try {
        yield* writeSnapshotStream(view);
      } finally {
        await view.close();
      }
    })();
  }

  /**
   * Replaces the whole state by a leader's snapshot: the store is cleared and written anew (marked
   * `restoring` meanwhile, so that a crash half-way leaves a store that start-up knows to be
   * incomplete), synced, then the rows are loaded.
   */
  async restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    await this.storeWrite;
    await this.journalWrite;
    // Checkpoints describe the history this snapshot replaces: none may be loaded after it.
    if (this.checkpointDir !== undefined) await removeCheckpoints(this.checkpointDir);
    this.checkpointIndex = 0;
    const store = this.store;
    await store.clear();
    await store.write(
      [
        {
          type: 'put',
          key: META_KEY,
          value: encodeMeta({ appliedIndex: 0, latestAtMs: 0, restoring: true }),
        },
      ],
      { sync: true },
    );
    let metaValue: Uint8Array | undefined;
    for await (const batch of readSnapshotStream(data)) {
      const writes: StoreWrite[] = [];
      for (const [key, value] of batch) {
        if (key.length === 1 && key[0] === FAMILY.meta) metaValue = value;
        else writes.push({ type: 'put', key, value });
      }
      await store.write(writes, { sync: false });
    }
    if (metaValue === undefined) throw new Error('the snapshot holds no state meta record');
    const snapshotMeta = decodeMeta(metaValue);
    await store.write([{ type: 'put', key: META_KEY, value: metaValue }], { sync: true });
    await this.loadStore();
    await this.ensureFailedIndex();
    if (this.appliedIndex < meta.index)
      throw new Error(
        `the snapshot's state is at index ${snapshotMeta.appliedIndex}, before the snapshot's own index ${meta.index}`,
      );
    const journal = this.journal;
    if (journal.lastSeq < this.appliedIndex || journal.firstSeq > this.appliedIndex + 1) {
      // A snapshot from the leader beyond our journal: the journal starts after it.
      await journal.reset(this.appliedIndex + 1);
    } else {
      await this.replayJournal();
    }
    this.onReset?.();
  }

  /**
   * Makes every entry applied so far durable: one sync write of the store (LevelDB syncs its log,
   * and with it every unsynced batch before). The journal before that index is no longer needed.
   */
  async persist(): Promise<number> {
    const index = this.appliedIndex;
    const meta = encodeMeta({ appliedIndex: index, latestAtMs: this.state.latestAtMs });
    // The checkpoint's copy is taken now, at `index`; it is written after the sync, sliced.
    const frozen = this.checkpointDir !== undefined ? this.state.freeze(index) : undefined;
    await this.writeStore([], true, meta);
    this.persistedThrough = Math.max(this.persistedThrough, index);
    let trimThrough = index;
    if (frozen !== undefined && this.checkpointDir !== undefined) {
      try {
        await writeCheckpoint(this.checkpointDir, frozen);
        this.checkpointIndex = index;
      } catch (error) {
        // Only a shortcut for restarts: the journal stays from the last good checkpoint on.
        this.options.logger.error(
          `state checkpoint at index ${index} could not be written (${String(error)}); a restart will load the rows from the state store`,
        );
        trimThrough = this.checkpointIndex;
      }
    }
    await this.trimJournal(trimThrough);
    return index;
  }

  /** Waits for journal and store writes, syncs and closes both. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.storeWrite;
    await this.journalWrite;
    await this.journal.close();
    await this.store.close();
  }

  get journalLastSeq(): number {
    return this.journal.lastSeq;
  }

  // ---- reads of what lives on disk ---------------------------------------------------------

  /**
   * The task's callback, timeout, retry and name, from the store. Requests made in the same turn
   * of the event loop are read with one getMany: thousands of fires falling due together load
   * their deliveries a few hundred per store call, not one call each.
   */
  delivery(slot: number): Promise<TaskDelivery> {
    return this.readDelivery(slot, decodeDelivery);
  }

  /** delivery() for a fire: the body stays the JSON text it is stored as (FireDelivery). */
  fireDelivery(slot: number): Promise<FireDelivery> {
    return this.readDelivery(slot, decodeFireDelivery);
  }

  private readDelivery<D extends TaskDelivery | FireDelivery>(
    slot: number,
    decode: (bytes: Uint8Array) => D,
  ): Promise<D> {
    const key = new Uint8Array(9);
    key[0] = FAMILY.delivery;
    this.state.table.writeIdBytes(slot, key, 1);
    return new Promise<D>((resolve, reject) => {
      this.deliveryReads.push({
        key,
        decode,
        resolve: resolve as (delivery: TaskDelivery | FireDelivery) => void,
        reject,
      });
      if (this.deliveryReads.length === 1) queueMicrotask(() => void this.readDeliveries());
    });
  }

  private async readDeliveries(): Promise<void> {
    const reads = this.deliveryReads;
    this.deliveryReads = [];
    try {
      // What was applied so far — a fold running when the read was asked for included — is in
      // the store once this resolves.
      await this.storeWrite.catch(() => undefined);
      const values = await this.store.getMany(reads.map((read) => read.key));
      reads.forEach((read, i) => {
        const bytes = values[i];
        if (bytes === undefined) {
          read.reject(
            new Error(
              `task ${idFromKey(read.key)}: its definition is missing from the state store`,
            ),
          );
          return;
        }
        try {
          read.resolve(read.decode(bytes));
        } catch (error) {
          read.reject(error);
        }
      });
    } catch (error) {
      for (const read of reads) read.reject(error);
    }
  }

  /** The task's last executions, newest first (at most EXECUTION_HISTORY_PER_TASK). */
  async executions(slot: number, limit = EXECUTION_HISTORY_PER_TASK): Promise<ExecutionView[]> {
    const table = this.state.table;
    const taskId = table.idOf(slot);
    const count = table.historyCount(slot);
    const kept = Math.min(count, EXECUTION_HISTORY_PER_TASK, limit);
    if (kept === 0) return [];
    await this.storeWrite.catch(() => undefined);
    const id = new Uint8Array(8);
    table.writeIdBytes(slot, id, 0);
    const keys: Uint8Array[] = [];
    for (let n = count - 1; n >= count - kept; n--)
      keys.push(historyKey(id, n % EXECUTION_HISTORY_PER_TASK));
    const values = await this.store.getMany(keys);
    const executions: ExecutionView[] = [];
    for (const value of values)
      if (value !== undefined) executions.push(decodeExecution(taskId, value));
    return executions;
  }

  /**
   * Every failed execution still in its task's ring (the dead letters), from the store's index of
   * them: the cost follows how many failed, not how many executions there are.
   */
  async *failedExecutions(): AsyncGenerator<ExecutionView> {
    await this.storeWrite.catch(() => undefined);
    const view = this.store.view();
    try {
      for await (const batch of view.entries(familyRange(FAMILY.failed))) {
        const ringKeys = batch.map(([key]) => {
          const ringKey = key.slice();
          ringKey[0] = FAMILY.history;
          return ringKey;
        });
        const values = await this.store.getMany(ringKeys);
        for (let i = 0; i < values.length; i++) {
          const value = values[i];
          if (value === undefined) continue;
          // Read after the index: the slot may hold a newer outcome by now.
          const execution = decodeExecution(idFromKey(ringKeys[i]), value);
          if (execution.status === 'failed') yield execution;
        }
      }
    } finally {
      await view.close();
    }
  }

  /** Every stored execution of every task (a listing by a status other than failed scans them). */
  async *allExecutions(): AsyncGenerator<ExecutionView> {
    // What was applied so far is in the store once the queued batches are written.
    await this.storeWrite.catch(() => undefined);
    const view = this.store.view();
    try {
      for await (const batch of view.entries(familyRange(FAMILY.history)))
        for (const [key, value] of batch) yield decodeExecution(idFromKey(key), value);
    } finally {
      await view.close();
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private applyCommand(data: Uint8Array, index: number): CommandResult {
    try {
      return this.state.apply(decodeCommand(data));
    } catch (error) {
      // The same bytes fail the same way on every replica, so the states stay equal; but it is a bug.
      this.options.logger.error(`entry ${index}: cannot apply the command: ${String(error)}`);
      return {
        error: 'state_conflict',
        taskId: '',
        message: `entry ${index} could not be applied`,
      };
    }
  }

  /** Queues a store batch with the meta record of the state as it is now; resolves when written. */
  private writeStore(writes: StoreWrite[], sync: boolean, meta?: Uint8Array): Promise<void> {
    const write = this.reserveStoreWrite(sync);
    write.provide(writes, meta);
    return write.written;
  }

  /**
   * Takes the next place in the store's write order; the batch (and the meta record of the state
   * as it is then) is given later with provide(). A failed write fails the next apply (Raft stops
   * the node) and persist(), and the writes after it do not run.
   */
  private reserveStoreWrite(sync: boolean): {
    provide(writes: StoreWrite[], meta?: Uint8Array): void;
    written: Promise<void>;
  } {
    let provide!: (writes: StoreWrite[]) => void;
    const batch = new Promise<StoreWrite[]>((resolve) => (provide = resolve));
    const written = this.storeWrite
      .then(() => batch)
      .then((writes) => this.store.write(writes, { sync }));
    this.storeWrite = written;
    return {
      provide: (writes, meta) => {
        writes.push({
          type: 'put',
          key: META_KEY,
          value:
            meta ??
            encodeMeta({ appliedIndex: this.appliedIndex, latestAtMs: this.state.latestAtMs }),
        });
        provide(writes);
      },
      written,
    };
  }

  /**
   * Start-up: the state from the newest checkpoint when there is one at or before the store's
   * index (the journal and Raft's log hold every entry after it), else from the store's rows.
   */
  private async load(): Promise<void> {
    const meta = await this.readMeta();
    const dir = this.checkpointDir;
    if (dir !== undefined && meta !== undefined) {
      try {
        const checkpoint = await readLatestCheckpoint(dir);
        if (checkpoint !== undefined && checkpoint.appliedIndex <= meta.appliedIndex) {
          const state = this.state;
          state.clear();
          // Room for the journal replay and the next creates without a growth copy right away.
          state.table.reserve(Math.ceil(checkpoint.rows * 1.1) + 1_024);
          checkpoint.forEach(
            (bytes, offset, row) => state.loadRowWithIdBytes(bytes, offset, row),
            (key, entry) => state.loadKey(key, entry),
          );
          state.finishLoad(checkpoint.latestAtMs);
          this.appliedIndex = checkpoint.appliedIndex;
          this.storeAppliedIndex = meta.appliedIndex;
          this.persistedThrough = checkpoint.appliedIndex;
          this.checkpointIndex = checkpoint.appliedIndex;
          this.options.logger.log(
            `state checkpoint: loaded ${state.size} task(s) at index ${checkpoint.appliedIndex}`,
          );
          return;
        }
      } catch (error) {
        this.options.logger.warn(
          `${String(error instanceof Error ? error.message : error)}; loading the rows from the state store instead`,
        );
      }
    }
    await this.loadStore(meta);
  }

  /**
   * Builds the failed-execution index (FAMILY.failed) of a store written before it existed (or
   * streamed from a leader that had none): one pass over the execution rings, once.
   */
  private async ensureFailedIndex(): Promise<void> {
    if ((await this.store.get(FAILED_INDEX_MARKER_KEY)) !== undefined) return;
    const writes: StoreWrite[] = [];
    const view = this.store.view();
    try {
      for await (const batch of view.entries(familyRange(FAMILY.history)))
        for (const [key, value] of batch)
          if (decodeExecution(idFromKey(key), value).status === 'failed') {
            const indexKey = key.slice();
            indexKey[0] = FAMILY.failed;
            writes.push({ type: 'put', key: indexKey, value: new Uint8Array(0) });
          }
    } finally {
      await view.close();
    }
    const indexed = writes.length;
    writes.push({ type: 'put', key: FAILED_INDEX_MARKER_KEY, value: new Uint8Array(0) });
    await this.writeStore(writes, false);
    if (indexed > 0)
      this.options.logger.log(
        `state store: indexed ${indexed} failed execution(s) (a store from before the dead-letter index)`,
      );
  }

  /** The store's meta record; a store left half-restored is cleared (Raft restores it again). */
  private async readMeta(): Promise<StoreMeta | undefined> {
    const metaBytes = await this.store.get(META_KEY);
    const meta = metaBytes !== undefined ? decodeMeta(metaBytes) : undefined;
    if (!meta?.restoring) return meta;
    this.options.logger.warn(
      'state store: a snapshot from the leader was being written when the node stopped; starting from an empty state (Raft restores the snapshot again)',
    );
    await this.store.clear();
    return undefined;
  }

  /** Loads the rows and keys of the store into the state (start-up, after a restore). */
  private async loadStore(meta?: StoreMeta): Promise<void> {
    const store = this.store;
    const state = this.state;
    state.clear();
    if (meta === undefined) meta = await this.readMeta();
    const view = store.view();
    let rows = 0;
    try {
      for await (const batch of view.entries(familyRange(FAMILY.row)))
        for (const [key, value] of batch) {
          const taskId = idFromKey(key);
          try {
            state.loadRow(taskId, decodeRow(value));
          } catch (error) {
            throw new Error(
              `state store${this.storePath()}: task ${taskId}'s row is corrupt (${String(error)}); the other replicas still hold it — move the store aside to rebuild this node from them`,
              { cause: error },
            );
          }
          rows++;
        }
      for await (const batch of view.entries(familyRange(FAMILY.key)))
        for (const [key, value] of batch)
          state.loadKey(textDecoder.decode(key.subarray(1)), decodeIdempotencyEntry(value));
    } finally {
      await view.close();
    }
    state.finishLoad(meta?.latestAtMs ?? 0);
    this.appliedIndex = meta?.appliedIndex ?? 0;
    this.storeAppliedIndex = this.appliedIndex;
    this.persistedThrough = this.appliedIndex;
    if (rows > 0)
      this.options.logger.log(`state store: loaded ${rows} task(s) at index ${this.appliedIndex}`);
  }

  private storePath(): string {
    const path = (this.store as { path?: string }).path;
    return path !== undefined ? ` in ${path}` : '';
  }

  private appendToJournal(records: { seq: number; payload: Uint8Array }[]): void {
    this.journalWrite = this.journalWrite
      .then(() => this.journal.appendBatch(records))
      .catch((error: unknown) => this.journalFailed(error));
  }

  /** The journal is a redo copy of the Raft log: losing it costs a rebuild, never a task. */
  private async journalFailed(error: unknown): Promise<void> {
    if (this.closed) return;
    this.options.logger.error(
      `event journal write failed (${String(error)}); rebuilding it from index ${this.appliedIndex + 1}: the Raft log and the state store still hold every entry`,
    );
    try {
      await this.rebuildJournal();
    } catch (rebuildError) {
      // Nothing is lost (the Raft log holds it all); restart-time replay just has less to start from.
      this.options.logger.error(`event journal cannot be rebuilt: ${String(rebuildError)}`);
    }
  }

  private async rebuildJournal(): Promise<void> {
    try {
      await this.journal.close().catch(() => undefined);
    } finally {
      this.journal = await openJournal(this.options, { recreate: true });
      await this.journal.reset(this.appliedIndex + 1);
    }
  }

  /**
   * Folds the journal's records after `appliedIndex` into the state and the store (start-up,
   * after a restore): after a power loss the store may have lost its unsynced batches while the
   * journal (synced on its interval) still holds them.
   */
  private async replayJournal(): Promise<void> {
    const journal = this.journal;
    const from = Math.max(this.appliedIndex + 1, journal.firstSeq);
    if (from > journal.lastSeq) {
      if (journal.lastSeq < this.appliedIndex) await journal.reset(this.appliedIndex + 1);
      return;
    }
    if (from > this.appliedIndex + 1) {
      // A gap: records the journal dropped are not in the state. Raft re-applies them; start over after it.
      await journal.reset(this.appliedIndex + 1);
      return;
    }
    let replayed = 0;
    const state = this.state;
    // Records the store already holds (a checkpoint is older than the store) are folded into
    // memory only: their writes are in the store.
    const flush = async (): Promise<void> => {
      if (this.appliedIndex > this.storeAppliedIndex)
        await this.writeStore(state.takeWrites(), false);
      else state.takeWrites();
    };
    try {
      for await (const batch of journal.recordBatches(from)) {
        for (const record of batch) {
          state.storeWrites = record.seq > this.storeAppliedIndex;
          this.applyCommand(record.payload, record.seq);
          this.appliedIndex = record.seq;
          replayed++;
        }
        await flush();
      }
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      this.options.logger.error(
        `event journal is corrupt (${error.message}); rebuilding it from index ${this.appliedIndex + 1} out of the Raft log`,
      );
      await flush();
      await this.rebuildJournal();
    } finally {
      state.storeWrites = true;
    }
    if (replayed > 0) {
      this.options.logger.log(
        `replayed ${replayed} journal records up to index ${this.appliedIndex}`,
      );
      this.onReset?.();
    }
  }

  private async trimJournal(throughIndex: number): Promise<void> {
    if (throughIndex <= 0) return;
    await this.journalWrite;
    const journal = this.journal;
    const cursor = Math.min(throughIndex, journal.lastSeq);
    if (cursor < journal.firstSeq - 1) return;
    await journal.commit(STORE_CURSOR, cursor);
    await journal.truncateBefore(cursor + 1);
  }
}

async function openJournal(
  options: SchedulerStateMachineOptions,
  how: { recreate?: boolean } = {},
): Promise<DiskQueue> {
  const queueOptions = {
    syncMode: 'interval' as const,
    syncIntervalMs: options.journalSyncIntervalMs ?? 200,
    ...(options.journalSegmentBytes !== undefined
      ? { segmentBytes: options.journalSegmentBytes }
      : {}),
    ...(options.fileSystem !== undefined ? { fileSystem: options.fileSystem } : {}),
    logger: {
      info: (message: string) => options.logger.log(`event journal: ${message}`),
      warn: (message: string) => options.logger.warn(`event journal: ${message}`),
      error: (message: string) => options.logger.error(`event journal: ${message}`),
    },
  };
  if (how.recreate) await removeJournal(options);
  try {
    return await DiskQueue.open(options.journalDir, queueOptions);
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    options.logger.error(
      `event journal in ${options.journalDir} is corrupt (${error.message}); moving it aside and rebuilding it from the Raft log`,
    );
    await removeJournal(options);
    return DiskQueue.open(options.journalDir, queueOptions);
  }
}

async function removeJournal(options: SchedulerStateMachineOptions): Promise<void> {
  const { rename, rm } = await import('node:fs/promises');
  const aside = `${options.journalDir}.corrupt-${Date.now()}`;
  await rename(options.journalDir, aside).catch(() =>
    rm(options.journalDir, { recursive: true, force: true }),
  );
}

export { taskKey };
