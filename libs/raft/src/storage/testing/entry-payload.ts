/** The data of entry `index` in durability tests: derived from the index, so every byte can be checked. */
export function payloadForIndex(index: number, sizeBytes = 200): Uint8Array {
  const data = new Uint8Array(sizeBytes);
  let x = (index * 2654435761) >>> 0;
  for (let i = 0; i < sizeBytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}
