import {
  MessageType,
  type Entry,
  type EntryType,
  type Message,
  type SnapshotMeta,
} from '../core/types';
import { WireReader } from '../transport/wire-reader';
import { WireWriter } from '../transport/wire-writer';
import { MalformedFrameError } from '../transport/transport.errors';

/**
 * Raft messages on the wire: binary, because Append messages carry the bulk of the traffic.
 * Layout: version u8, type u8, presence bits u16 (which optional fields follow), from, to, term,
 * then the optional fields in a fixed order, then the entries (count u32; index, term, type, data).
 */
const VERSION = 1;

const TYPES: readonly MessageType[] = Object.values(MessageType);

const FIELD = {
  logIndex: 1 << 0,
  logTerm: 1 << 1,
  commit: 1 << 2,
  reject: 1 << 3,
  rejectHint: 1 << 4,
  context: 1 << 5,
  snapshot: 1 << 6,
  entries: 1 << 7,
} as const;

/**
 * `message` on the wire. `entriesSection`, when given, is `encodeEntries(message.entries)` made
 * once for several messages that carry the same entries (a leader's Appends to followers at the
 * same position): each message then costs one copy of those bytes instead of encoding every entry.
 */
export function encodeMessage(message: Message, entriesSection?: Uint8Array): Buffer {
  const entriesBytes =
    entriesSection?.length ??
    (message.entries === undefined ? 0 : entriesSectionBytes(message.entries));
  const writer = new WireWriter(128 + entriesBytes);
  let present = 0;
  if (message.logIndex !== undefined) present |= FIELD.logIndex;
  if (message.logTerm !== undefined) present |= FIELD.logTerm;
  if (message.commit !== undefined) present |= FIELD.commit;
  if (message.reject) present |= FIELD.reject;
  if (message.rejectHint !== undefined) present |= FIELD.rejectHint;
  if (message.context !== undefined) present |= FIELD.context;
  if (message.snapshot !== undefined) present |= FIELD.snapshot;
  if (message.entries !== undefined) present |= FIELD.entries;
  writer.u8(VERSION).u8(TYPES.indexOf(message.type)).u32(present);
  writer.string32(message.from).string32(message.to).u64(message.term);
  if (message.logIndex !== undefined) writer.u64(message.logIndex);
  if (message.logTerm !== undefined) writer.u64(message.logTerm);
  if (message.commit !== undefined) writer.u64(message.commit);
  if (message.rejectHint !== undefined) writer.u64(message.rejectHint);
  if (message.context !== undefined) writer.string32(message.context);
  if (message.snapshot !== undefined) writer.string32(JSON.stringify(message.snapshot));
  if (message.entries !== undefined) writer.raw(entriesSection ?? encodeEntries(message.entries));
  return writer.finish();
}

/** Bytes of one entry in the entries section besides its data: index, term, type, data length. */
const ENTRY_OVERHEAD_BYTES = 8 + 8 + 1 + 4;

function entriesSectionBytes(entries: readonly Entry[]): number {
  let bytes = 4;
  for (const entry of entries) bytes += ENTRY_OVERHEAD_BYTES + entry.data.length;
  return bytes;
}

/** The entries section of a message: count u32; per entry index u64, term u64, type u8, data32. */
export function encodeEntries(entries: readonly Entry[]): Buffer {
  const out = Buffer.allocUnsafe(entriesSectionBytes(entries));
  out.writeUInt32BE(entries.length, 0);
  let offset = 4;
  for (const entry of entries) {
    offset = writeU64(out, offset, entry.index);
    offset = writeU64(out, offset, entry.term);
    out[offset++] = entry.type;
    out.writeUInt32BE(entry.data.length, offset);
    out.set(entry.data, offset + 4);
    offset += 4 + entry.data.length;
  }
  return out;
}

function writeU64(out: Buffer, offset: number, value: number): number {
  out.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  out.writeUInt32BE(value >>> 0, offset + 4);
  return offset + 8;
}

/**
 * Decodes one message. Entry data are views of `bytes`, not copies: the log keeps them as long as
 * it holds the entries, so `bytes` must never be reused or changed afterwards (a received frame's
 * body is a fresh buffer, or a view of one the socket handed over and never reuses).
 */
export function decodeMessage(bytes: Uint8Array): Message {
  const reader = new WireReader(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    'raft message',
  );
  const version = reader.u8();
  if (version !== VERSION) throw new MalformedFrameError(`unsupported message version ${version}`);
  const type = TYPES[reader.u8()];
  if (type === undefined) throw new MalformedFrameError('unknown message type');
  const present = reader.u32();
  const message: Message = {
    type,
    from: reader.string32(),
    to: reader.string32(),
    term: reader.u64(),
  };
  if (present & FIELD.logIndex) message.logIndex = reader.u64();
  if (present & FIELD.logTerm) message.logTerm = reader.u64();
  if (present & FIELD.commit) message.commit = reader.u64();
  if (present & FIELD.reject) message.reject = true;
  if (present & FIELD.rejectHint) message.rejectHint = reader.u64();
  if (present & FIELD.context) message.context = reader.string32();
  if (present & FIELD.snapshot) message.snapshot = JSON.parse(reader.string32()) as SnapshotMeta;
  if (present & FIELD.entries) {
    const count = reader.u32();
    const entries: Entry[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const index = reader.u64();
      const term = reader.u64();
      const type = reader.u8() as EntryType;
      const data = reader.bytes32();
      // A plain Uint8Array view (the core's type), sharing the frame's memory.
      entries[i] = {
        index,
        term,
        type,
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      };
    }
    message.entries = entries;
  }
  reader.expectEnd();
  return message;
}
