import { ByteWriter } from './byte-writer';

describe('ByteWriter', () => {
  it('writes ASCII a byte a character, growing as needed', () => {
    const w = new ByteWriter(4);
    w.u8(9);
    expect(w.ascii('7303421985316605953')).toBe(true);
    expect(w.ascii('')).toBe(true);
    expect(Buffer.from(w.take()).toString('latin1')).toBe('\t7303421985316605953');
  });

  it('refuses a text that is not ASCII, writing none of it', () => {
    const w = new ByteWriter(8);
    w.u8(1);
    expect(w.ascii('12é4')).toBe(false);
    expect(w.ascii('\u0080')).toBe(false);
    expect(w.ascii('\x7f')).toBe(true);
    expect([...w.take()]).toEqual([1, 0x7f]);
  });
});
