/**
 * Child process of classic-level-kill-recovery.spec.ts: saves entries in batches of varying size
 * until it is SIGKILLed, printing `saved <last index>` after each save() resolved (i.e. after the
 * store acknowledged the batch as durable). Each batch also rewrites the last few stored entries
 * (same content), so truncation deletes and puts share batches as in a follower's log. Entry data is
 * derived from the index, so the parent can check every byte after recovery.
 */
import { EntryType, type Entry } from '../../core/types';
import { ClassicLevelRaftStorage } from '../classic-level-raft-storage';
import { payloadForIndex } from './entry-payload';

const MEMBERSHIP = {
  members: [{ id: 'n1', role: 'voter' as const, peerAddress: '127.0.0.1:8899' }],
};
const BATCH_SIZES = [1, 7, 64, 3, 200, 16];
const REWRITTEN_ENTRIES = 3;

function entryAt(index: number): Entry {
  return { index, term: 1, type: EntryType.Normal, data: payloadForIndex(index) };
}

async function main(): Promise<void> {
  const storage = await ClassicLevelRaftStorage.open(process.argv[2]);
  let state = await storage.load();
  if (state === undefined) {
    await storage.bootstrap('kill-test', { index: 0, term: 0, membership: MEMBERSHIP });
    state = (await storage.load())!;
  }
  let last = state.entries.length > 0 ? state.entries[state.entries.length - 1].index : 0;
  process.stdout.write(`ready ${last}\n`);
  for (let round = 0; ; round++) {
    const first = Math.max(1, last + 1 - REWRITTEN_ENTRIES);
    const newLast = last + BATCH_SIZES[round % BATCH_SIZES.length];
    const entries: Entry[] = [];
    for (let index = first; index <= newLast; index++) entries.push(entryAt(index));
    await storage.save({ hardState: { term: 1, vote: 'n1', commit: newLast }, entries });
    last = newLast;
    process.stdout.write(`saved ${last}\n`);
  }
}

void main();
