/** A payload that depends only on its sequence (length 1–600 bytes), so a reader can check it. */
export function payloadForSeq(seq: number): Buffer {
  const length = 1 + ((seq * 7919) % 600);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (seq * 31 + i * 17) & 0xff;
  return out;
}
