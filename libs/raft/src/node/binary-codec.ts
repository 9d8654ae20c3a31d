/** A small growable little-endian writer and its reader, for the peer wire formats. */
export class BinaryWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 256) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
    return this;
  }

  /** An exact integer up to 2^53 in 8 bytes. */
  u64(value: number): this {
    this.reserve(8);
    this.buffer.writeUInt32LE(value % 0x1_0000_0000, this.length);
    this.buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), this.length + 4);
    this.length += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(value: string): this {
    return this.bytes(Buffer.from(value, 'utf8'));
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}

/** Thrown on bytes that do not decode: the peer sent something malformed. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(`malformed peer message: ${message}`);
    this.name = 'DecodeError';
  }
}

export class BinaryReader {
  private offset = 0;
  private readonly buffer: Buffer;

  constructor(bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.offset++];
  }

  u32(): number {
    this.need(4);
    const value = this.buffer.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  u64(): number {
    this.need(8);
    const value =
      this.buffer.readUInt32LE(this.offset + 4) * 0x1_0000_0000 +
      this.buffer.readUInt32LE(this.offset);
    this.offset += 8;
    if (!Number.isSafeInteger(value)) throw new DecodeError(`integer ${value} out of range`);
    return value;
  }

  /** A view into the input: copy it to keep it beyond the input's life. */
  bytes(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  end(): void {
    if (this.offset !== this.buffer.length)
      throw new DecodeError(`${this.buffer.length - this.offset} trailing bytes`);
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length)
      throw new DecodeError(`cut short at byte ${this.offset}`);
  }
}
