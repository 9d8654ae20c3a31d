/**
 * A follower that was down while the cluster moved on past its compacted log catches up through
 * InstallSnapshot: the leader streams its state store (task definitions and bodies included), the
 * follower rewrites its own store from it, and then holds, serves and — once it leads — fires the
 * tasks created while it was down. Three real node processes on loopback.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallbackReceiver } from './support/callback-receiver';
import { eventually, startThreeNodes, type XcronNode } from './support/xcron-node';

jest.setTimeout(180_000);

/**
 * The leader snapshots every 100 entries and compacts its log up to the snapshot before the
 * newest (the margin is at most one snapshot interval and 1,000 entries): after 400 entries the
 * ones the follower lacks are gone.
 */
const TASKS_WHILE_DOWN = 400;
/**
 * One request at a time: creates that arrive together are coalesced into one Raft entry, and the
 * test needs an entry per task to pass the margin.
 */
const CONCURRENCY = 1;

let dir: string;
let receiver: CallbackReceiver;
let nodes: XcronNode[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xcron-e2e-snapshot-'));
  receiver = await CallbackReceiver.start();
  nodes = await startThreeNodes(dir, ['raft_tick_ms = 50', 'snapshot_every_entries = 100']);
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.kill9()));
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function leaderOf(among: XcronNode[]): Promise<XcronNode> {
  return eventually('a leader', async () => {
    for (const node of among) {
      if (!node.running) continue;
      const answer = await node.request('GET', '/v1/cluster', undefined, 2_000);
      if (answer.status === 200 && answer.body.data.role === 'leader') return node;
    }
    return undefined;
  });
}

/** Index of a node's newest state checkpoint (raft_dir/checkpoint/rows-<index>.ckpt), 0 if none. */
function checkpointIndex(node: XcronNode): number {
  let names: string[];
  try {
    names = readdirSync(join(node.config.dir, 'data', 'checkpoint'));
  } catch {
    return 0;
  }
  const indexes = names
    .map((name) => /^rows-(\d+)\.ckpt$/.exec(name)?.[1])
    .filter((index): index is string => index !== undefined)
    .map(Number);
  return Math.max(0, ...indexes);
}

async function createMany(node: XcronNode, count: number, runAtMs: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const n = next++;
        const answer = await node.request('POST', '/v1/tasks', {
          run_at_ms: runAtMs + n,
          callback: { url: receiver.url('/later'), body: { n, pad: 'x'.repeat(100) } },
        });
        if (answer.status !== 201) throw new Error(`create ${n}: ${JSON.stringify(answer.body)}`);
        ids[n] = answer.body.data.task_id as string;
      }
    }),
  );
  return ids;
}

it('brings a follower that missed more than the log keeps back through the leader’s state store', async () => {
  const leader = await leaderOf(nodes);
  const [down, up] = nodes.filter((node) => node !== leader);
  const farMs = Date.now() + 7 * 86_400_000;
  const before = await createMany(leader, 20, farMs);
  await down.kill9();

  const whileDown = await createMany(leader, TASKS_WHILE_DOWN, farMs + 1_000);
  // Each snapshot writes a checkpoint: once one passes 300, the log is compacted past 200.
  await eventually('the leader to snapshot past 300', () =>
    checkpointIndex(leader) >= 300 ? true : undefined,
  );
  down.start();
  await down.waitReady(60_000);
  // Caught up: the last task created while it was down is in its own state (a stale read).
  const last = whileDown[whileDown.length - 1];
  const shown = await eventually('the follower to hold the last task', async () => {
    const answer = await down.request('GET', `/v1/tasks/${last}?consistency=stale`);
    if (answer.status !== 200) throw new Error(`${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.data;
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- the follower's output:\n${down.output.slice(-6_000)}`);
  });
  expect(shown.callback.body).toEqual({ n: TASKS_WHILE_DOWN - 1, pad: 'x'.repeat(100) });
  await eventually('the install to be logged', () =>
    /installed the leader's snapshot at \d+/.test(down.output) ? true : undefined,
  );
  expect(leader.output).toMatch(/sent snapshot \d+ \(\d+ bytes, streamed from the state machine\)/);
  for (const id of [before[0], whileDown[0], whileDown[200]]) {
    const answer = await down.request('GET', `/v1/tasks/${id}?consistency=stale`);
    expect(answer.status).toBe(200);
  }
  const listed = await down.request('GET', '/v1/tasks?limit=1000&consistency=stale');
  expect(listed.status).toBe(200);
  expect(listed.body.data.tasks).toHaveLength(20 + TASKS_WHILE_DOWN);

  // It leads: a task due soon, created through it, fires once from its state.
  await leader.kill9();
  const newLeader = await leaderOf([down, up]);
  const dueMs = Date.now() + 2_000;
  const created = await down.request('POST', '/v1/tasks', {
    run_at_ms: dueMs,
    callback: { url: receiver.url('/after-install'), body: { after: 'install' } },
  });
  expect(created.status).toBe(201);
  await eventually('the callback', async () =>
    receiver.received.some((c) => c.path === '/after-install') ? true : undefined,
  );
  expect(receiver.received.filter((c) => c.path === '/after-install')).toHaveLength(1);
  expect(newLeader === down || newLeader === up).toBe(true);
});
