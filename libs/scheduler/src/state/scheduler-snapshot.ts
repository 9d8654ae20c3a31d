import type { IdempotencyEntry } from './scheduler-state';
import type { TaskRecord } from './task-record';

/**
 * The snapshot format: JSON lines, one object per line, in ~1 MiB chunks. A header line first
 * (format, the index of the last entry folded in), then one line per task and per idempotency key.
 * Lines keep a snapshot of a million tasks streamable in both directions without holding it whole.
 */
export const SNAPSHOT_FORMAT = 'xcron-scheduler-1';
const CHUNK_BYTES = 1024 * 1024;

export interface SnapshotHeader {
  readonly k: 'h';
  readonly format: typeof SNAPSHOT_FORMAT;
  /** The state's own applied index: it may be past the Raft snapshot's index (journal replay). */
  readonly appliedIndex: number;
  readonly latestAtMs: number;
}

type SnapshotLine =
  | SnapshotHeader
  | ({ readonly k: 't' } & TaskRecord)
  | ({ readonly k: 'i'; readonly key: string } & IdempotencyEntry);

const encoder = new TextEncoder();

export async function* writeSnapshotLines(
  header: Omit<SnapshotHeader, 'k' | 'format'>,
  tasks: Iterable<TaskRecord>,
  keys: Iterable<[string, IdempotencyEntry]>,
): AsyncGenerator<Uint8Array> {
  let pending: string[] = [JSON.stringify({ k: 'h', format: SNAPSHOT_FORMAT, ...header })];
  let pendingChars = pending[0].length;
  const flush = (): Uint8Array => {
    const bytes = encoder.encode(pending.join('\n') + '\n');
    pending = [];
    pendingChars = 0;
    return bytes;
  };
  const add = (line: SnapshotLine): boolean => {
    const text = JSON.stringify(line);
    pending.push(text);
    pendingChars += text.length + 1;
    return pendingChars >= CHUNK_BYTES;
  };
  for (const task of tasks) if (add({ k: 't', ...task })) yield flush();
  for (const [key, entry] of keys) if (add({ k: 'i', key, ...entry })) yield flush();
  if (pending.length > 0) yield flush();
}

export interface SnapshotContents {
  header: SnapshotHeader;
  tasks: TaskRecord[];
  keys: [string, IdempotencyEntry][];
}

/** Parses a snapshot stream; throws an Error naming the line on anything malformed. */
export async function readSnapshotLines(
  chunks: AsyncIterable<Uint8Array>,
): Promise<SnapshotContents> {
  const decoder = new TextDecoder();
  let carry = '';
  let lineNumber = 0;
  let header: SnapshotHeader | undefined;
  const tasks: TaskRecord[] = [];
  const keys: [string, IdempotencyEntry][] = [];
  const take = (text: string): void => {
    lineNumber++;
    if (text.length === 0) return;
    let line: SnapshotLine;
    try {
      line = JSON.parse(text) as SnapshotLine;
    } catch (error) {
      throw new Error(`scheduler snapshot line ${lineNumber} is not JSON: ${String(error)}`, {
        cause: error,
      });
    }
    if (header === undefined) {
      if (line.k !== 'h' || line.format !== SNAPSHOT_FORMAT)
        throw new Error(`scheduler snapshot: line 1 is not a ${SNAPSHOT_FORMAT} header`);
      header = line;
      return;
    }
    if (line.k === 't') {
      const { k: _k, ...task } = line;
      tasks.push(task);
    } else if (line.k === 'i') {
      const { k: _k, key, ...entry } = line;
      keys.push([key, entry]);
    } else
      throw new Error(`scheduler snapshot line ${lineNumber}: unexpected kind ${String(line.k)}`);
  };
  for await (const chunk of chunks) {
    const text = carry + decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) take(line);
  }
  take(carry + decoder.decode());
  if (header === undefined) throw new Error('scheduler snapshot is empty (no header line)');
  return { header, tasks, keys };
}
