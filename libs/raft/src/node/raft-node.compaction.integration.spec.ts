import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftNode } from './raft-node';
import { CountingMachine, freePorts, waitFor } from './testing/integration-support';

/** Log compaction with large entries: a single node on classic-level, in a temp directory. */

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    try {
      total += statSync(join(dir, name)).size;
    } catch {
      // LevelDB may delete a file between the listing and the stat.
    }
  }
  return total;
}

describe('RaftNode: log compaction margin in bytes', () => {
  const root = mkdtempSync(join(tmpdir(), 'xcron-raft-margin-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps at most compactionMarginBytes of entries behind a snapshot, and reclaims the space on disk', async () => {
    const port = (await freePorts(1))[0];
    const id = `127.0.0.1:${port}`;
    const node = await RaftNode.start({
      id,
      dataDir: root,
      listenHost: '127.0.0.1',
      listenPort: port,
      advertisedPeerAddress: id,
      advertisedHttpAddress: `127.0.0.1:${port + 1}`,
      initialMembers: [{ id, role: 'voter', peerAddress: id }],
      stateMachine: new CountingMachine(),
      tickMs: 20,
      snapshotEveryEntries: 20,
      compactionMarginEntries: 1_000,
      compactionMarginBytes: 1024 * 1024,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      await waitFor('leadership', () => node.status().role === 'leader');
      // 200 KB entries: the entry margin (1,000) would keep the whole log, the byte margin 5 entries.
      for (let i = 0; i < 62; i++) await node.propose(randomBytes(200_000));
      const snapshotIndex = (): number =>
        Math.max(
          0,
          ...readdirSync(join(root, 'snapshots'))
            .filter((name) => name.endsWith('.snap'))
            .map((name) => Number(name.split('-')[1])),
        );
      await waitFor('a snapshot past index 60', () => snapshotIndex() >= 60);
      await waitFor('the log compacted behind it', () => node.status().firstIndex - 1 >= 55);
      // 5 entries of 200 KB fit in 1 MiB, a 6th would not.
      expect(node.status().firstIndex - 1).toBe(snapshotIndex() - 5);
      // On disk: ~13 MB were written; what is left is the entries since the compaction point
      // (some 2 MB), once LevelDB's compactRange ran in the background.
      await waitFor(
        'the log store reclaiming the space',
        () => dirBytes(join(root, 'log')) < 4_000_000,
      );
    } finally {
      await node.stop();
    }
  });
});
