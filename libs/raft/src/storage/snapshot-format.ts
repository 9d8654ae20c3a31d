import { crc32c } from '@node-rs/crc32';
import type { SnapshotMeta } from '../core/types';
import { decodeSnapshotMetaJson } from './snapshot-meta-json';
import {
  RAFT_STORAGE_LIMITS,
  SNAPSHOT_FILE_PREFIX,
  SNAPSHOT_FILE_SUFFIX,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_INDEX_DIGITS,
  SNAPSHOT_LIMITS,
  SNAPSHOT_MAGIC,
} from './storage.constants';

/**
 * One snapshot file, little endian:
 *
 *   0  u32 magic "XCRS"          4  u32 format version     8  u32 meta JSON bytes (M)
 *   12 u32 CRC32C of the data    16 u64 data bytes (D)     24 u32 CRC32C of bytes 0..24 ‖ meta JSON
 *   28 meta JSON (M bytes)       28 + M: the state machine's data (D bytes)
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
}

export interface SnapshotHeader {
  meta: SnapshotMeta;
  metaBytes: number;
  dataBytes: number;
  dataCrc32c: number;
}

const U32_RANGE = 0x1_0000_0000;

/** Header plus meta JSON: the first `SNAPSHOT_HEADER_BYTES + metaJson.length` bytes of the file. */
export function encodeSnapshotHeader(
  metaJson: Uint8Array,
  dataBytes: number,
  dataCrc32c: number,
): Buffer {
  const bytes = Buffer.allocUnsafe(SNAPSHOT_HEADER_BYTES + metaJson.length);
  bytes.writeUInt32LE(SNAPSHOT_MAGIC, 0);
  bytes.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, 4);
  bytes.writeUInt32LE(metaJson.length, 8);
  bytes.writeUInt32LE(dataCrc32c, 12);
  bytes.writeUInt32LE(dataBytes >>> 0, 16);
  bytes.writeUInt32LE(Math.floor(dataBytes / U32_RANGE), 20);
  bytes.set(metaJson, SNAPSHOT_HEADER_BYTES);
  const headerCrc = crc32c(metaJson, crc32c(bytes.subarray(0, 24)));
  bytes.writeUInt32LE(headerCrc, 24);
  return bytes;
}

/** The fixed part's meta length, or why the first bytes are not a snapshot header. */
export function readMetaBytes(fixed: Buffer): number | string {
  if (fixed.length < SNAPSHOT_HEADER_BYTES) return `file of ${fixed.length} bytes has no header`;
  const magic = fixed.readUInt32LE(0);
  if (magic !== SNAPSHOT_MAGIC) return `bad magic 0x${magic.toString(16)}`;
  const version = fixed.readUInt32LE(4);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    return `format version ${version}; this build reads ${SNAPSHOT_FORMAT_VERSION}`;
  }
  const metaBytes = fixed.readUInt32LE(8);
  if (metaBytes > RAFT_STORAGE_LIMITS.snapshotMetaJsonBytesMax) {
    return `meta of ${metaBytes} bytes exceeds the limit`;
  }
  return metaBytes;
}

/** Decodes a full header (fixed part and meta JSON), or says why it is not valid. */
export function decodeSnapshotHeader(header: Buffer): SnapshotHeader | string {
  const metaBytes = readMetaBytes(header);
  if (typeof metaBytes === 'string') return metaBytes;
  if (header.length !== SNAPSHOT_HEADER_BYTES + metaBytes) return 'header cut short';
  const metaJson = header.subarray(SNAPSHOT_HEADER_BYTES);
  const stored = header.readUInt32LE(24);
  const computed = crc32c(metaJson, crc32c(header.subarray(0, 24)));
  if (stored !== computed) return 'header checksum mismatch';
  const dataBytes = header.readUInt32LE(20) * U32_RANGE + header.readUInt32LE(16);
  if (dataBytes > SNAPSHOT_LIMITS.dataBytesMax)
    return `data of ${dataBytes} bytes exceeds the limit`;
  const meta = decodeSnapshotMetaJson(metaJson);
  if (typeof meta === 'string') return meta;
  return { meta, metaBytes, dataBytes, dataCrc32c: header.readUInt32LE(12) };
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
