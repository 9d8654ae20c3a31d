import type { CommandResult, FireRecord, SchedulerCommand } from '../state/scheduler-command';

export interface RecordBatcherOptions {
  /** Records per proposal at most. */
  readonly recordsPerProposalMax: number;
  /** Attempts to get one batch committed before giving it up (a new leader then fires again). */
  readonly proposeAttempts: number;
  readonly retryDelayMs: number;
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
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

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
