import { SeededRandom } from '@xcron/testing';
import { checkOperations, describeFailure } from './check-linearizability';
import { kvModel } from './kv-model';
import type { KvInput, KvOperation, KvOutput, KvState } from './kv-model';
import { UNKNOWN_OUTPUT } from './model';

/**
 * Histories from a real sequential execution: each client issues one request at a time, each
 * request takes effect at an instant inside its [call, return] window, and the store applies them
 * in the order of those instants. Such a history is linearizable by construction, so the checker
 * must accept every one; a single corrupted read should then usually be caught.
 */
interface HistoryShape {
  clients: number;
  keys: number;
  operations: number;
  /** Longest delay from call to effect, and from effect to return. */
  maxLatency: number;
  /** Chance that a request gets no response (it then takes effect or not, at random). */
  lostChance: number;
}

interface PlannedOperation {
  clientId: number;
  input: KvInput;
  callTime: number;
  effectTime: number;
  returnTime: number;
  lost: boolean;
  applied: boolean;
}

function randomInput(random: SeededRandom, keys: number, index: number): KvInput {
  const key = `k${random.nextInt(keys)}`;
  const roll = random.nextFloat();
  // Unique values make each read spell out which writes it saw; '#' never occurs in them.
  if (roll < 0.4) return { op: 'get', key };
  if (roll < 0.55) return { op: 'put', key, value: `p${index};` };
  return { op: 'append', key, value: `a${index};` };
}

function planOperations(random: SeededRandom, shape: HistoryShape): PlannedOperation[] {
  const clientClock = new Array<number>(shape.clients).fill(0);
  const planned: PlannedOperation[] = [];
  for (let index = 0; index < shape.operations; index++) {
    // The client that has been idle longest goes next, so the clients' windows keep overlapping.
    const clientId = clientClock.indexOf(Math.min(...clientClock));
    const callTime = clientClock[clientId] + random.nextIntInRange(1, 4);
    const effectTime = callTime + random.nextInt(shape.maxLatency + 1);
    const returnTime = effectTime + random.nextInt(shape.maxLatency + 1);
    const lost = random.chance(shape.lostChance);
    const applied = !lost || random.chance(0.5);
    const input = randomInput(random, shape.keys, index);
    planned.push({ clientId, input, callTime, effectTime, returnTime, lost, applied });
    clientClock[clientId] = returnTime;
  }
  return planned;
}

interface GeneratedHistory {
  operations: KvOperation[];
  /** Every value each key held during the execution (`undefined`: absent), for corrupting reads. */
  heldValues: Map<string, (string | undefined)[]>;
}

/** Runs the planned operations on a real store in effect order, recording what clients saw. */
function execute(planned: PlannedOperation[]): GeneratedHistory {
  const store = new Map<string, string>();
  const heldValues = new Map<string, (string | undefined)[]>();
  const outputs: KvOutput[] = planned.map(() => ({}));
  const order = planned.map((_, index) => index);
  order.sort((a, b) => planned[a].effectTime - planned[b].effectTime || a - b);
  for (const index of order.filter((i) => planned[i].applied)) {
    const { input } = planned[index];
    if (input.op === 'get') {
      outputs[index] = { value: store.get(input.key) };
      continue;
    }
    const after = input.op === 'put' ? input.value : (store.get(input.key) ?? '') + input.value;
    store.set(input.key, after);
    heldValues.set(input.key, [...(heldValues.get(input.key) ?? [undefined]), after]);
  }
  const operations = planned.map(({ clientId, input, callTime, returnTime, lost }, index) =>
    lost
      ? lostOperation(clientId, input, callTime)
      : { clientId, input, callTime, returnTime, output: outputs[index] },
  );
  return { operations, heldValues };
}

function lostOperation(clientId: number, input: KvInput, callTime: number): KvOperation {
  return { clientId, input, callTime, returnTime: Infinity, outputUnknown: true };
}

function generateHistory(seed: number, shape: HistoryShape): GeneratedHistory {
  return execute(planOperations(new SeededRandom(seed), shape));
}

/** Indexes of the reads whose response came back: the outputs worth corrupting. */
function completedReads(operations: KvOperation[]): number[] {
  return operations.flatMap((operation, index) =>
    operation.input.op === 'get' && !operation.outputUnknown ? [index] : [],
  );
}

/** A copy of the history in which read `index` saw `value` instead. */
function withRead(
  operations: KvOperation[],
  index: number,
  value: string | undefined,
): KvOperation[] {
  const copy = [...operations];
  copy[index] = { ...operations[index], outputUnknown: false, output: { value } };
  return copy;
}

function seenValue(operation: KvOperation): string | undefined {
  return operation.output !== undefined && 'value' in operation.output
    ? operation.output.value
    : undefined;
}

function expectLinearizable(operations: KvOperation[], seed: number): void {
  const result = checkOperations(kvModel, operations);
  if (result.result !== 'ok') {
    throw new Error(`seed ${seed}: ${describeFailure(kvModel, result)}`);
  }
}

const SMALL: HistoryShape = { clients: 4, keys: 3, operations: 60, maxLatency: 8, lostChance: 0 };
const SEEDS = Array.from({ length: 150 }, (_, i) => i + 1);

describe('checkOperations on histories of real executions', () => {
  it('accepts every history generated from a sequential execution', () => {
    for (const seed of SEEDS) {
      expectLinearizable(generateHistory(seed, SMALL).operations, seed);
    }
  });

  it('accepts histories with lost requests, whether they took effect or not', () => {
    for (const seed of SEEDS) {
      const shape = { ...SMALL, lostChance: 0.1 };
      expectLinearizable(generateHistory(seed, shape).operations, seed);
    }
  });

  it('always flags a read of a value no write produced', () => {
    for (const seed of SEEDS) {
      const { operations } = generateHistory(seed, SMALL);
      const random = new SeededRandom(seed * 7919);
      const index = random.pick(completedReads(operations));
      const phantom = `${seenValue(operations[index]) ?? ''}#`;
      expect(checkOperations(kvModel, withRead(operations, index, phantom)).result).toBe('illegal');
    }
  });

  it('flags most reads changed to another value the key really held', () => {
    let detected = 0;
    for (const seed of SEEDS) {
      const { operations, heldValues } = generateHistory(seed, SMALL);
      const random = new SeededRandom(seed * 7919);
      const index = random.pick(completedReads(operations));
      const read = operations[index];
      const others = (heldValues.get(read.input.key) ?? [undefined]).filter(
        (value) => value !== seenValue(read),
      );
      if (others.length === 0) {
        continue; // the key never changed: nothing plausible to swap in
      }
      const result = checkOperations(kvModel, withRead(operations, index, random.pick(others)));
      expect(result.result).not.toBe('unknown');
      detected += result.result === 'illegal' ? 1 : 0;
    }
    // A swapped value can still fit when the read overlapped the write that produced it, or when
    // the key went back to that value later. (These seeds catch 137 of 150; 1,000 seeds, 91%.)
    expect(detected).toBeGreaterThanOrEqual(SEEDS.length * 0.8);
  });
});

/**
 * Linearizability straight from its definition, for tiny histories: try every order that respects
 * real time (an operation that returned before another was called comes first) against the whole
 * store at once, with no partitioning and no memoization. Recursion depth is the history length.
 */
function linearizableByBruteForce(operations: KvOperation[]): boolean {
  const placed = new Array<boolean>(operations.length).fill(false);
  const extend = (store: ReadonlyMap<string, KvState>, count: number): boolean => {
    if (count === operations.length) return true;
    return operations.some((operation, index) => {
      if (placed[index] || !mayGoNext(operations, placed, operation)) return false;
      const stepped = kvModel.step(
        store.get(operation.input.key),
        operation.input,
        operation.outputUnknown ? UNKNOWN_OUTPUT : operation.output,
      );
      if (!stepped.ok) return false;
      placed[index] = true;
      const found = extend(new Map(store).set(operation.input.key, stepped.state), count + 1);
      placed[index] = false;
      return found;
    });
  };
  return extend(new Map(), 0);
}

/** No operation still unplaced returned before `operation` was called. */
function mayGoNext(operations: KvOperation[], placed: boolean[], operation: KvOperation): boolean {
  return operations.every(
    (other, index) => placed[index] || other.returnTime >= operation.callTime,
  );
}

describe('checkOperations against a brute-force checker', () => {
  const TINY: HistoryShape = {
    clients: 3,
    keys: 2,
    operations: 7,
    maxLatency: 6,
    lostChance: 0.15,
  };

  it('agrees on small histories, intact and with one read corrupted', () => {
    const verdicts = { ok: 0, illegal: 0 };
    for (const seed of Array.from({ length: 400 }, (_, i) => i + 1)) {
      const { operations, heldValues } = generateHistory(seed, TINY);
      const random = new SeededRandom(seed * 104_729);
      const reads = completedReads(operations);
      const history =
        reads.length > 0 && random.chance(0.7)
          ? withRead(operations, random.pick(reads), random.pick([...heldValues.values()].flat()))
          : operations;
      const expected = linearizableByBruteForce(history) ? 'ok' : 'illegal';
      const { result } = checkOperations(kvModel, history);
      if (result !== expected) {
        throw new Error(`seed ${seed}: checker says ${result}, brute force ${expected}`);
      }
      verdicts[expected]++;
    }
    // Both verdicts must be well represented for the agreement to mean something.
    expect(verdicts.ok).toBeGreaterThan(100);
    expect(verdicts.illegal).toBeGreaterThan(100);
  });
});

describe('checkOperations performance', () => {
  const LARGE: HistoryShape = {
    clients: 5,
    keys: 10,
    operations: 1_000,
    maxLatency: 10,
    lostChance: 0,
  };

  it('checks 1,000 operations over 10 keys from 5 clients well under a second', () => {
    const { operations } = generateHistory(2024, LARGE);
    const started = performance.now();
    const result = checkOperations(kvModel, operations);
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ result: 'ok', partitionCount: 10 });
    expect(elapsed).toBeLessThan(1_000);
  });

  it('finds a corrupted read among 1,000 operations, with lost requests, as fast', () => {
    const { operations } = generateHistory(2025, { ...LARGE, lostChance: 0.05 });
    const index = completedReads(operations)[200];
    const corrupted = withRead(operations, index, `${seenValue(operations[index]) ?? ''}#`);
    const started = performance.now();
    const result = checkOperations(kvModel, corrupted);
    const elapsed = performance.now() - started;
    expect(result.result).toBe('illegal');
    expect(elapsed).toBeLessThan(1_000);
  });
});
