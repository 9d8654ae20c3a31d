import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ClassicLevelRaftStorage } from './classic-level-raft-storage';
import { payloadForIndex } from './testing/entry-payload';

const fixture = join(__dirname, 'testing', 'save-until-killed.ts');
const repoRoot = join(__dirname, '..', '..', '..', '..');

/**
 * Runs the saver child until it reports `savesBeforeKill` acknowledged saves (or a time bound
 * passes), SIGKILLs it, and returns the last index of every save it reported.
 */
function runAndKill(dir: string, savesBeforeKill: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', fixture, dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const saved: number[] = [];
    const timeBound = setTimeout(() => child.kill('SIGKILL'), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word !== 'saved') return;
      saved.push(Number(value));
      if (saved.length === savesBeforeKill) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timeBound);
      if (signal !== 'SIGKILL')
        reject(new Error(`saver exited by itself (code ${code}, signal ${signal})`));
      else resolve(saved);
    });
  });
}

describe('ClassicLevelRaftStorage under SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xcron-raft-kill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every entry of every acknowledged save, contiguous and intact', async () => {
    let everSaved = 0;
    for (let round = 0; round < 3; round++) {
      const saved = await runAndKill(dir, 300);
      expect(saved.length).toBeGreaterThanOrEqual(300);
      everSaved = Math.max(everSaved, ...saved);

      const storage = await ClassicLevelRaftStorage.open(dir);
      const state = (await storage.load())!;
      await storage.close();
      expect(state.hardState.commit).toBeGreaterThanOrEqual(everSaved);
      const last = state.entries[state.entries.length - 1].index;
      expect(last).toBeGreaterThanOrEqual(everSaved);
      // The commit index travels in the same batch as the entries: never ahead of them.
      expect(state.hardState.commit).toBe(last);
      const bad = state.entries.filter(
        (e, i) =>
          e.index !== i + 1 ||
          e.term !== 1 ||
          !Buffer.from(e.data).equals(payloadForIndex(e.index)),
      );
      expect(bad.map((e) => e.index)).toEqual([]);
    }
  }, 90_000);
});
