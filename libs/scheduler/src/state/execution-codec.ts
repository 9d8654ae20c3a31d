import type { ExecutionStatus, ExecutionView, SkipReason } from '../task/task.model';
import type { FireRecord } from './scheduler-command';

/**
 * One fire's outcome, binary: in a `record` command (with the task id before it) and as the value
 * of the task's execution ring in the state store. Every fire is encoded twice and decoded once
 * this way (the command, its apply, the stored execution); as JSON that took ~4 µs each and most
 * of the garbage of a record — a few per cent of a leader's CPU at 5,000 callbacks/s.
 *
 * [u8 EXECUTION_FORMAT][u8 flags][u8 status][f64 scheduledAtMs][f64 finishedAtMs][f64 durationMs]
 * [u32 attempts][u8 node length][node, UTF-8], then as the flags say: [u16 httpStatus]
 * [u8 skip reason][f64 skipThroughMs][u16 error length][error, UTF-8].
 *
 * Executions stored before this format are JSON objects: their first byte is `{`.
 */
const EXECUTION_FORMAT = 0x02;
const JSON_OBJECT_START = 0x7b;

const FLAG_HTTP_STATUS = 1;
const FLAG_SKIP_REASON = 2;
const FLAG_SKIP_THROUGH = 4;
const FLAG_ERROR = 8;
const FLAG_MANUAL = 16;

const STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'skipped', 'expired'];
const SKIP_REASONS: readonly SkipReason[] = ['misfire', 'overlap', 'expired', 'ended'];
/** Bytes before the node id. */
const FIXED_BYTES = 1 + 1 + 1 + 8 + 8 + 8 + 4;
const ERROR_BYTES_MAX = 0xffff;
const NODE_BYTES_MAX = 0xff;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The encoded size of `record`'s outcome (its task id not included), and the strings' bytes. */
export interface ExecutionEncoding {
  readonly length: number;
  readonly node: Uint8Array;
  readonly error: Uint8Array | undefined;
}

let lastNode = '';
let lastNodeBytes = new Uint8Array(0);

/** Measures `record` for writeExecution (strings are encoded once, here). */
export function measureExecution(record: FireRecord | ExecutionView): ExecutionEncoding {
  if (record.node !== lastNode) {
    lastNode = record.node;
    lastNodeBytes = encoder.encode(record.node);
    if (lastNodeBytes.length > NODE_BYTES_MAX)
      throw new RangeError(`node id of ${lastNodeBytes.length} bytes does not fit an execution`);
  }
  const node = lastNodeBytes;
  let error: Uint8Array | undefined;
  if (record.error !== undefined) {
    error = encoder.encode(record.error);
    // An error message is a diagnostic: a very long one is cut rather than refused.
    if (error.length > ERROR_BYTES_MAX) error = encoder.encode(truncate(record.error));
  }
  let length = FIXED_BYTES + 1 + node.length;
  if (record.httpStatus !== undefined) length += 2;
  if (record.skipReason !== undefined) length += 1;
  if ('skipThroughMs' in record && record.skipThroughMs !== undefined) length += 8;
  if (error !== undefined) length += 2 + error.length;
  return { length, node, error };
}

/** Writes `record`'s outcome at `offset` of `view`'s buffer; returns the offset after it. */
export function writeExecution(
  record: FireRecord | ExecutionView,
  encoding: ExecutionEncoding,
  bytes: Uint8Array,
  view: DataView,
  offset: number,
): number {
  const skipThroughMs = 'skipThroughMs' in record ? record.skipThroughMs : undefined;
  let flags = 0;
  if (record.httpStatus !== undefined) flags |= FLAG_HTTP_STATUS;
  if (record.skipReason !== undefined) flags |= FLAG_SKIP_REASON;
  if (skipThroughMs !== undefined) flags |= FLAG_SKIP_THROUGH;
  if (encoding.error !== undefined) flags |= FLAG_ERROR;
  if (record.manual === true) flags |= FLAG_MANUAL;
  let at = offset;
  bytes[at++] = EXECUTION_FORMAT;
  bytes[at++] = flags;
  bytes[at++] = codeOf(STATUSES, record.status, 'status');
  view.setFloat64(at, record.scheduledAtMs, true);
  view.setFloat64(at + 8, record.finishedAtMs, true);
  view.setFloat64(at + 16, record.durationMs, true);
  view.setUint32(at + 24, record.attempts, true);
  at += 28;
  bytes[at++] = encoding.node.length;
  bytes.set(encoding.node, at);
  at += encoding.node.length;
  if (record.httpStatus !== undefined) {
    view.setUint16(at, record.httpStatus, true);
    at += 2;
  }
  if (record.skipReason !== undefined)
    bytes[at++] = codeOf(SKIP_REASONS, record.skipReason, 'skip reason');
  if (skipThroughMs !== undefined) {
    view.setFloat64(at, skipThroughMs, true);
    at += 8;
  }
  if (encoding.error !== undefined) {
    view.setUint16(at, encoding.error.length, true);
    bytes.set(encoding.error, at + 2);
    at += 2 + encoding.error.length;
  }
  return at;
}

/**
 * A stored execution's value, in bytes from `allocate` (the state's ByteSlab: an on-heap array
 * handed to LevelDB is first moved off the heap, ~1 µs each, and every fire stores one).
 */
export function encodeExecution(
  execution: ExecutionView,
  allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
): Uint8Array {
  const encoding = measureExecution(execution);
  const bytes = allocate(encoding.length);
  writeExecution(
    execution,
    encoding,
    bytes,
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    0,
  );
  return bytes;
}

/** A stored execution (binary, or JSON as stored before the binary format). */
export function decodeExecution(taskId: string, bytes: Uint8Array): ExecutionView {
  if (bytes.length > 0 && bytes[0] === JSON_OBJECT_START)
    return { taskId, ...(JSON.parse(decoder.decode(bytes)) as Omit<ExecutionView, 'taskId'>) };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { record, end } = readExecution(taskId, bytes, view, 0);
  if (end !== bytes.length)
    throw new Error(`execution of task ${taskId} has ${bytes.length - end} trailing bytes`);
  const { skipThroughMs: _skipThroughMs, ...execution } = record;
  return execution;
}

/** Reads an outcome written by writeExecution at `offset`; `end` is the offset after it. */
export function readExecution(
  taskId: string,
  bytes: Uint8Array,
  view: DataView,
  offset: number,
): { record: FireRecord; end: number } {
  // Every fire's record is read here when it is applied: no message text is built, and no object
  // spread made, unless it is needed (each cost ~1 µs a record).
  need(bytes, offset, 1, taskId);
  if (bytes[offset] !== EXECUTION_FORMAT)
    throw new Error(`${executionOf(taskId)} has an unknown format ${bytes[offset]}`);
  need(bytes, offset, FIXED_BYTES + 1, taskId);
  const flags = bytes[offset + 1];
  const status = valueOf(STATUSES, bytes[offset + 2], taskId);
  let at = offset + 3;
  const scheduledAtMs = view.getFloat64(at, true);
  const finishedAtMs = view.getFloat64(at + 8, true);
  const durationMs = view.getFloat64(at + 16, true);
  const attempts = view.getUint32(at + 24, true);
  at += 28;
  const nodeLength = bytes[at++];
  need(bytes, at, nodeLength, taskId);
  const node = readNode(bytes, at, nodeLength);
  at += nodeLength;
  const record: Mutable<FireRecord> = {
    taskId,
    scheduledAtMs,
    status,
    attempts,
    durationMs,
    node,
    finishedAtMs,
  };
  if ((flags & FLAG_HTTP_STATUS) !== 0) {
    need(bytes, at, 2, taskId);
    record.httpStatus = view.getUint16(at, true);
    at += 2;
  }
  if ((flags & FLAG_SKIP_REASON) !== 0) {
    need(bytes, at, 1, taskId);
    record.skipReason = valueOf(SKIP_REASONS, bytes[at++], taskId);
  }
  if ((flags & FLAG_SKIP_THROUGH) !== 0) {
    need(bytes, at, 8, taskId);
    record.skipThroughMs = view.getFloat64(at, true);
    at += 8;
  }
  if ((flags & FLAG_ERROR) !== 0) {
    need(bytes, at, 2, taskId);
    const length = view.getUint16(at, true);
    need(bytes, at + 2, length, taskId);
    record.error = decoder.decode(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if ((flags & FLAG_MANUAL) !== 0) record.manual = true;
  return { record, end: at };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

let lastReadNode = '';
let lastReadNodeBytes = new Uint8Array(0);

/** The node id at `at`: one node writes every record of a batch, so the last one is kept. */
function readNode(bytes: Uint8Array, at: number, length: number): string {
  const last = lastReadNodeBytes;
  if (last.length === length) {
    let same = true;
    for (let i = 0; i < length; i++)
      if (bytes[at + i] !== last[i]) {
        same = false;
        break;
      }
    if (same) return lastReadNode;
  }
  lastReadNodeBytes = bytes.slice(at, at + length);
  lastReadNode = decoder.decode(lastReadNodeBytes);
  return lastReadNode;
}

function executionOf(taskId: string): string {
  return `execution of task ${taskId}`;
}

function codeOf<T>(values: readonly T[], value: T, what: string): number {
  const code = values.indexOf(value);
  if (code < 0) throw new RangeError(`unknown ${what} ${String(value)}`);
  return code;
}

function valueOf<T>(values: readonly T[], code: number, taskId: string): T {
  if (code >= values.length) throw new Error(`${executionOf(taskId)} has an unknown code ${code}`);
  return values[code];
}

function need(bytes: Uint8Array, at: number, count: number, taskId: string): void {
  if (at + count > bytes.length) throw new Error(`${executionOf(taskId)} is truncated`);
}

/** At most ERROR_BYTES_MAX bytes of UTF-8 (3 bytes per UTF-16 unit at worst). */
function truncate(text: string): string {
  return `${text.slice(0, Math.floor(ERROR_BYTES_MAX / 3) - 1)}…`;
}
