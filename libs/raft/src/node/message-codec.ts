import { MessageType, type Entry, type Message, type SnapshotMeta } from '../core/types';
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

export function encodeMessage(message: Message): Buffer {
  const entriesBytes = message.entries?.reduce((sum, e) => sum + e.data.length + 24, 0) ?? 0;
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
  if (message.entries !== undefined) {
    writer.u32(message.entries.length);
    for (const entry of message.entries)
      writer.u64(entry.index).u64(entry.term).u8(entry.type).bytes32(entry.data);
  }
  return writer.finish();
}

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
      // Entry data is copied out: the log keeps it long after the frame's buffer is gone.
      entries[i] = {
        index: reader.u64(),
        term: reader.u64(),
        type: reader.u8(),
        data: Uint8Array.from(reader.bytes32()),
      };
    }
    message.entries = entries;
  }
  reader.expectEnd();
  return message;
}
