import { crc32c } from '@node-rs/crc32';
import {
  FRAME_HEADER_BYTES,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
} from './queue.constants';

/**
 * On-disk layout of one record: `[u32 payload length][u32 CRC32C][u64 sequence][payload]`, little
 * endian. The CRC covers the sequence and the payload; a wrong length makes it cover the wrong
 * bytes, so the length is checked by the CRC too.
 */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Writes the frame of `payload` with sequence `seq` into `target` at `offset`. */
export function encodeFrame(
  target: Buffer,
  offset: number,
  seq: number,
  payload: Uint8Array,
): void {
  target.writeUInt32LE(payload.length, offset);
  writeSeq(target, offset + 8, seq);
  target.set(payload, offset + FRAME_HEADER_BYTES);
  const crc = crc32c(target.subarray(offset + 8, offset + FRAME_HEADER_BYTES + payload.length));
  target.writeUInt32LE(crc, offset + 4);
}

export type FrameCheck =
  | { kind: 'ok'; seq: number; payloadBytes: number }
  /** Fewer bytes than the header or the declared payload need: a record cut short. */
  | { kind: 'incomplete'; declaredBytes: number }
  | { kind: 'bad'; reason: string; declaredBytes: number };

/**
 * Checks the frame starting at `offset` of `source`, which holds `available` valid bytes from
 * there. Never reads outside them.
 */
export function checkFrame(
  source: Buffer,
  offset: number,
  available: number,
  recordBytesMax: number,
): FrameCheck {
  if (available < FRAME_HEADER_BYTES)
    return { kind: 'incomplete', declaredBytes: FRAME_HEADER_BYTES };
  const payloadBytes = source.readUInt32LE(offset);
  if (payloadBytes > recordBytesMax) {
    return {
      kind: 'bad',
      reason: `record length ${payloadBytes} exceeds the limit of ${recordBytesMax} bytes`,
      declaredBytes: FRAME_HEADER_BYTES,
    };
  }
  const declaredBytes = FRAME_HEADER_BYTES + payloadBytes;
  if (available < declaredBytes) return { kind: 'incomplete', declaredBytes };
  const stored = source.readUInt32LE(offset + 4);
  const computed = crc32c(source.subarray(offset + 8, offset + declaredBytes));
  if (stored !== computed) {
    return {
      kind: 'bad',
      reason: `checksum mismatch (stored 0x${hex32(stored)}, computed 0x${hex32(computed)})`,
      declaredBytes,
    };
  }
  return { kind: 'ok', seq: readSeq(source, offset + 8), payloadBytes };
}

export function encodeSegmentHeader(baseSeq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32LE(SEGMENT_MAGIC, 0);
  header.writeUInt32LE(SEGMENT_FORMAT_VERSION, 4);
  writeSeq(header, 8, baseSeq);
  return header;
}

/** Why a segment header is not the one expected for `baseSeq`, or undefined when it is. */
export function segmentHeaderProblem(header: Buffer, baseSeq: number): string | undefined {
  if (header.length < SEGMENT_HEADER_BYTES) return `header cut short (${header.length} bytes)`;
  const magic = header.readUInt32LE(0);
  if (magic !== SEGMENT_MAGIC) return `not a queue segment (magic 0x${hex32(magic)})`;
  const version = header.readUInt32LE(4);
  if (version !== SEGMENT_FORMAT_VERSION) return `unsupported segment format version ${version}`;
  const stored = readSeq(header, 8);
  if (stored !== baseSeq) return `header names base sequence ${stored}, file name says ${baseSeq}`;
  return undefined;
}

export function writeSeq(target: Buffer, offset: number, seq: number): void {
  target.writeUInt32LE(seq % 0x1_0000_0000, offset);
  target.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), offset + 4);
}

/** Reads a u64 sequence; values above 2^53 come back inexact and are refused by the caller's order checks. */
export function readSeq(source: Buffer, offset: number): number {
  return source.readUInt32LE(offset + 4) * 0x1_0000_0000 + source.readUInt32LE(offset);
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}
