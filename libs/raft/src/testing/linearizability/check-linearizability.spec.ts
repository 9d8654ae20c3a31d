import { checkOperations, describeFailure } from './check-linearizability';
import type { CheckResult } from './check-linearizability';
import { kvModel } from './kv-model';
import type { KvInput, KvOperation, KvOutput, KvState } from './kv-model';
import { UNKNOWN_OUTPUT } from './model';
import type { Model, Operation } from './model';

// Histories are written one operation per line: client, operation, [call, return].

function put(clientId: number, key: string, value: string, call: number, ret: number): KvOperation {
  return {
    clientId,
    input: { op: 'put', key, value },
    output: {},
    callTime: call,
    returnTime: ret,
  };
}

function append(
  clientId: number,
  key: string,
  value: string,
  call: number,
  ret: number,
): KvOperation {
  return {
    clientId,
    input: { op: 'append', key, value },
    output: {},
    callTime: call,
    returnTime: ret,
  };
}

function get(
  clientId: number,
  key: string,
  value: string | undefined,
  call: number,
  ret: number,
): KvOperation {
  return {
    clientId,
    input: { op: 'get', key },
    output: { value },
    callTime: call,
    returnTime: ret,
  };
}

/** A request whose response never came: it may take effect any time after its call, or never. */
function lost(clientId: number, input: KvInput, call: number): KvOperation {
  return { clientId, input, callTime: call, returnTime: Infinity, outputUnknown: true };
}

function verdict(operations: KvOperation[]): CheckResult<KvState, KvInput, KvOutput>['result'] {
  return checkOperations(kvModel, operations).result;
}

describe('checkOperations on hand-written key–value histories', () => {
  it('accepts the empty history', () => {
    expect(checkOperations(kvModel, [])).toEqual({ result: 'ok', steps: 0, partitionCount: 0 });
  });

  it('accepts a sequential history and rejects a wrong read in it', () => {
    const history = [put(0, 'x', 'a', 0, 10), get(1, 'x', 'a', 20, 30), put(0, 'x', 'b', 40, 50)];
    expect(verdict(history)).toBe('ok');
    expect(verdict([...history, get(1, 'x', 'a', 60, 70)])).toBe('illegal');
    expect(verdict([get(0, 'x', undefined, 0, 1), get(0, 'x', '', 2, 3)])).toBe('illegal');
  });

  it('lets a read overlapping a write see either the old or the new value', () => {
    expect(verdict([put(0, 'x', 'a', 0, 10), get(1, 'x', 'a', 5, 15)])).toBe('ok');
    expect(verdict([put(0, 'x', 'a', 0, 10), get(1, 'x', undefined, 5, 15)])).toBe('ok');
    expect(verdict([put(0, 'x', 'a', 0, 10), get(1, 'x', 'b', 5, 15)])).toBe('illegal');
  });

  it('rejects a stale read after a completed write', () => {
    const history = [put(0, 'x', 'a', 0, 10), put(0, 'x', 'b', 20, 30), get(1, 'x', 'a', 40, 50)];
    expect(verdict(history)).toBe('illegal');
  });

  it("rejects a read that sees a value before the write's call", () => {
    expect(verdict([get(1, 'x', 'a', 0, 5), put(0, 'x', 'a', 10, 20)])).toBe('illegal');
  });

  it('treats operations that merely touch (return time = call time) as concurrent', () => {
    expect(verdict([put(0, 'x', 'a', 0, 10), get(1, 'x', undefined, 10, 20)])).toBe('ok');
    expect(verdict([put(0, 'x', 'a', 0, 10), get(1, 'x', undefined, 11, 20)])).toBe('illegal');
  });

  it('checks the classic register example: no read may go back once a read saw the write', () => {
    // The write spans both reads; each read alone may fall before or after it.
    const history = [
      put(0, 'x', '100', 0, 100),
      get(1, 'x', '100', 25, 75),
      get(2, 'x', undefined, 30, 60),
    ];
    expect(verdict(history)).toBe('ok');
    // Once a read has returned the new value, the write is in effect for every later read.
    expect(verdict([...history, get(2, 'x', undefined, 80, 90)])).toBe('illegal');
  });

  it('accepts either order of overlapping writes, but not both at once', () => {
    const writes = [put(0, 'x', 'a', 0, 10), put(1, 'x', 'b', 5, 15)];
    expect(verdict([...writes, get(2, 'x', 'a', 20, 30)])).toBe('ok');
    expect(verdict([...writes, get(2, 'x', 'b', 20, 30)])).toBe('ok');
    // Both writes completed: the value can no longer change between two reads.
    expect(verdict([...writes, get(2, 'x', 'b', 20, 30), get(2, 'x', 'a', 40, 50)])).toBe(
      'illegal',
    );
  });

  it('lets an operation without a response take effect later, or never', () => {
    const write = lost(0, { op: 'put', key: 'x', value: 'a' }, 0);
    expect(verdict([write, get(1, 'x', undefined, 100, 110)])).toBe('ok');
    expect(verdict([write, get(1, 'x', 'a', 100, 110)])).toBe('ok');
    expect(verdict([write, get(1, 'x', undefined, 100, 110), get(1, 'x', 'a', 1_000, 1_010)])).toBe(
      'ok',
    );
    // But it happens at most once, at one instant: once seen, it stays seen...
    expect(verdict([write, get(1, 'x', 'a', 100, 110), get(1, 'x', undefined, 120, 130)])).toBe(
      'illegal',
    );
    // ...and never before its call.
    expect(
      verdict([get(1, 'x', 'a', 0, 5), lost(0, { op: 'put', key: 'x', value: 'a' }, 10)]),
    ).toBe('illegal');
  });

  it('accepts a read without a response whatever the state', () => {
    const history = [
      put(0, 'x', 'a', 0, 10),
      lost(1, { op: 'get', key: 'x' }, 5),
      put(0, 'x', 'b', 20, 30),
    ];
    expect(verdict(history)).toBe('ok');
  });

  it('pins down the order of appends from what reads saw', () => {
    const appends = [append(0, 'x', 'a', 0, 10), append(1, 'x', 'b', 5, 15)];
    expect(verdict([...appends, get(2, 'x', 'ab', 20, 30)])).toBe('ok');
    expect(verdict([...appends, get(2, 'x', 'ba', 20, 30)])).toBe('ok');
    expect(verdict([...appends, get(2, 'x', 'a', 20, 30)])).toBe('illegal');
    // A read during the appends saw "b" alone, so "b" went first: "ab" later is impossible.
    const slow = [append(0, 'x', 'a', 0, 20), append(1, 'x', 'b', 5, 25), get(2, 'x', 'b', 12, 14)];
    expect(verdict([...slow, get(2, 'x', 'ab', 30, 40)])).toBe('illegal');
    expect(verdict([...slow, get(2, 'x', 'ba', 30, 40)])).toBe('ok');
  });

  it('catches a duplicated append, which reads of a put-only history could not tell apart', () => {
    const history = [
      append(0, 'x', 'a', 0, 10),
      lost(1, { op: 'append', key: 'x', value: 'b' }, 20),
    ];
    expect(verdict([...history, get(0, 'x', 'ab', 40, 50)])).toBe('ok');
    expect(verdict([...history, get(0, 'x', 'abb', 40, 50)])).toBe('illegal');
  });

  it('checks each key on its own and reports only the keys that fail', () => {
    const result = checkOperations(kvModel, [
      put(0, 'x', 'a', 0, 10),
      put(1, 'y', 'a', 0, 10),
      get(0, 'x', 'a', 20, 30),
      get(1, 'y', 'stale', 20, 30),
    ]);
    expect(result.result).toBe('illegal');
    expect(result.partitionCount).toBe(2);
    if (result.result !== 'illegal') return;
    expect(result.failures.map((failure) => failure.partitionIndex)).toEqual([1]);
  });

  it('rejects impossible times, which are a harness bug rather than a verdict', () => {
    expect(() => verdict([put(0, 'x', 'a', 10, 5)])).toThrow(RangeError);
    expect(() => verdict([put(0, 'x', 'a', Number.NaN, 5)])).toThrow(RangeError);
    expect(() => verdict([put(0, 'x', 'a', Infinity, Infinity)])).toThrow(RangeError);
  });
});

describe('checkOperations on long histories', () => {
  it('linearizes thousands of sequential operations on one key without deep recursion', () => {
    const history: KvOperation[] = [];
    for (let i = 0; i < 3_000; i++) {
      history.push(append(i % 3, 'x', '.', 10 * i, 10 * i + 5));
    }
    history.push(get(0, 'x', '.'.repeat(3_000), 40_000, 40_001));
    expect(verdict(history)).toBe('ok');
  });

  it('reports the longest prefix when only the last read is wrong', () => {
    const history = [
      ...Array.from({ length: 50 }, (_, i) => append(i % 2, 'x', 'a', 10 * i, 10 * i + 15)),
      get(2, 'x', 'a'.repeat(49), 1_000, 1_010),
    ];
    const result = checkOperations(kvModel, history);
    if (result.result !== 'illegal') throw new Error(`expected illegal, got ${result.result}`);
    const [failure] = result.failures;
    expect(failure.longestPrefix).toHaveLength(50);
    expect(failure.stateAfterPrefix).toBe('a'.repeat(50));
    expect(failure.unplaced).toEqual([history[50]]);
    expect(failure.candidates).toEqual([{ operation: history[50], modelAccepts: false }]);
  });
});

describe('the step budget', () => {
  // Concurrent appends are the search's worst case: every order gives a different state, and only
  // the final read tells which one happened, so it explores most of the 7! orders' prefixes.
  const crowded = [
    ...Array.from({ length: 7 }, (_, i) => append(i, 'x', String.fromCharCode(97 + i), 0, 100)),
    get(20, 'x', 'gfedcba', 200, 210),
  ];

  it("answers 'unknown' instead of searching on when the budget runs out", () => {
    const result = checkOperations(kvModel, crowded, { maxSteps: 50 });
    expect(result).toMatchObject({
      result: 'unknown',
      steps: 50,
      maxSteps: 50,
      undecidedPartitions: [0],
    });
    expect(describeFailure(kvModel, result)).toBe(
      'Linearizability unknown: the budget of 50 search steps ran out ' +
        'with partition(s) 0 of 1 undecided.',
    );
  });

  it('refuses a budget that is not a number of steps', () => {
    expect(() => checkOperations(kvModel, crowded, { maxSteps: Number.NaN })).toThrow(RangeError);
    expect(() => checkOperations(kvModel, crowded, { maxSteps: -1 })).toThrow(RangeError);
  });

  it('decides the same history with a larger budget', () => {
    expect(checkOperations(kvModel, crowded).result).toBe('ok');
  });

  it('still reports a partition found illegal when another one ran out of budget', () => {
    const result = checkOperations(kvModel, [get(0, 'y', 'never written', 0, 1), ...crowded], {
      maxSteps: 50,
    });
    expect(result).toMatchObject({ result: 'illegal', undecidedPartitions: [1] });
  });
});

describe('describeFailure', () => {
  it('prints the prefix, the state after it, what could not come next and what was left', () => {
    const result = checkOperations(kvModel, [
      put(0, 'x', 'a', 0, 10),
      put(1, 'x', 'b', 20, 30),
      get(2, 'x', 'b', 25, 40),
      get(0, 'x', 'a', 35, 45),
      lost(1, { op: 'append', key: 'x', value: 'c' }, 50),
    ]);
    expect(describeFailure(kvModel, result)).toBe(
      [
        'Not linearizable: 1 of 1 partition(s) cannot be linearized (10 search steps).',
        '',
        'Partition 0 (5 operations): the longest linearizable prefix has 3:',
        '    1. client 0 [0 → 10] put("x", "a")',
        '    2. client 1 [20 → 30] put("x", "b")',
        '    3. client 2 [25 → 40] get("x") → "b"',
        '  State after that prefix: "b"',
        '  None of the operations that could come next works:',
        '    client 0 [35 → 45] get("x") → "a"    <- impossible in this state',
        '  Operations not linearized (2):',
        '    client 0 [35 → 45] get("x") → "a"',
        '    client 1 [50 → ∞] append("x", "c") (no response)',
      ].join('\n'),
    );
  });

  it('says so when the history is linearizable', () => {
    const result = checkOperations(kvModel, [put(0, 'x', 'a', 0, 10)]);
    expect(describeFailure(kvModel, result)).toBe(
      'Linearizable: 1 partition(s) checked in 1 search steps.',
    );
  });

  it('elides long lists of operations', () => {
    const history = [
      ...Array.from({ length: 30 }, (_, i) => put(0, 'x', String(i), 10 * i, 10 * i + 5)),
      get(1, 'x', 'nothing', 1_000, 1_001),
    ];
    const report = describeFailure(kvModel, checkOperations(kvModel, history), {
      maxListedOperations: 5,
    });
    expect(report).toContain(
      '    … 25 earlier operations\n    26. client 0 [250 → 255] put("x", "25")',
    );
    expect(report).not.toContain('25. client');
  });
});

describe('checkOperations with a model of its own', () => {
  // A counter that knows nothing of partitions or descriptions: the checker's defaults apply.
  type CounterInput = { add: number } | 'read';
  const counter: Model<number, CounterInput, number | null> = {
    init: () => 0,
    step: (state, input, output) =>
      input === 'read'
        ? { ok: output === UNKNOWN_OUTPUT || output === state, state }
        : { ok: true, state: state + input.add },
    equal: (a, b) => a === b,
    hash: (state) => String(state),
  };
  const op = (
    clientId: number,
    input: CounterInput,
    output: number | null,
    callTime: number,
    returnTime: number,
  ): Operation<CounterInput, number | null> => ({ clientId, input, output, callTime, returnTime });

  it('checks the whole history as one partition and describes it in JSON', () => {
    const history = [
      op(0, { add: 2 }, null, 0, 10),
      op(1, { add: 3 }, null, 0, 10),
      op(2, 'read', 4, 5, 20),
    ];
    const result = checkOperations(counter, history);
    expect(result.result).toBe('illegal');
    const report = describeFailure(counter, result);
    expect(report).toContain('client 2 [5 → 20] "read" → 4    <- impossible in this state');
    expect(report).toContain('State after that prefix: ');
    history[2] = op(2, 'read', 5, 5, 20);
    expect(checkOperations(counter, history).result).toBe('ok');
  });
});
