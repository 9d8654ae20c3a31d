import { posix } from 'node:path';
import type { FileHandle, FileSystem, OpenMode } from '../fs/file-system';
import { SeededRandom } from '@xcron/testing';

/** Every call of the port that the double counts and can fail on purpose. */
/** Calls that can be counted and failed; `writevSync` counts (and fails) as `writev`, the same system call. */
export type SimulatedOperation = keyof FileSystem | Exclude<keyof FileHandle, 'writevSync'>;

/** How many of the operations not yet made durable reach the disk anyway when power is lost. */
export type KeepUnsynced = 'none' | 'all' | 'random';

/** What the unwritten part of a torn write reads as after the power loss. */
export type TornTail = 'missing' | 'zeros' | 'random';

/** Which state of the disk an inspection helper looks at. */
export type DiskView = 'current' | 'durable';

export interface SimulatedFileSystemOptions {
  /** Source of every random decision (power-loss outcomes, readdir order). Default: `new SeededRandom(seed)`. */
  random?: SeededRandom;
  /** Seed used when `random` is not given. Default 1. */
  seed?: number;
  /**
   * When true, `readdir` returns names in a random order, to catch callers that rely on an order
   * the real file system does not promise. Default false (creation order, subdirectories last).
   */
  shuffleReaddir?: boolean;
}

export interface PowerLossOptions {
  /**
   * Which not-yet-durable operations survive: none, all, or a random prefix (per file for data,
   * one prefix for directory operations). Default 'random'.
   */
  keepUnsynced?: KeepUnsynced;
  /** Overrides `keepUnsynced` for directory operations (create, rename, unlink) only. */
  keepUnsyncedDirectoryOperations?: KeepUnsynced;
  /**
   * Whether, in each file, the last kept pending operation (when it is a write) is torn, so only a
   * strict prefix of its bytes lands. `'random'` tears with probability 1/2. Default 'random'.
   */
  tearLastWrite?: boolean | 'random';
  /**
   * What the lost part of a torn write becomes: 'missing' (the file holds only the landed prefix
   * over its previous bytes) or 'zeros' (the whole range of the write exists, the lost part reads
   * as zeros: the file's size reached the disk but its data blocks did not). Default 'missing'.
   */
  tornTail?: TornTail;
  /** Generator for this power loss only, instead of the one given to the constructor. */
  random?: SeededRandom;
}

export interface FaultOptions {
  /** Fail only calls on this path (for rename: either path; for handle calls: the opened path). */
  path?: string;
  /** How many matching calls fail. Default 1. */
  times?: number;
}

export interface FileSystemSnapshot {
  /** Every directory, sorted. */
  directories: string[];
  /** Every file's bytes by absolute path, in sorted path order. */
  files: Map<string, Uint8Array>;
}

/** An error shaped like Node's system errors, so `hasErrorCode` and `error.code` work on it. */
export interface SimulatedFileSystemError extends Error {
  code: string;
  syscall: string;
  path: string;
}

/**
 * An in-memory {@link FileSystem} that can lose power, for crash-consistency tests.
 *
 * It follows the contract of `fs/file-system.ts`, and models what survives a crash:
 *
 * - Paths are POSIX strings, normalised with `path.posix`; relative paths are resolved against `/`
 *   (there is no working directory). `/` always exists; other directories exist only through
 *   `mkdirp`, which is durable at once. Directories cannot be removed or renamed (rename of a
 *   directory rejects with ENOSYS).
 * - Errors carry Node's codes: ENOENT for a missing file or directory (open, rename, unlink,
 *   readdir, syncDir, and create/rename into a missing directory), ENOTDIR when a path component
 *   is a file, EEXIST when `create` finds the name taken, EISDIR when a file call names a
 *   directory, EBADF for writev/truncate on an 'r' handle or any call on a closed handle, EINVAL
 *   for negative or fractional sizes and positions.
 * - Reads see the *current* content: `read` past the end returns 0 or a short count, `writev`
 *   beyond the end fills the gap with zeros, `truncate` shrinks or extends with zeros.
 * - Each file also has *durable* content. Writes and truncates since the last `datasync` (of any
 *   handle on that file: fdatasync is per file, not per descriptor) are kept in order as pending
 *   operations; `datasync` makes the current content durable.
 * - `create`, `rename` and `unlink` change the current directory tree at once but are recorded,
 *   in order, against each directory they touch (both directories for a cross-directory rename).
 *   `syncDir(dir)` marks every operation recorded so far as synced for `dir`; an operation is
 *   durable once all its directories are synced after it. Unlinking an open file keeps the handle
 *   working; `rename` onto an existing file replaces it atomically.
 * - {@link powerLoss} kills every open handle (further calls reject with EIO, so stale work of the
 *   dead process cannot write into the new world) and rebuilds the disk: the durable directory
 *   tree plus a prefix of the not-yet-durable directory operations (in the order they happened);
 *   then, in each file that is still reachable, the durable content plus a prefix of its pending
 *   operations, where the last kept write may be torn (see {@link PowerLossOptions}).
 * - {@link processCrash} (SIGKILL) kills every open handle but keeps all current bytes and
 *   directory operations: the kernel's page cache survives the process, and what was not yet
 *   durable can still be lost by a later power loss.
 * - A call that is in flight when the machine or the process dies rejects with EIO, whatever it
 *   did, because a dead process never learns the outcome. A call's effect happens synchronously
 *   when it is made; its promise settles on a later microtask, like real I/O, deterministically.
 * - Randomness comes only from the injected {@link SeededRandom}: the same seed and the same
 *   sequence of calls give the same outcome.
 * - When replaying a power loss, an operation is applied even if an earlier operation it depended
 *   on was lost (possible only with cross-directory renames synced on one side): a rename whose
 *   source entry is missing still creates its target entry, much as a journal replay would.
 *
 * Test helpers: {@link failNext} injects faults, {@link counters} counts calls,
 * {@link readFileCurrent}/{@link readFileDurable}/{@link snapshot} inspect the disk,
 * {@link writeFileDurably} sets one up, {@link processScope} gives a process a view that dies
 * with it.
 */
export class SimulatedFileSystem implements FileSystem {
  private readonly random: SeededRandom;
  private readonly shuffleReaddir: boolean;
  /** All directories; shared by the current and durable trees because mkdirp is durable at once. */
  private readonly directories = new Set<string>([ROOT]);
  /** The tree that calls see. */
  private current: Namespace = new Map();
  /** The durable tree as of the first operation in `directoryLog`. */
  private durableBase: Namespace = new Map();
  /** Directory operations not yet folded into `durableBase`, in the order they happened. */
  private directoryLog: DirectoryOperation[] = [];
  /** Every file that some tree, log entry or handle can still reach, by id (ids increase). */
  private files = new Map<number, SimulatedFile>();
  private nextFileId = 1;
  /** Bumped by every crash: handles and calls from an older epoch belong to a dead process. */
  private epoch = 0;
  private readonly openHandles = new Set<HandleState>();
  private faults: Fault[] = [];
  private callCounts: Record<SimulatedOperation, number> = zeroCounts();

  constructor(options: SimulatedFileSystemOptions = {}) {
    this.random = options.random ?? new SeededRandom(options.seed ?? 1);
    this.shuffleReaddir = options.shuffleReaddir ?? false;
  }

  // ---------------------------------------------------------------- FileSystem

  open(path: string, mode: OpenMode): Promise<FileHandle> {
    return this.openIn(normalize(path), mode, undefined);
  }

  create(path: string): Promise<FileHandle> {
    return this.createIn(normalize(path), undefined);
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return this.renameIn(normalize(fromPath), normalize(toPath), undefined);
  }

  unlink(path: string): Promise<void> {
    return this.unlinkIn(normalize(path), undefined);
  }

  readdir(dir: string): Promise<string[]> {
    return this.readdirIn(normalize(dir), undefined);
  }

  mkdirp(dir: string): Promise<void> {
    return this.mkdirpIn(normalize(dir), undefined);
  }

  syncDir(dir: string): Promise<void> {
    return this.syncDirIn(normalize(dir), undefined);
  }

  // ---------------------------------------------------------------- crashes

  /**
   * The machine loses power: open handles die, and the disk keeps its durable state plus, as the
   * options and the seeded generator decide, some of what was not yet durable. Synchronous: it is
   * an instant event, and the next "process" starts using this same object afterwards.
   */
  powerLoss(options: PowerLossOptions = {}): void {
    const random = options.random ?? this.random;
    const keepData = options.keepUnsynced ?? 'random';
    const keepDirectories = options.keepUnsyncedDirectoryOperations ?? keepData;
    const tear = options.tearLastWrite ?? 'random';
    const tornTail = options.tornTail ?? 'missing';

    const unsyncedCount = this.directoryLog.filter((op) => !isDurable(op)).length;
    const keptUnsynced = chooseKeptCount(keepDirectories, unsyncedCount, random);
    const tree = cloneNamespace(this.durableBase);
    let unsyncedSeen = 0;
    for (const op of this.directoryLog) {
      if (isDurable(op)) {
        applyDirectoryOperation(tree, op);
      } else if (unsyncedSeen++ < keptUnsynced) {
        applyDirectoryOperation(tree, op);
      }
    }

    const reachable = referencedFileIds([tree]);
    // `files` iterates in id order, so the random draws happen in a deterministic order.
    for (const [id, file] of this.files) {
      if (!reachable.has(id)) {
        this.files.delete(id);
        continue;
      }
      const kept = chooseKeptCount(keepData, file.pending.length, random);
      file.recoverAfterPowerLoss(kept, tear, tornTail, random);
    }

    this.current = tree;
    this.durableBase = cloneNamespace(tree);
    this.directoryLog = [];
    this.killProcess();
  }

  /**
   * The process is killed (SIGKILL) but the machine keeps running: open handles die, every byte
   * and directory operation stays, durable or not (a later power loss can still lose them).
   */
  processCrash(): void {
    this.killProcess();
    this.collectUnreachableFiles();
  }

  /**
   * A view of this file system for one process lifetime. After the next power loss or process
   * crash every call through it rejects with EIO, so timers and retries of the dead process cannot
   * touch the files of the next one. Give it to the code under test; keep the object itself.
   */
  processScope(): FileSystem {
    const epoch = this.epoch;
    return {
      open: (path, mode) => this.openIn(normalize(path), mode, epoch),
      create: (path) => this.createIn(normalize(path), epoch),
      rename: (fromPath, toPath) => this.renameIn(normalize(fromPath), normalize(toPath), epoch),
      unlink: (path) => this.unlinkIn(normalize(path), epoch),
      readdir: (dir) => this.readdirIn(normalize(dir), epoch),
      mkdirp: (dir) => this.mkdirpIn(normalize(dir), epoch),
      syncDir: (dir) => this.syncDirIn(normalize(dir), epoch),
    };
  }

  // ---------------------------------------------------------------- test helpers

  /**
   * Makes the next call of `operation` (matching `options.path` if given) reject with `code`,
   * without any effect. A failed `datasync` leaves the data pending (not durable).
   */
  failNext(operation: SimulatedOperation, code: string, options: FaultOptions = {}): void {
    const times = options.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`failNext needs a positive integer count, got ${times}`);
    }
    const path = options.path === undefined ? undefined : normalize(options.path);
    this.faults.push({ operation, code, path, remaining: times });
  }

  /** Drops every fault injected by {@link failNext} that has not fired yet. */
  clearFaults(): void {
    this.faults = [];
  }

  /** How many times each operation has been called since construction or {@link resetCounters}, failures included. */
  get counters(): Readonly<Record<SimulatedOperation, number>> {
    return { ...this.callCounts };
  }

  get datasyncCount(): number {
    return this.callCounts.datasync;
  }

  get syncDirCount(): number {
    return this.callCounts.syncDir;
  }

  resetCounters(): void {
    this.callCounts = zeroCounts();
  }

  /** Handles opened by the living process and not closed yet (to catch descriptor leaks). */
  get openHandleCount(): number {
    return this.openHandles.size;
  }

  /** The bytes a read of `path` would see now. Throws ENOENT/EISDIR like `open`. */
  readFileCurrent(path: string): Uint8Array {
    const target = normalize(path);
    return this.requireFileIn(this.current, target, 'readFileCurrent').current.toUint8Array();
  }

  /**
   * The bytes `path` would hold after a power loss that keeps nothing unsynced: looked up in the
   * durable tree, with the file's durable content. Throws ENOENT when the entry itself is not durable.
   */
  readFileDurable(path: string): Uint8Array {
    const target = normalize(path);
    return this.requireFileIn(
      this.durableNamespace(),
      target,
      'readFileDurable',
    ).durable.toUint8Array();
  }

  /** Every directory and file, as reads see them now ('current') or as they are durable ('durable'). */
  snapshot(view: DiskView = 'current'): FileSystemSnapshot {
    const tree = view === 'current' ? this.current : this.durableNamespace();
    const files = new Map<string, Uint8Array>();
    const paths: [string, SimulatedFile][] = [];
    for (const [dir, entries] of tree) {
      for (const [name, id] of entries) {
        paths.push([posix.join(dir, name), this.fileById(id)]);
      }
    }
    paths.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [path, file] of paths) {
      files.set(path, (view === 'current' ? file.current : file.durable).toUint8Array());
    }
    return { directories: [...this.directories].sort(), files };
  }

  /**
   * Sets up a test: puts a file with `bytes` at `path` (creating its parents, replacing any file
   * there), as if written, datasynced and its directory synced. Outside any process: no counters.
   */
  writeFileDurably(path: string, bytes: Uint8Array): void {
    const target = normalize(path);
    this.makeDirectories(posix.dirname(target), 'writeFileDurably');
    if (this.directories.has(target)) {
      throw fileSystemError('EISDIR', 'writeFileDurably', target);
    }
    const file = this.newFile();
    file.current.write(0, bytes);
    file.durable.write(0, bytes);
    const op: DirectoryOperation = {
      kind: 'link',
      dir: posix.dirname(target),
      name: posix.basename(target),
      fileId: file.id,
      unsyncedDirs: new Set(),
    };
    applyDirectoryOperation(this.current, op);
    this.directoryLog.push(op);
    this.foldDurablePrefix();
    this.collectUnreachableFiles();
  }

  // ---------------------------------------------------------------- operations

  private openIn(
    target: string,
    mode: OpenMode,
    scopeEpoch: number | undefined,
  ): Promise<FileHandle> {
    return this.perform('open', [target], undefined, scopeEpoch, () => {
      if (mode !== 'r' && mode !== 'rw') {
        throw fileSystemError('EINVAL', 'open', target, `unknown mode ${String(mode)}`);
      }
      return this.newHandle(this.requireFile(target, 'open'), mode, target);
    });
  }

  private createIn(target: string, scopeEpoch: number | undefined): Promise<FileHandle> {
    return this.perform('create', [target], undefined, scopeEpoch, () => {
      const dir = this.requireParent(target, 'create');
      const name = posix.basename(target);
      if (this.directories.has(target) || entriesOf(this.current, dir).has(name)) {
        throw fileSystemError('EEXIST', 'create', target);
      }
      const file = this.newFile();
      this.recordDirectoryOperation({
        kind: 'link',
        dir,
        name,
        fileId: file.id,
        unsyncedDirs: new Set([dir]),
      });
      return this.newHandle(file, 'rw', target);
    });
  }

  private renameIn(from: string, to: string, scopeEpoch: number | undefined): Promise<void> {
    return this.perform('rename', [from, to], undefined, scopeEpoch, () => {
      const fromDir = this.requireParent(from, 'rename');
      if (this.directories.has(from)) {
        throw fileSystemError('ENOSYS', 'rename', from, 'renaming a directory is not simulated');
      }
      const fromName = posix.basename(from);
      const fileId = entriesOf(this.current, fromDir).get(fromName);
      if (fileId === undefined) {
        throw fileSystemError('ENOENT', 'rename', from);
      }
      const toDir = this.requireParent(to, 'rename');
      if (this.directories.has(to)) {
        throw fileSystemError('EISDIR', 'rename', to);
      }
      if (from === to) {
        return; // POSIX: renaming a file onto itself does nothing.
      }
      this.recordDirectoryOperation({
        kind: 'rename',
        fromDir,
        fromName,
        toDir,
        toName: posix.basename(to),
        fileId,
        unsyncedDirs: new Set([fromDir, toDir]),
      });
      this.collectUnreachableFiles();
    });
  }

  private unlinkIn(target: string, scopeEpoch: number | undefined): Promise<void> {
    return this.perform('unlink', [target], undefined, scopeEpoch, () => {
      const file = this.requireFile(target, 'unlink');
      const dir = posix.dirname(target);
      this.recordDirectoryOperation({
        kind: 'unlink',
        dir,
        name: posix.basename(target),
        fileId: file.id,
        unsyncedDirs: new Set([dir]),
      });
      this.collectUnreachableFiles();
    });
  }

  private readdirIn(dir: string, scopeEpoch: number | undefined): Promise<string[]> {
    return this.perform('readdir', [dir], undefined, scopeEpoch, () => {
      this.requireDirectory(dir, 'readdir');
      const names = [...entriesOf(this.current, dir).keys()];
      for (const other of this.directories) {
        if (other !== ROOT && posix.dirname(other) === dir) {
          names.push(posix.basename(other));
        }
      }
      return this.shuffleReaddir ? this.random.shuffle(names) : names;
    });
  }

  private mkdirpIn(dir: string, scopeEpoch: number | undefined): Promise<void> {
    return this.perform('mkdirp', [dir], undefined, scopeEpoch, () => {
      this.makeDirectories(dir, 'mkdirp');
    });
  }

  private syncDirIn(dir: string, scopeEpoch: number | undefined): Promise<void> {
    return this.perform('syncDir', [dir], undefined, scopeEpoch, () => {
      this.requireDirectory(dir, 'syncDir');
      for (const op of this.directoryLog) {
        op.unsyncedDirs.delete(dir);
      }
      this.foldDurablePrefix();
      this.collectUnreachableFiles();
    });
  }

  /**
   * Runs one call: checks that its process is alive, fires an injected fault or does the work
   * synchronously, then settles on a later microtask, rejecting with EIO if a crash came between.
   */
  private async perform<T>(
    operation: SimulatedOperation,
    paths: readonly string[],
    handle: HandleState | undefined,
    scopeEpoch: number | undefined,
    work: () => T,
  ): Promise<T> {
    const startEpoch = this.epoch;
    const path = paths[0] ?? ROOT;
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: this.performSync(operation, paths, handle, scopeEpoch, work) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await Promise.resolve();
    if (this.epoch !== startEpoch) {
      throw fileSystemError('EIO', operation, path, 'the process was killed during the call');
    }
    if (!outcome.ok) {
      throw outcome.error;
    }
    return outcome.value;
  }

  /** Runs one call synchronously: checks that its process is alive, fires an injected fault or does the work. */
  private performSync<T>(
    operation: SimulatedOperation,
    paths: readonly string[],
    handle: HandleState | undefined,
    scopeEpoch: number | undefined,
    work: () => T,
  ): T {
    this.callCounts[operation] += 1;
    const path = paths[0] ?? ROOT;
    if (
      (handle !== undefined && handle.epoch !== this.epoch) ||
      (scopeEpoch !== undefined && scopeEpoch !== this.epoch)
    ) {
      throw fileSystemError('EIO', operation, path, 'the process that owns this was killed');
    }
    if (handle?.closed === true) {
      throw fileSystemError('EBADF', operation, path, 'handle is closed');
    }
    this.fireFault(operation, paths);
    return work();
  }

  private fireFault(operation: SimulatedOperation, paths: readonly string[]): void {
    const index = this.faults.findIndex(
      (fault) =>
        fault.operation === operation && (fault.path === undefined || paths.includes(fault.path)),
    );
    const fault = this.faults[index];
    if (fault === undefined) {
      return;
    }
    fault.remaining -= 1;
    if (fault.remaining === 0) {
      this.faults.splice(index, 1);
    }
    throw fileSystemError(fault.code, operation, paths[0] ?? ROOT, 'injected fault');
  }

  // ---------------------------------------------------------------- handles

  private newHandle(file: SimulatedFile, mode: OpenMode, path: string): FileHandle {
    const state: HandleState = { file, mode, path, epoch: this.epoch, closed: false };
    this.openHandles.add(state);
    return new SimulatedFileHandle(state, {
      run: (operation, work) => this.perform(operation, [state.path], state, undefined, work),
      runSync: (operation, work) =>
        this.performSync(operation, [state.path], state, undefined, work),
      closed: () => {
        this.openHandles.delete(state);
        this.collectUnreachableFiles();
      },
    });
  }

  private killProcess(): void {
    this.epoch += 1;
    this.openHandles.clear();
  }

  // ---------------------------------------------------------------- trees and files

  private newFile(): SimulatedFile {
    const file = new SimulatedFile(this.nextFileId++);
    this.files.set(file.id, file);
    return file;
  }

  private fileById(id: number): SimulatedFile {
    const file = this.files.get(id);
    if (file === undefined) {
      throw new Error(`SimulatedFileSystem bug: file #${id} is referenced but was collected`);
    }
    return file;
  }

  private recordDirectoryOperation(op: DirectoryOperation): void {
    applyDirectoryOperation(this.current, op);
    this.directoryLog.push(op);
  }

  /** Folds the durable operations at the head of the log into the durable base, keeping the log short. */
  private foldDurablePrefix(): void {
    let folded = 0;
    for (const op of this.directoryLog) {
      if (!isDurable(op)) {
        break;
      }
      applyDirectoryOperation(this.durableBase, op);
      folded += 1;
    }
    if (folded > 0) {
      this.directoryLog = this.directoryLog.slice(folded);
    }
  }

  /** The tree a power loss keeping nothing unsynced would leave. */
  private durableNamespace(): Namespace {
    const tree = cloneNamespace(this.durableBase);
    for (const op of this.directoryLog) {
      if (isDurable(op)) {
        applyDirectoryOperation(tree, op);
      }
    }
    return tree;
  }

  /** Forgets files no tree, pending operation or open handle can reach any more (unlinked and closed). */
  private collectUnreachableFiles(): void {
    const reachable = referencedFileIds([this.current, this.durableBase]);
    for (const op of this.directoryLog) {
      reachable.add(op.fileId);
    }
    for (const handle of this.openHandles) {
      reachable.add(handle.file.id);
    }
    for (const id of this.files.keys()) {
      if (!reachable.has(id)) {
        this.files.delete(id);
      }
    }
  }

  private makeDirectories(dir: string, syscall: string): void {
    const chain: string[] = [];
    for (let at = dir; !this.directories.has(at); at = posix.dirname(at)) {
      chain.unshift(at);
    }
    for (const at of chain) {
      if (entriesOf(this.current, posix.dirname(at)).has(posix.basename(at))) {
        throw fileSystemError(at === dir ? 'EEXIST' : 'ENOTDIR', syscall, dir);
      }
      this.directories.add(at);
    }
  }

  /** The directory that holds `path`; rejects ENOENT/ENOTDIR when it does not exist. */
  private requireParent(path: string, syscall: string): string {
    const dir = posix.dirname(path);
    this.requireDirectory(dir, syscall, path);
    return dir;
  }

  private requireDirectory(dir: string, syscall: string, reportedPath: string = dir): void {
    if (this.directories.has(dir)) {
      return;
    }
    // Find the outermost missing component: a file there makes it ENOTDIR, nothing makes it ENOENT.
    let missing = dir;
    while (!this.directories.has(posix.dirname(missing))) {
      missing = posix.dirname(missing);
    }
    const isFile = entriesOf(this.current, posix.dirname(missing)).has(posix.basename(missing));
    throw fileSystemError(isFile ? 'ENOTDIR' : 'ENOENT', syscall, reportedPath);
  }

  private requireFile(path: string, syscall: string): SimulatedFile {
    this.requireParent(path, syscall);
    return this.requireFileIn(this.current, path, syscall);
  }

  private requireFileIn(tree: Namespace, path: string, syscall: string): SimulatedFile {
    if (this.directories.has(path)) {
      throw fileSystemError('EISDIR', syscall, path);
    }
    const id = tree.get(posix.dirname(path))?.get(posix.basename(path));
    if (id === undefined) {
      throw fileSystemError('ENOENT', syscall, path);
    }
    return this.fileById(id);
  }
}

// ------------------------------------------------------------------ handle

interface HandleState {
  readonly file: SimulatedFile;
  readonly mode: OpenMode;
  readonly path: string;
  /** The process lifetime the handle belongs to; a crash makes it stale. */
  readonly epoch: number;
  closed: boolean;
}

interface HandleHost {
  run<T>(operation: SimulatedOperation, work: () => T): Promise<T>;
  runSync<T>(operation: SimulatedOperation, work: () => T): T;
  closed(): void;
}

/** A descriptor on a simulated file; the checks common to every call live in the host's `run`. */
class SimulatedFileHandle implements FileHandle {
  constructor(
    private readonly state: HandleState,
    private readonly host: HandleHost,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, positionBytes: number): Promise<number> {
    return this.host.run('read', () => {
      requireCount(offset, 'read', this.state.path);
      requireCount(length, 'read', this.state.path);
      requireCount(positionBytes, 'read', this.state.path);
      if (offset + length > buffer.length) {
        throw fileSystemError('EINVAL', 'read', this.state.path, 'range exceeds the buffer');
      }
      return this.state.file.current.read(buffer, offset, length, positionBytes);
    });
  }

  writev(buffers: readonly Uint8Array[], positionBytes: number): Promise<void> {
    return this.host.run('writev', () => {
      this.requireWritable('writev');
      requireCount(positionBytes, 'writev', this.state.path);
      // Copied now: the caller may reuse its buffers once the promise settles.
      this.state.file.write(positionBytes, concatenate(buffers));
    });
  }

  writevSync(buffers: readonly Uint8Array[], positionBytes: number): void {
    this.host.runSync('writev', () => {
      this.requireWritable('writev');
      requireCount(positionBytes, 'writev', this.state.path);
      this.state.file.write(positionBytes, concatenate(buffers));
    });
  }

  datasync(): Promise<void> {
    return this.host.run('datasync', () => this.state.file.datasync());
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.host.run('truncate', () => {
      this.requireWritable('truncate');
      requireCount(sizeBytes, 'truncate', this.state.path);
      this.state.file.truncate(sizeBytes);
    });
  }

  sizeBytes(): Promise<number> {
    return this.host.run('sizeBytes', () => this.state.file.current.sizeBytes);
  }

  close(): Promise<void> {
    return this.host.run('close', () => {
      this.state.closed = true;
      this.host.closed();
    });
  }

  private requireWritable(syscall: string): void {
    if (this.state.mode !== 'rw') {
      throw fileSystemError('EBADF', syscall, this.state.path, 'handle is open read-only');
    }
  }
}

// ------------------------------------------------------------------ file content

type PendingFileOperation =
  | { kind: 'write'; positionBytes: number; bytes: Uint8Array }
  | { kind: 'truncate'; sizeBytes: number };

/** One file (an inode): what reads see, what is durable, and the operations in between. */
class SimulatedFile {
  current = new GrowableBytes();
  durable = new GrowableBytes();
  /** Writes and truncates since the last datasync, oldest first; `durable` + all of them = `current`. */
  pending: PendingFileOperation[] = [];

  constructor(readonly id: number) {}

  write(positionBytes: number, bytes: Uint8Array): void {
    if (bytes.length === 0) {
      return;
    }
    this.current.write(positionBytes, bytes);
    this.pending.push({ kind: 'write', positionBytes, bytes });
  }

  truncate(sizeBytes: number): void {
    this.current.truncate(sizeBytes);
    this.pending.push({ kind: 'truncate', sizeBytes });
  }

  datasync(): void {
    // Replaying the pending operations costs what was written, where copying `current` would cost the file size.
    for (const op of this.pending) {
      applyFileOperation(this.durable, op);
    }
    this.pending = [];
  }

  /** Keeps the durable content plus the first `kept` pending operations, the last one possibly torn. */
  recoverAfterPowerLoss(
    kept: number,
    tear: boolean | 'random',
    tornTail: TornTail,
    random: SeededRandom,
  ): void {
    const content = this.durable.copy();
    for (let i = 0; i < kept; i++) {
      const op = this.pending[i] as PendingFileOperation;
      const isLast = i === kept - 1;
      if (isLast && op.kind === 'write' && (tear === 'random' ? random.chance(0.5) : tear)) {
        const landedBytes = random.nextInt(op.bytes.length);
        content.write(op.positionBytes, op.bytes.subarray(0, landedBytes));
        const zeros = tornTail === 'random' ? random.chance(0.5) : tornTail === 'zeros';
        if (zeros) {
          content.fillZeros(op.positionBytes + landedBytes, op.bytes.length - landedBytes);
        }
      } else {
        applyFileOperation(content, op);
      }
    }
    this.current = content;
    this.durable = content.copy();
    this.pending = [];
  }
}

function applyFileOperation(target: GrowableBytes, op: PendingFileOperation): void {
  if (op.kind === 'write') {
    target.write(op.positionBytes, op.bytes);
  } else {
    target.truncate(op.sizeBytes);
  }
}

/** A byte array with spare capacity, so appends are amortised O(1). Bytes past `sizeBytes` are always zero. */
class GrowableBytes {
  private bytes = new Uint8Array(0);
  sizeBytes = 0;

  read(target: Uint8Array, offset: number, length: number, positionBytes: number): number {
    const count = Math.max(0, Math.min(length, this.sizeBytes - positionBytes));
    target.set(this.bytes.subarray(positionBytes, positionBytes + count), offset);
    return count;
  }

  write(positionBytes: number, data: Uint8Array): void {
    const end = positionBytes + data.length;
    this.ensureCapacity(end);
    this.bytes.set(data, positionBytes); // a gap before positionBytes is already zero (invariant)
    this.sizeBytes = Math.max(this.sizeBytes, end);
  }

  fillZeros(positionBytes: number, length: number): void {
    const end = positionBytes + length;
    this.ensureCapacity(end);
    this.bytes.fill(0, positionBytes, end);
    this.sizeBytes = Math.max(this.sizeBytes, end);
  }

  truncate(sizeBytes: number): void {
    if (sizeBytes < this.sizeBytes) {
      this.bytes.fill(0, sizeBytes, this.sizeBytes); // keep the invariant for a later extension
    } else {
      this.ensureCapacity(sizeBytes);
    }
    this.sizeBytes = sizeBytes;
  }

  copy(): GrowableBytes {
    const copy = new GrowableBytes();
    copy.bytes = this.bytes.slice(0, this.sizeBytes);
    copy.sizeBytes = this.sizeBytes;
    return copy;
  }

  toUint8Array(): Uint8Array {
    return this.bytes.slice(0, this.sizeBytes);
  }

  private ensureCapacity(capacityBytes: number): void {
    if (capacityBytes <= this.bytes.length) {
      return;
    }
    const grown = new Uint8Array(Math.max(capacityBytes, this.bytes.length * 2, 64));
    grown.set(this.bytes.subarray(0, this.sizeBytes));
    this.bytes = grown;
  }
}

// ------------------------------------------------------------------ directory trees

const ROOT = '/';

/** Directory path → (entry name → file id). Directories themselves live in `directories`. */
type Namespace = Map<string, Map<string, number>>;

type DirectoryOperation = (
  | { kind: 'link'; dir: string; name: string }
  | { kind: 'unlink'; dir: string; name: string }
  | { kind: 'rename'; fromDir: string; fromName: string; toDir: string; toName: string }
) & {
  fileId: number;
  /** Directories touched by the operation that have not been synced since it happened. */
  unsyncedDirs: Set<string>;
};

function isDurable(op: DirectoryOperation): boolean {
  return op.unsyncedDirs.size === 0;
}

/**
 * Replays `op` on `tree`. Removals only remove the entry if it still names the same file, so a
 * replay that lost an earlier operation never deletes a file the operation did not touch.
 */
function applyDirectoryOperation(tree: Namespace, op: DirectoryOperation): void {
  switch (op.kind) {
    case 'link':
      entriesOf(tree, op.dir).set(op.name, op.fileId);
      return;
    case 'unlink':
      removeEntryIfSame(entriesOf(tree, op.dir), op.name, op.fileId);
      return;
    case 'rename':
      removeEntryIfSame(entriesOf(tree, op.fromDir), op.fromName, op.fileId);
      entriesOf(tree, op.toDir).set(op.toName, op.fileId);
      return;
  }
}

function removeEntryIfSame(entries: Map<string, number>, name: string, fileId: number): void {
  if (entries.get(name) === fileId) {
    entries.delete(name);
  }
}

function entriesOf(tree: Namespace, dir: string): Map<string, number> {
  let entries = tree.get(dir);
  if (entries === undefined) {
    entries = new Map();
    tree.set(dir, entries);
  }
  return entries;
}

function cloneNamespace(tree: Namespace): Namespace {
  const copy: Namespace = new Map();
  for (const [dir, entries] of tree) {
    copy.set(dir, new Map(entries));
  }
  return copy;
}

function referencedFileIds(trees: readonly Namespace[]): Set<number> {
  const ids = new Set<number>();
  for (const tree of trees) {
    for (const entries of tree.values()) {
      for (const id of entries.values()) {
        ids.add(id);
      }
    }
  }
  return ids;
}

function chooseKeptCount(mode: KeepUnsynced, pendingCount: number, random: SeededRandom): number {
  switch (mode) {
    case 'none':
      return 0;
    case 'all':
      return pendingCount;
    case 'random':
      return pendingCount === 0 ? 0 : random.nextInt(pendingCount + 1);
  }
}

// ------------------------------------------------------------------ small helpers

interface Fault {
  operation: SimulatedOperation;
  code: string;
  path: string | undefined;
  remaining: number;
}

function zeroCounts(): Record<SimulatedOperation, number> {
  return {
    open: 0,
    create: 0,
    rename: 0,
    unlink: 0,
    readdir: 0,
    mkdirp: 0,
    syncDir: 0,
    read: 0,
    writev: 0,
    datasync: 0,
    truncate: 0,
    sizeBytes: 0,
    close: 0,
  };
}

/** Absolute, normalised, without trailing slash; relative paths are taken from `/`. */
function normalize(path: string): string {
  return posix.resolve(ROOT, path);
}

function requireCount(value: number, syscall: string, path: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw fileSystemError('EINVAL', syscall, path, `expected a non-negative integer, got ${value}`);
  }
}

function concatenate(buffers: readonly Uint8Array[]): Uint8Array {
  let totalBytes = 0;
  for (const buffer of buffers) {
    totalBytes += buffer.length;
  }
  const out = new Uint8Array(totalBytes);
  let at = 0;
  for (const buffer of buffers) {
    out.set(buffer, at);
    at += buffer.length;
  }
  return out;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'illegal operation on a directory',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  EIO: 'i/o error',
  ENOSPC: 'no space left on device',
};

function fileSystemError(
  code: string,
  syscall: string,
  path: string,
  detail?: string,
): SimulatedFileSystemError {
  const description = DESCRIPTIONS[code] ?? 'simulated error';
  const message = `${code}: ${description}${detail === undefined ? '' : ` (${detail})`}, ${syscall} '${path}'`;
  return Object.assign(new Error(message), { code, syscall, path });
}
