import type { StoreView } from '../store/state-store';

/**
 * The snapshot a leader sends a follower that fell behind: every entry of its state store, read
 * from a frozen view (a LevelDB snapshot), so applies go on while it streams. Binary frames in
 * ~1 MiB chunks: the magic, then per entry u32 key length, key, u32 value length, value (big
 * endian). The receiver writes the entries into its own store as they come: a million tasks
 * never sit in memory whole on either side.
 */
const MAGIC = new TextEncoder().encode('XCRONSTATE2\n');
const CHUNK_BYTES = 1024 * 1024;
/** Bounds a frame's declared lengths, so a corrupt stream fails instead of allocating gigabytes. */
const FRAME_BYTES_MAX = 64 * 1024 * 1024;

export async function* writeSnapshotStream(view: StoreView): AsyncGenerator<Uint8Array> {
  let chunk = new Uint8Array(CHUNK_BYTES);
  chunk.set(MAGIC, 0);
  let at = MAGIC.length;
  const all = { gte: new Uint8Array(0), lt: Uint8Array.of(0xff, 0xff) };
  for await (const batch of view.entries(all)) {
    for (const [key, value] of batch) {
      const need = 8 + key.length + value.length;
      if (at + need > chunk.length) {
        if (at > 0) yield chunk.subarray(0, at);
        chunk = new Uint8Array(Math.max(CHUNK_BYTES, need));
        at = 0;
      }
      const dv = new DataView(chunk.buffer, chunk.byteOffset);
      dv.setUint32(at, key.length);
      chunk.set(key, at + 4);
      dv.setUint32(at + 4 + key.length, value.length);
      chunk.set(value, at + 8 + key.length);
      at += need;
    }
  }
  if (at > 0) yield chunk.subarray(0, at);
}

/**
 * Parses a snapshot stream into batches of entries, whatever its chunking. Throws an Error saying
 * what is wrong (not a state snapshot, a frame cut short, a length out of bounds).
 */
export async function* readSnapshotStream(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<[Uint8Array, Uint8Array][]> {
  let buffer: Uint8Array = new Uint8Array(0);
  let magicSeen = false;
  let offset = 0;
  for await (const chunk of chunks) {
    buffer = concat(buffer.subarray(offset), chunk);
    offset = 0;
    if (!magicSeen) {
      if (buffer.length < MAGIC.length) continue;
      for (let i = 0; i < MAGIC.length; i++)
        if (buffer[i] !== MAGIC[i])
          throw new Error(
            startsWithJson(buffer)
              ? 'the snapshot is in the JSON-lines format of an earlier xcron, which this version does not read'
              : 'the snapshot is not an xcron state snapshot (bad magic)',
          );
      magicSeen = true;
      offset = MAGIC.length;
    }
    const batch: [Uint8Array, Uint8Array][] = [];
    const dv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    for (;;) {
      if (offset + 4 > buffer.length) break;
      const keyLength = dv.getUint32(offset);
      if (keyLength > FRAME_BYTES_MAX)
        throw new Error(`snapshot key length ${keyLength} is out of bounds`);
      if (offset + 8 + keyLength > buffer.length) break;
      const valueLength = dv.getUint32(offset + 4 + keyLength);
      if (valueLength > FRAME_BYTES_MAX)
        throw new Error(`snapshot value length ${valueLength} is out of bounds`);
      const end = offset + 8 + keyLength + valueLength;
      if (end > buffer.length) break;
      batch.push([
        buffer.slice(offset + 4, offset + 4 + keyLength),
        buffer.slice(offset + 8 + keyLength, end),
      ]);
      offset = end;
    }
    if (batch.length > 0) yield batch;
  }
  if (!magicSeen) throw new Error('the snapshot is empty or cut short before its header');
  if (offset !== buffer.length)
    throw new Error(
      `the snapshot ends inside an entry (${buffer.length - offset} bytes left over)`,
    );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function startsWithJson(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7b; // '{'
}
