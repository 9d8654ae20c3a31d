import { MalformedFrameError } from './transport.errors';

/**
 * Bounds-checked reading of a frame body. Every read that would run past the end throws
 * MalformedFrameError, so a decoder written with it cannot read outside the bytes a peer sent.
 */
export class WireReader {
  private offset = 0;

  constructor(
    private readonly bytes: Buffer,
    private readonly what: string,
  ) {}

  get remainingBytes(): number {
    return this.bytes.length - this.offset;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  u16(): number {
    this.need(2);
    const value = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** An exact integer below 2^53 in 8 bytes. */
  u64(): number {
    const high = this.u32();
    const low = this.u32();
    const value = high * 0x1_0000_0000 + low;
    if (!Number.isSafeInteger(value)) this.fail(`integer ${value} out of range`);
    return value;
  }

  /** A u32-length-prefixed byte string, as a view. */
  bytes32(): Buffer {
    return this.bytesOf(this.u32());
  }

  /** A u32-length-prefixed UTF-8 string. */
  string32(): string {
    return this.bytes32().toString('utf8');
  }

  /** `count` bytes as a view. */
  bytesOf(count: number): Buffer {
    this.need(count);
    const view = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return view;
  }

  /** A u16-length-prefixed UTF-8 string of at most `bytesMax` bytes. */
  string16(field: string, bytesMax: number): string {
    const length = this.u16();
    if (length > bytesMax) this.fail(`${field} is ${length} bytes, more than ${bytesMax}`);
    return this.bytesOf(length).toString('utf8');
  }

  /** Everything left, as UTF-8 text. */
  restAsString(): string {
    return this.bytesOf(this.remainingBytes).toString('utf8');
  }

  expectEnd(): void {
    if (this.remainingBytes !== 0) this.fail(`${this.remainingBytes} unexpected trailing bytes`);
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) this.fail('body ends early');
  }

  private fail(reason: string): never {
    throw new MalformedFrameError(`malformed ${this.what}: ${reason}`);
  }
}

/** A u16 length prefix and the UTF-8 bytes of `text`, cut to `bytesMax` bytes on a character boundary. */
export function string16(text: string, bytesMax: number): Buffer {
  const bytes = utf8Truncated(text, bytesMax);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** UTF-8 of `text`, at most `bytesMax` bytes, never ending inside a multi-byte character. */
export function utf8Truncated(text: string, bytesMax: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= bytesMax) return bytes;
  let end = bytesMax;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // back off continuation bytes
  return bytes.subarray(0, end);
}
