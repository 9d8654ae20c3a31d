import { EntryType, MessageType, type Message } from '../core/types';
import { MalformedFrameError } from '../transport/transport.errors';
import { decodeMessage, encodeEntries, encodeMessage } from './message-codec';

describe('Raft message codec', () => {
  it('round-trips every field', () => {
    const messages: Message[] = [
      {
        type: MessageType.Vote,
        from: 'a:1',
        to: 'b:2',
        term: 7,
        logIndex: 2 ** 40,
        logTerm: 6,
        context: 'transfer',
      },
      {
        type: MessageType.Append,
        from: 'a',
        to: 'b',
        term: 3,
        logIndex: 10,
        logTerm: 2,
        commit: 9,
        entries: [
          { index: 11, term: 3, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
          { index: 12, term: 3, type: EntryType.ConfChange, data: new Uint8Array(0) },
        ],
      },
      {
        type: MessageType.AppendResp,
        from: 'b',
        to: 'a',
        term: 3,
        logIndex: 10,
        reject: true,
        rejectHint: 4,
        logTerm: 1,
      },
      {
        type: MessageType.Snapshot,
        from: 'a',
        to: 'c',
        term: 9,
        snapshot: {
          index: 100,
          term: 8,
          membership: { members: [{ id: 'a', role: 'voter', peerAddress: 'a:1' }] },
        },
      },
      { type: MessageType.Heartbeat, from: 'a', to: 'b', term: 1, commit: 0 },
    ];
    for (const message of messages) expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('refuses bytes that are cut short, trailing or of another version', () => {
    const bytes = encodeMessage({ type: MessageType.Heartbeat, from: 'a', to: 'b', term: 1 });
    expect(() => decodeMessage(bytes.subarray(0, bytes.length - 1))).toThrow(MalformedFrameError);
    expect(() => decodeMessage(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/trailing/);
    const other = Buffer.from(bytes);
    other[0] = 99;
    expect(() => decodeMessage(other)).toThrow(/version 99/);
  });

  it('encodes the same bytes from a shared entries section, and decodes entry data as views', () => {
    const entries = [
      { index: 2 ** 33 + 1, term: 5, type: EntryType.Normal, data: new Uint8Array([9, 8, 7]) },
      { index: 2 ** 33 + 2, term: 5, type: EntryType.ConfChange, data: new Uint8Array(0) },
    ];
    const section = encodeEntries(entries);
    for (const to of ['b', 'c']) {
      const message: Message = {
        type: MessageType.Append,
        from: 'a',
        to,
        term: 5,
        logIndex: 2 ** 33,
        logTerm: 4,
        commit: 3,
        entries,
      };
      const bytes = encodeMessage(message, section);
      expect(bytes).toEqual(encodeMessage(message));
      const decoded = decodeMessage(bytes);
      expect(decoded).toEqual(message);
      expect(decoded.entries?.[0].data.buffer).toBe(bytes.buffer);
      expect(decoded.entries?.[0].data).not.toBeInstanceOf(Buffer);
    }
  });
});
