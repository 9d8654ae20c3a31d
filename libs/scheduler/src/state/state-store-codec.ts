import type { RetryPolicy, ScheduleSpec, TaskSpec } from '../task/task.model';

/**
 * How the replicated state lies in the state store. Keys start with one byte naming the family;
 * task ids are 8 bytes big-endian, so a family's keys sort by task id.
 *
 * - `M`              → meta: applied index and the state's clock (JSON)
 * - `R` + id         → the task's row: what scheduling needs (binary, ~21 bytes for a one-shot),
 *                      the only family read at start-up
 * - `S` + id         → the task's delivery: callback URL, body, headers, timeout, retry, name
 * - `H` + id + ring  → its last executions, a ring of EXECUTION_HISTORY_PER_TASK slots
 * - `K` + key (UTF-8)→ an idempotency key: task id, spec digest, when its task ended
 */
export const FAMILY = {
  meta: 0x4d,
  row: 0x52,
  delivery: 0x53,
  history: 0x48,
  key: 0x4b,
  /**
   * The failed executions (dead letters): one empty value per ring slot whose execution failed,
   * keyed like the ring (`H`), so that listing them reads only them and not every execution.
   */
  failed: 0x46,
} as const;

/** Executions kept per task (newest last); older ones are overwritten in the ring. */
export const EXECUTION_HISTORY_PER_TASK = 20;

export const META_KEY = Uint8Array.of(FAMILY.meta);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---- task ids ---------------------------------------------------------------------------------

/** A canonical decimal task id as 8 bytes big-endian (ids are below 2^63). */
export function idBytes(taskId: string): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(taskId));
  return bytes;
}

export function idFromKey(key: Uint8Array, offset = 1): string {
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(offset).toString();
}

export function taskKey(family: number, id: Uint8Array): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = family;
  key.set(id, 1);
  return key;
}

export function historyKey(
  id: Uint8Array,
  ring: number,
  family: number = FAMILY.history,
): Uint8Array {
  const key = new Uint8Array(10);
  key[0] = family;
  key.set(id, 1);
  key[9] = ring;
  return key;
}

/** The dead-letter index entry of a ring slot (see FAMILY.failed). */
export function failedKey(id: Uint8Array, ring: number): Uint8Array {
  return historyKey(id, ring, FAMILY.failed);
}

/**
 * Present once the store's failed-execution index (FAMILY.failed) is complete: stores written
 * before the index existed get it built once, at start-up.
 */
export const FAILED_INDEX_MARKER_KEY = Uint8Array.of(FAMILY.meta, FAMILY.failed);

export function idempotencyKeyKey(key: string): Uint8Array {
  const text = encoder.encode(key);
  const bytes = new Uint8Array(text.length + 1);
  bytes[0] = FAMILY.key;
  bytes.set(text, 1);
  return bytes;
}

export function familyRange(family: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(family), lt: Uint8Array.of(family + 1) };
}

// ---- rows -------------------------------------------------------------------------------------

/** Rare per-task data: a task that has none of it costs no object. */
export interface TaskExtra {
  startAtMs?: number;
  endAtMs?: number;
  expireAtMs?: number;
  jitterMs?: number;
  idempotencyKey?: string;
  /** Fires after the watermark recorded out of order, sorted. */
  recordedAhead?: number[];
  /** Manual fires (run-now, re-runs) not yet recorded, by scheduled time. */
  manualFires?: number[];
}

/** A task's row: everything of it that is kept in memory. Float fields: NaN = none. */
export interface TaskRow {
  status: number;
  policyBits: number;
  /** Undefined for a one-shot. */
  cron: Extract<ScheduleSpec, { kind: 'cron' }> | undefined;
  runAtMs: number;
  nextFireAtMs: number;
  createdAtMs: number;
  updatedAtMs: number;
  endedAtMs: number;
  runCount: number;
  failureCount: number;
  historyCount: number;
  extra: TaskExtra | undefined;
}

const ROW_FORMAT = 1;
const ROW_FLAG = {
  counters: 1,
  updated: 2,
  next: 4,
  noNext: 8,
  ended: 16,
  tail: 32,
  runAt: 64,
} as const;

interface RowTail {
  e?: string;
  z?: string;
  s?: number;
  n?: number;
  x?: number;
  j?: number;
  k?: string;
  a?: number[];
  m?: number[];
}

/** `allocate` gives the row's bytes (a ByteSlab's views, for a batch of rows bound for the store). */
export function encodeRow(
  row: TaskRow,
  allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
): Uint8Array {
  let flags = 0;
  const hasRunAt = !Number.isNaN(row.runAtMs);
  if (hasRunAt) flags |= ROW_FLAG.runAt;
  if (row.updatedAtMs !== row.createdAtMs) flags |= ROW_FLAG.updated;
  if (Number.isNaN(row.nextFireAtMs)) flags |= ROW_FLAG.noNext;
  else if (row.nextFireAtMs !== row.runAtMs) flags |= ROW_FLAG.next;
  if (!Number.isNaN(row.endedAtMs)) flags |= ROW_FLAG.ended;
  if (row.runCount !== 0 || row.failureCount !== 0 || row.historyCount !== 0)
    flags |= ROW_FLAG.counters;
  let tail: Uint8Array | undefined;
  const extra = row.extra;
  if (row.cron !== undefined || extra !== undefined) {
    const t: RowTail = {};
    if (row.cron !== undefined) {
      t.e = row.cron.expression;
      if (row.cron.timezone !== undefined) t.z = row.cron.timezone;
    }
    if (extra !== undefined) {
      if (extra.startAtMs !== undefined) t.s = extra.startAtMs;
      if (extra.endAtMs !== undefined) t.n = extra.endAtMs;
      if (extra.expireAtMs !== undefined) t.x = extra.expireAtMs;
      if (extra.jitterMs !== undefined) t.j = extra.jitterMs;
      if (extra.idempotencyKey !== undefined) t.k = extra.idempotencyKey;
      if (extra.recordedAhead !== undefined && extra.recordedAhead.length > 0)
        t.a = extra.recordedAhead;
      if (extra.manualFires !== undefined && extra.manualFires.length > 0) t.m = extra.manualFires;
    }
    tail = encoder.encode(JSON.stringify(t));
    flags |= ROW_FLAG.tail;
  }
  const size =
    5 +
    8 +
    (hasRunAt ? 8 : 0) +
    (flags & ROW_FLAG.updated ? 8 : 0) +
    (flags & ROW_FLAG.next ? 8 : 0) +
    (flags & ROW_FLAG.ended ? 8 : 0) +
    (flags & ROW_FLAG.counters ? 12 : 0) +
    (tail?.length ?? 0);
  const bytes = allocate(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  bytes[0] = ROW_FORMAT;
  bytes[1] = row.status;
  view.setUint16(2, row.policyBits, true);
  bytes[4] = flags;
  let at = 5;
  const f64 = (value: number): void => {
    view.setFloat64(at, value, true);
    at += 8;
  };
  f64(row.createdAtMs);
  if (hasRunAt) f64(row.runAtMs);
  if (flags & ROW_FLAG.updated) f64(row.updatedAtMs);
  if (flags & ROW_FLAG.next) f64(row.nextFireAtMs);
  if (flags & ROW_FLAG.ended) f64(row.endedAtMs);
  if (flags & ROW_FLAG.counters) {
    view.setUint32(at, row.runCount, true);
    view.setUint32(at + 4, row.failureCount, true);
    view.setUint32(at + 8, row.historyCount, true);
    at += 12;
  }
  if (tail !== undefined) bytes.set(tail, at);
  return bytes;
}

/** Decodes a row; throws an Error saying what is wrong with it. */
export function decodeRow(bytes: Uint8Array): TaskRow {
  return decodeRowAt(
    bytes,
    0,
    bytes.length,
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  );
}

/**
 * decodeRow of bytes[start, end), reading numbers through `view` (over the whole of `bytes`): a
 * checkpoint decodes a million rows out of one buffer without a view or a copy per row.
 */
export function decodeRowAt(
  bytes: Uint8Array,
  start: number,
  end: number,
  view: DataView,
): TaskRow {
  const length = end - start;
  if (length < 13 || bytes[start] !== ROW_FORMAT)
    throw new Error(`task row of ${length} bytes has an unknown format ${bytes[start]}`);
  const flags = bytes[start + 4];
  const fixed =
    13 +
    (flags & ROW_FLAG.runAt ? 8 : 0) +
    (flags & ROW_FLAG.updated ? 8 : 0) +
    (flags & ROW_FLAG.next && !(flags & ROW_FLAG.noNext) ? 8 : 0) +
    (flags & ROW_FLAG.ended ? 8 : 0) +
    (flags & ROW_FLAG.counters ? 12 : 0);
  if (length < fixed)
    throw new Error(`task row of ${length} bytes is cut short (its flags need ${fixed})`);
  let at = start + 5;
  const createdAtMs = view.getFloat64(at, true);
  at += 8;
  let runAtMs = Number.NaN;
  if (flags & ROW_FLAG.runAt) {
    runAtMs = view.getFloat64(at, true);
    at += 8;
  }
  let updatedAtMs = createdAtMs;
  if (flags & ROW_FLAG.updated) {
    updatedAtMs = view.getFloat64(at, true);
    at += 8;
  }
  let nextFireAtMs = runAtMs;
  if (flags & ROW_FLAG.noNext) nextFireAtMs = Number.NaN;
  else if (flags & ROW_FLAG.next) {
    nextFireAtMs = view.getFloat64(at, true);
    at += 8;
  }
  let endedAtMs = Number.NaN;
  if (flags & ROW_FLAG.ended) {
    endedAtMs = view.getFloat64(at, true);
    at += 8;
  }
  let runCount = 0;
  let failureCount = 0;
  let historyCount = 0;
  if (flags & ROW_FLAG.counters) {
    runCount = view.getUint32(at, true);
    failureCount = view.getUint32(at + 4, true);
    historyCount = view.getUint32(at + 8, true);
    at += 12;
  }
  let cron: TaskRow['cron'];
  let extra: TaskExtra | undefined;
  if (flags & ROW_FLAG.tail) {
    const t = JSON.parse(decoder.decode(bytes.subarray(at, end))) as RowTail;
    if (typeof t !== 'object' || t === null || Array.isArray(t))
      throw new Error('task row has a malformed tail');
    if (t.e !== undefined)
      cron =
        t.z !== undefined
          ? { kind: 'cron', expression: t.e, timezone: t.z }
          : { kind: 'cron', expression: t.e };
    const e: TaskExtra = {};
    if (t.s !== undefined) e.startAtMs = t.s;
    if (t.n !== undefined) e.endAtMs = t.n;
    if (t.x !== undefined) e.expireAtMs = t.x;
    if (t.j !== undefined) e.jitterMs = t.j;
    if (t.k !== undefined) e.idempotencyKey = t.k;
    if (t.a !== undefined) e.recordedAhead = t.a;
    if (t.m !== undefined) e.manualFires = t.m;
    if (Object.keys(e).length > 0) extra = e;
  } else if (at !== end) {
    throw new Error(`task row has ${end - at} unexpected trailing bytes`);
  }
  if (cron === undefined && Number.isNaN(runAtMs))
    throw new Error('task row has neither a one-shot time nor a crontab');
  return {
    status: bytes[start + 1],
    policyBits: view.getUint16(start + 2, true),
    cron,
    runAtMs,
    nextFireAtMs,
    createdAtMs,
    updatedAtMs,
    endedAtMs,
    runCount,
    failureCount,
    historyCount,
    extra,
  };
}

// ---- deliveries -------------------------------------------------------------------------------

/** The part of a spec that only dispatch (and reads) need: it stays on disk. */
export interface TaskDelivery {
  readonly name?: string;
  readonly callback: TaskSpec['callback'];
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
}

/**
 * Fields equal to these are left out of a stored delivery. They are the codec's own constants,
 * not the configurable defaults: a stored value never changes meaning.
 */
const DELIVERY_BASELINE = {
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000 },
} as const;
/** A stored delivery's first byte: its format (the JSON of deliveryJson follows). */
export const DELIVERY_FORMAT = 1;

interface DeliveryRest {
  h?: Readonly<Record<string, string>>;
  t?: number;
  r?: [number, number, number];
  n?: string;
}

export function encodeDelivery(spec: TaskDelivery): Uint8Array {
  const text = encoder.encode(deliveryJson(spec));
  const bytes = new Uint8Array(text.length + 1);
  bytes[0] = DELIVERY_FORMAT;
  bytes.set(text, 1);
  return bytes;
}

/**
 * The JSON part of a stored delivery (after its format byte): a create command writes it straight
 * into its own buffer, with no array of its own on the way. `bodyJson`, when given, is
 * JSON.stringify(callback.body ?? null) already made (the size check made it): the result is the
 * same text.
 */
export function deliveryJson(spec: TaskDelivery, bodyJson?: string): string {
  const r = spec.retry;
  const b = DELIVERY_BASELINE.retry;
  const plain =
    spec.callback.headers === undefined &&
    spec.timeoutMs === DELIVERY_BASELINE.timeoutMs &&
    r.maxAttempts === b.maxAttempts &&
    r.initialBackoffMs === b.initialBackoffMs &&
    r.maxBackoffMs === b.maxBackoffMs &&
    spec.name === undefined;
  let rest: DeliveryRest | undefined;
  if (!plain) {
    rest = {};
    if (spec.callback.headers !== undefined) rest.h = spec.callback.headers;
    if (spec.timeoutMs !== DELIVERY_BASELINE.timeoutMs) rest.t = spec.timeoutMs;
    if (
      r.maxAttempts !== b.maxAttempts ||
      r.initialBackoffMs !== b.initialBackoffMs ||
      r.maxBackoffMs !== b.maxBackoffMs
    )
      rest.r = [r.maxAttempts, r.initialBackoffMs, r.maxBackoffMs];
    if (spec.name !== undefined) rest.n = spec.name;
  }
  if (bodyJson === undefined)
    // The common task (defaults only) has no `rest`.
    return JSON.stringify(
      rest === undefined
        ? [spec.callback.url, spec.callback.body ?? null]
        : [spec.callback.url, spec.callback.body ?? null, rest],
    );
  const head = '[' + JSON.stringify(spec.callback.url) + ',' + bodyJson;
  return rest === undefined ? head + ']' : head + ',' + JSON.stringify(rest) + ']';
}

export function decodeDelivery(bytes: Uint8Array): TaskDelivery {
  if (bytes.length < 2 || bytes[0] !== DELIVERY_FORMAT)
    throw new Error(`task delivery of ${bytes.length} bytes has an unknown format ${bytes[0]}`);
  const fields = JSON.parse(decoder.decode(bytes.subarray(1))) as unknown;
  if (!Array.isArray(fields) || typeof fields[0] !== 'string')
    throw new Error('task delivery is malformed: no callback URL');
  const [url, body, rest = {}] = fields as [string, unknown, DeliveryRest?];
  return {
    ...(rest.n !== undefined ? { name: rest.n } : {}),
    callback: { url, body, ...(rest.h !== undefined ? { headers: rest.h } : {}) },
    timeoutMs: rest.t ?? DELIVERY_BASELINE.timeoutMs,
    retry:
      rest.r !== undefined
        ? { maxAttempts: rest.r[0], initialBackoffMs: rest.r[1], maxBackoffMs: rest.r[2] }
        : { ...DELIVERY_BASELINE.retry },
  };
}

/**
 * What a fire needs of a stored delivery, with the body as the JSON text it is stored as: the
 * dispatcher POSTs that text, so a fire neither parses the body nor stringifies it again (for a
 * 64 KiB body that is most of a fire's CPU).
 */
export interface FireDelivery {
  readonly url: string;
  readonly bodyJson: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
}

/** decodeDelivery for a fire: the body's text is cut out of the stored JSON, not parsed. */
export function decodeFireDelivery(bytes: Uint8Array): FireDelivery {
  if (bytes.length < 2 || bytes[0] !== DELIVERY_FORMAT)
    throw new Error(`task delivery of ${bytes.length} bytes has an unknown format ${bytes[0]}`);
  const text = decoder.decode(bytes.subarray(1));
  // `[` url `,` body (`,` rest)? `]`, as deliveryJson wrote it.
  if (text.charCodeAt(0) !== OPEN_BRACKET || text.charCodeAt(1) !== QUOTE)
    throw new Error('task delivery is malformed: no callback URL');
  const urlEnd = jsonValueEnd(text, 1);
  const bodyStart = urlEnd + 1;
  const bodyEnd = text.charCodeAt(urlEnd) === COMMA ? jsonValueEnd(text, bodyStart) : -1;
  if (bodyEnd < 0) throw new Error('task delivery is malformed: no callback body');
  const url = JSON.parse(text.slice(1, urlEnd)) as string;
  const rest: DeliveryRest =
    text.charCodeAt(bodyEnd) === COMMA
      ? (JSON.parse(text.slice(bodyEnd + 1, text.length - 1)) as DeliveryRest)
      : {};
  return {
    url,
    bodyJson: text.slice(bodyStart, bodyEnd),
    ...(rest.h !== undefined ? { headers: rest.h } : {}),
    timeoutMs: rest.t ?? DELIVERY_BASELINE.timeoutMs,
    retry:
      rest.r !== undefined
        ? { maxAttempts: rest.r[0], initialBackoffMs: rest.r[1], maxBackoffMs: rest.r[2] }
        : { ...DELIVERY_BASELINE.retry },
  };
}

/**
 * The index just past the JSON string whose opening quote is at `start`, or -1. Quotes are found
 * with indexOf (native, fast over a long string); one is the end unless an odd number of
 * backslashes precedes it.
 */
function jsonStringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * The index just past the JSON value that starts at `start` of `text` (JSON.stringify's output:
 * no white space), or -1 when the text ends first. Strings are skipped with their escapes, arrays
 * and objects by their depth; what is inside them needs no checking, JSON.stringify made it.
 */
export function jsonValueEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = jsonStringEnd(text, i);
      if (i < 0) return -1;
      if (depth === 0) return i;
      continue;
    }
    if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
    else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      if (depth === 0) return i; // the end of a scalar that closes its container
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === COMMA && depth === 0) return i; // the end of a scalar
    i++;
  }
  return depth === 0 && i > start ? i : -1;
}

// ---- executions, keys, meta -------------------------------------------------------------------

export { decodeExecution, encodeExecution } from './execution-codec';

export interface IdempotencyEntry {
  readonly taskId: string;
  /** A digest of the spec's canonical JSON, to tell a retry from a different request with the same key. */
  readonly specDigest: string;
  endedAtMs?: number;
}

export function encodeIdempotencyEntry(entry: IdempotencyEntry): Uint8Array {
  return encoder.encode(JSON.stringify([entry.taskId, entry.specDigest, entry.endedAtMs ?? null]));
}

export function decodeIdempotencyEntry(bytes: Uint8Array): IdempotencyEntry {
  const [taskId, specDigest, endedAtMs] = JSON.parse(decoder.decode(bytes)) as [
    string,
    string,
    number | null,
  ];
  return { taskId, specDigest, ...(endedAtMs !== null ? { endedAtMs } : {}) };
}

export interface StoreMeta {
  /** Index of the last Raft entry the store holds. */
  readonly appliedIndex: number;
  /** The state's clock (the highest command time applied). */
  readonly latestAtMs: number;
  /** Set while a snapshot from the leader is being written in: the store is incomplete. */
  readonly restoring?: boolean;
}

export function encodeMeta(meta: StoreMeta): Uint8Array {
  return encoder.encode(JSON.stringify(meta));
}

export function decodeMeta(bytes: Uint8Array): StoreMeta {
  const meta = JSON.parse(decoder.decode(bytes)) as StoreMeta;
  if (typeof meta.appliedIndex !== 'number' || typeof meta.latestAtMs !== 'number')
    throw new Error('state store meta record is malformed');
  return meta;
}
