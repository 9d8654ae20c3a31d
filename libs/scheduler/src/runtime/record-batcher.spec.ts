import type { CommandResult, FireRecord, SchedulerCommand } from '../state/scheduler-command';
import { RecordBatcher } from './record-batcher';

function record(taskId: string, scheduledAtMs = 1_000): FireRecord {
  return {
    taskId,
    scheduledAtMs,
    status: 'succeeded',
    attempts: 1,
    durationMs: 1,
    node: 'n1',
    finishedAtMs: scheduledAtMs + 1,
  };
}

describe('RecordBatcher', () => {
  it('proposes every record added in one turn as one command', async () => {
    const proposed: SchedulerCommand[] = [];
    const batcher = new RecordBatcher(
      async (command) => {
        proposed.push(command);
        return { ok: true } as CommandResult;
      },
      () => 42,
      { recordsPerProposalMax: 100, proposeAttempts: 1, retryDelayMs: 0 },
      () => undefined,
    );
    for (let i = 0; i < 5; i++) batcher.add(record(String(i)));
    await batcher.idle();
    expect(proposed).toHaveLength(1);
    expect(proposed[0]).toMatchObject({ t: 'record', atMs: 42 });
    expect(proposed[0].t === 'record' && proposed[0].records.map((r) => r.taskId)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('with gatherMs, proposes the records of that many ms as one command', async () => {
    jest.useFakeTimers();
    try {
      const proposed: string[][] = [];
      const batcher = new RecordBatcher(
        async (command) => {
          if (command.t === 'record') proposed.push(command.records.map((r) => r.taskId));
          return { ok: true } as CommandResult;
        },
        () => 0,
        { recordsPerProposalMax: 100, proposeAttempts: 1, retryDelayMs: 0, gatherMs: 10 },
        () => undefined,
      );
      batcher.add(record('a'));
      jest.advanceTimersByTime(4);
      batcher.add(record('b'));
      jest.advanceTimersByTime(5);
      expect(proposed).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(proposed).toEqual([['a', 'b']]);
      batcher.add(record('c'));
      jest.advanceTimersByTime(10);
      expect(proposed).toEqual([['a', 'b'], ['c']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('splits at recordsPerProposalMax', async () => {
    const sizes: number[] = [];
    const batcher = new RecordBatcher(
      async (command) => {
        if (command.t === 'record') sizes.push(command.records.length);
        return { ok: true } as CommandResult;
      },
      () => 0,
      { recordsPerProposalMax: 3, proposeAttempts: 1, retryDelayMs: 0 },
      () => undefined,
    );
    for (let i = 0; i < 7; i++) batcher.add(record(String(i)));
    await batcher.idle();
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('retries a failed proposal, then gives the batch up and says so', async () => {
    let calls = 0;
    const givenUp: { records: readonly FireRecord[]; error: unknown }[] = [];
    const batcher = new RecordBatcher(
      async () => {
        calls++;
        throw new Error(`no leader (${calls})`);
      },
      () => 0,
      { recordsPerProposalMax: 10, proposeAttempts: 3, retryDelayMs: 1 },
      (records, error) => givenUp.push({ records, error }),
    );
    batcher.add(record('a'));
    await batcher.idle();
    expect(calls).toBe(3);
    expect(givenUp).toHaveLength(1);
    expect(givenUp[0].records.map((r) => r.taskId)).toEqual(['a']);
    expect(String(givenUp[0].error)).toContain('no leader (3)');
  });

  it('commits on a later attempt without giving up', async () => {
    let calls = 0;
    const givenUp: unknown[] = [];
    const batcher = new RecordBatcher(
      async () => {
        if (++calls < 2) throw new Error('timed out');
        return { ok: true } as CommandResult;
      },
      () => 0,
      { recordsPerProposalMax: 10, proposeAttempts: 3, retryDelayMs: 1 },
      (records) => givenUp.push(records),
    );
    batcher.add(record('a'));
    await batcher.idle();
    expect(calls).toBe(2);
    expect(givenUp).toEqual([]);
  });
});
