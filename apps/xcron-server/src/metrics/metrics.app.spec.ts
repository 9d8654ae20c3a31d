import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SchedulerService } from '@xcron/scheduler/nest';
import { freePorts } from '@xcron/testing';
import { createServer, type Server } from 'node:http';
import { startInProcessNode, type InProcessNode } from '../testing/in-process-node';

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
  let node: InProcessNode | undefined;
  let metricsUrl: string;
  let receiverPort: number;

  beforeAll(async () => {
    [receiverPort] = await freePorts(1);
    receiver = createServer((request, response) => {
      request.resume().on('end', () => response.end('ok'));
    });
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
    node = await startInProcessNode();
    app = node.app;
    metricsUrl = `http://127.0.0.1:${node.ports.monitor}/metrics`;
  });

  afterAll(async () => {
    await node?.dispose();
    await new Promise((resolve) => receiver?.close(resolve));
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
    // The create and the fire record were synced Raft log writes; the journal syncs on a timer.
    expect(sample(text, 'xcron_fsync_duration_seconds_count{file="raft_log"}')).toBeGreaterThan(2);
    await scrapeUntil(
      metricsUrl,
      (t) => (sample(t, 'xcron_fsync_duration_seconds_count{file="journal"}') ?? 0) >= 1,
    );

    // Not a route of the API.
    expect((await app!.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);

    await node!.close();
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });
});
