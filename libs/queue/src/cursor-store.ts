import { join } from 'node:path';
import { crc32c } from './crc32c';
import { hasErrorCode, type FileSystem } from './fs/file-system';
import {
  CURSOR_FILE_BYTES,
  CURSOR_FORMAT_VERSION,
  CURSOR_MAGIC,
  CURSOR_SUFFIX,
  TEMP_SUFFIX,
} from './queue.constants';
import { CorruptionError, invalidArgument } from './queue.errors';
import { readSeq, writeSeq } from './record-frame';

const CURSOR_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Named consumer positions, one small file each. A commit is crash-safe: the new value is written
 * to a temporary file, fdatasync'd, renamed over the old one, and the directory is fsync'd, so after
 * any crash the file holds either the old or the new value, never a mix.
 */
export class CursorStore {
  private readonly values = new Map<string, number>();
  /** Per cursor, the commit in progress; later commits wait for it and then write the latest value. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly wanted = new Map<string, number>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  static isCursorFile(fileName: string): boolean {
    return fileName.endsWith(CURSOR_SUFFIX);
  }

  /** Loads every `*.cursor` file of the directory; a damaged one is a CorruptionError naming it. */
  async load(fileNames: readonly string[]): Promise<void> {
    for (const fileName of fileNames) {
      if (!CursorStore.isCursorFile(fileName)) continue;
      const name = fileName.slice(0, -CURSOR_SUFFIX.length);
      this.values.set(name, await this.readCursorFile(join(this.dir, fileName)));
    }
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  get(name: string): number | undefined {
    return this.values.get(name);
  }

  /** Persists `seq` as the position of `name`; resolves once it is durable. */
  commit(name: string, seq: number): Promise<void> {
    if (!CURSOR_NAME.test(name)) {
      throw invalidArgument(
        `cursor name ${JSON.stringify(name)} must be 1–64 letters, digits, '_' or '-'`,
      );
    }
    this.values.set(name, seq);
    this.wanted.set(name, seq);
    const previous = this.writing.get(name) ?? Promise.resolve();
    const next = previous.then(() => this.writeWanted(name));
    const tracked = next.finally(() => {
      if (this.writing.get(name) === tracked) this.writing.delete(name);
    });
    this.writing.set(name, tracked);
    return next;
  }

  /** Waits for every commit in progress. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.writing.values()]);
  }

  private async writeWanted(name: string): Promise<void> {
    const seq = this.wanted.get(name);
    if (seq === undefined) return; // a commit queued before this one already wrote the latest value
    this.wanted.delete(name);
    const finalPath = join(this.dir, `${name}${CURSOR_SUFFIX}`);
    const tempPath = finalPath + TEMP_SUFFIX;
    await this.fs.unlink(tempPath).catch((error: unknown) => {
      if (!hasErrorCode(error, 'ENOENT')) throw error;
    });
    const handle = await this.fs.create(tempPath);
    try {
      await handle.writev([encodeCursor(seq)], 0);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await this.fs.rename(tempPath, finalPath);
    await this.fs.syncDir(this.dir);
  }

  private async readCursorFile(path: string): Promise<number> {
    const handle = await this.fs.open(path, 'r');
    const bytes = Buffer.alloc(CURSOR_FILE_BYTES);
    let got: number;
    try {
      got = await handle.read(bytes, 0, CURSOR_FILE_BYTES, 0);
    } finally {
      await handle.close();
    }
    const problem = cursorProblem(bytes, got);
    if (problem) throw new CorruptionError(path, 0, problem);
    return readSeq(bytes, 8);
  }
}

function encodeCursor(seq: number): Buffer {
  const bytes = Buffer.alloc(CURSOR_FILE_BYTES);
  bytes.writeUInt32LE(CURSOR_MAGIC, 0);
  bytes.writeUInt32LE(CURSOR_FORMAT_VERSION, 4);
  writeSeq(bytes, 8, seq);
  bytes.writeUInt32LE(crc32c(bytes, 0, 16), 16);
  return bytes;
}

function cursorProblem(bytes: Buffer, length: number): string | undefined {
  if (length < CURSOR_FILE_BYTES)
    return `cursor file cut short (${length} of ${CURSOR_FILE_BYTES} bytes)`;
  if (bytes.readUInt32LE(0) !== CURSOR_MAGIC) return 'not a cursor file (bad magic)';
  if (bytes.readUInt32LE(4) !== CURSOR_FORMAT_VERSION)
    return `unsupported cursor format version ${bytes.readUInt32LE(4)}`;
  if (bytes.readUInt32LE(16) !== crc32c(bytes, 0, 16)) return 'cursor checksum mismatch';
  return undefined;
}
