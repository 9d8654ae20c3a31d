/**
 * Starts xcron-server as an operator would — a real process, a real config file, a real port on
 * loopback — and checks the start-up contract: it serves /healthz, exits 0 on SIGTERM, and refuses
 * a broken config with exit status 2 and a one-line message naming the file and the key.
 *
 * Runs the TypeScript entry through @swc-node/register (no build step), which also resolves the
 * `@xcron/*` path aliases from tsconfig.json; that is why the process runs from the repository root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from '@xcron/testing';

const REPO_ROOT = resolve(__dirname, '..');
const ENTRY = 'apps/xcron-server/src/main.ts';
/** Polling /healthz: at most this many attempts, this far apart, each with its own timeout. */
const HEALTH_ATTEMPTS = 100;
const HEALTH_INTERVAL_MS = 100;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
/** How long a process may take to exit after SIGTERM, or to exit on its own with a bad config. */
const EXIT_TIMEOUT_MS = 10_000;

interface Started {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];
let dir: string;
let brokenCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcron-e2e-config-'));
});

afterEach(() => {
  // A failed assertion must not leave a server behind: end the ones this spec started, by PID.
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(child.pid, 'SIGKILL');
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function startServer(args: readonly string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', XCRON_CONFIG: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { child, output, exited };
}

/** Resolves with the exit, or rejects after `timeoutMs` (the process is then killed in afterEach). */
function exitWithin(
  server: Started,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () =>
        fail(
          new Error(
            `no exit within ${timeoutMs} ms; output:\n${server.output.stdout}${server.output.stderr}`,
          ),
        ),
      timeoutMs,
    );
  });
  return Promise.race([server.exited, timeout]).finally(() => clearTimeout(timer));
}

/** Polls GET /healthz until it answers 200, the process exits, or HEALTH_ATTEMPTS run out. */
async function waitForHealth(
  server: Started,
  port: number,
): Promise<{ status: number; body: unknown; attempts: number }> {
  for (let attempt = 1; attempt <= HEALTH_ATTEMPTS; attempt++) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) break;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS),
      });
      if (response.status === 200)
        return { status: response.status, body: await response.json(), attempts: attempt };
    } catch {
      // Not listening yet: try again.
    }
    await new Promise((done) => setTimeout(done, HEALTH_INTERVAL_MS));
  }
  throw new Error(
    `/healthz never answered 200; output:\n${server.output.stdout}${server.output.stderr}`,
  );
}

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('xcron-server process', () => {
  it('serves /healthz on http_host:http_port and exits 0 on SIGTERM', async () => {
    const [httpPort, monitorPort, peerPort] = await freePorts(3);
    const file = writeConfig(
      'good.toml',
      [
        'env = "prod"',
        'http_host = "127.0.0.1"',
        `http_port = ${httpPort}`,
        `monitor_port = ${monitorPort}`,
        `peer_port = ${peerPort}`,
        `raft_dir = ${JSON.stringify(join(dir, 'data'))}`,
        '[peer]',
        'peer_hosts = []',
      ].join('\n'),
    );
    const server = startServer(['--config', file]);

    const health = await waitForHealth(server, httpPort!);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(server.output.stdout).toContain(`listening: http http://127.0.0.1:${httpPort}`);
    expect(server.output.stdout).toContain(`node 127.0.0.1:${peerPort} on peer_port ${peerPort}`);

    server.child.kill('SIGTERM');
    expect(await exitWithin(server, EXIT_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    expect(server.output.stderr).toBe('');
  }, 30_000);

  it.each([
    [
      'an unknown key',
      'env = "debug"\nhttp_prot = 8000\n',
      ': http_prot is not a known key; did you mean http_port?',
    ],
    [
      'a TOML syntax error',
      'env = "debug"\nhttp_port = = 8000\n',
      ':2:13: TOML syntax error: invalid value',
    ],
    [
      'a port out of range',
      'http_port = 70000\n',
      ': http_port must be an integer from 1 to 65535, got 70000',
    ],
  ])(
    'refuses %s with exit status 2 and a message naming the file',
    async (_, text, detail) => {
      const file = writeConfig(`broken-${++brokenCount}.toml`, text);
      const server = startServer(['--config', file]);
      expect(await exitWithin(server, EXIT_TIMEOUT_MS)).toEqual({ code: 2, signal: null });
      expect(server.output.stderr.startsWith(`xcron: ${file}${detail}\n`)).toBe(true);
      expect(server.output.stderr).not.toMatch(/^\s+at /m); // no stack trace
    },
    30_000,
  );

  it('reads the file named by XCRON_CONFIG when there is no --config', async () => {
    const file = writeConfig('from-env.toml', 'monitor_prot = 1\n');
    const server = startServer([], { XCRON_CONFIG: file });
    expect(await exitWithin(server, EXIT_TIMEOUT_MS)).toEqual({ code: 2, signal: null });
    expect(server.output.stderr).toBe(
      `xcron: ${file}: monitor_prot is not a known key; did you mean monitor_port?\n`,
    );
  }, 30_000);
});
