import { ClassicLevel } from 'classic-level';
import { EntryType, type Entry, type SnapshotMeta } from '../core/types';
import type { DurableState, StateMachine } from '../node/state-machine';

/**
 * A durable key–value state machine for tests of RaftNode's durable-state mode, the way a real one
 * (the scheduler's) works: its state lives in its own classic-level database, written at apply
 * with its applied index in the same batch (`sync: false`); persist() is one synced write; its
 * snapshot() streams the database from a LevelDB iterator (which reads the implicit snapshot taken
 * when the iterator is created), its applied index included; restore() drops its applied index,
 * clears and rewrites the database, and writes the new applied index last, synced.
 *
 * Entries are "key=value" (a put); the result is the number of keys. For the tests it keeps a copy
 * of the state in memory (`data`), the indexes it executed rather than skipped (`executed`), and
 * counts restores and snapshot() calls. `simulateCrash()` plays a crash that keeps only what
 * persist() made durable.
 */
export class DurableKvMachine implements StateMachine {
  readonly snapshotIsIsolated = true;
  readonly durableState: DurableState;
  /** The state, as the database holds it (a copy for assertions). */
  readonly data = new Map<string, string>();
  /** Indexes executed by apply() (an entry at or below the applied index is skipped, not executed). */
  readonly executed: number[] = [];
  restores = 0;
  snapshotCalls = 0;
  /** Last applied index (its write completed, not necessarily durable). */
  appliedIndex: number;
  /** Last index persist() (or restore(), or what open() found) made durable. */
  durableIndex: number;
  /**
   * For simulateCrash(): the value at `durableIndex` of every key written since (undefined: absent),
   * and those of writes during a persist() still in flight.
   */
  private undo = new Map<string, string | undefined>();
  /** The undo map of a persist() in flight. */
  private persisting: Map<string, string | undefined> | undefined;

  private constructor(
    private readonly db: ClassicLevel<string, string>,
    readonly dirPath: string,
    appliedIndex: number,
  ) {
    this.appliedIndex = appliedIndex;
    this.durableIndex = appliedIndex;
    this.durableState = {
      persistedIndex: () => this.durableIndex,
      persist: () => this.persist(),
    };
  }

  static async open(dirPath: string): Promise<DurableKvMachine> {
    const db = new ClassicLevel<string, string>(dirPath, {
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
    });
    await db.open();
    const applied = await db.get(APPLIED_KEY);
    const machine = new DurableKvMachine(db, dirPath, applied === undefined ? 0 : Number(applied));
    for await (const [key, value] of db.iterator({ gte: DATA_PREFIX, lt: DATA_END })) {
      machine.data.set(key.slice(DATA_PREFIX.length), value);
    }
    return machine;
  }

  async apply(entries: readonly Entry[]): Promise<Uint8Array[]> {
    const results: Uint8Array[] = [];
    const batch = this.db.batch();
    let last = this.appliedIndex;
    for (const entry of entries) {
      if (entry.index <= this.appliedIndex) {
        results.push(new Uint8Array(0)); // already held (re-applied after a restart or a restore)
        continue;
      }
      this.executed.push(entry.index);
      last = entry.index;
      if (entry.type !== EntryType.Normal || entry.data.length === 0) {
        results.push(new Uint8Array(0));
        continue;
      }
      const text = decoder.decode(entry.data);
      const split = text.indexOf('=');
      const key = text.slice(0, split);
      const value = text.slice(split + 1);
      if (!this.undo.has(key)) this.undo.set(key, this.data.get(key));
      this.data.set(key, value);
      batch.put(DATA_PREFIX + key, value);
      results.push(encoder.encode(String(this.data.size)));
    }
    if (last === this.appliedIndex) {
      await batch.close();
      return results;
    }
    batch.put(APPLIED_KEY, String(last));
    await batch.write({ sync: false });
    this.appliedIndex = last;
    return results;
  }

  snapshot(): AsyncIterable<Uint8Array> {
    this.snapshotCalls += 1;
    // Created now: the iterator reads the database as of this call, whatever is applied next.
    const iterator = this.db.iterator();
    return (async function* () {
      try {
        for (;;) {
          const page = await iterator.nextv(1000);
          if (page.length === 0) return;
          yield encodeRecords(page);
        }
      } finally {
        await iterator.close();
      }
    })();
  }

  async restore(_meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    // The applied index goes first: a crash in the middle leaves "holds nothing", never a mix.
    await this.db.del(APPLIED_KEY, { sync: true });
    await this.db.clear();
    this.data.clear();
    this.undo.clear();
    this.appliedIndex = 0;
    this.durableIndex = 0;
    let applied: number | undefined;
    const decoder = new RecordDecoder();
    for await (const chunk of data) {
      const batch = this.db.batch();
      for (const [key, value] of decoder.push(chunk)) {
        if (key === APPLIED_KEY) applied = Number(value);
        else {
          batch.put(key, value);
          this.data.set(key.slice(DATA_PREFIX.length), value);
        }
      }
      await batch.write({ sync: false });
    }
    decoder.end();
    if (applied === undefined) throw new Error('snapshot stream without an applied index');
    await this.db.put(APPLIED_KEY, String(applied), { sync: true });
    this.appliedIndex = applied;
    this.durableIndex = applied;
    this.restores += 1;
  }

  /** Closes the database (a clean stop: what apply wrote stays, synced or not). */
  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * A crash that keeps only what persist() made durable: the writes since are undone, then the
   * database is closed. Call it after the node stopped (no apply or persist in flight).
   */
  async simulateCrash(): Promise<void> {
    if (this.persisting !== undefined) throw new Error('simulateCrash during a persist()');
    const batch = this.db.batch();
    for (const [key, value] of this.undo) {
      if (value === undefined) batch.del(DATA_PREFIX + key);
      else batch.put(DATA_PREFIX + key, value);
    }
    batch.put(APPLIED_KEY, String(this.durableIndex));
    await batch.write({ sync: true });
    await this.db.close();
  }

  private async persist(): Promise<number> {
    // Every apply whose write completed is in LevelDB's log: one synced write makes them durable.
    const index = this.appliedIndex;
    const before = this.undo;
    this.persisting = before;
    this.undo = new Map();
    try {
      await this.db.put(PERSIST_KEY, String(index), { sync: true });
    } catch (error) {
      for (const [key, value] of this.undo) if (!before.has(key)) before.set(key, value);
      this.undo = before;
      throw error;
    } finally {
      this.persisting = undefined;
    }
    this.durableIndex = Math.max(this.durableIndex, index);
    return index;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const APPLIED_KEY = 'm/applied';
const PERSIST_KEY = 'm/persist';
const DATA_PREFIX = 'k/';
const DATA_END = 'k0';

/** Records: u32 key bytes, key, u32 value bytes, value (UTF-8). */
function encodeRecords(records: ReadonlyArray<[string, string]>): Uint8Array {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    if (key === PERSIST_KEY) continue;
    for (const text of [key, value]) {
      const bytes = Buffer.from(text, 'utf8');
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32LE(bytes.length, 0);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

/** Decodes records across chunk boundaries. */
class RecordDecoder {
  private pending = Buffer.alloc(0);

  push(chunk: Uint8Array): Array<[string, string]> {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Array<[string, string]> = [];
    let offset = 0;
    for (;;) {
      const key = readString(this.pending, offset);
      if (key === undefined) break;
      const value = readString(this.pending, key.next);
      if (value === undefined) break;
      out.push([key.text, value.text]);
      offset = value.next;
    }
    this.pending = this.pending.subarray(offset);
    return out;
  }

  end(): void {
    if (this.pending.length > 0) throw new Error('snapshot stream cut inside a record');
  }
}

function readString(bytes: Buffer, offset: number): { text: string; next: number } | undefined {
  if (bytes.length < offset + 4) return undefined;
  const length = bytes.readUInt32LE(offset);
  if (bytes.length < offset + 4 + length) return undefined;
  return {
    text: bytes.toString('utf8', offset + 4, offset + 4 + length),
    next: offset + 4 + length,
  };
}
