import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { CRC32C_NATIVE_MIN_BYTES, crc32c, crc32cJs } from './crc32c';

function ascending(length: number, from = 0, step = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (from + i * step) & 0xff);
}

describe('crc32c', () => {
  it('gives the known check values (RFC 3720 B.4 and the CRC catalogue)', () => {
    const vectors: Array<[Uint8Array, number]> = [
      [Buffer.from('123456789'), 0xe3069283],
      [new Uint8Array(0), 0x00000000],
      [new Uint8Array(32), 0x8a9136aa],
      [new Uint8Array(32).fill(0xff), 0x62a8ab43],
      [ascending(32), 0x46dd794e],
      [ascending(32, 31, -1), 0x113fdb5c],
    ];
    for (const [input, expected] of vectors) {
      expect(crc32cJs(input, 0, input.length)).toBe(expected);
      expect(crc32c(input)).toBe(expected);
      expect(nativeCrc32c(input)).toBe(expected);
    }
  });

  it('checksums a range of a larger buffer, not the buffer', () => {
    const input = Buffer.from('xx123456789yyy');
    expect(crc32cJs(input, 2, 11)).toBe(0xe3069283);
    expect(crc32c(input, 2, 11)).toBe(0xe3069283);
    const large = Buffer.alloc(CRC32C_NATIVE_MIN_BYTES * 3, 7);
    const start = 5;
    const end = start + CRC32C_NATIVE_MIN_BYTES * 2 + 3;
    expect(crc32c(large, start, end)).toBe(nativeCrc32c(large.subarray(start, end)));
  });

  it('matches the native implementation on random inputs, ranges and lengths around every threshold', () => {
    const lengths = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 180, max: 260 }),
      fc.integer({ min: CRC32C_NATIVE_MIN_BYTES - 20, max: CRC32C_NATIVE_MIN_BYTES + 20 }),
      fc.integer({ min: 0, max: 5000 }),
    );
    fc.assert(
      fc.property(
        lengths,
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (length, before, after, seed) => {
          const buffer = Buffer.alloc(before + length + after);
          let state = seed | 1;
          for (let i = 0; i < buffer.length; i++) {
            state ^= state << 13;
            state ^= state >>> 17;
            state ^= state << 5;
            buffer[i] = state & 0xff;
          }
          const end = before + length;
          const expected = nativeCrc32c(buffer.subarray(before, end));
          expect(crc32cJs(buffer, before, end)).toBe(expected);
          expect(crc32c(buffer, before, end)).toBe(expected);
        },
      ),
      { numRuns: 2000, seed: 32 },
    );
  });

  it('accepts plain Uint8Arrays as well as Buffers', () => {
    const plain = new TextEncoder().encode('123456789');
    expect(crc32c(plain)).toBe(0xe3069283);
    const large = new Uint8Array(CRC32C_NATIVE_MIN_BYTES + 1).fill(1);
    expect(crc32c(large, 1)).toBe(nativeCrc32c(large.subarray(1)));
  });
});
