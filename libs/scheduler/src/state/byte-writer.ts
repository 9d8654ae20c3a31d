/**
 * Appends numbers, strings and bytes to one growing buffer: a command of a thousand tasks is
 * written in place, not assembled from thousands of small arrays (each a typed array to allocate
 * and collect). `take()` copies out what was written and starts over, so one writer is reused.
 */
export class ByteWriter {
  private buffer: Buffer;
  private view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** Room for `bytes` more. */
  reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, value);
    this.length += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
  }

  // patch*: a number at an earlier position (a length known only after what it measures).

  patchU8(at: number, value: number): void {
    this.buffer[at] = value;
  }

  patchU16(at: number, value: number): void {
    this.view.setUint16(at, value);
  }

  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value);
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value);
    this.length += 8;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /** The UTF-8 bytes of `text`, no length; returns how many were written. */
  utf8(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(text.length * 3);
    const written = this.buffer.write(text, this.length, 'utf8');
    this.length += written;
    return written;
  }

  /**
   * ASCII `text`, a byte a character, written in a loop (a task id: no native call for 19
   * bytes); false, with nothing written, when a character is not ASCII.
   */
  ascii(text: string): boolean {
    const length = text.length;
    this.reserve(length);
    const buffer = this.buffer;
    const start = this.length;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return false;
      buffer[start + i] = code;
    }
    this.length = start + length;
    return true;
  }

  /** A copy of everything written; the writer is empty again. */
  take(): Uint8Array {
    const bytes = new Uint8Array(this.length);
    bytes.set(this.buffer.subarray(0, this.length));
    this.length = 0;
    return bytes;
  }
}
