import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePorts } from '@xcron/testing';

const REPO_ROOT = resolve(__dirname, '..', '..');
const SOURCE_ENTRY = join(REPO_ROOT, 'apps/xcron-server/src/main.ts');
/** What `npm run build` makes. */
export const BUILT_ENTRY = join(REPO_ROOT, 'dist/apps/xcron-server/apps/xcron-server/src/main.js');
/** How a built node is started (npm run start:prod): it runs BUILT_ENTRY. */
export const BUILT_LAUNCHER = join(REPO_ROOT, 'bin/xcron-server');
/** Output kept per node (the tail), for error messages. */
const OUTPUT_KEPT_CHARS = 100_000;
const POLL_INTERVAL_MS = 50;

export interface NodePorts {
  readonly http: number;
  readonly monitor: number;
  readonly peer: number;
}

export interface XcronNodeConfig {
  /** Working directory of the node: its xcron.toml and raft_dir live here. */
  readonly dir: string;
  readonly ports: NodePorts;
  /** Every voter's peer address, this node's included; empty = single node. */
  readonly peerHosts: readonly string[];
  /** More TOML lines (top-level keys). */
  readonly extraToml?: readonly string[];
  /** `source` (default): main.ts through @swc-node/register; `built`: dist's main.js (benchmarks). */
  readonly launch?: 'source' | 'built';
  /** Options for node itself (e.g. --cpu-prof, --inspect). */
  readonly nodeArgs?: readonly string[];
  /** Called with each process started (a benchmark keeps them to kill on exit). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /**
   * The node's own addresses (default 127.0.0.1 for both) and the network namespace it runs in
   * (`ip netns exec`; default none): chaos:server gives each node a namespace, the HTTP API on
   * one network and the peer port on another, so that a node can be cut off from its peers.
   */
  readonly network?: {
    readonly httpHost: string;
    readonly peerHost: string;
    readonly netns: string;
  };
}

export interface HttpAnswer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test code reads JSON loosely
  readonly body: any;
}

/**
 * One xcron node as a user runs it: a real process (`node -r @swc-node/register main.ts --config`)
 * with its own xcron.toml and raft_dir, on loopback ports. Kill -9 and restart keep the directory.
 */
export class XcronNode {
  child: ChildProcess | undefined;
  output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly config: XcronNodeConfig) {
    mkdirSync(config.dir, { recursive: true });
    const toml = [
      'env = "prod"',
      `http_host = "${config.network?.httpHost ?? '127.0.0.1'}"`,
      `peer_listen_host = "${config.network?.peerHost ?? '127.0.0.1'}"`,
      `http_port = ${config.ports.http}`,
      `monitor_port = ${config.ports.monitor}`,
      `peer_port = ${config.ports.peer}`,
      'raft_dir = "./data"',
      ...(config.extraToml ?? []),
      '[peer]',
      `peer_hosts = ${JSON.stringify(config.peerHosts)}`,
    ];
    writeFileSync(join(config.dir, 'xcron.toml'), toml.join('\n') + '\n');
  }

  get baseUrl(): string {
    return `http://${this.config.network?.httpHost ?? '127.0.0.1'}:${this.config.ports.http}`;
  }

  get peerAddress(): string {
    return `${this.config.network?.peerHost ?? '127.0.0.1'}:${this.config.ports.peer}`;
  }

  get dataDir(): string {
    return join(this.config.dir, 'data');
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('not started');
    return pid;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  start(): void {
    if (this.running) throw new Error('already running');
    const tsconfig = join(REPO_ROOT, 'tsconfig.json');
    const config = ['--config', join(this.config.dir, 'xcron.toml')];
    const nodeArgs = this.config.nodeArgs ?? [];
    const env = {
      ...process.env,
      NO_COLOR: '1',
      XCRON_CONFIG: undefined,
      SWC_NODE_PROJECT: tsconfig,
      TS_NODE_PROJECT: tsconfig,
    };
    // A built node runs as `npm run start:prod` runs it: through bin/xcron-server (which sets
    // the process up, then execs node: the PID is the node's), node options in XCRON_NODE_ARGS.
    const [command, args, childEnv] =
      this.config.launch === 'built'
        ? [
            BUILT_LAUNCHER,
            config,
            { ...env, NODE: process.execPath, XCRON_NODE_ARGS: nodeArgs.join(' ') },
          ]
        : [
            process.execPath,
            [...nodeArgs, '-r', require.resolve('@swc-node/register'), SOURCE_ENTRY, ...config],
            env,
          ];
    // `ip netns exec` execs the command in the namespace: the PID stays the node's.
    const netns = this.config.network?.netns;
    const child = spawn(
      netns === undefined ? command : 'ip',
      netns === undefined ? args : ['netns', 'exec', netns, command, ...args],
      { cwd: this.config.dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.output = '';
    const keep = (chunk: Buffer): void => {
      this.output += chunk.toString();
      if (this.output.length > 2 * OUTPUT_KEPT_CHARS)
        this.output = this.output.slice(-OUTPUT_KEPT_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => child.once('exit', () => done()));
    this.config.onSpawn?.(child);
  }

  /**
   * Polls GET /readyz until 200 (member of a cluster with a known leader, journal replayed);
   * resolves with the ms it took.
   */
  async waitReady(timeoutMs = 30_000): Promise<number> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`node ${this.peerAddress} exited:\n${this.output}`);
      try {
        const answer = await this.request('GET', '/readyz', undefined, 1_000);
        if (answer.status === 200) return Date.now() - started;
      } catch {
        // not listening yet
      }
      await delay(POLL_INTERVAL_MS);
    }
    throw new Error(
      `node ${this.peerAddress} not ready within ${timeoutMs} ms:\n${this.output.slice(-4000)}`,
    );
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 10_000,
  ): Promise<HttpAnswer> {
    const response = await fetch(this.baseUrl + path, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed };
  }

  /** GET /v1/cluster → role and leader id (undefined when it does not answer). */
  async cluster(): Promise<{ role: string; leaderId: string | undefined } | undefined> {
    try {
      const answer = await this.request('GET', '/v1/cluster', undefined, 1_000);
      const data = answer.body?.data as { role?: string; leader_id?: string } | undefined;
      return data?.role === undefined ? undefined : { role: data.role, leaderId: data.leader_id };
    } catch {
      return undefined;
    }
  }

  /** SIGKILL: no shutdown hook runs, nothing more is flushed. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, and waits for the exit; resolves with the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return this.child?.exitCode ?? null;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await delay(POLL_INTERVAL_MS);
  }
  throw new Error(
    `${what}: not within ${timeoutMs} ms${lastError ? ` (last error: ${String(lastError)})` : ''}`,
  );
}

/**
 * Three nodes in `dir`/node0..2 on free loopback ports, configured by `peer_hosts` alone (plus
 * `extraToml`), not started yet.
 */
export async function threeNodes(
  dir: string,
  extraToml: readonly string[],
  launch: XcronNodeConfig['launch'] = 'source',
  networkOf?: (index: number) => NonNullable<XcronNodeConfig['network']>,
): Promise<XcronNode[]> {
  // Nodes in namespaces of their own have ports of their own: the defaults do.
  const ports = networkOf === undefined ? await freePorts(9) : undefined;
  const portsOf = (i: number): NodePorts =>
    ports === undefined
      ? { http: 8000, monitor: 9910, peer: 8899 }
      : { http: ports[i * 3], monitor: ports[i * 3 + 1], peer: ports[i * 3 + 2] };
  const peerHosts = [0, 1, 2].map(
    (i) => `${networkOf?.(i).peerHost ?? '127.0.0.1'}:${portsOf(i).peer}`,
  );
  return [0, 1, 2].map(
    (i) =>
      new XcronNode({
        dir: join(dir, `node${i}`),
        ports: portsOf(i),
        peerHosts,
        extraToml: [...extraToml],
        launch,
        ...(networkOf !== undefined ? { network: networkOf(i) } : {}),
      }),
  );
}

/** threeNodes() from source, started and ready. */
export async function startThreeNodes(
  dir: string,
  extraToml: readonly string[],
): Promise<XcronNode[]> {
  const nodes = await threeNodes(dir, extraToml);
  for (const node of nodes) node.start();
  await Promise.all(nodes.map((node) => node.waitReady(60_000)));
  return nodes;
}
