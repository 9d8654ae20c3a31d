/**
 * What the linearizability checker checks a history against: the sequential specification of the
 * object (a model), and the shape of the operations clients recorded.
 */

/**
 * Stands in for the output of an operation whose response never came (the client timed out). The
 * request may still have taken effect, before or after the timeout, so a model's `step` must
 * accept this output from any state and only apply the input's effect.
 *
 * A symbol rather than `undefined` so that it cannot be confused with an output that legitimately
 * holds `undefined` (say, a read of an absent key).
 */
export const UNKNOWN_OUTPUT: unique symbol = Symbol('linearizability.unknownOutput');
export type UnknownOutput = typeof UNKNOWN_OUTPUT;

/** An operation whose response the client received. */
export interface CompletedOperation<Input, Output> {
  clientId: number;
  input: Input;
  output: Output;
  /** Simulated clock when the client sent the request. */
  callTime: number;
  /** Simulated clock when the client got the response; `>= callTime`. */
  returnTime: number;
  outputUnknown?: false;
}

/**
 * An operation whose response never came. It may or may not have taken effect: the checker lets
 * it linearize anywhere after its call (including "never", which is the same as "last"), and
 * passes {@link UNKNOWN_OUTPUT} to the model as its output.
 */
export interface LostOperation<Input> {
  clientId: number;
  input: Input;
  output?: undefined;
  callTime: number;
  /**
   * `Infinity` for a client timeout: the request may still be applied long after the client gave
   * up. A finite value would claim the operation certainly took effect by then.
   */
  returnTime: number;
  outputUnknown: true;
}

export type Operation<Input, Output> = CompletedOperation<Input, Output> | LostOperation<Input>;

export interface StepResult<State> {
  /** Whether `output` is a possible result of applying `input` to the state. */
  ok: boolean;
  /** The state after the operation (meaningful only when `ok`). */
  state: State;
}

/**
 * The sequential specification of an object. States must be treated as immutable: the checker
 * keeps old states to backtrack to, so `step` returns a new state instead of changing its argument.
 */
export interface Model<State, Input, Output> {
  init(): State;
  step(state: State, input: Input, output: Output | UnknownOutput): StepResult<State>;
  equal(a: State, b: State): boolean;
  /**
   * Key for memoizing visited states. Equal states must hash alike; different states may collide
   * (`equal` settles collisions), but the fewer collisions, the faster the search.
   */
  hash(state: State): string;
  /**
   * Splits a history into independent sub-histories (for a key-value store: one per key), each
   * checked alone. Linearizability is compositional (Herlihy & Wing), so the whole history is
   * linearizable exactly when every part is, and checking parts is exponentially cheaper. Must
   * return the same operation objects it was given. Without it the history is one partition.
   */
  partition?(operations: readonly Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** One-line description of an operation for failure reports; defaults to JSON. */
  describeOperation?(input: Input, output: Output | UnknownOutput): string;
  /** One-line description of a state for failure reports; defaults to JSON. */
  describeState?(state: State): string;
}
