import { ClassicLevel } from 'classic-level';
import type { StateStore, StoreRange, StoreView, StoreWrite } from './state-store';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** Entries read from LevelDB per iterator call when streaming a range. */
const ENTRIES_PER_READ = 1_000;
/** Stop a read batch past this many bytes (the snapshot stream's chunks stay ~1 MiB). */
const READ_BATCH_BYTES = 1024 * 1024;
/** LevelDB's memtable: small writes at every apply, flushed to a sorted table at this size. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

/** The state store on classic-level (LevelDB): raft_dir/state. One process at a time may hold it. */
export class ClassicLevelStateStore implements StateStore {
  private constructor(
    private readonly db: Db,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<ClassicLevelStateStore> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      writeBufferSize: WRITE_BUFFER_BYTES,
    });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      throw new Error(`cannot open the state store in ${path}: ${String(cause)}`, { cause: error });
    }
    return new ClassicLevelStateStore(db, path);
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.db.getMany(keys as Uint8Array[]);
  }

  async write(ops: readonly StoreWrite[], options: { readonly sync: boolean }): Promise<void> {
    if (ops.length === 0 && !options.sync) return;
    const batch = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value ?? new Uint8Array(0));
      else batch.del(op.key);
    }
    await batch.write({ sync: options.sync });
  }

  view(): StoreView {
    const db = this.db;
    const snapshot = db.snapshot();
    return {
      async *entries(range: StoreRange) {
        const iterator = db.iterator({ gte: range.gte, lt: range.lt, snapshot });
        try {
          for (;;) {
            const batch: [Uint8Array, Uint8Array][] = [];
            let bytes = 0;
            while (bytes < READ_BATCH_BYTES) {
              const entries = await iterator.nextv(ENTRIES_PER_READ);
              if (entries.length === 0) break;
              for (const entry of entries) {
                batch.push(entry);
                bytes += entry[0].length + entry[1].length;
              }
            }
            if (batch.length === 0) return;
            yield batch;
          }
        } finally {
          await iterator.close();
        }
      },
      close: () => snapshot.close(),
    };
  }

  clear(): Promise<void> {
    return this.db.clear();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
