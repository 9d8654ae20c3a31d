import { crc32c } from '@node-rs/crc32';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ScheduleSpec } from '../task/task.model';
import {
  decodeRowAt,
  encodeRow,
  type IdempotencyEntry,
  type TaskExtra,
  type TaskRow,
} from './state-store-codec';
import type { TaskTable } from './task-table';

type CronSpec = Extract<ScheduleSpec, { kind: 'cron' }>;

/**
 * The in-memory state at one applied index — every task's row, the idempotency keys, the state's
 * clock — in one file, written after each persist(). A restart reads it in one sequential read
 * and replays the journal after it, instead of iterating a million LevelDB entries (~5 µs each
 * through classic-level). It is only a shortcut: without a usable checkpoint the rows are loaded
 * from the state store.
 *
 * Layout: MAGIC, u32 header length, header JSON ({appliedIndex, latestAtMs, rows, keys}), then per
 * row 8 bytes of id, u32 length and the row (state-store-codec's encoding), then per key u32 length
 * and JSON [key, entry], then the CRC-32C of everything before it (u32). Big-endian.
 */
const MAGIC = new TextEncoder().encode('XCRONROWS1\n');
const FILE_PREFIX = 'rows-';
const FILE_SUFFIX = '.ckpt';
const CHUNK_BYTES = 1024 * 1024;
/** Rows encoded per turn of the event loop while a checkpoint is written. */
const ROWS_PER_TURN = 20_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a checkpoint holds: a frozen copy of the state (SchedulerState.freeze). */
export interface CheckpointSource {
  readonly appliedIndex: number;
  readonly latestAtMs: number;
  readonly table: TaskTable<TaskExtra>;
  /** Crontabs by the table's schedule refs. */
  readonly crons: ReadonlyMap<number, CronSpec>;
  readonly keys: readonly (readonly [string, IdempotencyEntry])[];
}

export interface LoadedCheckpoint {
  readonly appliedIndex: number;
  readonly latestAtMs: number;
  /** Tasks in it. */
  readonly rows: number;
  /** Calls `row` for each task (its 8-byte id at `idOffset` of `bytes`), then `key` for each key. */
  forEach(
    row: (bytes: Uint8Array, idOffset: number, taskRow: TaskRow) => void,
    key: (key: string, entry: IdempotencyEntry) => void,
  ): void;
}

/** Writes the checkpoint (temp file, fsync, rename, directory fsync) and deletes older ones. */
export async function writeCheckpoint(dir: string, source: CheckpointSource): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const name = `${FILE_PREFIX}${String(source.appliedIndex).padStart(16, '0')}${FILE_SUFFIX}`;
  const path = join(dir, name);
  const temp = `${path}.tmp`;
  const handle = await fsp.open(temp, 'w');
  let crc = 0;
  try {
    let chunk = new Uint8Array(CHUNK_BYTES);
    let at = 0;
    const flush = async (): Promise<void> => {
      if (at === 0) return;
      const bytes = chunk.subarray(0, at);
      crc = crc32c(bytes, crc);
      await handle.write(bytes);
      chunk = new Uint8Array(CHUNK_BYTES);
      at = 0;
    };
    const put = async (bytes: Uint8Array): Promise<void> => {
      if (at + bytes.length > chunk.length) await flush();
      if (bytes.length > chunk.length) {
        crc = crc32c(bytes, crc);
        await handle.write(bytes);
        return;
      }
      chunk.set(bytes, at);
      at += bytes.length;
    };
    const u32 = (value: number): Uint8Array => {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, value);
      return bytes;
    };
    const table = source.table;
    const header = encoder.encode(
      JSON.stringify({
        appliedIndex: source.appliedIndex,
        latestAtMs: source.latestAtMs,
        rows: table.size,
        keys: source.keys.length,
      }),
    );
    await put(MAGIC);
    await put(u32(header.length));
    await put(header);
    let inTurn = 0;
    for (const slot of table.slots()) {
      const ref = table.scheduleRef(slot);
      const row = encodeRow({
        status: table.status(slot),
        policyBits: table.policyBits(slot),
        cron: ref === 0 ? undefined : source.crons.get(ref),
        runAtMs: table.runAtMs(slot),
        nextFireAtMs: table.nextFireAtMs(slot),
        createdAtMs: table.createdAtMs(slot),
        updatedAtMs: table.updatedAtMs(slot),
        endedAtMs: table.endedAtMs(slot),
        runCount: table.runCount(slot),
        failureCount: table.failureCount(slot),
        historyCount: table.historyCount(slot),
        extra: table.extra(slot),
      });
      const framed = new Uint8Array(12 + row.length);
      table.writeIdBytes(slot, framed, 0);
      new DataView(framed.buffer).setUint32(8, row.length);
      framed.set(row, 12);
      await put(framed);
      if (++inTurn === ROWS_PER_TURN) {
        inTurn = 0;
        // Applies and callbacks go on between slices: a million rows take about a second.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    for (const entry of source.keys) {
      const json = encoder.encode(JSON.stringify(entry));
      await put(u32(json.length));
      await put(json);
    }
    await flush();
    await handle.write(u32(crc >>> 0));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(temp, path);
  await syncDirectory(dir);
  for (const other of await fsp.readdir(dir))
    if (other !== name && other.startsWith(FILE_PREFIX))
      await fsp.rm(join(dir, other), { force: true });
  return path;
}

/**
 * The newest checkpoint in `dir`, checked whole (CRC, lengths); undefined when there is none.
 * Throws an Error naming the file when it is corrupt (the caller falls back to the store).
 */
export async function readLatestCheckpoint(dir: string): Promise<LoadedCheckpoint | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A checkpoint being written when the node stopped: never renamed, never complete.
  for (const name of names)
    if (name.startsWith(FILE_PREFIX) && name.endsWith('.tmp'))
      await fsp.rm(join(dir, name), { force: true });
  const newest = names
    .filter((name) => name.startsWith(FILE_PREFIX) && name.endsWith(FILE_SUFFIX))
    .sort()
    .pop();
  if (newest === undefined) return undefined;
  const path = join(dir, newest);
  const bytes = await fsp.readFile(path);
  return parseCheckpoint(bytes, path);
}

export function parseCheckpoint(bytes: Uint8Array, path: string): LoadedCheckpoint {
  const fail = (what: string): never => {
    throw new Error(`state checkpoint ${path} is corrupt: ${what}`);
  };
  if (bytes.length < MAGIC.length + 8) fail(`only ${bytes.length} bytes`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) fail('bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bodyEnd = bytes.length - 4;
  if (crc32c(bytes.subarray(0, bodyEnd)) >>> 0 !== view.getUint32(bodyEnd)) fail('CRC mismatch');
  let at = MAGIC.length;
  const headerLength = view.getUint32(at);
  at += 4;
  if (at + headerLength > bodyEnd) fail('header runs past the end');
  const header = JSON.parse(decoder.decode(bytes.subarray(at, at + headerLength))) as {
    appliedIndex: number;
    latestAtMs: number;
    rows: number;
    keys: number;
  };
  at += headerLength;
  const rowsStart = at;
  return {
    appliedIndex: header.appliedIndex,
    latestAtMs: header.latestAtMs,
    rows: header.rows,
    forEach(row, key) {
      let offset = rowsStart;
      for (let n = 0; n < header.rows; n++) {
        if (offset + 12 > bodyEnd) fail(`row ${n} runs past the end`);
        const length = view.getUint32(offset + 8);
        if (offset + 12 + length > bodyEnd) fail(`row ${n} runs past the end`);
        row(bytes, offset, decodeRowAt(bytes, offset + 12, offset + 12 + length, view));
        offset += 12 + length;
      }
      for (let n = 0; n < header.keys; n++) {
        if (offset + 4 > bodyEnd) fail(`key ${n} runs past the end`);
        const length = view.getUint32(offset);
        if (offset + 4 + length > bodyEnd) fail(`key ${n} runs past the end`);
        const [name, entry] = JSON.parse(
          decoder.decode(bytes.subarray(offset + 4, offset + 4 + length)),
        ) as [string, IdempotencyEntry];
        key(name, entry);
        offset += 4 + length;
      }
      if (offset !== bodyEnd) fail(`${bodyEnd - offset} bytes after the last key`);
    },
  };
}

/** Deletes every checkpoint in `dir` (the state was replaced by a leader's snapshot). */
export async function removeCheckpoints(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names)
    if (name.startsWith(FILE_PREFIX)) await fsp.rm(join(dir, name), { force: true });
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
