import { EntryType, type Entry, type SnapshotMeta } from '../../core/types';

/** Entries and metas shared by the storage specs. */

export const MEMBERSHIP = {
  members: [
    { id: 'n1', role: 'voter' as const, peerAddress: '127.0.0.1:8899' },
    { id: 'n2', role: 'voter' as const, peerAddress: '127.0.0.1:8900' },
  ],
};

export const INITIAL: SnapshotMeta = { index: 0, term: 0, membership: MEMBERSHIP };

export function entry(index: number, term: number, text = `e${index}-t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const list: Entry[] = [];
  for (let index = from; index <= to; index++) list.push(entry(index, term));
  return list;
}
