import type { TaskSpec } from '../task/task.model';
import type { CommandResult, CreateTasksCommand } from '../state/scheduler-command';
import { CreateCoalescer } from './create-coalescer';

const spec = { schedule: { kind: 'once', runAtMs: 1 } } as unknown as TaskSpec;
const item = (taskId: string) => ({ taskId, spec });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A write that records its commands and answers each task as created (ids echoed). */
function recordingWrite() {
  const commands: CreateTasksCommand[] = [];
  const write = (command: CreateTasksCommand): Promise<CommandResult> => {
    commands.push(command);
    return Promise.resolve({
      ok: true,
      created: command.tasks.map((task) => ({ taskId: task.taskId, created: true })),
    });
  };
  return { commands, write };
}

describe('CreateCoalescer', () => {
  it('sends the creates of one turn as one command and gives each caller its own results', async () => {
    const { commands, write } = recordingWrite();
    let clock = 100;
    const coalescer = new CreateCoalescer(write, () => clock++);
    const outcomes = await Promise.all([
      coalescer.create([item('1')]),
      coalescer.create([item('2'), item('3')]),
      coalescer.create([item('4')]),
    ]);
    expect(commands).toHaveLength(1);
    expect(commands[0].tasks.map((task) => task.taskId)).toEqual(['1', '2', '3', '4']);
    expect(outcomes.map((o) => o.atMs)).toEqual([100, 100, 100]);
    expect(outcomes.map((o) => ('ok' in o.result ? o.result.created : []))).toEqual([
      [{ taskId: '1', created: true }],
      [
        { taskId: '2', created: true },
        { taskId: '3', created: true },
      ],
      [{ taskId: '4', created: true }],
    ]);
    await coalescer.create([item('5')]);
    expect(commands).toHaveLength(2); // a later turn, a later command
  });

  it('keeps commands within maxTasks and sends a caller with that many alone, at once', async () => {
    const { commands, write } = recordingWrite();
    const coalescer = new CreateCoalescer(write, () => 0, 3);
    const small = [
      coalescer.create([item('1'), item('2')]),
      coalescer.create([item('3'), item('4')]),
    ];
    const big = coalescer.create([item('5'), item('6'), item('7')]);
    expect(commands.map((c) => c.tasks.length)).toEqual([3]); // the big one, before the turn ends
    await turn();
    await Promise.all([...small, big]);
    expect(commands.map((c) => c.tasks.map((t) => t.taskId))).toEqual([
      ['5', '6', '7'],
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('gives every caller of a command its refusal or its error', async () => {
    const refusing = new CreateCoalescer(
      () => Promise.resolve({ error: 'not_found', taskId: 'x' } as CommandResult),
      () => 0,
    );
    const refused = await Promise.all([refusing.create([item('1')]), refusing.create([item('2')])]);
    expect(refused.map((o) => o.result)).toEqual([
      { error: 'not_found', taskId: 'x' },
      { error: 'not_found', taskId: 'x' },
    ]);
    const failing = new CreateCoalescer(
      () => Promise.reject(new Error('no leader')),
      () => 0,
    );
    const results = await Promise.allSettled([
      failing.create([item('1')]),
      failing.create([item('2')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
