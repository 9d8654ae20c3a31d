/**
 * Three xcron nodes as three processes on loopback, configured with peer_hosts alone: a task
 * created through a follower is readable on every node and fires; kill -9 of the leader while
 * tasks fall due — a new leader fires everything that was due and nothing acknowledged is lost;
 * the killed node restarts and catches up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@xcron/testing';
import { CallbackReceiver } from './support/callback-receiver';
import { eventually, startThreeNodes, XcronNode } from './support/xcron-node';

jest.setTimeout(150_000);

let dir: string;
let receiver: CallbackReceiver;
let nodes: XcronNode[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xcron-e2e-cluster-'));
  receiver = await CallbackReceiver.start();
  nodes = await startThreeNodes(dir, ['raft_tick_ms = 50']);
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.kill9()));
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function leaderOf(
  among: XcronNode[],
): Promise<{ leader: XcronNode; followers: XcronNode[] }> {
  return eventually('a leader', async () => {
    for (const node of among) {
      const answer = await node.request('GET', '/v1/cluster', undefined, 2_000);
      if (answer.status === 200 && answer.body.data.role === 'leader')
        return { leader: node, followers: among.filter((other) => other !== node) };
    }
    return undefined;
  });
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

it('shows one leader and the three members with both addresses on every node', async () => {
  const { leader } = await leaderOf(nodes);
  for (const node of nodes) {
    const view = (await node.request('GET', '/v1/cluster')).body.data;
    expect(view.leader_id).toBe(leader.peerAddress);
    expect(view.members.map((m: { id: string }) => m.id).sort()).toEqual(
      nodes.map((n) => n.peerAddress).sort(),
    );
    expect(view.leader_http_address).toBe(`127.0.0.1:${leader.config.ports.http}`);
  }
});

it('accepts a task through a follower, shows it on every node, and fires it once', async () => {
  const { followers } = await leaderOf(nodes);
  const atSeconds = nowSeconds() + 3;
  const created = await followers[0].request('POST', '/xcron/createTask', {
    type: 2,
    format: String(atSeconds),
    callback: { url: receiver.url('/via-follower'), body: { via: 'follower' } },
  });
  expect(created.body).toMatchObject({ code: 0 });
  const taskId = created.body.data.task_id as string;
  for (const node of nodes) {
    const read = await node.request('GET', `/v1/tasks/${taskId}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ task_id: taskId, status: 'active' });
  }
  const callback = await eventually('the callback', () => receiver.forTask(taskId)[0], 15_000);
  expect(callback.arrivedAtMs).toBeGreaterThanOrEqual(atSeconds * 1000);
  expect(JSON.parse(callback.body)).toEqual({ via: 'follower' });
  await eventually('recorded on every node', async () => {
    for (const node of nodes) {
      const read = await node.request('GET', `/v1/tasks/${taskId}?consistency=stale`);
      if (read.body.data.run_count !== 1) return undefined;
    }
    return true;
  });
  expect(receiver.forTask(taskId)).toHaveLength(1);
});

it('fires everything that was due when the leader is killed -9, loses nothing, and the old leader catches up', async () => {
  const { leader, followers } = await leaderOf(nodes);
  // 40 one-shots due over the next 2-6 s, created through both followers, acknowledged before the kill.
  const startMs = (nowSeconds() + 2) * 1000;
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const answer = await followers[i % 2].request('POST', '/v1/tasks', {
      run_at_ms: startMs + i * 100,
      callback: { url: receiver.url('/failover'), body: { i } },
    });
    expect(answer.status).toBe(201);
    ids.push(answer.body.data.task_id as string);
  }
  // Kill the leader once some of them have fired, while the rest are still due.
  await eventually(
    'the first fires',
    () => (ids.filter((id) => receiver.forTask(id).length > 0).length >= 5 ? true : undefined),
    15_000,
  );
  await leader.kill9();
  const survivors = followers;
  await leaderOf(survivors);
  await eventually(
    'every acknowledged task fires',
    () => (ids.every((id) => receiver.forTask(id).length >= 1) ? true : undefined),
    30_000,
  );
  const deliveries = ids.reduce((sum, id) => sum + receiver.forTask(id).length, 0);
  // At-least-once: duplicates only around the failover, and the new leader counted every fire it
  // sent that the old one may have delivered already.
  const { leader: newLeader } = await leaderOf(survivors);
  const metrics = await (
    await fetch(`http://127.0.0.1:${newLeader.config.ports.monitor}/metrics`)
  ).text();
  const refires = Number(/^xcron_failover_refires_total (\d+)/m.exec(metrics)?.[1]);
  expect(deliveries - ids.length).toBeLessThanOrEqual(refires);
  for (const id of ids) {
    const [first] = receiver.forTask(id);
    expect(first.arrivedAtMs).toBeGreaterThanOrEqual(Number(first.headers['x-xcron-scheduled-at']));
  }
  // The killed node restarts from its disk and catches up with the cluster.
  leader.start();
  await leader.waitReady(60_000);
  const target = (await survivors[0].request('GET', '/v1/cluster')).body.data
    .commit_index as number;
  await eventually('the restarted node catches up', async () => {
    const view = (await leader.request('GET', '/v1/cluster')).body.data;
    return view.applied_index >= target ? true : undefined;
  });
  for (const id of ids) {
    const read = await leader.request('GET', `/v1/tasks/${id}?consistency=stale`);
    expect(read.status).toBe(200);
  }
});

it('admits a fourth node at run time and removes a member', async () => {
  const [http, monitor, peer] = await freePorts(3);
  const fourth = new XcronNode({
    dir: join(dir, 'node3'),
    ports: { http, monitor, peer },
    peerHosts: nodes.map((node) => node.peerAddress),
    extraToml: ['raft_tick_ms = 50', `advertise_addr = "127.0.0.1:${peer}"`],
  });
  nodes.push(fourth);
  fourth.start();
  const { leader, followers } = await leaderOf(nodes.slice(0, 3));
  const added = await followers[0].request('POST', '/v1/cluster/members', {
    peer_address: fourth.peerAddress,
  });
  expect(added.status).toBe(200);
  await fourth.waitReady(60_000);
  await eventually('the fourth node is a voter', async () => {
    const view = (await leader.request('GET', '/v1/cluster')).body.data;
    const member = view.members.find((m: { id: string }) => m.id === fourth.peerAddress);
    return member !== undefined && member.learner === false ? true : undefined;
  });
  // It serves reads and takes writes like any member.
  const created = await fourth.request('POST', '/v1/tasks', {
    run_at_ms: Date.now() + 60_000,
    callback: { url: receiver.url('/joined'), body: {} },
  });
  expect(created.status).toBe(201);
  const taskId = created.body.data.task_id as string;
  for (const node of nodes)
    expect((await node.request('GET', `/v1/tasks/${taskId}`)).status).toBe(200);

  // Remove one of the original followers: the others no longer list it.
  const removed = followers[1];
  const answer = await leader.request(
    'DELETE',
    `/v1/cluster/members/${encodeURIComponent(removed.peerAddress)}`,
  );
  expect(answer.status).toBe(200);
  const view = (await leader.request('GET', '/v1/cluster')).body.data;
  expect(view.members.map((m: { id: string }) => m.id)).not.toContain(removed.peerAddress);
  expect(view.members).toHaveLength(3);
});
