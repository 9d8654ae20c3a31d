import type { CommandResult, CreateTaskItem, CreateTasksCommand } from '../state/scheduler-command';

/** The result of one caller's tasks, and the command time apply used for them. */
export interface CoalescedCreate {
  readonly result: CommandResult;
  readonly atMs: number;
}

interface PendingCreate {
  readonly tasks: readonly CreateTaskItem[];
  resolve(outcome: CoalescedCreate): void;
  reject(error: unknown): void;
}

/**
 * Creates asked for in the same turn of the event loop go to Raft as one `create` command: with
 * 64 clients creating a task each, one entry, one journal record and one apply instead of 64 —
 * the per-entry costs were most of a createTask's CPU. Each caller gets its own tasks' results
 * (in order) and the command's time, which is what apply made their tasks of. A command holds at
 * most `maxTasks`; a caller with that many or more is sent alone, at once.
 */
export class CreateCoalescer {
  private pending: PendingCreate[] = [];
  private flushScheduled = false;

  constructor(
    private readonly write: (command: CreateTasksCommand) => Promise<CommandResult>,
    private readonly nowMs: () => number,
    private readonly maxTasks = 1_000,
  ) {}

  create(tasks: readonly CreateTaskItem[]): Promise<CoalescedCreate> {
    return new Promise<CoalescedCreate>((resolve, reject) => {
      const request = { tasks, resolve, reject };
      if (tasks.length >= this.maxTasks) {
        this.send([request]);
        return;
      }
      this.pending.push(request);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = [];
    let group: PendingCreate[] = [];
    let count = 0;
    for (const request of pending) {
      if (count + request.tasks.length > this.maxTasks && group.length > 0) {
        this.send(group);
        group = [];
        count = 0;
      }
      group.push(request);
      count += request.tasks.length;
    }
    if (group.length > 0) this.send(group);
  };

  private send(group: readonly PendingCreate[]): void {
    const atMs = this.nowMs();
    const tasks = group.length === 1 ? group[0].tasks : group.flatMap((request) => request.tasks);
    this.write({ t: 'create', atMs, tasks }).then(
      (result) => {
        let offset = 0;
        for (const request of group) {
          const count = request.tasks.length;
          request.resolve({
            result:
              'ok' in result && result.created !== undefined
                ? { ok: true, created: result.created.slice(offset, offset + count) }
                : result,
            atMs,
          });
          offset += count;
        }
      },
      (error: unknown) => {
        for (const request of group) request.reject(error);
      },
    );
  }
}
