/**
 * What scheduling needs of every task of a node, in parallel typed arrays indexed by a small
 * integer "slot", with an index from task id to slot. Definitions and callback bodies live in the
 * store, not here: this table is what lets a node hold a million pending tasks in little memory
 * (a JS object per task with its parsed spec costs ~1.7 KB; the target is ~300 B on the whole node).
 *
 * Storage: a slot costs 1 (status) + 2 (policyBits) + 4 x 4 (scheduleRef, runCount, failureCount,
 * historyCount) + 5 x 8 (the times) + 8 (the id) = 67 bytes; the arrays grow by 1.5x, so up to
 * ~100 bytes with the slack. The id index is an open-addressing hash table of slots (4 bytes a
 * bucket, at most 0.7 full, doubled when it would be more): 5.7 to 11.4 bytes per task. Rare
 * per-task data (`extra`) sits in a Map by slot, so it costs nothing for the tasks without it.
 *
 * Measured with task-table.memory.ts (Node 20.20, x64; 1,000,000 sonyflake-style ids, fields set,
 * 1 in 1,000 with an extra): 76.0 bytes per task grown from the default capacity (the arrays happen
 * to be 1,008,917 long then, <1% slack), 75.5 with initialCapacity 1,000,000; 106.9 at 672,612
 * tasks, just past a growth (the most slack: the 1.5x arrays are 2/3 full). While the arrays grow,
 * the old and new copies coexist for a moment: ~2.5x the slot arrays. Times, from a shared 2-vCPU
 * machine under load (so rough): add 0.5-1.2 us presized, 0.7-3 us grown from the default (the
 * copies and the collections their allocations trigger); slotOf 0.6-1.25 us for present ids in
 * random order (cache misses: the string, a bucket, the slot's id words) and 0.4-0.7 us for absent
 * ones, next to 0.9-2.1 us for Map<string, number>.get measured alongside.
 *
 * Ids: a task id is the canonical decimal string of an integer in [0, 2^63) (see isTaskId in
 * task-id-generator.ts). It is kept as two 32-bit words of its decimal halves: high = floor(id /
 * 10^10) (< 2^30) and low = id mod 10^10 (< 2^34), packed as word0 = high * 4 + floor(low / 2^32)
 * and word1 = low mod 2^32 — 8 bytes rather than 12 for a Uint32 + Float64 pair, while parsing and
 * printing stay plain decimal (no BigInt, no 64-bit arithmetic) on the hot paths (add, slotOf,
 * idOf). Only the store keys (writeIdBytes, idFromBytes: 8 bytes big-endian, so that keys sort
 * like ids) need the binary value, computed exactly with doubles and Math.imul.
 *
 * Slots: a removed slot is reused by a later add (last freed, first reused), so a slot alone does
 * not name a task over time: whoever keeps slots elsewhere must drop them when the task goes.
 * slotLimit is the length of the slot arrays; it only changes when they grow (by 1.5x), so a
 * parallel per-slot array kept elsewhere can grow to it whenever an add returns a slot beyond its
 * own length. clear() keeps the capacity (a snapshot restore refills it right away).
 *
 * The per-field accessors check nothing (the caller passes live slots): the setters store what the
 * typed arrays store (Uint fields wrap modulo 2^bits and truncate fractions; NaN in a Uint field
 * is 0). add, remove, slotOf, has, isLive, idOf and writeIdBytes check their arguments.
 */

export interface TaskTableOptions {
  /** Slots allocated up front; the table grows them by 1.5x as needed (default 1,024). */
  readonly initialCapacity?: number;
}

/** word0 of a free slot: no id packs to it (the largest id packs to 3,689,348,814). */
const FREE = 0xffff_ffff;
/** The end of the free list (slots stay below 2^30). */
const NO_SLOT = 0xffff_ffff;
/** An empty bucket of the id index. */
const EMPTY = -1;
const MAX_LOAD = 0.7;
const MAX_SLOTS = 2 ** 30;

const TWO_POW_32 = 0x1_0000_0000;
const TEN_POW_10 = 10_000_000_000;
/** 10^10 = 2 * 2^32 + 1,410,065,408. */
const TEN_POW_10_MOD_2_POW_32 = 1_410_065_408;
/** 2^63 - 1 = 922,337,203 * 10^10 + 6,854,775,807. */
const MAX_HIGH = 922_337_203;
const MAX_LOW_AT_MAX_HIGH = 6_854_775_807;

/** murmur3's finalizer: every input bit flips each output bit with probability ~1/2. */
function fmix32(value: number): number {
  let h = value;
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Sonyflake-style ids put the time in the high bits and a sequence and machine number in the low
 * ones, and many ids share word0; mixing both words fully keeps such runs from clustering in a
 * linear-probing table (where one long cluster slows every lookup that lands in it).
 */
function hashOf(word0: number, word1: number): number {
  return fmix32(word1 ^ fmix32(word0));
}

/** Out-parameters of toBinary and toDecimal (no allocation per call). */
let binaryHigh = 0;
let binaryLow = 0;
let decimalHigh = 0;
let decimalLow = 0;

/** high * 10^10 + low (a task id) into its two 32-bit words, binaryHigh and binaryLow. */
function toBinary(high: number, low: number): void {
  // high * 10^10 = high * 2 * 2^32 + high * 1,410,065,408: only high * 1,410,065,408 + low (< 2^62)
  // straddles the word boundary. Its low word is exact through Math.imul; its high word is that
  // of its double (off by < 2^9, nothing next to 2^32) once the exact low word is taken off.
  const lowWord = (Math.imul(high, TEN_POW_10_MOD_2_POW_32) + low) >>> 0;
  const carry = Math.round((high * TEN_POW_10_MOD_2_POW_32 + low - lowWord) / TWO_POW_32);
  binaryHigh = high * 2 + carry;
  binaryLow = lowWord;
}

/** wordHigh * 2^32 + wordLow (< 2^63) into decimalHigh = floor(/ 10^10) and decimalLow = mod 10^10. */
function toDecimal(wordHigh: number, wordLow: number): void {
  // The double of the value is off by < 2^10, so its quotient by 10^10 is off by at most one; the
  // remainder for that quotient is exact modulo 2^32 through Math.imul, and its double (off by
  // < 2^12) tells which multiple of 2^32 to add; then the quotient is corrected by one if needed.
  const approximate = wordHigh * TWO_POW_32 + wordLow;
  let high = Math.floor(approximate / TEN_POW_10);
  const residue = (wordLow - Math.imul(high, TEN_POW_10_MOD_2_POW_32)) >>> 0;
  let low =
    residue + Math.round((approximate - high * TEN_POW_10 - residue) / TWO_POW_32) * TWO_POW_32;
  if (low < 0) {
    high -= 1;
    low += TEN_POW_10;
  } else if (low >= TEN_POW_10) {
    high += 1;
    low -= TEN_POW_10;
  }
  decimalHigh = high;
  decimalLow = low;
}

function formatId(high: number, low: number): string {
  return high === 0 ? String(low) : String(high) + String(low).padStart(10, '0');
}

/**
 * The id writeIdBytes wrote at `offset` into decimalHigh/decimalLow; a RangeError when the bytes
 * run past the array or hold 2^63 or more.
 */
function readIdBytes(source: Uint8Array, offset: number): void {
  if (offset >>> 0 !== offset || offset + 8 > source.length)
    throw new RangeError(`no 8 bytes at ${offset} of ${source.length}`);
  const wordHigh =
    ((source[offset] << 24) |
      (source[offset + 1] << 16) |
      (source[offset + 2] << 8) |
      source[offset + 3]) >>>
    0;
  const wordLow =
    ((source[offset + 4] << 24) |
      (source[offset + 5] << 16) |
      (source[offset + 6] << 8) |
      source[offset + 7]) >>>
    0;
  if (wordHigh >= 0x8000_0000) throw new RangeError('not a task id: 2^63 or more');
  toDecimal(wordHigh, wordLow);
}

type SlotArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;

function grownCopy<A extends SlotArray>(array: A, capacity: number): A {
  const copy = new (array.constructor as new (length: number) => A)(capacity);
  (copy as Float64Array).set(array as Float64Array);
  return copy;
}

export class TaskTable<Extra> {
  private statusBySlot: Uint8Array;
  private policyBitsBySlot: Uint16Array;
  private scheduleRefBySlot: Uint32Array;
  private runCountBySlot: Uint32Array;
  private failureCountBySlot: Uint32Array;
  private historyCountBySlot: Uint32Array;
  private nextFireAtMsBySlot: Float64Array;
  private runAtMsBySlot: Float64Array;
  private createdAtMsBySlot: Float64Array;
  private updatedAtMsBySlot: Float64Array;
  private endedAtMsBySlot: Float64Array;
  /** The id's packed words (see the file comment); word0 is FREE for a free slot, ... */
  private idWord0: Uint32Array;
  /** ... whose word1 links the free list. */
  private idWord1: Uint32Array;
  private readonly extras = new Map<number, Extra>();

  /** The id index: a slot per bucket or EMPTY; linear probing, backward-shift deletion. */
  private buckets: Int32Array;
  private bucketMask: number;
  /** The live count beyond which the buckets double (MAX_LOAD of them). */
  private bucketLimit: number;

  private count = 0;
  /** Slots at or beyond it were never handed out since the last clear(). */
  private highWater = 0;
  private freeHead = NO_SLOT;
  /** Out-parameters of parse() (no allocation per call). */
  private parsedWord0 = 0;
  private parsedWord1 = 0;

  constructor(options: TaskTableOptions = {}) {
    const capacity = options.initialCapacity ?? 1_024;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_SLOTS)
      throw new RangeError(`initialCapacity must be an integer in [1, 2^30], got ${capacity}`);
    this.statusBySlot = new Uint8Array(capacity);
    this.policyBitsBySlot = new Uint16Array(capacity);
    this.scheduleRefBySlot = new Uint32Array(capacity);
    this.runCountBySlot = new Uint32Array(capacity);
    this.failureCountBySlot = new Uint32Array(capacity);
    this.historyCountBySlot = new Uint32Array(capacity);
    this.nextFireAtMsBySlot = new Float64Array(capacity);
    this.runAtMsBySlot = new Float64Array(capacity);
    this.createdAtMsBySlot = new Float64Array(capacity);
    this.updatedAtMsBySlot = new Float64Array(capacity);
    this.endedAtMsBySlot = new Float64Array(capacity);
    this.idWord0 = new Uint32Array(capacity);
    this.idWord1 = new Uint32Array(capacity);

    let bucketCount = 16;
    while (Math.floor(bucketCount * MAX_LOAD) < capacity) bucketCount *= 2;
    this.buckets = new Int32Array(bucketCount).fill(EMPTY);
    this.bucketMask = bucketCount - 1;
    this.bucketLimit = Math.floor(bucketCount * MAX_LOAD);
  }

  /** Live tasks. */
  get size(): number {
    return this.count;
  }

  /** Slots are in [0, slotLimit): a parallel per-slot array kept elsewhere sizes itself by this. */
  get slotLimit(): number {
    return this.idWord0.length;
  }

  /** The task's slot; -1 when absent or not a task id. */
  slotOf(taskId: string): number {
    if (!this.parse(taskId)) return -1;
    const bucket = this.findBucket(this.parsedWord0, this.parsedWord1);
    return bucket < 0 ? -1 : this.buckets[bucket];
  }

  has(taskId: string): boolean {
    return this.slotOf(taskId) !== -1;
  }

  /**
   * A new slot for the task, every field reset (numbers 0, times NaN, extra undefined). Throws a
   * RangeError when taskId is not a task id, an Error when the task is already here.
   */
  add(taskId: string): number {
    if (!this.parse(taskId)) {
      const shown = typeof taskId === 'string' ? JSON.stringify(taskId) : `a ${typeof taskId}`;
      throw new RangeError(`not a task id: ${shown}`);
    }
    return this.insert(this.parsedWord0, this.parsedWord1);
  }

  /**
   * add() of the id that writeIdBytes wrote (no decimal string on the way: a start-up loading a
   * million tasks saves a parse and a string each). Same errors as add() and idFromBytes().
   */
  addFromBytes(source: Uint8Array, offset: number): number {
    readIdBytes(source, offset);
    const lowTop = Math.floor(decimalLow / TWO_POW_32);
    return this.insert(decimalHigh * 4 + lowTop, (decimalLow - lowTop * TWO_POW_32) >>> 0);
  }

  /**
   * A copy that later changes of this table do not affect: a checkpoint is written from it while
   * applies go on. The typed arrays are copied (tens of ms for a million tasks); extras are shared
   * by reference, so their owner must replace an extra rather than change it in place.
   */
  clone(): TaskTable<Extra> {
    const copy = Object.assign(
      Object.create(TaskTable.prototype) as object,
      this,
    ) as TaskTable<Extra>;
    copy.statusBySlot = this.statusBySlot.slice();
    copy.policyBitsBySlot = this.policyBitsBySlot.slice();
    copy.scheduleRefBySlot = this.scheduleRefBySlot.slice();
    copy.runCountBySlot = this.runCountBySlot.slice();
    copy.failureCountBySlot = this.failureCountBySlot.slice();
    copy.historyCountBySlot = this.historyCountBySlot.slice();
    copy.nextFireAtMsBySlot = this.nextFireAtMsBySlot.slice();
    copy.runAtMsBySlot = this.runAtMsBySlot.slice();
    copy.createdAtMsBySlot = this.createdAtMsBySlot.slice();
    copy.updatedAtMsBySlot = this.updatedAtMsBySlot.slice();
    copy.endedAtMsBySlot = this.endedAtMsBySlot.slice();
    copy.idWord0 = this.idWord0.slice();
    copy.idWord1 = this.idWord1.slice();
    copy.buckets = this.buckets.slice();
    (copy as unknown as { extras: Map<number, Extra> }).extras = new Map(this.extras);
    return copy;
  }

  private insert(word0: number, word1: number): number {
    let bucket = this.findBucket(word0, word1);
    if (bucket >= 0)
      throw new Error(
        `task ${formatId(word0 >>> 2, (word0 & 3) * TWO_POW_32 + word1)} is already in the table`,
      );
    if (this.count >= this.bucketLimit) {
      this.growBuckets();
      bucket = this.findBucket(word0, word1);
    }
    const slot = this.allocate();
    this.idWord0[slot] = word0;
    this.idWord1[slot] = word1;
    this.statusBySlot[slot] = 0;
    this.policyBitsBySlot[slot] = 0;
    this.scheduleRefBySlot[slot] = 0;
    this.runCountBySlot[slot] = 0;
    this.failureCountBySlot[slot] = 0;
    this.historyCountBySlot[slot] = 0;
    this.nextFireAtMsBySlot[slot] = NaN;
    this.runAtMsBySlot[slot] = NaN;
    this.createdAtMsBySlot[slot] = NaN;
    this.updatedAtMsBySlot[slot] = NaN;
    this.endedAtMsBySlot[slot] = NaN;
    // extra: remove() and clear() drop it, so a reused slot has none.
    this.buckets[-1 - bucket] = slot;
    this.count++;
    return slot;
  }

  /** Frees a live slot (a later add may reuse it); throws a RangeError for any other number. */
  remove(slot: number): void {
    if (!this.isLive(slot)) throw new RangeError(`slot ${slot} holds no task`);
    this.deleteBucket(this.findBucket(this.idWord0[slot], this.idWord1[slot]));
    if (this.extras.size !== 0) this.extras.delete(slot);
    this.idWord0[slot] = FREE;
    this.idWord1[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  isLive(slot: number): boolean {
    return slot >>> 0 === slot && slot < this.highWater && this.idWord0[slot] !== FREE;
  }

  /** The task id of a live slot, as a canonical decimal string. */
  idOf(slot: number): string {
    if (!this.isLive(slot)) throw new RangeError(`slot ${slot} holds no task`);
    const word0 = this.idWord0[slot];
    return formatId(word0 >>> 2, (word0 & 3) * TWO_POW_32 + this.idWord1[slot]);
  }

  /** Writes the id as 8 bytes big-endian unsigned (store keys sort by id). */
  writeIdBytes(slot: number, target: Uint8Array, offset: number): void {
    if (!this.isLive(slot)) throw new RangeError(`slot ${slot} holds no task`);
    if (offset >>> 0 !== offset || offset + 8 > target.length)
      throw new RangeError(`no room for 8 bytes at ${offset} of ${target.length}`);
    const word0 = this.idWord0[slot];
    toBinary(word0 >>> 2, (word0 & 3) * TWO_POW_32 + this.idWord1[slot]);
    target[offset] = binaryHigh >>> 24;
    target[offset + 1] = binaryHigh >>> 16;
    target[offset + 2] = binaryHigh >>> 8;
    target[offset + 3] = binaryHigh;
    target[offset + 4] = binaryLow >>> 24;
    target[offset + 5] = binaryLow >>> 16;
    target[offset + 6] = binaryLow >>> 8;
    target[offset + 7] = binaryLow;
  }

  /** The id written by writeIdBytes; a RangeError when the bytes are out of range or >= 2^63. */
  static idFromBytes(source: Uint8Array, offset: number): string {
    readIdBytes(source, offset);
    return formatId(decimalHigh, decimalLow);
  }

  /**
   * Live slots in ascending slot order. A slot removed during the iteration and not yet visited is
   * skipped; a slot added during it may or may not be visited.
   */
  *slots(): IterableIterator<number> {
    // this.idWord0 and this.highWater are read at every step: adds may grow or clear() reset them.
    for (let slot = 0; slot < this.highWater; slot++) {
      if (this.idWord0[slot] !== FREE) yield slot;
    }
  }

  status(slot: number): number {
    return this.statusBySlot[slot];
  }
  setStatus(slot: number, value: number): void {
    this.statusBySlot[slot] = value;
  }

  policyBits(slot: number): number {
    return this.policyBitsBySlot[slot];
  }
  setPolicyBits(slot: number, value: number): void {
    this.policyBitsBySlot[slot] = value;
  }

  scheduleRef(slot: number): number {
    return this.scheduleRefBySlot[slot];
  }
  setScheduleRef(slot: number, value: number): void {
    this.scheduleRefBySlot[slot] = value;
  }

  runCount(slot: number): number {
    return this.runCountBySlot[slot];
  }
  setRunCount(slot: number, value: number): void {
    this.runCountBySlot[slot] = value;
  }

  failureCount(slot: number): number {
    return this.failureCountBySlot[slot];
  }
  setFailureCount(slot: number, value: number): void {
    this.failureCountBySlot[slot] = value;
  }

  historyCount(slot: number): number {
    return this.historyCountBySlot[slot];
  }
  setHistoryCount(slot: number, value: number): void {
    this.historyCountBySlot[slot] = value;
  }

  /** NaN: none. */
  nextFireAtMs(slot: number): number {
    return this.nextFireAtMsBySlot[slot];
  }
  setNextFireAtMs(slot: number, value: number): void {
    this.nextFireAtMsBySlot[slot] = value;
  }

  /** NaN: none. */
  runAtMs(slot: number): number {
    return this.runAtMsBySlot[slot];
  }
  setRunAtMs(slot: number, value: number): void {
    this.runAtMsBySlot[slot] = value;
  }

  /** NaN: none. */
  createdAtMs(slot: number): number {
    return this.createdAtMsBySlot[slot];
  }
  setCreatedAtMs(slot: number, value: number): void {
    this.createdAtMsBySlot[slot] = value;
  }

  /** NaN: none. */
  updatedAtMs(slot: number): number {
    return this.updatedAtMsBySlot[slot];
  }
  setUpdatedAtMs(slot: number, value: number): void {
    this.updatedAtMsBySlot[slot] = value;
  }

  /** NaN: none. */
  endedAtMs(slot: number): number {
    return this.endedAtMsBySlot[slot];
  }
  setEndedAtMs(slot: number, value: number): void {
    this.endedAtMsBySlot[slot] = value;
  }

  /** Rare per-task data (few tasks have any). */
  extra(slot: number): Extra | undefined {
    return this.extras.get(slot);
  }
  /** undefined deletes. */
  setExtra(slot: number, value: Extra | undefined): void {
    if (value === undefined) this.extras.delete(slot);
    else this.extras.set(slot, value);
  }

  /** Drops every task; the capacity stays. */
  clear(): void {
    this.count = 0;
    this.highWater = 0;
    this.freeHead = NO_SLOT;
    this.buckets.fill(EMPTY);
    this.extras.clear();
  }

  /**
   * The ids of up to `limit` live slots that `accept` takes, in ascending id order, each greater
   * than `afterId` when given (a page of a listing; `more` says whether more would follow). One
   * pass over the slots without a string or an allocation per task: ids compare as their packed
   * words, which order like the numbers.
   */
  pageOfSlots(
    limit: number,
    afterId: string | undefined,
    accept: (slot: number) => boolean,
  ): { slots: number[]; more: boolean } {
    let after0 = -1;
    let after1 = -1;
    if (afterId !== undefined) {
      if (!this.parse(afterId)) throw new RangeError(`not a task id: ${JSON.stringify(afterId)}`);
      after0 = this.parsedWord0;
      after1 = this.parsedWord1;
    }
    const word0 = this.idWord0;
    const word1 = this.idWord1;
    const less = (a: number, b: number): boolean =>
      word0[a] < word0[b] || (word0[a] === word0[b] && word1[a] < word1[b]);
    // The `limit + 1` smallest so far, ascending: slots come mostly in id order, so a candidate is
    // usually compared with the last one only.
    const best: number[] = [];
    const keep = limit + 1;
    for (let slot = 0; slot < this.highWater; slot++) {
      const w0 = word0[slot];
      if (w0 === FREE) continue;
      if (w0 < after0 || (w0 === after0 && word1[slot] <= after1)) continue;
      if (best.length === keep && !less(slot, best[keep - 1])) continue;
      if (!accept(slot)) continue;
      let at = best.length;
      while (at > 0 && less(slot, best[at - 1])) at--;
      best.splice(at, 0, slot);
      if (best.length > keep) best.pop();
    }
    const more = best.length > limit;
    if (more) best.pop();
    return { slots: best, more };
  }

  /** Whether taskId is a task id; if so its packed words go to parsedWord0 and parsedWord1. */
  private parse(taskId: string): boolean {
    if (typeof taskId !== 'string') return false;
    const length = taskId.length;
    if (length === 0 || length > 19) return false;
    if (length > 1 && taskId.charCodeAt(0) === 48) return false; // a leading zero
    const highDigits = length > 10 ? length - 10 : 0;
    let high = 0;
    let low = 0;
    for (let index = 0; index < highDigits; index++) {
      const digit = taskId.charCodeAt(index) - 48;
      if (digit < 0 || digit > 9) return false;
      high = high * 10 + digit;
    }
    for (let index = highDigits; index < length; index++) {
      const digit = taskId.charCodeAt(index) - 48;
      if (digit < 0 || digit > 9) return false;
      low = low * 10 + digit;
    }
    if (high > MAX_HIGH || (high === MAX_HIGH && low > MAX_LOW_AT_MAX_HIGH)) return false;
    this.parsedWord0 = high * 4 + Math.floor(low / TWO_POW_32);
    this.parsedWord1 = low >>> 0;
    return true;
  }

  /** The bucket holding the id, or -1 - (the empty bucket where it would go). */
  private findBucket(word0: number, word1: number): number {
    const buckets = this.buckets;
    const mask = this.bucketMask;
    for (let bucket = hashOf(word0, word1) & mask; ; bucket = (bucket + 1) & mask) {
      const slot = buckets[bucket];
      if (slot === EMPTY) return -1 - bucket;
      // word1 first: ids sharing word0 are common (sonyflake ids of the same ~0.6 s).
      if (this.idWord1[slot] === word1 && this.idWord0[slot] === word0) return bucket;
    }
  }

  /**
   * Empties a bucket without tombstones: each later entry of the cluster whose home bucket is not
   * between the hole and itself moves back into the hole, which moves on to where it was.
   */
  private deleteBucket(hole: number): void {
    const buckets = this.buckets;
    const mask = this.bucketMask;
    for (let bucket = (hole + 1) & mask; ; bucket = (bucket + 1) & mask) {
      const slot = buckets[bucket];
      if (slot === EMPTY) break;
      const home = hashOf(this.idWord0[slot], this.idWord1[slot]) & mask;
      if (((bucket - home) & mask) >= ((bucket - hole) & mask)) {
        buckets[hole] = slot;
        hole = bucket;
      }
    }
    buckets[hole] = EMPTY;
  }

  private growBuckets(): void {
    const old = this.buckets;
    const bucketCount = old.length * 2;
    this.buckets = new Int32Array(bucketCount).fill(EMPTY);
    this.bucketMask = bucketCount - 1;
    this.bucketLimit = Math.floor(bucketCount * MAX_LOAD);
    for (let index = 0; index < old.length; index++) {
      const slot = old[index];
      if (slot === EMPTY) continue;
      let bucket = hashOf(this.idWord0[slot], this.idWord1[slot]) & this.bucketMask;
      while (this.buckets[bucket] !== EMPTY) bucket = (bucket + 1) & this.bucketMask;
      this.buckets[bucket] = slot;
    }
  }

  private allocate(): number {
    if (this.freeHead !== NO_SLOT) {
      const slot = this.freeHead;
      this.freeHead = this.idWord1[slot];
      return slot;
    }
    if (this.highWater === this.idWord0.length) this.growSlots();
    return this.highWater++;
  }

  /**
   * Makes room for `count` tasks at once (a load that knows how many it brings saves the growth
   * copies, and the 1.5x slack of the last one).
   */
  reserve(count: number): void {
    if (count > MAX_SLOTS) throw new RangeError(`TaskTable holds at most ${MAX_SLOTS} tasks`);
    if (count > this.idWord0.length) this.growSlots(count);
    while (this.bucketLimit < count) this.growBuckets();
  }

  private growSlots(minimum = 0): void {
    // 1.5x rather than 2x: at a million tasks the slack is what dominates the cost per task.
    const capacity = Math.max(minimum, Math.min(MAX_SLOTS, Math.ceil(this.idWord0.length * 1.5)));
    if (capacity === this.idWord0.length)
      throw new RangeError(`TaskTable holds at most ${MAX_SLOTS} tasks`);
    this.statusBySlot = grownCopy(this.statusBySlot, capacity);
    this.policyBitsBySlot = grownCopy(this.policyBitsBySlot, capacity);
    this.scheduleRefBySlot = grownCopy(this.scheduleRefBySlot, capacity);
    this.runCountBySlot = grownCopy(this.runCountBySlot, capacity);
    this.failureCountBySlot = grownCopy(this.failureCountBySlot, capacity);
    this.historyCountBySlot = grownCopy(this.historyCountBySlot, capacity);
    this.nextFireAtMsBySlot = grownCopy(this.nextFireAtMsBySlot, capacity);
    this.runAtMsBySlot = grownCopy(this.runAtMsBySlot, capacity);
    this.createdAtMsBySlot = grownCopy(this.createdAtMsBySlot, capacity);
    this.updatedAtMsBySlot = grownCopy(this.updatedAtMsBySlot, capacity);
    this.endedAtMsBySlot = grownCopy(this.endedAtMsBySlot, capacity);
    this.idWord0 = grownCopy(this.idWord0, capacity);
    this.idWord1 = grownCopy(this.idWord1, capacity);
  }
}
