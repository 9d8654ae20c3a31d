import { hasErrorCode, type FileHandle, type FileSystem } from '../fs/file-system';
import { SeededRandom } from '@xcron/testing';
import { SimulatedFileSystem, type PowerLossOptions } from './simulated-file-system';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function text(data: Uint8Array): string {
  return decoder.decode(data);
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

async function readAll(handle: FileHandle): Promise<string> {
  const buffer = new Uint8Array(await handle.sizeBytes());
  const count = await handle.read(buffer, 0, buffer.length, 0);
  return text(buffer.subarray(0, count));
}

/** A file whose entry and content are durable, ready for unsynced changes on top. */
async function durableFile(
  fs: SimulatedFileSystem,
  path: string,
  content: string,
): Promise<FileHandle> {
  await fs.mkdirp(path.slice(0, path.lastIndexOf('/')) || '/');
  const handle = await fs.create(path);
  await handle.writev([bytes(content)], 0);
  await handle.datasync();
  await fs.syncDir(path.slice(0, path.lastIndexOf('/')) || '/');
  return handle;
}

const KEEP_NOTHING: PowerLossOptions = { keepUnsynced: 'none', tearLastWrite: false };
const KEEP_EVERYTHING: PowerLossOptions = { keepUnsynced: 'all', tearLastWrite: false };

describe('SimulatedFileSystem', () => {
  describe('file contract', () => {
    it('reads back what was written, with short counts and 0 past the end', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      await handle.writev([bytes('hello '), bytes(''), bytes('world')], 0);

      expect(await handle.sizeBytes()).toBe(11);
      const buffer = new Uint8Array(20);
      expect(await handle.read(buffer, 2, 5, 6)).toBe(5);
      expect(text(buffer.subarray(2, 7))).toBe('world');
      expect(await handle.read(buffer, 0, 20, 8)).toBe(3);
      expect(text(buffer.subarray(0, 3))).toBe('rld');
      expect(await handle.read(buffer, 0, 20, 11)).toBe(0);
      expect(await handle.read(buffer, 0, 20, 1_000)).toBe(0);
    });

    it('overwrites in place and fills a gap past the end with zeros', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      await handle.writev([bytes('abcdef')], 0);
      await handle.writev([bytes('XY')], 2);
      await handle.writev([bytes('Z')], 9);

      expect(Array.from(fs.readFileCurrent('/f'))).toEqual([
        ...bytes('abXYef'),
        0,
        0,
        0,
        ...bytes('Z'),
      ]);
    });

    it('truncates down and extends with zeros, even over bytes that were there before', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      await handle.writev([bytes('abcdef')], 0);
      await handle.truncate(2);
      expect(await handle.sizeBytes()).toBe(2);
      await handle.truncate(5);
      expect(Array.from(fs.readFileCurrent('/f'))).toEqual([...bytes('ab'), 0, 0, 0]);
    });

    it('copies written buffers, so the caller may reuse them', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      const buffer = bytes('aaaa');
      const written = handle.writev([buffer], 0);
      buffer.fill(0x62);
      await written;
      expect(text(fs.readFileCurrent('/f'))).toBe('aaaa');
    });

    it('settles asynchronously, but the effect happens when the call is made', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      let settled = false;
      const written = handle.writev([bytes('x')], 0).then(() => {
        settled = true;
      });
      expect(settled).toBe(false);
      expect(text(fs.readFileCurrent('/f'))).toBe('x');
      await written;
      expect(settled).toBe(true);
    });

    it('writes on the calling thread with writevSync, counted and failed as writev', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', '');
      fs.resetCounters();
      const buffer = bytes('world');
      handle.writevSync([bytes('hello '), buffer], 0);
      buffer.fill(0x62); // copied at the call, like writev
      expect(text(fs.readFileCurrent('/d/f'))).toBe('hello world');
      expect(fs.counters).toMatchObject({ writev: 1 });
      fs.failNext('writev', 'ENOSPC');
      expect(() => handle.writevSync([bytes('x')], 0)).toThrow(
        expect.objectContaining({ code: 'ENOSPC' }),
      );
      expect(() => handle.writevSync([bytes('x')], -1)).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
      expect(text(fs.readFileCurrent('/d/f'))).toBe('hello world');
      const reader = await fs.open('/d/f', 'r');
      expect(() => reader.writevSync([bytes('x')], 0)).toThrow(
        expect.objectContaining({ code: 'EBADF' }),
      );
      await reader.close();
      expect(() => reader.writevSync([bytes('x')], 0)).toThrow(
        expect.objectContaining({ code: 'EBADF' }),
      );
      fs.powerLoss(KEEP_NOTHING);
      expect(() => handle.writevSync([bytes('x')], 0)).toThrow(
        expect.objectContaining({ code: 'EIO' }),
      );
      expect(text(fs.readFileCurrent('/d/f'))).toBe('');
    });

    it('rejects writes and truncates on a read-only handle with EBADF, but reads', async () => {
      const fs = new SimulatedFileSystem();
      fs.writeFileDurably('/f', bytes('data'));
      const handle = await fs.open('/f', 'r');
      await expectCode(handle.writev([bytes('x')], 0), 'EBADF');
      await expectCode(handle.truncate(0), 'EBADF');
      expect(await readAll(handle)).toBe('data');
      await handle.datasync(); // allowed on a read-only descriptor, as on Linux
    });

    it('rejects every call on a closed handle with EBADF', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      await handle.close();
      await expectCode(handle.read(new Uint8Array(1), 0, 1, 0), 'EBADF');
      await expectCode(handle.writev([bytes('x')], 0), 'EBADF');
      await expectCode(handle.close(), 'EBADF');
    });

    it('rejects negative or fractional positions and sizes with EINVAL', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      await expectCode(handle.writev([bytes('x')], -1), 'EINVAL');
      await expectCode(handle.truncate(1.5), 'EINVAL');
      await expectCode(handle.read(new Uint8Array(2), 1, 2, 0), 'EINVAL');
    });
  });

  describe('directory contract', () => {
    it('rejects create on a taken name with EEXIST, files and directories alike', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d/sub');
      await fs.create('/d/f');
      await expectCode(fs.create('/d/f'), 'EEXIST');
      await expectCode(fs.create('/d/sub'), 'EEXIST');
    });

    it('rejects calls on missing files and directories with ENOENT', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      await expectCode(fs.open('/d/missing', 'rw'), 'ENOENT');
      await expectCode(fs.open('/nowhere/f', 'r'), 'ENOENT');
      await expectCode(fs.create('/nowhere/f'), 'ENOENT');
      await expectCode(fs.rename('/d/missing', '/d/g'), 'ENOENT');
      await expectCode(fs.unlink('/d/missing'), 'ENOENT');
      await expectCode(fs.readdir('/nowhere'), 'ENOENT');
      await expectCode(fs.syncDir('/nowhere'), 'ENOENT');
      await fs.create('/d/f');
      await expectCode(fs.rename('/d/f', '/nowhere/f'), 'ENOENT');
      expect(
        hasErrorCode(await fs.open('/x', 'r').catch((error: unknown) => error), 'ENOENT'),
      ).toBe(true);
    });

    it('rejects file paths used as directories with ENOTDIR, and directories used as files with EISDIR', async () => {
      const fs = new SimulatedFileSystem();
      await fs.create('/f');
      await fs.mkdirp('/d');
      await expectCode(fs.create('/f/g'), 'ENOTDIR');
      await expectCode(fs.create('/f/g/h'), 'ENOTDIR');
      await expectCode(fs.readdir('/f'), 'ENOTDIR');
      await expectCode(fs.mkdirp('/f/g'), 'ENOTDIR');
      await expectCode(fs.mkdirp('/f'), 'EEXIST');
      await expectCode(fs.open('/d', 'r'), 'EISDIR');
      await expectCode(fs.unlink('/d'), 'EISDIR');
      await expectCode(fs.rename('/f', '/d'), 'EISDIR');
      await expectCode(fs.rename('/d', '/e'), 'ENOSYS');
    });

    it('lists files and subdirectories by name and follows creates, renames and unlinks', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/q/a/b');
      await fs.create('/q/one');
      await fs.create('/q/two');
      expect((await fs.readdir('/q')).sort()).toEqual(['a', 'one', 'two']);
      await fs.rename('/q/one', '/q/three');
      await fs.unlink('/q/two');
      expect((await fs.readdir('/q')).sort()).toEqual(['a', 'three']);
      expect(await fs.readdir('/q/a')).toEqual(['b']);
      expect((await fs.readdir('/')).sort()).toEqual(['q']);
    });

    it('normalises POSIX paths and resolves relative ones against /', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('data//queue/');
      const handle = await fs.create('/data/./x/../queue/seg');
      await handle.writev([bytes('ok')], 0);
      expect(text(fs.readFileCurrent('data/queue/seg'))).toBe('ok');
      expect(await fs.readdir('/data/queue/')).toEqual(['seg']);
      await fs.mkdirp('/data'); // idempotent
    });

    it('replaces the target of a rename atomically, and an open handle keeps the old file', async () => {
      const fs = new SimulatedFileSystem();
      const oldHandle = await durableFile(fs, '/d/target', 'old');
      const fresh = await fs.create('/d/tmp');
      await fresh.writev([bytes('new')], 0);
      await fs.rename('/d/tmp', '/d/target');

      expect(await fs.readdir('/d')).toEqual(['target']);
      expect(text(fs.readFileCurrent('/d/target'))).toBe('new');
      expect(await readAll(oldHandle)).toBe('old');
      await fs.rename('/d/target', '/d/target'); // onto itself: nothing happens
      expect(text(fs.readFileCurrent('/d/target'))).toBe('new');
    });

    it('keeps an unlinked file usable through its open handles', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      await handle.writev([bytes('abc')], 0);
      await fs.unlink('/f');
      await expectCode(fs.open('/f', 'r'), 'ENOENT');
      await handle.writev([bytes('d')], 3);
      await handle.datasync();
      expect(await readAll(handle)).toBe('abcd');
      await handle.close();
      expect(fs.snapshot().files.size).toBe(0);
    });

    it('shuffles readdir deterministically when asked, to catch order-dependent callers', async () => {
      const listing = async (seed: number): Promise<string[]> => {
        const fs = new SimulatedFileSystem({ seed, shuffleReaddir: true });
        for (let i = 0; i < 8; i++) {
          await fs.create(`/f${i}`);
        }
        return fs.readdir('/');
      };
      const names = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
      expect([...(await listing(1))].sort()).toEqual(names);
      expect(await listing(1)).toEqual(await listing(1));
      const orders = new Set<string>();
      for (let seed = 0; seed < 5; seed++) {
        orders.add((await listing(seed)).join());
      }
      expect(orders.size).toBeGreaterThan(1);
    });
  });

  describe('data durability across a power loss', () => {
    it('loses an unsynced write when nothing unsynced is kept', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'synced');
      await handle.writev([bytes('+lost')], 6);
      expect(text(fs.readFileDurable('/d/f'))).toBe('synced');
      expect(text(fs.readFileCurrent('/d/f'))).toBe('synced+lost');

      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('synced');
    });

    it('keeps a datasynced write whatever the power loss keeps', async () => {
      for (const options of [
        KEEP_NOTHING,
        {},
        { keepUnsynced: 'random' as const, tearLastWrite: true },
      ]) {
        const fs = new SimulatedFileSystem();
        const handle = await durableFile(fs, '/d/f', 'v1');
        await handle.writev([bytes('v2')], 0);
        await handle.datasync();
        fs.powerLoss(options);
        expect(text(fs.readFileCurrent('/d/f'))).toBe('v2');
      }
    });

    it('keeps every unsynced write, untorn, with keepUnsynced all and no tear', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'a');
      await handle.writev([bytes('b')], 1);
      await handle.truncate(1);
      await handle.writev([bytes('cd')], 1);
      fs.powerLoss(KEEP_EVERYTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('acd');
    });

    it('makes a pending truncate durable only through datasync', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'abcdef');
      await handle.truncate(2);
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('abcdef');

      const again = await fs.open('/d/f', 'rw');
      await again.truncate(2);
      await again.datasync();
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('ab');
    });

    it('syncs a file through any of its handles (fdatasync is per file)', async () => {
      const fs = new SimulatedFileSystem();
      const writer = await durableFile(fs, '/d/f', '');
      const other = await fs.open('/d/f', 'r');
      await writer.writev([bytes('through writer')], 0);
      await other.datasync();
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('through writer');
    });

    it('tears the last kept write to a strict prefix of its bytes', async () => {
      const payload = 'ABCDEFGHIJKLMNOP';
      for (let seed = 0; seed < 40; seed++) {
        const fs = new SimulatedFileSystem({ seed });
        const handle = await durableFile(fs, '/d/f', 'head:');
        await handle.writev([bytes(payload)], 5);
        fs.powerLoss({ keepUnsynced: 'all', tearLastWrite: true, tornTail: 'missing' });
        const content = text(fs.readFileCurrent('/d/f'));
        expect(content.startsWith('head:')).toBe(true);
        const landed = content.slice(5);
        expect(landed.length).toBeLessThan(payload.length);
        expect(payload.startsWith(landed)).toBe(true);
      }
    });

    it('keeps the old bytes under the missing part of a torn overwrite', async () => {
      const fs = new SimulatedFileSystem({ seed: 3 });
      const handle = await durableFile(fs, '/d/f', 'aaaaaaaa');
      await handle.writev([bytes('bbbbbbbb')], 0);
      fs.powerLoss({ keepUnsynced: 'all', tearLastWrite: true, tornTail: 'missing' });
      expect(text(fs.readFileCurrent('/d/f'))).toMatch(/^b{0,7}a{1,8}$/);
      expect(fs.readFileCurrent('/d/f').length).toBe(8);
    });

    it('can fill the torn part with zeros, as when the size grew but the data blocks did not', async () => {
      const payload = bytes('0123456789');
      for (let seed = 0; seed < 40; seed++) {
        const fs = new SimulatedFileSystem({ seed });
        const handle = await durableFile(fs, '/d/f', '');
        await handle.writev([payload], 0);
        fs.powerLoss({ keepUnsynced: 'all', tearLastWrite: true, tornTail: 'zeros' });
        const content = fs.readFileCurrent('/d/f');
        expect(content.length).toBe(payload.length);
        const landed = content.findIndex((byte, i) => byte !== payload[i]);
        expect(landed).toBeGreaterThanOrEqual(0); // torn: something is missing
        expect(Array.from(content.subarray(landed)).every((byte) => byte === 0)).toBe(true);
      }
    });

    it('tears only the last kept write: earlier kept writes land whole', async () => {
      const fs = new SimulatedFileSystem({ seed: 5 });
      const handle = await durableFile(fs, '/d/f', '');
      await handle.writev([bytes('first-')], 0);
      await handle.writev([bytes('second')], 6);
      fs.powerLoss({ keepUnsynced: 'all', tearLastWrite: true });
      const content = text(fs.readFileCurrent('/d/f'));
      expect(content.startsWith('first-')).toBe(true);
      expect('second'.startsWith(content.slice(6))).toBe(true);
      expect(content.length).toBeLessThan(12);
    });

    it('keeps a random prefix of the pending writes, in order, and every prefix happens', async () => {
      const outcomes = new Set<string>();
      for (let seed = 0; seed < 60; seed++) {
        const fs = new SimulatedFileSystem({ seed });
        const handle = await durableFile(fs, '/d/f', '');
        for (const [i, part] of ['a', 'b', 'c'].entries()) {
          await handle.writev([bytes(part)], i);
        }
        fs.powerLoss({ keepUnsynced: 'random', tearLastWrite: false });
        const content = text(fs.readFileCurrent('/d/f'));
        expect(['', 'a', 'ab', 'abc']).toContain(content);
        outcomes.add(content);
      }
      expect(outcomes.size).toBe(4);
    });

    it('leaves data pending when an injected fault fails datasync', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'old');
      await handle.writev([bytes('new')], 0);
      fs.failNext('datasync', 'EIO');
      await expectCode(handle.datasync(), 'EIO');
      expect(text(fs.readFileDurable('/d/f'))).toBe('old');
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('old');
    });
  });

  describe('directory durability across a power loss', () => {
    it('makes a created file vanish unless its directory was synced', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      const handle = await fs.create('/d/f');
      await handle.writev([bytes('data')], 0);
      await handle.datasync(); // the data is durable, the name is not
      expect(() => fs.readFileDurable('/d/f')).toThrow(expect.objectContaining({ code: 'ENOENT' }));

      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual([]);
      await expectCode(fs.open('/d/f', 'r'), 'ENOENT');
    });

    it('keeps a created file after syncDir, with only its durable content', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      const handle = await fs.create('/d/f');
      await fs.syncDir('/d');
      await handle.writev([bytes('unsynced')], 0);
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual(['f']);
      expect(fs.readFileCurrent('/d/f').length).toBe(0);
    });

    it('keeps directories made by mkdirp without any sync', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/a/b/c');
      fs.powerLoss(KEEP_NOTHING);
      expect(fs.snapshot('durable').directories).toEqual(['/', '/a', '/a/b', '/a/b/c']);
      expect(await fs.readdir('/a/b')).toEqual(['c']);
    });

    it('reverts a rename without syncDir, and keeps it with syncDir', async () => {
      const fs = new SimulatedFileSystem();
      await durableFile(fs, '/d/tmp', 'payload');
      await fs.rename('/d/tmp', '/d/final');
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual(['tmp']);

      await fs.rename('/d/tmp', '/d/final');
      await fs.syncDir('/d');
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual(['final']);
      expect(text(fs.readFileCurrent('/d/final'))).toBe('payload');
    });

    it('restores the replaced file when a rename over it is lost', async () => {
      const fs = new SimulatedFileSystem();
      await durableFile(fs, '/d/current', 'v1');
      await durableFile(fs, '/d/next', 'v2');
      await fs.rename('/d/next', '/d/current');
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/current'))).toBe('v1');
      expect(text(fs.readFileCurrent('/d/next'))).toBe('v2');
    });

    it('needs both directories synced for a rename across directories', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/to');
      await durableFile(fs, '/from/f', 'x');
      await fs.rename('/from/f', '/to/f');
      await fs.syncDir('/to');
      expect(() => fs.readFileDurable('/to/f')).toThrow(
        expect.objectContaining({ code: 'ENOENT' }),
      );
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/from')).toEqual(['f']);
      expect(await fs.readdir('/to')).toEqual([]);

      await fs.rename('/from/f', '/to/f');
      await fs.syncDir('/from');
      await fs.syncDir('/to');
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/from')).toEqual([]);
      expect(text(fs.readFileCurrent('/to/f'))).toBe('x');
    });

    it('reverts an unlink without syncDir, and keeps it with syncDir', async () => {
      const fs = new SimulatedFileSystem();
      await durableFile(fs, '/d/f', 'still here');
      await fs.unlink('/d/f');
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('still here');

      await fs.unlink('/d/f');
      await fs.syncDir('/d');
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual([]);
      expect(fs.snapshot('current').files.size).toBe(0);
    });

    it('syncs only the directory named: operations in other directories stay pending', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/a');
      await fs.mkdirp('/b');
      await fs.create('/a/f');
      await fs.create('/b/g');
      await fs.syncDir('/a');
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/a')).toEqual(['f']);
      expect(await fs.readdir('/b')).toEqual([]);
    });

    it('keeps a prefix of the unsynced directory operations in order, and every prefix happens', async () => {
      const outcomes = new Set<string>();
      for (let seed = 0; seed < 60; seed++) {
        const fs = new SimulatedFileSystem({ seed });
        await fs.mkdirp('/d');
        for (const name of ['a', 'b', 'c']) {
          await fs.create(`/d/${name}`);
        }
        fs.powerLoss({ keepUnsynced: 'random' });
        const listing = (await fs.readdir('/d')).sort().join('');
        expect(['', 'a', 'ab', 'abc']).toContain(listing);
        outcomes.add(listing);
      }
      expect(outcomes.size).toBe(4);
    });

    it('keeps every directory operation with keepUnsynced all', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      await fs.create('/d/a');
      await fs.create('/d/b');
      await fs.rename('/d/a', '/d/c');
      await fs.unlink('/d/b');
      fs.powerLoss(KEEP_EVERYTHING);
      expect(await fs.readdir('/d')).toEqual(['c']);
    });

    it('lets directory operations and data be kept separately', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'v1');
      await handle.writev([bytes('v2')], 0);
      await fs.rename('/d/f', '/d/g');
      fs.powerLoss({
        keepUnsynced: 'all',
        keepUnsyncedDirectoryOperations: 'none',
        tearLastWrite: false,
      });
      expect(await fs.readdir('/d')).toEqual(['f']);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('v2');
    });

    it('does not make a directory operation durable when syncDir fails', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      await fs.create('/d/f');
      fs.failNext('syncDir', 'EIO');
      await expectCode(fs.syncDir('/d'), 'EIO');
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual([]);
    });
  });

  describe('crashes', () => {
    it('kills every open handle at a power loss: further calls reject with EIO', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'x');
      const reader = await fs.open('/d/f', 'r');
      expect(fs.openHandleCount).toBe(2);
      fs.powerLoss(KEEP_NOTHING);
      expect(fs.openHandleCount).toBe(0);

      await expectCode(handle.writev([bytes('stale')], 0), 'EIO');
      await expectCode(handle.read(new Uint8Array(1), 0, 1, 0), 'EIO');
      await expectCode(handle.datasync(), 'EIO');
      await expectCode(handle.truncate(0), 'EIO');
      await expectCode(handle.sizeBytes(), 'EIO');
      await expectCode(handle.close(), 'EIO');
      await expectCode(reader.read(new Uint8Array(1), 0, 1, 0), 'EIO');
      expect(text(fs.readFileCurrent('/d/f'))).toBe('x');

      // The file system itself serves the next process.
      const next = await fs.open('/d/f', 'rw');
      expect(await readAll(next)).toBe('x');
    });

    it('rejects with EIO a call in flight when the machine dies', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', '');
      const inFlight = handle.writev([bytes('x')], 0);
      const rename = fs.rename('/d/f', '/d/g');
      fs.powerLoss(KEEP_NOTHING);
      await expectCode(inFlight, 'EIO');
      await expectCode(rename, 'EIO');
    });

    it('keeps every byte and directory operation at a process crash, but kills handles', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'synced');
      await handle.writev([bytes('+cached')], 6);
      await fs.create('/d/new');
      await fs.rename('/d/f', '/d/renamed');

      fs.processCrash();
      await expectCode(handle.writev([bytes('stale')], 0), 'EIO');
      expect(text(fs.readFileCurrent('/d/renamed'))).toBe('synced+cached');
      expect((await fs.readdir('/d')).sort()).toEqual(['new', 'renamed']);

      // What was not durable still is not: a later power loss can lose it.
      fs.powerLoss(KEEP_NOTHING);
      expect(await fs.readdir('/d')).toEqual(['f']);
      expect(text(fs.readFileCurrent('/d/f'))).toBe('synced');
    });

    it('gives each process a scoped view that dies with it', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      const first: FileSystem = fs.processScope();
      await first.create('/d/a');
      fs.processCrash();
      await expectCode(first.create('/d/stale'), 'EIO');
      await expectCode(first.readdir('/d'), 'EIO');

      const second = fs.processScope();
      await second.create('/d/b');
      expect((await second.readdir('/d')).sort()).toEqual(['a', 'b']);
      fs.powerLoss(KEEP_NOTHING);
      await expectCode(second.open('/d/a', 'r'), 'EIO');
    });

    it('forgets files that nothing reaches after a power loss', async () => {
      const fs = new SimulatedFileSystem();
      await fs.mkdirp('/d');
      const handle = await fs.create('/d/orphan');
      await handle.writev([bytes('x')], 0);
      await handle.datasync();
      await fs.unlink('/d/orphan');
      await fs.syncDir('/d');
      fs.powerLoss(KEEP_EVERYTHING);
      expect(fs.snapshot('current').files.size).toBe(0);
      expect(fs.snapshot('durable').files.size).toBe(0);
    });
  });

  describe('determinism', () => {
    /** A queue-like workload leaving plenty undecided: unsynced appends, a new segment, a rename. */
    async function workload(fs: SimulatedFileSystem): Promise<void> {
      const log = await durableFile(fs, '/q/seg-1', 'base;');
      for (let i = 0; i < 5; i++) {
        await log.writev([bytes(`record-${i};`)], 5 + i * 9);
      }
      const next = await fs.create('/q/seg-2');
      await next.writev([bytes('fresh segment')], 0);
      await fs.rename('/q/seg-1', '/q/seg-1.old');
      await fs.create('/q/marker');
    }

    async function outcome(seed: number, options: PowerLossOptions = {}): Promise<string> {
      const fs = new SimulatedFileSystem({ seed });
      await workload(fs);
      fs.powerLoss(options);
      const { files } = fs.snapshot();
      return JSON.stringify([...files].map(([path, data]) => [path, Array.from(data)]));
    }

    it('gives the same outcome for the same seed', async () => {
      for (const seed of [0, 1, 99]) {
        expect(await outcome(seed)).toEqual(await outcome(seed));
        expect(await outcome(seed, { tornTail: 'random' })).toEqual(
          await outcome(seed, { tornTail: 'random' }),
        );
      }
    });

    it('gives different outcomes across seeds', async () => {
      const outcomes = new Set<string>();
      for (let seed = 0; seed < 20; seed++) {
        outcomes.add(await outcome(seed));
      }
      expect(outcomes.size).toBeGreaterThan(5);
    });

    it('uses the generator passed to powerLoss instead of its own', async () => {
      const withSeed7 = await outcome(1, { random: new SeededRandom(7) });
      expect(await outcome(2, { random: new SeededRandom(7) })).toEqual(withSeed7);
      expect(await outcome(7)).toEqual(withSeed7);
    });

    it('never calls Math.random', async () => {
      const spy = jest.spyOn(Math, 'random');
      try {
        await outcome(4, { tornTail: 'random' });
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('fault injection', () => {
    it('fails the next call of an operation with the given code, without effect, once', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await fs.create('/f');
      fs.failNext('writev', 'ENOSPC');
      const error: unknown = await handle
        .writev([bytes('x')], 0)
        .catch((caught: unknown) => caught);
      expect(hasErrorCode(error, 'ENOSPC')).toBe(true);
      expect((error as Error).message).toContain('ENOSPC');
      expect(fs.readFileCurrent('/f').length).toBe(0);
      await handle.writev([bytes('x')], 0);
      expect(text(fs.readFileCurrent('/f'))).toBe('x');
    });

    it('fails directory operations without effect', async () => {
      const fs = new SimulatedFileSystem();
      fs.failNext('create', 'ENOSPC');
      await expectCode(fs.create('/f'), 'ENOSPC');
      expect(await fs.readdir('/')).toEqual([]);
      fs.failNext('rename', 'EIO');
      await fs.create('/f');
      await expectCode(fs.rename('/f', '/g'), 'EIO');
      expect(await fs.readdir('/')).toEqual(['f']);
    });

    it('can target one path and fail several times', async () => {
      const fs = new SimulatedFileSystem();
      const other = await fs.create('/other');
      const target = await fs.create('/target');
      fs.failNext('datasync', 'EIO', { path: 'target', times: 2 });
      await other.datasync();
      await expectCode(target.datasync(), 'EIO');
      await expectCode(target.datasync(), 'EIO');
      await target.datasync();
      fs.failNext('rename', 'EXDEV', { path: '/elsewhere' });
      await expectCode(fs.rename('/other', '/elsewhere'), 'EXDEV');
    });

    it('drops pending faults on clearFaults', async () => {
      const fs = new SimulatedFileSystem();
      fs.failNext('mkdirp', 'EACCES');
      fs.clearFaults();
      await fs.mkdirp('/d');
      expect(() => fs.failNext('open', 'EIO', { times: 0 })).toThrow(RangeError);
    });
  });

  describe('inspection helpers', () => {
    it('counts calls, failures included, until reset', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/f', 'x');
      await handle.datasync();
      fs.failNext('syncDir', 'EIO');
      await expectCode(fs.syncDir('/d'), 'EIO');
      expect(fs.datasyncCount).toBe(2);
      expect(fs.syncDirCount).toBe(2);
      expect(fs.counters).toMatchObject({ create: 1, mkdirp: 1, writev: 1, open: 0 });
      fs.resetCounters();
      expect(fs.datasyncCount).toBe(0);
      expect(Object.values(fs.counters).every((count) => count === 0)).toBe(true);
    });

    it('snapshots the current and the durable disk', async () => {
      const fs = new SimulatedFileSystem();
      const handle = await durableFile(fs, '/d/a', 'A1');
      await handle.writev([bytes('A2')], 0);
      await fs.create('/d/b');
      const current = fs.snapshot('current');
      const durable = fs.snapshot('durable');
      expect([...current.files.keys()]).toEqual(['/d/a', '/d/b']);
      expect(text(current.files.get('/d/a') ?? new Uint8Array())).toBe('A2');
      expect([...durable.files.keys()]).toEqual(['/d/a']);
      expect(text(durable.files.get('/d/a') ?? new Uint8Array())).toBe('A1');
      expect(current.directories).toEqual(['/', '/d']);
      expect(() => fs.readFileCurrent('/d')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    });

    it('sets up durable files, replacing what was there', async () => {
      const fs = new SimulatedFileSystem();
      fs.writeFileDurably('/a/b/f', bytes('one'));
      fs.writeFileDurably('/a/b/f', bytes('two'));
      expect(fs.counters.mkdirp).toBe(0);
      fs.powerLoss(KEEP_NOTHING);
      expect(text(fs.readFileCurrent('/a/b/f'))).toBe('two');
      expect(await fs.readdir('/a/b')).toEqual(['f']);
      expect(fs.snapshot('durable').files.size).toBe(1);
    });
  });
});
