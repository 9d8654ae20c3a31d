/**
 * Linearizability checker for the histories clients record in a simulation, on the algorithm of
 * porcupine (Anish Athalye): Wing & Gong's search with Gavin Lowe's improvements.
 *
 * A history is linearizable when each operation can be given a single instant between its call and
 * its return such that running the operations one at a time, in the order of those instants,
 * against the sequential model yields exactly the outputs the clients saw.
 *
 * The search, for each partition (see `Model.partition`) on its own:
 * - Every operation contributes a call entry and a return entry. All entries are sorted by time
 *   (calls before returns at equal times, so operations that merely touch count as concurrent) and
 *   threaded on a doubly linked list behind a head sentinel.
 * - Walking from the head, each call entry met before the first return entry is an operation that
 *   may be linearized next: no operation still pending had returned before it was called. That
 *   first return entry belongs to the operation that must be linearized by now at the latest.
 * - To try a candidate, step the model. If the model accepts the output, "lift" the operation
 *   (unlink its two entries, O(1)), push it with the state before it, and walk again from the head.
 * - Reaching a return entry means no candidate works from here: pop the last linearized operation,
 *   relink its entries (in reverse order of unlinking, as in dancing links) and try the candidate
 *   after it. An empty list means everything is linearized (ok); an empty stack means the very
 *   first choice already failed everywhere (illegal).
 * - Lowe's memoization: the set of linearized operations together with the model state determines
 *   everything that can follow, so a (set, state) pair met before is never explored again. The set
 *   is a bitset; a pair is looked up by the bitset's bytes plus `Model.hash(state)`, and states
 *   whose hashes collide are told apart by `Model.equal`.
 *
 * The stack is explicit, never recursion, so histories of many thousands of operations cannot
 * overflow the call stack. A step budget (`maxSteps`) turns a search that would take too long into
 * the verdict 'unknown' instead of a hung test; it counts steps rather than milliseconds so that a
 * seeded simulation's verdict replays exactly on any machine.
 */
import { UNKNOWN_OUTPUT } from './model';
import type { Model, Operation, UnknownOutput } from './model';

/**
 * Search steps allowed, across all partitions, when `maxSteps` is not given: a few seconds at most
 * (the search runs at roughly half a million to a million steps a second), and far more than a
 * healthy simulation history needs (a step or two per operation).
 */
export const DEFAULT_MAX_STEPS = 2_000_000;

export interface CheckOptions {
  /** Search steps allowed, all partitions together, before answering 'unknown' (or `Infinity`). */
  maxSteps?: number;
}

/** An operation that could have come right after the longest prefix, yet led nowhere. */
export interface BlockedCandidate<Input, Output> {
  operation: Operation<Input, Output>;
  /**
   * False: the model rejects its output in the state after the prefix. True: it fits there, but
   * no linearization of the remaining operations follows it.
   */
  modelAccepts: boolean;
}

/** Why one partition has no linearization, in terms a reader can follow. */
export interface PartitionFailure<State, Input, Output> {
  /** Position of the partition in what `Model.partition` returned (empty partitions dropped). */
  partitionIndex: number;
  /** Every operation of the partition. */
  operations: Operation<Input, Output>[];
  /** The longest sequence of operations the search managed to linearize, in linearization order. */
  longestPrefix: Operation<Input, Output>[];
  stateAfterPrefix: State;
  /** The operations that could have come next after the prefix (none of them works). */
  candidates: BlockedCandidate<Input, Output>[];
  /** Every operation not in the prefix, by call time. */
  unplaced: Operation<Input, Output>[];
}

interface CheckSummary {
  /** Search steps taken, across all partitions. */
  steps: number;
  partitionCount: number;
}

export interface CheckOk extends CheckSummary {
  result: 'ok';
}

export interface CheckIllegal<State, Input, Output> extends CheckSummary {
  result: 'illegal';
  failures: PartitionFailure<State, Input, Output>[];
  /** Partitions the budget ran out on; an illegal partition settles the verdict regardless. */
  undecidedPartitions: number[];
}

export interface CheckUnknown extends CheckSummary {
  result: 'unknown';
  maxSteps: number;
  undecidedPartitions: number[];
}

export type CheckResult<State, Input, Output> =
  CheckOk | CheckIllegal<State, Input, Output> | CheckUnknown;

/**
 * Checks that `operations` (any order) form a linearizable history of `model`. Throws a
 * RangeError on an operation whose times are impossible (a harness bug, not a verdict).
 */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<State, Input, Output> {
  operations.forEach(validateOperation);
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!(maxSteps >= 0)) {
    throw new RangeError(`maxSteps must be a number >= 0, got ${maxSteps}`);
  }
  const budget = new StepBudget(maxSteps);
  const partitions = (model.partition?.(operations) ?? [operations.slice()]).filter(
    (partition) => partition.length > 0,
  );
  const failures: PartitionFailure<State, Input, Output>[] = [];
  const undecidedPartitions: number[] = [];
  partitions.forEach((partition, index) => {
    const outcome = searchPartition(model, partition, budget);
    if (outcome.kind === 'illegal') {
      failures.push(explainFailure(model, partition, index, outcome.longest));
    } else if (outcome.kind === 'unknown') {
      undecidedPartitions.push(index);
    }
  });
  const summary = { steps: budget.used, partitionCount: partitions.length };
  if (failures.length > 0) {
    return { result: 'illegal', ...summary, failures, undecidedPartitions };
  }
  if (undecidedPartitions.length > 0) {
    return { result: 'unknown', ...summary, maxSteps, undecidedPartitions };
  }
  return { result: 'ok', ...summary };
}

function validateOperation<Input, Output>(operation: Operation<Input, Output>, index: number) {
  const { callTime, returnTime } = operation;
  if (!Number.isFinite(callTime) || Number.isNaN(returnTime) || returnTime < callTime) {
    throw new RangeError(
      `operation ${index} (client ${operation.clientId}) has impossible times: ` +
        `call ${callTime}, return ${returnTime}`,
    );
  }
}

function outputOf<Input, Output>(operation: Operation<Input, Output>): Output | UnknownOutput {
  return operation.outputUnknown ? UNKNOWN_OUTPUT : operation.output;
}

// ---------------------------------------------------------------------------------------------
// The search

class StepBudget {
  used = 0;

  constructor(private readonly max: number) {}

  /** Spends one step; false once the budget is gone. */
  take(): boolean {
    if (this.used >= this.max) {
      return false;
    }
    this.used++;
    return true;
  }
}

/** A call or return entry on the search's list; `id` indexes the partition's operations. */
interface EntryNode {
  id: number;
  /** A call entry's return entry; null on return entries and the head sentinel. */
  match: EntryNode | null;
  prev: EntryNode | null;
  next: EntryNode | null;
}

/** The entries of `operations`, sorted and linked behind a head sentinel, which is returned. */
function linkEntries<Input, Output>(operations: readonly Operation<Input, Output>[]): EntryNode {
  const returns = operations.map((_, id): EntryNode => ({
    id,
    match: null,
    prev: null,
    next: null,
  }));
  const events = operations.flatMap((operation, id) => [
    { id, isReturn: false, time: operation.callTime },
    { id, isReturn: true, time: operation.returnTime },
  ]);
  // Ties: calls first (touching operations overlap), then by id so the search is deterministic.
  events.sort((a, b) => a.time - b.time || Number(a.isReturn) - Number(b.isReturn) || a.id - b.id);
  const head: EntryNode = { id: -1, match: null, prev: null, next: null };
  let last = head;
  for (const event of events) {
    const node: EntryNode = event.isReturn
      ? returns[event.id]
      : { id: event.id, match: returns[event.id], prev: null, next: null };
    node.prev = last;
    last.next = node;
    last = node;
  }
  return head;
}

function unlink(node: EntryNode): void {
  if (node.prev !== null) node.prev.next = node.next;
  if (node.next !== null) node.next.prev = node.prev;
}

/** Undoes `unlink`: the node kept its own pointers, so it can step back in between them. */
function relink(node: EntryNode): void {
  if (node.prev !== null) node.prev.next = node;
  if (node.next !== null) node.next.prev = node;
}

/** Takes a linearized operation's call and return entries off the list. */
function lift(call: EntryNode): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

/** Puts them back in the reverse order of `lift`, the dancing-links rule that restores any list. */
function unlift(call: EntryNode): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

/**
 * The operations linearized so far, as a bitset. Its key (the bitset's bytes as a string)
 * identifies the set exactly, so the memo needs no separate copy of the bits.
 */
class LinearizedSet {
  private readonly words: Uint32Array;
  /** The same memory, seen as bytes: Node turns it into a string natively, in one piece. */
  private readonly bytes: Buffer;

  constructor(size: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
    this.bytes = Buffer.from(this.words.buffer);
  }

  /** Adds or removes operation `id`, whichever it is not. */
  toggle(id: number): void {
    this.words[id >>> 5] ^= 1 << (id & 31);
  }

  /** One character per byte (latin1 maps every byte to its own character), so fixed length. */
  key(): string {
    return this.bytes.toString('latin1');
  }
}

/** The part of a model that tells states apart. */
type StateIdentity<State> = Pick<Model<State, never, never>, 'hash' | 'equal'>;

/** The (linearized set, state) pairs already explored: Lowe's memoization. */
class VisitedPairs<State> {
  private readonly buckets = new Map<string, State[]>();

  constructor(private readonly model: StateIdentity<State>) {}

  /** Records the pair; false when it had been recorded before. */
  add(linearized: LinearizedSet, state: State): boolean {
    // The set's key has a fixed length, so plain concatenation is unambiguous.
    const key = linearized.key() + this.model.hash(state);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.buckets.set(key, [state]);
      return true;
    }
    // Same set, same state hash: only `equal` can tell whether the states differ.
    if (bucket.some((seen) => this.model.equal(seen, state))) {
      return false;
    }
    bucket.push(state);
    return true;
  }
}

type SearchOutcome = { kind: 'ok' } | { kind: 'illegal'; longest: number[] } | { kind: 'unknown' };

interface SearchFrame<State> {
  call: EntryNode;
  stateBefore: State;
}

interface Search<State, Input, Output> {
  model: Model<State, Input, Output>;
  operations: readonly Operation<Input, Output>[];
  linearized: LinearizedSet;
  visited: VisitedPairs<State>;
}

function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  budget: StepBudget,
): SearchOutcome {
  const head = linkEntries(operations);
  const search: Search<State, Input, Output> = {
    model,
    operations,
    linearized: new LinearizedSet(operations.length),
    visited: new VisitedPairs(model),
  };
  const stack: SearchFrame<State>[] = [];
  let longest: number[] = [];
  let state = model.init();
  let entry = head.next;
  while (head.next !== null) {
    if (!budget.take()) {
      return { kind: 'unknown' };
    }
    if (entry === null) {
      throw new Error('linearizability search walked off its entry list (a checker bug)');
    }
    if (entry.match !== null) {
      const next = tryLinearize(search, entry.id, state);
      if (next === undefined) {
        entry = entry.next;
        continue;
      }
      stack.push({ call: entry, stateBefore: state });
      lift(entry);
      state = next.state;
      entry = head.next;
      continue;
    }
    // A return entry: whatever must be linearized by now cannot be, so undo the last choice.
    const frame = stack.at(-1);
    if (frame === undefined) {
      return { kind: 'illegal', longest };
    }
    if (stack.length > longest.length) {
      longest = stack.map(({ call }) => call.id);
    }
    stack.pop();
    search.linearized.toggle(frame.call.id);
    unlift(frame.call);
    state = frame.stateBefore;
    entry = frame.call.next;
  }
  return { kind: 'ok' };
}

/** Steps the model with operation `id`: the new state, unless refused or already explored. */
function tryLinearize<State, Input, Output>(
  search: Search<State, Input, Output>,
  id: number,
  state: State,
): { state: State } | undefined {
  const operation = search.operations[id];
  const stepped = search.model.step(state, operation.input, outputOf(operation));
  if (!stepped.ok) {
    return undefined;
  }
  search.linearized.toggle(id);
  if (search.visited.add(search.linearized, stepped.state)) {
    return stepped;
  }
  search.linearized.toggle(id);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Explaining a failure

function explainFailure<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: Operation<Input, Output>[],
  partitionIndex: number,
  longest: readonly number[],
): PartitionFailure<State, Input, Output> {
  const longestPrefix = longest.map((id) => operations[id]);
  let stateAfterPrefix = model.init();
  for (const operation of longestPrefix) {
    stateAfterPrefix = model.step(stateAfterPrefix, operation.input, outputOf(operation)).state;
  }
  const placed = new Set(longest);
  const unplaced = operations
    .filter((_, id) => !placed.has(id))
    .sort((a, b) => a.callTime - b.callTime || a.returnTime - b.returnTime);
  // What could come next: whatever was called before the earliest pending operation returned.
  const deadline = unplaced.reduce((earliest, op) => Math.min(earliest, op.returnTime), Infinity);
  const candidates = unplaced
    .filter((operation) => operation.callTime <= deadline)
    .map((operation) => ({
      operation,
      modelAccepts: model.step(stateAfterPrefix, operation.input, outputOf(operation)).ok,
    }));
  return { partitionIndex, operations, longestPrefix, stateAfterPrefix, candidates, unplaced };
}

export interface DescribeOptions {
  /**
   * Longest list of operations printed in full (default 20); of a longer prefix only the end is
   * printed, of other lists both ends.
   */
  maxListedOperations?: number;
}

/** A multi-line, human-readable account of a check's verdict (meant for failing test output). */
export function describeFailure<State, Input, Output>(
  model: Model<State, Input, Output>,
  result: CheckResult<State, Input, Output>,
  options: DescribeOptions = {},
): string {
  const limit = options.maxListedOperations ?? 20;
  const { partitionCount, steps } = result;
  switch (result.result) {
    case 'ok':
      return `Linearizable: ${partitionCount} partition(s) checked in ${steps} search steps.`;
    case 'unknown':
      return (
        `Linearizability unknown: the budget of ${result.maxSteps} search steps ran out ` +
        `with partition(s) ${result.undecidedPartitions.join(', ')} of ${partitionCount} undecided.`
      );
    case 'illegal':
      return [
        `Not linearizable: ${result.failures.length} of ${partitionCount} partition(s) ` +
          `cannot be linearized (${steps} search steps).`,
        ...undecidedNote(result.undecidedPartitions),
        ...result.failures.flatMap((failure) => describePartition(model, failure, limit)),
      ].join('\n');
  }
}

function undecidedNote(undecided: readonly number[]): string[] {
  return undecided.length === 0
    ? []
    : [`(The budget ran out on partitions ${undecided.join(', ')}, which are undecided.)`];
}

function describePartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  failure: PartitionFailure<State, Input, Output>,
  limit: number,
): string[] {
  const { longestPrefix, candidates, unplaced } = failure;
  const line = (operation: Operation<Input, Output>) => describeTimedOperation(model, operation);
  const prefixLines = longestPrefix.map((operation, i) => `${i + 1}. ${line(operation)}`);
  return [
    '',
    `Partition ${failure.partitionIndex} (${failure.operations.length} operations): ` +
      `the longest linearizable prefix has ${longestPrefix.length}:`,
    ...indent(elide(prefixLines, limit, 'tail'), 4),
    `  State after that prefix: ${describeState(model, failure.stateAfterPrefix)}`,
    '  None of the operations that could come next works:',
    ...indent(
      elide(
        candidates.map((c) => `${line(c.operation)}    ${verdict(c.modelAccepts)}`),
        limit,
      ),
      4,
    ),
    `  Operations not linearized (${unplaced.length}):`,
    ...indent(elide(unplaced.map(line), limit), 4),
  ];
}

function verdict(modelAccepts: boolean): string {
  return modelAccepts
    ? '<- fits this state, but nothing can follow it'
    : '<- impossible in this state';
}

/** e.g. `client 2 [14 → 19] get("x") → "ab"`; an operation that never returned shows `→ ∞`. */
function describeTimedOperation<State, Input, Output>(
  model: Model<State, Input, Output>,
  operation: Operation<Input, Output>,
): string {
  const returned = Number.isFinite(operation.returnTime) ? String(operation.returnTime) : '∞';
  const what = model.describeOperation
    ? model.describeOperation(operation.input, outputOf(operation))
    : defaultDescribeOperation(operation);
  return `client ${operation.clientId} [${operation.callTime} → ${returned}] ${what}`;
}

function defaultDescribeOperation<Input, Output>(operation: Operation<Input, Output>): string {
  const output = operation.outputUnknown ? '? (no response)' : toJson(operation.output);
  return `${toJson(operation.input)} → ${output}`;
}

function describeState<State>(
  model: Pick<Model<State, never, never>, 'describeState'>,
  state: State,
): string {
  return model.describeState ? model.describeState(state) : toJson(state);
}

function toJson(value: unknown): string {
  // JSON.stringify yields undefined (despite its type) for undefined, functions and symbols.
  return JSON.stringify(value) ?? String(value);
}

/** Keeps at most `limit` lines: the last ones ('tail') or both ends ('middle'). */
function elide(lines: string[], limit: number, keep: 'tail' | 'middle' = 'middle'): string[] {
  if (lines.length <= limit) {
    return lines;
  }
  const hidden = lines.length - limit;
  if (keep === 'tail') {
    return [`… ${hidden} earlier operations`, ...lines.slice(hidden)];
  }
  const head = Math.ceil(limit / 2);
  return [...lines.slice(0, head), `… ${hidden} more`, ...lines.slice(head + hidden)];
}

function indent(lines: string[], spaces: number): string[] {
  const pad = ' '.repeat(spaces);
  return lines.map((text) => pad + text);
}
