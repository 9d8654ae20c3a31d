import {
  compareBytes,
  type StateStore,
  type StoreRange,
  type StoreView,
  type StoreWrite,
} from '../state-store';

/**
 * The state store's test double: a sorted map in memory, with the same atomic batches and frozen
 * views as classic-level. `durable` keeps only what a `sync` write made durable, so a test can
 * model a power loss (`loseUnsynced()`): the store falls back to its last synced batch.
 */
export class MemoryStateStore implements StateStore {
  private entriesByKey = new Map<string, [Uint8Array, Uint8Array]>();
  private durable = new Map<string, [Uint8Array, Uint8Array]>();
  writes = 0;

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.entriesByKey.get(hex(key))?.[1]);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.entriesByKey.get(hex(key))?.[1]));
  }

  write(ops: readonly StoreWrite[], options: { readonly sync: boolean }): Promise<void> {
    this.writes++;
    for (const op of ops) {
      const k = hex(op.key);
      if (op.type === 'put')
        this.entriesByKey.set(k, [op.key.slice(), (op.value ?? new Uint8Array(0)).slice()]);
      else this.entriesByKey.delete(k);
    }
    if (options.sync) this.durable = new Map(this.entriesByKey);
    return Promise.resolve();
  }

  view(): StoreView {
    const frozen = [...this.entriesByKey.values()].sort((a, b) => compareBytes(a[0], b[0]));
    return {
      async *entries(range: StoreRange) {
        await Promise.resolve();
        const batch = frozen.filter(
          ([key]) => compareBytes(key, range.gte) >= 0 && compareBytes(key, range.lt) < 0,
        );
        for (let i = 0; i < batch.length; i += 1000) yield batch.slice(i, i + 1000);
      },
      close: () => Promise.resolve(),
    };
  }

  clear(): Promise<void> {
    this.entriesByKey.clear();
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** A power loss: everything written since the last sync write is gone. */
  loseUnsynced(): void {
    this.entriesByKey = new Map(this.durable);
  }

  get size(): number {
    return this.entriesByKey.size;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
