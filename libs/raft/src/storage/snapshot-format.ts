import { crc32c } from '@node-rs/crc32';
import type { SnapshotMeta } from '../core/types';
import { decodeSnapshotMetaJson } from './snapshot-meta-json';
import {
  RAFT_STORAGE_LIMITS,
  SNAPSHOT_FILE_PREFIX,
  SNAPSHOT_FILE_SUFFIX,
  SNAPSHOT_FLAG_STATE_IN_MACHINE,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_FORMAT_VERSION_FLAGS,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_HEADER_V2_BYTES,
  SNAPSHOT_INDEX_DIGITS,
  SNAPSHOT_LIMITS,
  SNAPSHOT_MAGIC,
} from './storage.constants';

/**
 * One snapshot file, little endian. Version 1 (a file carrying the state machine's data):
 *
 *   0  u32 magic "XCRS"          4  u32 format version     8  u32 meta JSON bytes (M)
 *   12 u32 CRC32C of the data    16 u64 data bytes (D)     24 u32 CRC32C of bytes 0..24 ‖ meta JSON
 *   28 meta JSON (M bytes)       28 + M: the state machine's data (D bytes)
 *
 * Version 2 adds flags: bytes 0..24 as above, 24 u32 flags, 28 u32 CRC32C of bytes 0..28 ‖ meta
 * JSON, 32 meta JSON, 32 + M the data. The one flag, SNAPSHOT_FLAG_STATE_IN_MACHINE, says the file
 * carries no data (D = 0): the state lives in the state machine's own durable store (a durable
 * state machine's local snapshot). A file without flags is written as version 1.
 *
 * The header is written last (the data CRC is known only then) and the file is renamed into place
 * after an fdatasync, so a file under its final name is complete unless the disk damaged it; the
 * header CRC makes a damaged header an error before anything trusts its sizes.
 */

/** A snapshot file under its final name. */
export interface SnapshotInfo {
  meta: SnapshotMeta;
  dataBytes: number;
  /** CRC32C of the data: sent ahead of the chunks so that the follower's receiver can verify them. */
  dataCrc32c: number;
  filePath: string;
  /**
   * The file carries no data: the state lives in the state machine's own durable store, which
   * held at least `meta.index` when the file was written (SNAPSHOT_FLAG_STATE_IN_MACHINE).
   */
  stateInMachine: boolean;
}

export interface SnapshotHeader {
  meta: SnapshotMeta;
  /** Bytes of the fixed part (28 for version 1, 32 for version 2); the meta JSON follows. */
  fixedBytes: number;
  metaBytes: number;
  dataBytes: number;
  dataCrc32c: number;
  flags: number;
}

/** The fixed part of a header: enough to know how long the whole header is. */
export interface FixedHeader {
  fixedBytes: number;
  metaBytes: number;
}

/** Read this many bytes to hold the fixed part of any version (fewer at the end of a file). */
export const SNAPSHOT_FIXED_HEADER_BYTES_MAX = SNAPSHOT_HEADER_V2_BYTES;

const U32_RANGE = 0x1_0000_0000;

/** The length of the fixed part written for `flags`: version 1 without flags, version 2 with. */
export function fixedHeaderBytes(flags: number): number {
  return flags === 0 ? SNAPSHOT_HEADER_BYTES : SNAPSHOT_HEADER_V2_BYTES;
}

/** Header plus meta JSON: the first `fixedHeaderBytes(flags) + metaJson.length` bytes of the file. */
export function encodeSnapshotHeader(
  metaJson: Uint8Array,
  dataBytes: number,
  dataCrc32c: number,
  flags = 0,
): Buffer {
  const fixedBytes = fixedHeaderBytes(flags);
  const crcAt = fixedBytes - 4;
  const bytes = Buffer.allocUnsafe(fixedBytes + metaJson.length);
  bytes.writeUInt32LE(SNAPSHOT_MAGIC, 0);
  bytes.writeUInt32LE(flags === 0 ? SNAPSHOT_FORMAT_VERSION : SNAPSHOT_FORMAT_VERSION_FLAGS, 4);
  bytes.writeUInt32LE(metaJson.length, 8);
  bytes.writeUInt32LE(dataCrc32c, 12);
  bytes.writeUInt32LE(dataBytes >>> 0, 16);
  bytes.writeUInt32LE(Math.floor(dataBytes / U32_RANGE), 20);
  if (flags !== 0) bytes.writeUInt32LE(flags >>> 0, 24);
  bytes.set(metaJson, fixedBytes);
  const headerCrc = crc32c(metaJson, crc32c(bytes.subarray(0, crcAt)));
  bytes.writeUInt32LE(headerCrc, crcAt);
  return bytes;
}

/**
 * The fixed part's length and meta length, or why the first bytes are not a snapshot header.
 * `fixed` holds the file's first SNAPSHOT_FIXED_HEADER_BYTES_MAX bytes (fewer if the file is shorter).
 */
export function readFixedHeader(fixed: Buffer): FixedHeader | string {
  if (fixed.length < SNAPSHOT_HEADER_BYTES) return `file of ${fixed.length} bytes has no header`;
  const magic = fixed.readUInt32LE(0);
  if (magic !== SNAPSHOT_MAGIC) return `bad magic 0x${magic.toString(16)}`;
  const version = fixed.readUInt32LE(4);
  let fixedBytes: number;
  if (version === SNAPSHOT_FORMAT_VERSION) fixedBytes = SNAPSHOT_HEADER_BYTES;
  else if (version === SNAPSHOT_FORMAT_VERSION_FLAGS) fixedBytes = SNAPSHOT_HEADER_V2_BYTES;
  else {
    return `format version ${version}; this build reads ${SNAPSHOT_FORMAT_VERSION} and ${SNAPSHOT_FORMAT_VERSION_FLAGS}`;
  }
  if (fixed.length < fixedBytes) return `file of ${fixed.length} bytes has no header`;
  const metaBytes = fixed.readUInt32LE(8);
  if (metaBytes > RAFT_STORAGE_LIMITS.snapshotMetaJsonBytesMax) {
    return `meta of ${metaBytes} bytes exceeds the limit`;
  }
  return { fixedBytes, metaBytes };
}

/** Decodes a full header (fixed part and meta JSON), or says why it is not valid. */
export function decodeSnapshotHeader(header: Buffer): SnapshotHeader | string {
  const fixed = readFixedHeader(header);
  if (typeof fixed === 'string') return fixed;
  const { fixedBytes, metaBytes } = fixed;
  if (header.length !== fixedBytes + metaBytes) return 'header cut short';
  const metaJson = header.subarray(fixedBytes);
  const crcAt = fixedBytes - 4;
  const stored = header.readUInt32LE(crcAt);
  const computed = crc32c(metaJson, crc32c(header.subarray(0, crcAt)));
  if (stored !== computed) return 'header checksum mismatch';
  const dataBytes = header.readUInt32LE(20) * U32_RANGE + header.readUInt32LE(16);
  if (dataBytes > SNAPSHOT_LIMITS.dataBytesMax)
    return `data of ${dataBytes} bytes exceeds the limit`;
  const flags = fixedBytes === SNAPSHOT_HEADER_V2_BYTES ? header.readUInt32LE(24) : 0;
  if ((flags & ~SNAPSHOT_FLAG_STATE_IN_MACHINE) !== 0)
    return `unknown flags 0x${flags.toString(16)}`;
  if ((flags & SNAPSHOT_FLAG_STATE_IN_MACHINE) !== 0 && dataBytes !== 0)
    return `a state-in-machine snapshot with ${dataBytes} bytes of data`;
  const meta = decodeSnapshotMetaJson(metaJson);
  if (typeof meta === 'string') return meta;
  return { meta, fixedBytes, metaBytes, dataBytes, dataCrc32c: header.readUInt32LE(12), flags };
}

export function snapshotFileName(index: number, term: number): string {
  return `${SNAPSHOT_FILE_PREFIX}${String(index).padStart(SNAPSHOT_INDEX_DIGITS, '0')}-${term}${SNAPSHOT_FILE_SUFFIX}`;
}

const FILE_NAME_PATTERN = new RegExp(
  `^${SNAPSHOT_FILE_PREFIX}(\\d{${SNAPSHOT_INDEX_DIGITS}})-(\\d+)\\${SNAPSHOT_FILE_SUFFIX}$`,
);

export function parseSnapshotFileName(name: string): { index: number; term: number } | undefined {
  const match = FILE_NAME_PATTERN.exec(name);
  if (match === null) return undefined;
  const index = Number(match[1]);
  const term = Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) return undefined;
  return { index, term };
}
