/**
 * Task ids on the wire: decimal strings of an integer below 2^63. A JSON number is accepted where a
 * client sends one (seed bodies) only while it is a safe integer: a larger number has already lost
 * digits in JSON.parse, so it cannot name the task the client meant.
 */
const ID_DIGITS = /^[0-9]{1,19}$/;
const ID_LIMIT = 1n << 63n;

/** The canonical id (no leading zeros), or undefined when `value` cannot be a task id. */
export function parseTaskId(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  }
  if (typeof value !== 'string' || !ID_DIGITS.test(value)) return undefined;
  // Up to 15 digits are below 2^53: the common case skips BigInt.
  if (value.length <= 15) return String(Number(value));
  const id = BigInt(value);
  return id < ID_LIMIT ? id.toString() : undefined;
}

/** Says why a value is not a task id, for the error message. */
export function describeTaskIdProblem(value: unknown): string {
  if (value === undefined) return 'task_id is required';
  if (typeof value === 'number')
    return `task_id ${value} is not a safe integer: send task ids as decimal strings`;
  return `task_id must be a decimal string of an integer below 2^63, got ${JSON.stringify(value)}`;
}
