import { COMMAND_FORMAT } from './command-format';
import { measureExecution, readExecution, writeExecution } from './execution-codec';
import type { FireRecord } from './scheduler-command';

/**
 * The `record` command (fire outcomes, batched), binary: [COMMAND_FORMAT.record][f64 atMs][u32 count],
 * then per record [u8 task id length][task id, ASCII digits][outcome (execution-codec)]. Every fire
 * becomes one of these records; JSON took ~4 µs to encode and ~2 µs to decode each.
 */
const HEADER_BYTES = 1 + 8 + 4;
const TASK_ID_BYTES_MAX = 0xff;

export function encodeRecordCommand(atMs: number, records: readonly FireRecord[]): Uint8Array {
  const encodings = records.map((record) => {
    if (record.taskId.length > TASK_ID_BYTES_MAX || !isAscii(record.taskId))
      throw new RangeError(`task id ${JSON.stringify(record.taskId)} cannot be recorded`);
    return measureExecution(record);
  });
  let size = HEADER_BYTES;
  records.forEach((record, i) => (size += 1 + record.taskId.length + encodings[i].length));
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = COMMAND_FORMAT.record;
  view.setFloat64(1, atMs, true);
  view.setUint32(9, records.length, true);
  let at = HEADER_BYTES;
  records.forEach((record, i) => {
    const id = record.taskId;
    bytes[at++] = id.length;
    for (let c = 0; c < id.length; c++) bytes[at++] = id.charCodeAt(c);
    at = writeExecution(record, encodings[i], bytes, view, at);
  });
  return bytes;
}

export function decodeRecordCommand(bytes: Uint8Array): {
  t: 'record';
  atMs: number;
  records: FireRecord[];
} {
  if (bytes.length < HEADER_BYTES || bytes[0] !== COMMAND_FORMAT.record)
    throw new Error('record command is truncated or of another format');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Task ids are read as Latin-1 text (they were checked to be ASCII when encoded): ~0.25 µs a
  // record, where `String.fromCharCode(...subarray)` took ~2.5 µs.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const atMs = view.getFloat64(1, true);
  const count = view.getUint32(9, true);
  const records: FireRecord[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at >= bytes.length) throw new Error(`record command is truncated at record ${i}`);
    const idLength = bytes[at++];
    if (at + idLength > bytes.length) throw new Error(`record command is truncated at record ${i}`);
    const taskId = text.toString('latin1', at, at + idLength);
    at += idLength;
    const read = readExecution(taskId, bytes, view, at);
    records.push(read.record);
    at = read.end;
  }
  if (at !== bytes.length)
    throw new Error(`record command has ${bytes.length - at} bytes after its last record`);
  return { t: 'record', atMs, records };
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
