import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record frame and
 * cursor file.
 *
 * Two implementations give the same value: a JavaScript slicing-by-8 for small inputs and the native
 * `@node-rs/crc32` (SSE4.2) for large ones. The native call costs about 250 ns however small the
 * input (N-API, plus a `subarray` to hand it the range), then about 0.2 ns a byte; the JavaScript one
 * has no fixed cost and takes about 1 ns a byte. Measured on the benchmark machine the two cross
 * between 384 and 512 bytes, so records of a few hundred bytes, the common case of the journal, stay
 * in JavaScript, and anything of at least `CRC32C_NATIVE_MIN_BYTES` goes native.
 */
export const CRC32C_NATIVE_MIN_BYTES = 512;

const POLYNOMIAL = 0x82f63b78;

/**
 * Slicing-by-8 tables, built once at load (8 × 256 entries). `T0` is the classic byte-at-a-time
 * table; `Tk[n]` is the CRC of byte n followed by k zero bytes, so eight bytes fold in with eight
 * independent lookups instead of eight dependent ones.
 */
function buildTables(): Int32Array[] {
  const tables: Int32Array[] = [];
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t0[n] = c;
  }
  tables.push(t0);
  for (let k = 1; k < 8; k++) {
    const previous = tables[k - 1];
    const table = new Int32Array(256);
    for (let n = 0; n < 256; n++) table[n] = (previous[n] >>> 8) ^ t0[previous[n] & 0xff];
    tables.push(table);
  }
  return tables;
}

// Eight separate arrays rather than one of 2,048: V8 then needs no index arithmetic per lookup
// (measured about 15% faster).
const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables();

/**
 * CRC32C of `source[start…end)` in JavaScript (slicing-by-8). No allocation, no bounds beyond the
 * range; callers pass a valid range.
 */
export function crc32cJs(source: Uint8Array, start: number, end: number): number {
  let crc = -1;
  let i = start;
  for (const last = end - 8; i <= last; i += 8) {
    const low =
      crc ^ (source[i] | (source[i + 1] << 8) | (source[i + 2] << 16) | (source[i + 3] << 24));
    crc =
      T7[low & 0xff] ^
      T6[(low >>> 8) & 0xff] ^
      T5[(low >>> 16) & 0xff] ^
      T4[low >>> 24] ^
      T3[source[i + 4]] ^
      T2[source[i + 5]] ^
      T1[source[i + 6]] ^
      T0[source[i + 7]];
  }
  for (; i < end; i++) crc = T0[(crc ^ source[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** CRC32C of `source[start…end)` (the whole of `source` by default), as an unsigned 32-bit number. */
export function crc32c(source: Uint8Array, start = 0, end: number = source.length): number {
  if (end - start < CRC32C_NATIVE_MIN_BYTES) return crc32cJs(source, start, end);
  return nativeCrc32c(start === 0 && end === source.length ? source : source.subarray(start, end));
}
