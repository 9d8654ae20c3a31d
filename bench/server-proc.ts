/**
 * Processes of bench/server.bench.ts: the BUILT xcron server (`node dist/…/main.js --config FILE`,
 * cwd = its own temp dir) and the small helper children (a bare fastify route, a raw undici
 * sender). Every process started here is remembered and killed by PID on any exit path.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILT_ENTRY, XcronNode, type NodePorts } from '../test/support/xcron-node';

export const REPO_ROOT = resolve(__dirname, '..');
export const SERVER_MAIN = BUILT_ENTRY;

// ---- every child, killed by PID on exit ----------------------------------------------------

const liveChildren = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of liveChildren) killChild(child);
}

function killChild(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function track(child: ChildProcess): Promise<void> {
  liveChildren.add(child);
  return new Promise((done) =>
    child.once('exit', () => {
      liveChildren.delete(child);
      done();
    }),
  );
}

process.on('exit', killAllChildren);

// ---- build ---------------------------------------------------------------------------------

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'testing') continue;
      newest = Math.max(newest, newestSourceMs(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/**
 * Runs `npm run build` when dist's main.js is missing or older than a source file of apps/ or
 * libs/ (specs and testing folders aside). Returns what it did, for the report.
 */
export function ensureBuilt(force: boolean): string {
  const sourcesMs = Math.max(
    newestSourceMs(join(REPO_ROOT, 'apps')),
    newestSourceMs(join(REPO_ROOT, 'libs')),
  );
  const builtMs = existsSync(SERVER_MAIN) ? statSync(SERVER_MAIN).mtimeMs : 0;
  if (!force && builtMs >= sourcesMs) return 'dist is up to date: not rebuilt';
  const started = Date.now();
  const result = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${String(result.status)})`);
  return `built with npm run build in ${((Date.now() - started) / 1000).toFixed(1)} s (${
    builtMs === 0 ? 'dist was missing' : force ? '--build given' : 'dist was older than sources'
  })`;
}

// ---- /proc readings ------------------------------------------------------------------------

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** User + system CPU time of a process so far, ms (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Bytes used by every file under `dir` (apparent size rounded up to 4 KiB blocks, like du). */
export function diskBytes(dir: string): { blocks: number; apparent: number } {
  let blocks = 0;
  let apparent = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = diskBytes(path);
      blocks += sub.blocks;
      apparent += sub.apparent;
    } else {
      const st = statSync(path);
      blocks += st.blocks * 512;
      apparent += st.size;
    }
  }
  return { blocks, apparent };
}

// ---- the xcron server ----------------------------------------------------------------------

export type { NodePorts as ServerPorts } from '../test/support/xcron-node';

export interface ServerNodeConfig {
  readonly dir: string;
  readonly ports: NodePorts;
  readonly peerHosts: readonly string[];
  readonly extraToml?: readonly string[];
  readonly nodeArgs?: readonly string[];
}

/**
 * One BUILT xcron node (the e2e tests' XcronNode on dist's main.js): its own dir (xcron.toml,
 * ./data), loopback ports; kill -9 keeps the dir; killed with every other child on exit.
 */
export class ServerNode extends XcronNode {
  constructor(config: ServerNodeConfig) {
    super({ ...config, launch: 'built', onSpawn: (child) => void track(child) });
  }
}

// ---- helper children (forked .ts scripts) ---------------------------------------------------

/** A forked helper script that answers `{id, ...}` requests with `{id, ok, result | error}`. */
export class HelperChild {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >();
  private readonly exited: Promise<void>;
  private readyResolve: ((value: unknown) => void) | undefined;
  readonly ready: Promise<unknown>;

  constructor(script: string, args: readonly string[] = []) {
    this.proc = fork(join(__dirname, script), [...args], {
      cwd: REPO_ROOT,
      execArgv: ['-r', '@swc-node/register'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = track(this.proc);
    this.ready = new Promise((done, fail) => {
      this.readyResolve = done;
      void this.exited.then(() => fail(new Error(`${script} exited`)));
    });
    this.proc.on('message', (raw) => {
      const message = raw as {
        type?: string;
        id?: number;
        ok?: boolean;
        result?: unknown;
        error?: string;
        info?: unknown;
      };
      if (message.type === 'ready') {
        this.readyResolve?.(message.info);
        return;
      }
      const pending = message.id === undefined ? undefined : this.pending.get(message.id);
      if (pending === undefined || message.id === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(message.error));
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  request<T>(body: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((done, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`helper ${this.pid}: request timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: done as (value: unknown) => void, reject: fail, timer });
      this.proc.send({ id, ...body });
    });
  }

  async kill(): Promise<void> {
    killChild(this.proc);
    await this.exited;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

// ---- forced GC through the inspector ------------------------------------------------------------

/**
 * Forces a full GC in a process started with `--inspect=127.0.0.1:<port>`, through the inspector
 * protocol's HeapProfiler.collectGarbage (no --expose-gc and no endpoint of the server needed).
 */
export async function forceGcViaInspector(inspectPort: number, timeoutMs = 30_000): Promise<void> {
  const { WebSocket } = await import('undici');
  const list = (await (
    await fetch(`http://127.0.0.1:${inspectPort}/json/list`, {
      signal: AbortSignal.timeout(5_000),
    })
  ).json()) as { webSocketDebuggerUrl: string }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('inspector: no answer')), timeoutMs);
      socket.addEventListener('open', () =>
        socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })),
      );
      socket.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as { id?: number; error?: unknown };
        if (message.id !== 1) return;
        clearTimeout(timer);
        if (message.error !== undefined) fail(new Error(JSON.stringify(message.error)));
        else done();
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        fail(new Error('inspector socket error'));
      });
    });
  } finally {
    socket.close();
  }
}

/** Bytes on disk under each top-level entry of `dir` (name → bytes), largest first. */
export function diskBreakdown(dir: string): [string, number][] {
  return readdirSync(dir, { withFileTypes: true })
    .map((entry): [string, number] => {
      const path = join(dir, entry.name);
      return [
        entry.name,
        entry.isDirectory() ? diskBytes(path).blocks : statSync(path).blocks * 512,
      ];
    })
    .sort((a, b) => b[1] - a[1]);
}
