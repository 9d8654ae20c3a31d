import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SchedulerService } from '@xcron/scheduler/nest';
import { freePorts } from '@xcron/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createXcronApp } from '../app.factory';
import { loadConfig } from '../config/config.loader';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `done(text)` holds (or fails after `timeoutMs` with the last scrape). */
async function scrapeUntil(
  url: string,
  done: (text: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(url)).text();
    if (done(text)) return text;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the whole app serves /metrics on monitor_port', () => {
  let app: NestFastifyApplication | undefined;
  let receiver: Server;
  let dir: string;
  let metricsUrl: string;
  let receiverPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xcron-metrics-'));
    let httpPort: number, monitorPort: number, peerPort: number;
    [httpPort, monitorPort, peerPort, receiverPort] = await freePorts(4);
    receiver = createServer((request, response) => {
      request.resume().on('end', () => response.end('ok'));
    });
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
    const file = join(dir, 'xcron.toml');
    writeFileSync(
      file,
      [
        'env = "prod"',
        'http_host = "127.0.0.1"',
        `http_port = ${httpPort}`,
        `monitor_port = ${monitorPort}`,
        `peer_port = ${peerPort}`,
        'raft_tick_ms = 10',
        '',
      ].join('\n'),
    );
    app = await createXcronApp(
      loadConfig(file, { logger: { warn: () => undefined }, cwd: dir }),
      undefined,
      { logger: false },
    );
    await app.init();
    metricsUrl = `http://127.0.0.1:${monitorPort}/metrics`;
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows Raft, task and fire metrics of the running node, and closes with the app', async () => {
    // A single node elects itself and starts dispatching.
    let text = await scrapeUntil(metricsUrl, (t) => sample(t, 'xcron_dispatching') === 1);
    expect(sample(text, 'xcron_raft_term')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'xcron_raft_is_leader')).toBe(1);
    expect(sample(text, 'xcron_raft_commit_index')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'xcron_raft_applied_index')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'xcron_raft_leader_changes_total')).toBe(1);
    expect(sample(text, 'xcron_process_resident_memory_bytes')).toBeGreaterThan(0);

    await app!.get(SchedulerService).createTask({
      schedule: { kind: 'once', runAtMs: Date.now() },
      callback: { url: `http://127.0.0.1:${receiverPort}/hook`, body: { hello: 1 } },
    });
    text = await scrapeUntil(
      metricsUrl,
      (t) =>
        sample(t, 'xcron_fires_completed_total{kind="scheduled",status="succeeded"}') === 1 &&
        sample(t, 'xcron_tasks{status="completed"}') === 1,
    );
    expect(sample(text, 'xcron_fires_started_total{kind="scheduled"}')).toBe(1);
    expect(sample(text, 'xcron_fire_lateness_seconds_count')).toBe(1);
    expect(sample(text, 'xcron_callback_duration_seconds_count{outcome="success"}')).toBe(1);
    expect(sample(text, 'xcron_tasks{status="active"}')).toBe(0);

    // Not a route of the API.
    expect((await app!.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);

    await app!.close();
    app = undefined;
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });
});
