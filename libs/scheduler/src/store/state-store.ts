/**
 * The port of the scheduler's state store: a sorted key-value store on disk (classic-level in
 * production, an in-memory double in unit tests). The replicated state writes through it at every
 * apply; task definitions, callback bodies and execution histories live only here, and in memory
 * stays what scheduling needs (see SchedulerState).
 */
export interface StoreWrite {
  readonly type: 'put' | 'del';
  readonly key: Uint8Array;
  /** For `put`. */
  readonly value?: Uint8Array;
}

export interface StoreRange {
  /** Inclusive. */
  readonly gte: Uint8Array;
  /** Exclusive. */
  readonly lt: Uint8Array;
}

/** A frozen view of the store (LevelDB snapshot): later writes are not seen through it. */
export interface StoreView {
  /** Entries of `range` in key order, in batches. */
  entries(range: StoreRange): AsyncIterable<readonly (readonly [Uint8Array, Uint8Array])[]>;
  close(): Promise<void>;
}

export interface StateStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** One atomic batch; `sync` makes it (and every write before it) durable before resolving. */
  write(ops: readonly StoreWrite[], options: { readonly sync: boolean }): Promise<void>;
  /** Takes a view now (synchronously): it sees every write that resolved before the call. */
  view(): StoreView;
  /** Deletes every entry. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Where the store lives on disk, for error messages. */
export interface StoreLocation {
  readonly path: string;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
