import type { ExecutionView, TaskSpec } from '../task/task.model';
import { specDigestOf } from './spec-digest';
import { decodeRecordCommand, encodeRecordCommand, FORMAT_RECORD_V3 } from './record-command-codec';
import { encodeDelivery } from './state-store-codec';

/**
 * The commands of the replicated log: every change of the scheduler's state is one of these, and
 * the state is their fold (SchedulerState.apply). Everything apply needs is inside the command —
 * ids, the proposer's clock reading (`atMs`) — so that apply reads no clock and no randomness and
 * gives the same state on every replica.
 */
export type SchedulerCommand =
  | CreateTasksCommand
  | { readonly t: 'delete'; readonly atMs: number; readonly taskId: string }
  | { readonly t: 'pause'; readonly atMs: number; readonly taskId: string }
  | { readonly t: 'resume'; readonly atMs: number; readonly taskId: string }
  | {
      readonly t: 'update';
      readonly atMs: number;
      readonly taskId: string;
      readonly spec: TaskSpec;
    }
  | {
      readonly t: 'run';
      readonly atMs: number;
      readonly taskId: string;
      /** The manual fire's scheduled time (now for run-now, the original time for a re-run). */
      readonly scheduledAtMs: number;
    }
  | { readonly t: 'record'; readonly atMs: number; readonly records: readonly FireRecord[] };

export interface CreateTasksCommand {
  readonly t: 'create';
  readonly atMs: number;
  readonly tasks: readonly CreateTaskItem[];
}

/**
 * A task to create: as a proposer builds it (its spec), or as decoded from the log, where the
 * delivery (callback URL, body, headers, timeout, retry, name) stays in its stored encoding and
 * the spec's digest (for idempotency keys) was computed by the proposer.
 */
export type CreateTaskItem =
  | { readonly taskId: string; readonly spec: TaskSpec }
  | {
      readonly taskId: string;
      readonly timing: TaskTiming;
      readonly delivery: Uint8Array;
      readonly specDigest?: string;
    };

/** The parts of a task's spec that scheduling needs: kept in memory (the rest is on disk). */
export type TaskTiming = Pick<
  TaskSpec,
  | 'schedule'
  | 'startAtMs'
  | 'endAtMs'
  | 'expireAtMs'
  | 'jitterMs'
  | 'overlap'
  | 'misfire'
  | 'idempotencyKey'
>;

/** What happened to one fire (ExecutionRecorded), or to a run of skipped fires. */
export interface FireRecord extends ExecutionView {
  /** A skip covers every scheduled fire from scheduledAtMs through this time. */
  readonly skipThroughMs?: number;
}

/** Why a write was refused by apply (the same on every replica). */
export type CommandRefusal =
  | { readonly error: 'not_found'; readonly taskId: string }
  | { readonly error: 'state_conflict'; readonly taskId: string; readonly message: string }
  | { readonly error: 'id_taken'; readonly taskId: string }
  | {
      readonly error: 'idempotency_conflict';
      readonly idempotencyKey: string;
      readonly existingTaskId: string;
    };

/** One created (or idempotently found) task. */
export interface CreatedTask {
  readonly taskId: string;
  readonly created: boolean;
}

export type CommandResult =
  | { readonly ok: true; readonly created?: readonly (CreatedTask | CommandRefusal)[] }
  | CommandRefusal;

/** The first byte of an encoded command: its format, so that a later format can be told apart. */
const FORMAT_JSON_V1 = 1;
/**
 * A create, binary: [2][u32 header length][header JSON {atMs, n}], then per task [u8 id length]
 * [id][u32 timing length][timing JSON][u32 delivery length][delivery (state-store-codec)][u8 digest
 * length][digest]. A batch of 1,000 tasks with 200-byte bodies is ~330 KB: its bodies are encoded
 * once, by the proposer, and go from the entry to the state store without being parsed again.
 */
const FORMAT_CREATE_V2 = 2;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeCommand(command: SchedulerCommand): Uint8Array {
  if (command.t === 'create') return encodeCreate(command);
  if (command.t === 'record') return encodeRecordCommand(command.atMs, command.records);
  return withFormatByte(JSON.stringify(command));
}

export function decodeCommand(bytes: Uint8Array): SchedulerCommand {
  if (bytes.length > 0 && bytes[0] === FORMAT_CREATE_V2) return decodeCreate(bytes);
  if (bytes.length > 0 && bytes[0] === FORMAT_RECORD_V3) return decodeRecordCommand(bytes);
  return JSON.parse(withoutFormatByte(bytes, 'command')) as SchedulerCommand;
}

export function encodeResult(result: CommandResult): Uint8Array {
  return withFormatByte(JSON.stringify(result));
}

export function decodeResult(bytes: Uint8Array): CommandResult {
  return JSON.parse(withoutFormatByte(bytes, 'result')) as CommandResult;
}

function encodeCreate(command: CreateTasksCommand): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (part: Uint8Array): void => {
    parts.push(part);
    size += part.length;
  };
  const u32 = (value: number): Uint8Array => {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value);
    return bytes;
  };
  const short = (text: string): void => {
    const bytes = textEncoder.encode(text);
    if (bytes.length > 255) throw new RangeError(`${text.slice(0, 40)}… is over 255 bytes`);
    push(Uint8Array.of(bytes.length));
    push(bytes);
  };
  push(Uint8Array.of(FORMAT_CREATE_V2));
  const header = textEncoder.encode(
    JSON.stringify({ atMs: command.atMs, n: command.tasks.length }),
  );
  push(u32(header.length));
  push(header);
  for (const item of command.tasks) {
    let timing: TaskTiming;
    let delivery: Uint8Array;
    let digest: string | undefined;
    if ('spec' in item) {
      const spec = item.spec;
      timing = {
        schedule: spec.schedule,
        ...(spec.startAtMs !== undefined ? { startAtMs: spec.startAtMs } : {}),
        ...(spec.endAtMs !== undefined ? { endAtMs: spec.endAtMs } : {}),
        ...(spec.expireAtMs !== undefined ? { expireAtMs: spec.expireAtMs } : {}),
        jitterMs: spec.jitterMs,
        overlap: spec.overlap,
        misfire: spec.misfire,
        ...(spec.idempotencyKey !== undefined ? { idempotencyKey: spec.idempotencyKey } : {}),
      };
      delivery = encodeDelivery(spec);
      if (spec.idempotencyKey !== undefined) digest = specDigestOf(spec);
    } else {
      timing = item.timing;
      delivery = item.delivery;
      digest = item.specDigest;
    }
    short(item.taskId);
    const timingBytes = textEncoder.encode(JSON.stringify(timing));
    push(u32(timingBytes.length));
    push(timingBytes);
    push(u32(delivery.length));
    push(delivery);
    short(digest ?? '');
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

function decodeCreate(bytes: Uint8Array): CreateTasksCommand {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 1;
  const need = (count: number): void => {
    if (at + count > bytes.length)
      throw new Error(`create command of ${bytes.length} bytes is cut short at byte ${at}`);
  };
  const u32 = (): number => {
    need(4);
    const value = view.getUint32(at);
    at += 4;
    return value;
  };
  const slice = (length: number): Uint8Array => {
    need(length);
    const part = bytes.subarray(at, at + length);
    at += length;
    return part;
  };
  const short = (): string => {
    need(1);
    const length = bytes[at++];
    return textDecoder.decode(slice(length));
  };
  const header = JSON.parse(textDecoder.decode(slice(u32()))) as { atMs: number; n: number };
  const tasks: CreateTaskItem[] = [];
  for (let n = 0; n < header.n; n++) {
    const taskId = short();
    const timing = JSON.parse(textDecoder.decode(slice(u32()))) as TaskTiming;
    // A view into the entry: it lives until the apply's store batch is written.
    const delivery = slice(u32());
    const digest = short();
    tasks.push({ taskId, timing, delivery, ...(digest !== '' ? { specDigest: digest } : {}) });
  }
  if (at !== bytes.length)
    throw new Error(`create command has ${bytes.length - at} bytes after its last task`);
  return { t: 'create', atMs: header.atMs, tasks };
}

function withFormatByte(json: string): Uint8Array {
  const body = textEncoder.encode(json);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = FORMAT_JSON_V1;
  bytes.set(body, 1);
  return bytes;
}

function withoutFormatByte(bytes: Uint8Array, what: string): string {
  if (bytes.length === 0 || bytes[0] !== FORMAT_JSON_V1)
    throw new Error(`unknown ${what} format ${bytes.length === 0 ? '(empty)' : bytes[0]}`);
  return textDecoder.decode(bytes.subarray(1));
}
