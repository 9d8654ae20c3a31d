import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freePorts } from '@xcron/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createXcronApp } from '../app.factory';
import { loadConfig } from '../config/config.loader';

/** A whole xcron node in the test's process: the real app on a temp raft_dir and free ports. */
export interface InProcessNode {
  readonly app: NestFastifyApplication;
  readonly dir: string;
  readonly ports: { readonly http: number; readonly monitor: number; readonly peer: number };
  /** Closes the app (once; later calls do nothing). */
  close(): Promise<void>;
  /** Closes the app if still open and deletes the directory. */
  dispose(): Promise<void>;
}

/**
 * Starts one single-node xcron app as main.ts would (config file, createXcronApp, init), with a
 * fast Raft tick so it leads within milliseconds. `extraToml` adds top-level keys.
 */
export async function startInProcessNode(
  extraToml: readonly string[] = [],
): Promise<InProcessNode> {
  const dir = mkdtempSync(join(tmpdir(), 'xcron-node-'));
  const [http, monitor, peer] = await freePorts(3);
  const file = join(dir, 'xcron.toml');
  writeFileSync(
    file,
    [
      'env = "prod"',
      'http_host = "127.0.0.1"',
      `http_port = ${http}`,
      `monitor_port = ${monitor}`,
      `peer_port = ${peer}`,
      'raft_tick_ms = 10',
      ...extraToml,
      '',
    ].join('\n'),
  );
  const app = await createXcronApp(
    loadConfig(file, { logger: { warn: () => undefined }, cwd: dir }),
    undefined,
    { logger: false },
  );
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close());
  return {
    app,
    dir,
    ports: { http, monitor, peer },
    close,
    async dispose() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
