/**
 * Re-cuts a stream of byte pieces of any size into chunks of exactly `chunkBytes` (the last one
 * shorter), each a fresh buffer the consumer may keep. The producer may reuse its buffers once the
 * next piece is requested. Breaking off the iteration closes the source.
 */
export async function* rechunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1)
    throw new RangeError(`chunk size ${chunkBytes} is not a positive integer`);
  let staged = Buffer.allocUnsafe(chunkBytes);
  let filled = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      const count = Math.min(chunkBytes - filled, piece.length - offset);
      staged.set(piece.subarray(offset, offset + count), filled);
      filled += count;
      offset += count;
      if (filled === chunkBytes) {
        yield staged;
        staged = Buffer.allocUnsafe(chunkBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield staged.subarray(0, filled);
}
