import { CorruptionError, DiskQueue, type FileSystem } from '@xcron/queue';
import { EntryType, type Entry, type SnapshotMeta, type StateMachine } from '@xcron/raft';
import { decodeCommand, encodeResult, type CommandResult } from './scheduler-command';
import { readSnapshotLines, writeSnapshotLines } from './scheduler-snapshot';
import { SchedulerState } from './scheduler-state';

export interface StateMachineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SchedulerStateMachineOptions {
  /** Directory of the event journal (segment files). */
  journalDir: string;
  /** The journal syncs on this interval; the Raft log is the durable copy meanwhile. */
  journalSyncIntervalMs?: number;
  journalSegmentBytes?: number;
  fileSystem?: FileSystem;
  logger: StateMachineLogger;
}

/** The journal consumer whose cursor says how far a durable snapshot covers the journal. */
const SNAPSHOT_CURSOR = 'scheduler';
const EMPTY_RESULT = new Uint8Array(0);

/**
 * The Raft state machine of a node. Applying a committed entry = appending it to the event journal
 * (sequence = Raft index) and folding its command into SchedulerState. Restart = the Raft node
 * restores the newest snapshot, this replays the journal's records after it, and Raft re-applies
 * whatever the journal had not yet made durable (entries at or below `appliedIndex` are skipped,
 * so each command is folded in exactly once). See docs/ARCHITECTURE.md.
 */
export class SchedulerStateMachine implements StateMachine {
  readonly state = new SchedulerState();
  /** Index of the last entry folded into `state`. */
  appliedIndex = 0;
  /** Called after the whole state was replaced (restore, journal replay): re-plan every task. */
  onReset: (() => void) | undefined;
  private journalReplayed = false;
  private journalWrite: Promise<unknown> = Promise.resolve();
  /** The snapshot before the one being taken: its file is durable once the next one starts. */
  private lastSnapshotIndex = 0;
  private closed = false;

  private constructor(
    private journal: DiskQueue,
    private readonly options: SchedulerStateMachineOptions,
  ) {}

  static async open(options: SchedulerStateMachineOptions): Promise<SchedulerStateMachine> {
    const journal = await openJournal(options);
    return new SchedulerStateMachine(journal, options);
  }

  async apply(entries: readonly Entry[]): Promise<Uint8Array[]> {
    if (!this.journalReplayed) await this.replayJournal();
    const results = new Array<Uint8Array>(entries.length);
    const journaled: { seq: number; payload: Uint8Array }[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      results[i] = EMPTY_RESULT;
      if (entry.index <= this.appliedIndex) continue;
      this.appliedIndex = entry.index;
      if (entry.type !== EntryType.Normal || entry.data.length === 0) continue;
      results[i] = encodeResult(this.applyCommand(entry.data, entry.index));
      journaled.push({ seq: entry.index, payload: entry.data });
    }
    if (journaled.length > 0) this.appendToJournal(journaled);
    return results;
  }

  /** The snapshot is read from a copy-on-write view: applies go on while it is written. */
  readonly snapshotIsIsolated = true;

  snapshot(): AsyncIterable<Uint8Array> {
    const state = this.state;
    const view = state.beginView();
    const header = { appliedIndex: this.appliedIndex, latestAtMs: view.latestAtMs };
    const previous = this.lastSnapshotIndex;
    this.lastSnapshotIndex = this.appliedIndex;
    const lines = writeSnapshotLines(header, view.tasks(), view.keys());
    const trimJournal = (): Promise<void> => this.trimJournal(previous);
    return (async function* () {
      try {
        // The node takes one snapshot at a time, so the previous file is durable: the journal
        // before it can go.
        await trimJournal();
        yield* lines;
      } finally {
        state.endView();
      }
    })();
  }

  async restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    const contents = await readSnapshotLines(data);
    const state = this.state;
    state.tasks.clear();
    state.idempotencyKeys.clear();
    for (const task of contents.tasks) state.tasks.set(task.id, task);
    for (const [key, entry] of contents.keys) state.idempotencyKeys.set(key, entry);
    state.latestAtMs = contents.header.latestAtMs;
    state.rebuildDerived();
    this.appliedIndex = Math.max(meta.index, contents.header.appliedIndex);
    this.lastSnapshotIndex = this.appliedIndex;
    await this.journalWrite;
    const journal = this.journal;
    if (journal.lastSeq < this.appliedIndex || journal.firstSeq > this.appliedIndex + 1) {
      // A snapshot from the leader beyond our journal: the journal starts after it.
      await journal.reset(this.appliedIndex + 1);
      this.journalReplayed = true;
    } else {
      this.journalReplayed = false;
      await this.replayJournal();
    }
    this.onReset?.();
  }

  /** Waits for journal writes, syncs and closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.journalWrite;
    await this.journal.close();
  }

  get journalLastSeq(): number {
    return this.journal.lastSeq;
  }

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

  private appendToJournal(records: { seq: number; payload: Uint8Array }[]): void {
    this.journalWrite = this.journalWrite
      .then(() => this.journal.appendBatch(records))
      .catch((error: unknown) => this.journalFailed(error));
  }

  /** The journal is a redo copy of the Raft log: losing it costs a rebuild, never a task. */
  private async journalFailed(error: unknown): Promise<void> {
    if (this.closed) return;
    this.options.logger.error(
      `event journal write failed (${String(error)}); rebuilding it from index ${this.appliedIndex + 1}: the Raft log and snapshots still hold every entry`,
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

  /** Folds the journal's records after `appliedIndex` into the state (start-up, after a restore). */
  private async replayJournal(): Promise<void> {
    this.journalReplayed = true;
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
    try {
      for await (const batch of journal.recordBatches(from)) {
        for (const record of batch) {
          this.applyCommand(record.payload, record.seq);
          this.appliedIndex = record.seq;
          replayed++;
        }
      }
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      this.options.logger.error(
        `event journal is corrupt (${error.message}); rebuilding it from index ${this.appliedIndex + 1} out of the Raft log`,
      );
      await this.rebuildJournal();
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
    await journal.commit(SNAPSHOT_CURSOR, cursor);
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
