import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DiskQueue } from './index';
import { payloadForSeq } from '../test-fixtures/payload-for-seq';

const fixture = join(__dirname, '..', 'test-fixtures', 'append-until-killed.ts');
const repoRoot = join(__dirname, '..', '..', '..');

/**
 * Runs the appender child until it reports `syncedBeforeKill` durable appends (or a time bound
 * passes), SIGKILLs it, and returns every sequence it reported as synced.
 */
function runAndKill(dir: string, syncedBeforeKill: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', fixture, dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const synced: number[] = [];
    const timeBound = setTimeout(() => child.kill('SIGKILL'), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word !== 'synced') return;
      synced.push(Number(value));
      if (synced.length === syncedBeforeKill) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timeBound);
      if (signal !== 'SIGKILL')
        reject(new Error(`appender exited by itself (code ${code}, signal ${signal})`));
      else resolve(synced);
    });
  });
}

describe('DiskQueue under SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xcron-queue-kill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every record the killed appender reported synced, in order, and opens cleanly', async () => {
    let everSynced = 0;
    for (let round = 0; round < 3; round++) {
      const synced = await runAndKill(dir, 1500);
      expect(synced.length).toBeGreaterThanOrEqual(1500);
      everSynced = Math.max(everSynced, ...synced);

      const queue = await DiskQueue.open(dir, { segmentBytes: 64 * 1024 });
      expect(queue.lastSeq).toBeGreaterThanOrEqual(everSynced);
      let expected = 1;
      for await (const batch of queue.recordBatches()) {
        for (const record of batch) {
          // Sequences are contiguous from 1: nothing acknowledged or earlier is missing.
          expect(record.seq).toBe(expected);
          if (!record.payload.equals(payloadForSeq(record.seq)))
            throw new Error(`payload of ${record.seq} differs`);
          expected += 1;
        }
      }
      expect(expected - 1).toBe(queue.lastSeq);
      await queue.close();
    }
  }, 90_000);
});
