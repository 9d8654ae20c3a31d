/**
 * The sequential specification of the key–value store the Raft simulation's clients drive.
 *
 * `append` is there because it makes histories far more discriminating than `put` alone: a read of
 * an appended-to key spells out exactly which appends took effect and in what order, so a lost,
 * duplicated or reordered write shows up in the very next read.
 */
import { UNKNOWN_OUTPUT } from './model';
import type { Model, Operation, StepResult, UnknownOutput } from './model';

export type KvInput =
  | { op: 'put'; key: string; value: string }
  | { op: 'get'; key: string }
  | { op: 'append'; key: string; value: string };

/** What a `get` returns: `undefined` when the key was never written. */
export interface KvGetOutput {
  value: string | undefined;
}

/** What a `put` or an `append` returns: nothing. */
export type KvWriteOutput = Record<string, never>;

export type KvOutput = KvGetOutput | KvWriteOutput;

/**
 * The value of one key (`undefined` while absent). One key is enough: the model partitions
 * histories by key, and each partition is checked on its own.
 */
export type KvState = string | undefined;

export type KvOperation = Operation<KvInput, KvOutput>;

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => undefined,
  step: stepKv,
  equal: (a, b) => a === b,
  // The prefix keeps an absent key apart from an empty value.
  hash: (state) => (state === undefined ? '-' : `+${state}`),
  partition: partitionByKey,
  describeOperation: describeKvOperation,
  describeState: (state) => (state === undefined ? 'absent' : JSON.stringify(state)),
};

function stepKv(
  state: KvState,
  input: KvInput,
  output: KvOutput | UnknownOutput,
): StepResult<KvState> {
  switch (input.op) {
    case 'put':
      return { ok: true, state: input.value };
    case 'append':
      return { ok: true, state: (state ?? '') + input.value };
    case 'get':
      return { ok: output === UNKNOWN_OUTPUT || readValue(output) === state, state };
  }
}

function readValue(output: KvOutput): string | undefined {
  if (!('value' in output)) {
    // A harness bug (a get recorded with a write's output), not a linearizability violation.
    throw new TypeError(`a get's output must have a value property, got ${JSON.stringify(output)}`);
  }
  return output.value;
}

function partitionByKey(operations: readonly KvOperation[]): KvOperation[][] {
  const byKey = new Map<string, KvOperation[]>();
  for (const operation of operations) {
    const partition = byKey.get(operation.input.key);
    if (partition === undefined) {
      byKey.set(operation.input.key, [operation]);
    } else {
      partition.push(operation);
    }
  }
  return [...byKey.values()];
}

/** e.g. `put("x", "a")`, `get("x") → absent`, `append("x", "b") (no response)`. */
function describeKvOperation(input: KvInput, output: KvOutput | UnknownOutput): string {
  const key = JSON.stringify(input.key);
  const lost = output === UNKNOWN_OUTPUT;
  if (input.op === 'get') {
    const seen = lost ? '? (no response)' : describeRead(readValue(output));
    return `get(${key}) → ${seen}`;
  }
  return `${input.op}(${key}, ${JSON.stringify(input.value)})${lost ? ' (no response)' : ''}`;
}

function describeRead(value: string | undefined): string {
  return value === undefined ? 'absent' : JSON.stringify(value);
}
