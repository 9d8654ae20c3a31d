import { crc32c } from '@node-rs/crc32';
import { EntryType, type Entry, type HardState, type SnapshotMeta } from '../core/types';
import { RAFT_STORAGE_LIMITS } from './storage.constants';
import { decodeSnapshotMetaJson, encodeSnapshotMetaJson } from './snapshot-meta-json';

/**
 * Keys and values of the classic-level log store. Binary throughout, big endian.
 *
 * Keys: one tag byte; an entry's key adds its index as a u64, so LevelDB's byte order is index
 * order and a range of entries is a key range.
 *   0x01 format version   0x02 cluster id   0x10 ‖ u64 index: an entry
 *   0x23 hard state       0x24 snapshot meta   0x25 compacted index
 * The records rewritten over and over (the hard state at nearly every save) sort after every
 * entry (format 2). In format 1 they were 0x03-0x05, before the entries: then every table
 * LevelDB flushed spanned from them to the newest entries, so each level-0 compaction overlapped,
 * and rewrote, all of level 1 (bench:server part 2, 200 entries of 1,000 tasks: 47 MB of
 * compaction output for 15 MB flushed; 28 MB with the keys after the entries). Format 1 stores
 * are moved to format 2 when opened (V1_KEYS, rekeyRecord).
 *
 * Values: `[u32 CRC32C of (body ‖ key)][body]`. Covering the key too means a value found under the
 * wrong key (an entry under another index) fails its check like a flipped bit does.
 *   format version: u32              cluster id: UTF-8
 *   hard state: u64 term, u64 commit, UTF-8 vote [, 0xFF, UTF-8 joining incarnation] (0xFF never
 *   occurs in UTF-8, so a record written before the field existed reads the same)
 *   snapshot meta: JSON {index, term, membership} (small, rare; entries never use JSON)
 *   compacted index: u64             entry: u64 term, u8 type, data
 */

export const KEY_FORMAT_VERSION = Uint8Array.of(0x01);
export const KEY_CLUSTER_ID = Uint8Array.of(0x02);
export const KEY_HARD_STATE = Uint8Array.of(0x23);
export const KEY_SNAPSHOT_META = Uint8Array.of(0x24);
export const KEY_COMPACTED_INDEX = Uint8Array.of(0x25);

/** Where format 1 kept the records that format 2 keeps after the entries (same values). */
export const V1_KEYS = {
  hardState: Uint8Array.of(0x03),
  snapshotMeta: Uint8Array.of(0x04),
  compactedIndex: Uint8Array.of(0x05),
} as const;

const ENTRY_TAG = 0x10;
const ENTRY_KEY_BYTES = 9;
const CRC_BYTES = 4;
const ENTRY_HEADER_BYTES = 8 + 1;
const U32_RANGE = 0x1_0000_0000;

/** Bounds of the entry key range, for iterators. */
export const ENTRY_KEY_MIN = entryKey(0);
export const ENTRY_KEY_MAX = Uint8Array.of(
  ENTRY_TAG,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
);

/** Thrown by decoders; the store adds its path and the key to make a StorageCorruptionError. */
export class RecordDecodeError extends Error {}

export function entryKey(index: number): Uint8Array {
  const key = Buffer.allocUnsafe(ENTRY_KEY_BYTES);
  writeEntryKey(key, 0, index);
  return key;
}

/** The entry keys of `from..to` (inclusive), as views of one allocation. */
export function entryKeys(from: number, to: number): Uint8Array[] {
  const count = to - from + 1;
  const arena = Buffer.allocUnsafe(count * ENTRY_KEY_BYTES);
  const keys: Uint8Array[] = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) {
    const offset = i * ENTRY_KEY_BYTES;
    writeEntryKey(arena, offset, from + i);
    keys[i] = arena.subarray(offset, offset + ENTRY_KEY_BYTES);
  }
  return keys;
}

/** A key as it appears in error messages: `entry 42`, `hard-state`, or hex when unknown. */
export function describeKey(key: Uint8Array): string {
  if (key.length === ENTRY_KEY_BYTES && key[0] === ENTRY_TAG) return `entry ${readEntryIndex(key)}`;
  if (key.length === 1) {
    const names = [
      '',
      'format-version',
      'cluster-id',
      'hard-state',
      'snapshot-meta',
      'compacted-index',
    ];
    // Format 2's moved records read as their format 1 names (0x23 → 0x03).
    const tag = key[0] >= 0x23 && key[0] <= 0x25 ? key[0] - 0x20 : key[0];
    if (tag >= 1 && tag < names.length) return names[tag];
  }
  return `key 0x${Buffer.from(key).toString('hex')}`;
}

export function readEntryIndex(key: Uint8Array): number {
  return readU64(Buffer.from(key.buffer, key.byteOffset, key.length), 1);
}

/**
 * Encodes `entries` into one allocation and hands each key/value pair to `put` (a chained batch's
 * put: LevelDB copies the bytes into its write batch). Layout per entry: the value
 * `[crc][term][type][data]` followed by the key, so one CRC call covers body ‖ key.
 */
export function encodeEntryRecords(
  entries: readonly Entry[],
  put: (key: Uint8Array, value: Uint8Array) => void,
): void {
  let totalBytes = 0;
  for (const entry of entries) {
    totalBytes += CRC_BYTES + ENTRY_HEADER_BYTES + entry.data.length + ENTRY_KEY_BYTES;
  }
  const arena = Buffer.allocUnsafe(totalBytes);
  // Views come from a plain Uint8Array: Buffer#subarray costs ~4x more, and this runs per entry.
  const bytes = new Uint8Array(arena.buffer, arena.byteOffset, arena.length);
  let offset = 0;
  for (const entry of entries) {
    const bodyStart = offset + CRC_BYTES;
    writeU64(arena, bodyStart, entry.term);
    bytes[bodyStart + 8] = entry.type;
    bytes.set(entry.data, bodyStart + ENTRY_HEADER_BYTES);
    const keyStart = bodyStart + ENTRY_HEADER_BYTES + entry.data.length;
    writeEntryKey(arena, keyStart, entry.index);
    const keyEnd = keyStart + ENTRY_KEY_BYTES;
    arena.writeUInt32BE(crc32c(bytes.subarray(bodyStart, keyEnd)), offset);
    put(bytes.subarray(keyStart, keyEnd), bytes.subarray(offset, keyStart));
    offset = keyEnd;
  }
}

export function decodeEntry(key: Uint8Array, value: Uint8Array): Entry {
  const body = checkedBody(key, value);
  if (body.length < ENTRY_HEADER_BYTES) {
    throw new RecordDecodeError(`entry value of ${value.length} bytes is shorter than its header`);
  }
  const type = body[8];
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
    throw new RecordDecodeError(`unknown entry type ${type}`);
  }
  return {
    index: readEntryIndex(key),
    term: readU64(body, 0),
    type,
    // A plain Uint8Array view (not a Buffer): callers compare and hand it on as the core's type.
    data: new Uint8Array(
      body.buffer,
      body.byteOffset + ENTRY_HEADER_BYTES,
      body.length - ENTRY_HEADER_BYTES,
    ),
  };
}

export function encodeFormatVersion(version: number): Uint8Array {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(version, 0);
  return withCrc(KEY_FORMAT_VERSION, body);
}

export function decodeFormatVersion(value: Uint8Array): number {
  const body = checkedBody(KEY_FORMAT_VERSION, value);
  if (body.length !== 4) throw new RecordDecodeError(`format version of ${body.length} bytes`);
  return body.readUInt32BE(0);
}

export function encodeClusterId(clusterId: string): Uint8Array {
  return withCrc(KEY_CLUSTER_ID, Buffer.from(clusterId, 'utf8'));
}

export function decodeClusterId(value: Uint8Array): string {
  const body = checkedBody(KEY_CLUSTER_ID, value);
  if (body.length === 0 || body.length > RAFT_STORAGE_LIMITS.clusterIdBytesMax) {
    throw new RecordDecodeError(`cluster id of ${body.length} bytes`);
  }
  return decodeUtf8(body, 'cluster id');
}

const JOINING_SEPARATOR = 0xff;

export function encodeHardState(hardState: HardState): Uint8Array {
  const vote = Buffer.from(hardState.vote, 'utf8');
  const joining = hardState.joining ? Buffer.from(hardState.joining, 'utf8') : undefined;
  const body = Buffer.allocUnsafe(16 + vote.length + (joining ? 1 + joining.length : 0));
  writeU64(body, 0, hardState.term);
  writeU64(body, 8, hardState.commit);
  body.set(vote, 16);
  if (joining) {
    body[16 + vote.length] = JOINING_SEPARATOR;
    body.set(joining, 17 + vote.length);
  }
  return withCrc(KEY_HARD_STATE, body);
}

export function decodeHardState(value: Uint8Array): HardState {
  const body = checkedBody(KEY_HARD_STATE, value);
  if (body.length < 16) throw new RecordDecodeError(`hard state of ${body.length} bytes`);
  const separator = body.indexOf(JOINING_SEPARATOR, 16);
  const hardState: HardState = {
    term: readU64(body, 0),
    commit: readU64(body, 8),
    vote: decodeUtf8(body.subarray(16, separator < 0 ? body.length : separator), 'vote'),
  };
  if (separator >= 0) {
    const joining = decodeUtf8(body.subarray(separator + 1), 'joining incarnation');
    if (joining.length === 0) throw new RecordDecodeError('empty joining incarnation');
    hardState.joining = joining;
  }
  return hardState;
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Uint8Array {
  return withCrc(KEY_SNAPSHOT_META, encodeSnapshotMetaJson(meta));
}

export function decodeSnapshotMeta(value: Uint8Array): SnapshotMeta {
  const meta = decodeSnapshotMetaJson(checkedBody(KEY_SNAPSHOT_META, value));
  if (typeof meta === 'string') throw new RecordDecodeError(meta);
  return meta;
}

export function encodeCompactedIndex(index: number): Uint8Array {
  const body = Buffer.allocUnsafe(8);
  writeU64(body, 0, index);
  return withCrc(KEY_COMPACTED_INDEX, body);
}

export function decodeCompactedIndex(value: Uint8Array): number {
  const body = checkedBody(KEY_COMPACTED_INDEX, value);
  if (body.length !== 8) throw new RecordDecodeError(`compacted index of ${body.length} bytes`);
  return readU64(body, 0);
}

/**
 * The record `value` stored under `fromKey`, checked, with its checksum made for `toKey` (the
 * checksum covers the key): how a format change moves a record to another key.
 */
export function rekeyRecord(value: Uint8Array, fromKey: Uint8Array, toKey: Uint8Array): Uint8Array {
  return withCrc(toKey, checkedBody(fromKey, value));
}

function withCrc(key: Uint8Array, body: Buffer): Uint8Array {
  const value = Buffer.allocUnsafe(CRC_BYTES + body.length);
  value.writeUInt32BE(crc32c(key, crc32c(body)), 0);
  value.set(body, CRC_BYTES);
  return value;
}

/** The body of `value`, after checking its CRC against body ‖ key. */
function checkedBody(key: Uint8Array, value: Uint8Array): Buffer {
  if (value.length < CRC_BYTES) {
    throw new RecordDecodeError(`value of ${value.length} bytes has no room for its checksum`);
  }
  const buffer = Buffer.from(value.buffer, value.byteOffset, value.length);
  const body = buffer.subarray(CRC_BYTES);
  const stored = buffer.readUInt32BE(0);
  const computed = crc32c(key, crc32c(body));
  if (stored !== computed) {
    throw new RecordDecodeError(
      `checksum mismatch (stored 0x${hex32(stored)}, computed 0x${hex32(computed)})`,
    );
  }
  return body;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new RecordDecodeError(`${what} is not valid UTF-8`);
  }
}

function writeEntryKey(target: Buffer, offset: number, index: number): void {
  target[offset] = ENTRY_TAG;
  writeU64(target, offset + 1, index);
}

function writeU64(target: Buffer, offset: number, value: number): void {
  // Two u32 halves: exact for every safe integer, and no BigInt on the hot path.
  target.writeUInt32BE(Math.floor(value / U32_RANGE), offset);
  target.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(source: Buffer, offset: number): number {
  const high = source.readUInt32BE(offset);
  const value = high * U32_RANGE + source.readUInt32BE(offset + 4);
  if (value > RAFT_STORAGE_LIMITS.indexMax) {
    throw new RecordDecodeError(`64-bit number at byte ${offset} exceeds 2^53 - 1`);
  }
  return value;
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}
