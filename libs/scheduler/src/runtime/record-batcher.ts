import type { CommandResult, FireRecord, SchedulerCommand } from '../state/scheduler-command';

export interface RecordBatcherOptions {
  /** Records per proposal at most. */
  readonly recordsPerProposalMax: number;
  /** Attempts to get one batch committed before giving it up (a new leader then fires again). */
  readonly proposeAttempts: number;
  readonly retryDelayMs: number;
  /**
   * How long the first record of a batch waits for others before the batch is proposed; 0 = until
   * the next turn of the event loop. Each proposal costs a Raft entry, a synced log write, a store
   * write and a journal append whatever its size: fires spread over the milliseconds (1,000 a
   * second, one per turn) cost ~1 ms of CPU each with one proposal per record. Records are not
   * on any caller's path; a longer wait only widens the window in which a failover fires again
   * what was delivered but not yet recorded.
   */
  readonly gatherMs?: number;
}

/**
 * Gathers the outcomes of fires into few proposals: all records that finish in one turn of the
 * event loop become one `record` command (ExecutionRecorded, batched), instead of a Raft entry per
 * fire. A batch that cannot be committed is retried; given up, it is logged and left to the next
 * leader, which fires every due fire without a record (at-least-once).
 */
export class RecordBatcher {
  private pending: FireRecord[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly propose: (command: SchedulerCommand) => Promise<CommandResult>,
    private readonly nowMs: () => number,
    private readonly options: RecordBatcherOptions,
    private readonly onGivenUp: (records: readonly FireRecord[], error: unknown) => void,
  ) {}

  add(record: FireRecord): void {
    this.pending.push(record);
    if (this.pending.length >= this.options.recordsPerProposalMax) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      const gatherMs = this.options.gatherMs ?? 0;
      if (gatherMs > 0) setTimeout(this.flushScheduled, gatherMs);
      else setImmediate(this.flushScheduled);
    }
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Resolves once every record added so far was committed or given up. */
  async idle(): Promise<void> {
    this.flush();
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.inFlight++;
    void this.commit(records).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  private async commit(records: FireRecord[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.options.proposeAttempts; attempt++) {
      try {
        await this.propose({ t: 'record', atMs: this.nowMs(), records });
        return;
      } catch (error) {
        lastError = error;
        if (attempt < this.options.proposeAttempts)
          await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs * attempt));
      }
    }
    this.onGivenUp(records, lastError);
  }
}
