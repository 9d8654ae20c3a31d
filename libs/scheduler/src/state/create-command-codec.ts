import type { MisfirePolicy, OverlapPolicy, ScheduleSpec } from '../task/task.model';
import { ByteWriter } from './byte-writer';
import type {
  CommandResult,
  CreateTaskItem,
  CreateTasksCommand,
  CreatedTask,
  TaskTiming,
} from './scheduler-command';
import { specDigestOf } from './spec-digest';
import { DELIVERY_FORMAT, deliveryJson } from './state-store-codec';
import { COMMAND_FORMAT, RESULT_FORMAT } from './command-format';

/**
 * The binary encodings of a `create` command (the other commands are JSON). A batch of 1,000
 * tasks is one Raft entry that every replica decodes: the formats keep each task's bodies in the
 * state store's encoding, written to the store as they are, never parsed on apply.
 *
 * v2 (still decoded: logs and journals written before v3): [2][u32 header length][header JSON
 * {atMs, n}], then per task [u8 id length][id][u32 timing length][timing JSON][u32 delivery
 * length][delivery][u8 digest length][digest].
 *
 * v3: [3][f64 atMs][u32 n], then per task [u8 id length][id (ASCII digits)][u8 flags][u8 policy
 * bits], the schedule — a one-shot's f64 time, or a crontab's [u16 length][expression] and, with
 * TIMING_FLAG.timezone, [u8 length][zone] — then the f64 start/end/expire times, the u32 jitter
 * and the [u16 length][idempotency key][u8 length][digest] its flags name, then [u32 delivery
 * length][delivery]. The timing is a few bytes instead of ~110 of JSON, and the command is written
 * into one buffer: no JSON and no small arrays per task on either side.
 */

const TIMING_FLAG = {
  cron: 1,
  timezone: 2,
  startAt: 4,
  endAt: 8,
  expireAt: 16,
  jitter: 32,
  idempotencyKey: 64,
} as const;

const OVERLAPS: readonly OverlapPolicy[] = ['allow', 'skip', 'buffer_one'];
const MISFIRES: readonly MisfirePolicy[] = ['fire_once', 'fire_all', 'skip'];

const textDecoder = new TextDecoder();
/** Reused by every encode (encoding is synchronous): it grows to the largest command once. */
const writer = new ByteWriter();

export function encodeCreate(command: CreateTasksCommand): Uint8Array {
  const w = writer;
  w.length = 0;
  w.u8(COMMAND_FORMAT.createV3);
  w.f64(command.atMs);
  w.u32(command.tasks.length);
  for (const item of command.tasks) {
    const fromSpec = 'spec' in item;
    const timing: TaskTiming = fromSpec ? item.spec : item.timing;
    shortAscii(w, item.taskId);
    const schedule = timing.schedule;
    let flags = 0;
    if (schedule.kind === 'cron') {
      flags |= TIMING_FLAG.cron;
      if (schedule.timezone !== undefined) flags |= TIMING_FLAG.timezone;
    }
    if (timing.startAtMs !== undefined) flags |= TIMING_FLAG.startAt;
    if (timing.endAtMs !== undefined) flags |= TIMING_FLAG.endAt;
    if (timing.expireAtMs !== undefined) flags |= TIMING_FLAG.expireAt;
    if (timing.jitterMs !== 0) flags |= TIMING_FLAG.jitter;
    if (timing.idempotencyKey !== undefined) flags |= TIMING_FLAG.idempotencyKey;
    const overlap = OVERLAPS.indexOf(timing.overlap);
    const misfire = MISFIRES.indexOf(timing.misfire);
    if (overlap < 0 || misfire < 0)
      throw new RangeError(`task ${item.taskId}: unknown overlap or misfire policy`);
    w.u8(flags);
    w.u8(overlap | (misfire << 2));
    if (schedule.kind === 'cron') {
      sized(w, schedule.expression, 2, 0xffff);
      if (schedule.timezone !== undefined) sized(w, schedule.timezone, 1, 0xff);
    } else w.f64(schedule.runAtMs);
    if (timing.startAtMs !== undefined) w.f64(timing.startAtMs);
    if (timing.endAtMs !== undefined) w.f64(timing.endAtMs);
    if (timing.expireAtMs !== undefined) w.f64(timing.expireAtMs);
    if (timing.jitterMs !== 0) w.u32(timing.jitterMs);
    if (timing.idempotencyKey !== undefined) {
      sized(w, timing.idempotencyKey, 2, 0xffff);
      const digest = fromSpec ? specDigestOf(item.spec) : (item.specDigest ?? '');
      sized(w, digest, 1, 0xff);
    }
    if (fromSpec) {
      const lengthAt = w.length;
      w.u32(0);
      w.u8(DELIVERY_FORMAT);
      const written = w.utf8(deliveryJson(item.spec, item.bodyJson));
      w.patchU32(lengthAt, written + 1);
    } else {
      w.u32(item.delivery.length);
      w.bytes(item.delivery);
    }
  }
  return w.take();
}

export function decodeCreate(bytes: Uint8Array): CreateTasksCommand {
  return bytes[0] === COMMAND_FORMAT.createV3 ? decodeCreateV3(bytes) : decodeCreateV2(bytes);
}

/**
 * The result of a create whose every task was created or found by its idempotency key (the
 * common case; a refusal among them is sent as JSON): [2][u32 n], then per task [u8 1 = created,
 * 0 = found][u8 id length][id]. JSON was ~40 bytes and two objects' parse a task.
 */

/** The binary form of `result`, or undefined when it is not a create's plain success. */
export function encodeCreateResult(result: CommandResult): Uint8Array | undefined {
  if (!('ok' in result) || result.created === undefined) return undefined;
  const created = result.created;
  const w = writer;
  w.length = 0;
  w.u8(RESULT_FORMAT.create);
  w.u32(created.length);
  for (const item of created) {
    if ('error' in item) return undefined;
    w.u8(item.created ? 1 : 0);
    shortAscii(w, item.taskId);
  }
  return w.take();
}

export function decodeCreateResult(bytes: Uint8Array): CommandResult {
  const r = new Reader(bytes, 'create result');
  const count = r.u32();
  const created = new Array<CreatedTask>(count);
  for (let n = 0; n < count; n++) {
    const wasCreated = r.u8() === 1;
    created[n] = { taskId: r.string(r.u8(), 'latin1'), created: wasCreated };
  }
  r.end();
  return { ok: true, created };
}

/** Reads a create command's bytes in order, saying where it ends too soon. */
class Reader {
  private readonly view: DataView;
  private readonly text: Buffer;
  at = 1;

  constructor(
    readonly bytes: Uint8Array,
    private readonly what = 'create command',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(count: number): void {
    if (this.at + count > this.bytes.length)
      throw new Error(`${this.what} of ${this.bytes.length} bytes is cut short at byte ${this.at}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.at++];
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.at);
    this.at += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at);
    this.at += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at);
    this.at += 8;
    return value;
  }

  /** A view into the command: it lives as long as the entry does. */
  slice(length: number): Uint8Array {
    this.need(length);
    const part = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + this.at, length);
    this.at += length;
    return part;
  }

  string(length: number, encoding: 'utf8' | 'latin1'): string {
    this.need(length);
    const text = this.text.toString(encoding, this.at, this.at + length);
    this.at += length;
    return text;
  }

  end(): void {
    if (this.at !== this.bytes.length)
      throw new Error(`${this.what} has ${this.bytes.length - this.at} bytes after its last task`);
  }
}

function decodeCreateV3(bytes: Uint8Array): CreateTasksCommand {
  const r = new Reader(bytes);
  const atMs = r.f64();
  const count = r.u32();
  const tasks: CreateTaskItem[] = [];
  for (let n = 0; n < count; n++) {
    const taskId = r.string(r.u8(), 'latin1');
    const flags = r.u8();
    const policyBits = r.u8();
    const overlap = OVERLAPS[policyBits & 3];
    const misfire = MISFIRES[(policyBits >> 2) & 3];
    if (overlap === undefined || misfire === undefined)
      throw new Error(`create command: task ${taskId} has unknown policy bits ${policyBits}`);
    let schedule: ScheduleSpec;
    if (flags & TIMING_FLAG.cron) {
      const expression = r.string(r.u16(), 'utf8');
      schedule =
        flags & TIMING_FLAG.timezone
          ? { kind: 'cron', expression, timezone: r.string(r.u8(), 'utf8') }
          : { kind: 'cron', expression };
    } else schedule = { kind: 'once', runAtMs: r.f64() };
    let timing: TaskTiming;
    let specDigest: string | undefined;
    if ((flags & ~(TIMING_FLAG.cron | TIMING_FLAG.timezone)) === 0) {
      // The common task: no optional field, one object of one shape.
      timing = { schedule, jitterMs: 0, overlap, misfire };
    } else {
      const startAtMs = flags & TIMING_FLAG.startAt ? r.f64() : undefined;
      const endAtMs = flags & TIMING_FLAG.endAt ? r.f64() : undefined;
      const expireAtMs = flags & TIMING_FLAG.expireAt ? r.f64() : undefined;
      const jitterMs = flags & TIMING_FLAG.jitter ? r.u32() : 0;
      let idempotencyKey: string | undefined;
      if (flags & TIMING_FLAG.idempotencyKey) {
        idempotencyKey = r.string(r.u16(), 'utf8');
        specDigest = r.string(r.u8(), 'latin1');
      }
      timing = {
        schedule,
        ...(startAtMs !== undefined ? { startAtMs } : {}),
        ...(endAtMs !== undefined ? { endAtMs } : {}),
        ...(expireAtMs !== undefined ? { expireAtMs } : {}),
        jitterMs,
        overlap,
        misfire,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      };
    }
    const delivery = r.slice(r.u32());
    tasks.push(
      specDigest !== undefined && specDigest !== ''
        ? { taskId, timing, delivery, specDigest }
        : { taskId, timing, delivery },
    );
  }
  r.end();
  return { t: 'create', atMs, tasks };
}

function decodeCreateV2(bytes: Uint8Array): CreateTasksCommand {
  const r = new Reader(bytes);
  const short = (): string => r.string(r.u8(), 'utf8');
  const header = JSON.parse(textDecoder.decode(r.slice(r.u32()))) as { atMs: number; n: number };
  const tasks: CreateTaskItem[] = [];
  for (let n = 0; n < header.n; n++) {
    const taskId = short();
    const timing = JSON.parse(textDecoder.decode(r.slice(r.u32()))) as TaskTiming;
    const delivery = r.slice(r.u32());
    const digest = short();
    tasks.push({ taskId, timing, delivery, ...(digest !== '' ? { specDigest: digest } : {}) });
  }
  r.end();
  return { t: 'create', atMs: header.atMs, tasks };
}

/** A task id: ASCII digits behind a one-byte length. */
function shortAscii(w: ByteWriter, text: string): void {
  if (text.length > 255) throw new RangeError(`${text.slice(0, 40)}… is over 255 bytes`);
  w.u8(text.length);
  if (!w.ascii(text)) throw new RangeError(`task id ${text} is not ASCII`);
}

/** UTF-8 text behind a length of `lengthBytes` (1 or 2) bytes. */
function sized(w: ByteWriter, text: string, lengthBytes: 1 | 2, max: number): void {
  const lengthAt = w.length;
  if (lengthBytes === 1) w.u8(0);
  else w.u16(0);
  const written = w.utf8(text);
  if (written > max) throw new RangeError(`${text.slice(0, 40)}… is over ${max} bytes`);
  // Patched in place: the length is known once the text is written.
  if (lengthBytes === 1) w.patchU8(lengthAt, written);
  else w.patchU16(lengthAt, written);
}
