import type { ExecutionView, TaskSpec } from '../task/task.model';
import { COMMAND_FORMAT, RESULT_FORMAT } from './command-format';
import {
  decodeCreate,
  decodeCreateResult,
  encodeCreate,
  encodeCreateResult,
} from './create-command-codec';
import { decodeRecordCommand, encodeRecordCommand } from './record-command-codec';

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
  | {
      readonly taskId: string;
      readonly spec: TaskSpec;
      /** JSON.stringify(spec.callback.body ?? null), when the proposer has it already. */
      readonly bodyJson?: string;
    }
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

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeCommand(command: SchedulerCommand): Uint8Array {
  if (command.t === 'create') return encodeCreate(command);
  if (command.t === 'record') return encodeRecordCommand(command.atMs, command.records);
  return withFormatByte(JSON.stringify(command));
}

export function decodeCommand(bytes: Uint8Array): SchedulerCommand {
  // A create is binary (create-command-codec.ts): its bodies are encoded once, by the proposer,
  // and go from the entry to the state store without being parsed again.
  const format = bytes.length > 0 ? bytes[0] : 0;
  if (format === COMMAND_FORMAT.createV3 || format === COMMAND_FORMAT.createV2)
    return decodeCreate(bytes);
  if (format === COMMAND_FORMAT.record) return decodeRecordCommand(bytes);
  return JSON.parse(withoutFormatByte(bytes, 'command')) as SchedulerCommand;
}

export function encodeResult(result: CommandResult): Uint8Array {
  return encodeCreateResult(result) ?? withFormatByte(JSON.stringify(result));
}

export function decodeResult(bytes: Uint8Array): CommandResult {
  if (bytes.length > 0 && bytes[0] === RESULT_FORMAT.create) return decodeCreateResult(bytes);
  return JSON.parse(withoutFormatByte(bytes, 'result')) as CommandResult;
}

function withFormatByte(json: string): Uint8Array {
  const body = textEncoder.encode(json);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = COMMAND_FORMAT.json;
  bytes.set(body, 1);
  return bytes;
}

function withoutFormatByte(bytes: Uint8Array, what: string): string {
  if (bytes.length === 0 || bytes[0] !== COMMAND_FORMAT.json)
    throw new Error(`unknown ${what} format ${bytes.length === 0 ? '(empty)' : bytes[0]}`);
  return textDecoder.decode(bytes.subarray(1));
}
