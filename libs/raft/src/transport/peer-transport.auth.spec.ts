import { encodeFrame, FrameKind } from './frame-codec';
import { decodeRefusal, RefusalCode } from './handshake';
import { decodeHello, encodeHello } from './hello-message';
import { rawDial } from './testing/raw-peer';
import { TestCluster, text, within, type TestNode } from './testing/transport-harness';
import { PROTOCOL_VERSION } from './transport.constants';

const WAIT_MS = 5_000;
const SECRET = 'a shared secret of the test cluster';
const WRONG_SECRET = 'some other secret entirely';

let cluster: TestCluster;
beforeEach(() => {
  cluster = new TestCluster();
});
afterEach(async () => {
  await within(cluster.stopAll(), WAIT_MS, 'stopping every transport');
});

async function roundTrip(from: TestNode, to: TestNode, label: string): Promise<void> {
  expect(from.transport.send(to.id, text(label))).toBe(true);
  await to.inbox.waitFor(
    (m) => m.text === label && m.from === from.id,
    WAIT_MS,
    `"${label}" at ${to.id}`,
  );
}

describe('PeerTransport handshake over TCP', () => {
  it('warns once at start-up when no secret is configured, and not otherwise', async () => {
    const open = await cluster.startNode('open');
    expect(open.logger.matching(/NOT authenticated/)).toHaveLength(1);
    expect(open.logger.matching(/NOT authenticated/)[0].level).toBe('warn');
    const closed = await cluster.startNode('closed', { clusterSecret: SECRET });
    expect(closed.logger.lines.items.filter((line) => line.level === 'warn')).toHaveLength(0);
  });

  it('refuses nodes of another cluster, with the reason logged on both sides', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b', { clusterId: 'another-cluster' });
    a.transport.send('b', text('are we one cluster?'));
    const atB = await b.logger.waitFor(
      /refusing node "a" \(127\.0\.0\.1:\d+, inbound\): cluster id mismatch/,
    );
    expect(atB.message).toMatch(/"another-cluster", node "a" in "cluster-test"/);
    await a.logger.waitFor(
      new RegExp(
        `node "b" \\(127\\.0\\.0\\.1:${b.endpoint.port}, outbound\\) refused the connection: cluster id mismatch`,
      ),
    );
    expect(b.inbox.items).toHaveLength(0);
    expect(a.transport.stats().authFailures).toBe(0);
  });

  it('keeps refusing a misconfigured peer on every redial, but logs the cause once per interval', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b', { clusterId: 'another-cluster' });
    a.transport.send('b', text('are we one cluster?'));
    await b.logger.waitFor(/cluster id mismatch/);
    // Backoff is 50–100 ms in these tests: a bounded pause lets several redials happen.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(b.transport.stats().handshakeRefusals).toBeGreaterThanOrEqual(3);
    expect(a.transport.stats().peers.b.reconnects).toBeGreaterThanOrEqual(3);
    expect(b.logger.matching(/cluster id mismatch/)).toHaveLength(1);
    expect(a.logger.matching(/cluster id mismatch/)).toHaveLength(1);
  });

  it('accepts peers with the same secret', async () => {
    const a = await cluster.startNode('a', { clusterSecret: SECRET });
    const b = await cluster.startNode('b', { clusterSecret: Buffer.from(SECRET) });
    await roundTrip(a, b, 'authenticated');
    await roundTrip(b, a, 'authenticated too');
    expect((await b.hellos.waitFor((h) => h.nodeId === 'a', WAIT_MS, 'hello')).authenticated).toBe(
      true,
    );
    expect(a.transport.stats().authFailures + b.transport.stats().authFailures).toBe(0);
  });

  it('refuses a wrong secret on both sides, logging the address, and delivers nothing', async () => {
    const a = await cluster.startNode('a', { clusterSecret: SECRET });
    const b = await cluster.startNode('b', { clusterSecret: WRONG_SECRET });
    a.transport.send('b', text('from a'));
    b.transport.send('a', text('from b'));
    const bPort = b.endpoint.port;
    const aPort = a.endpoint.port;
    // a dials b: a finds b's proof wrong and refuses; b hears the refusal.
    await a.logger.waitFor(
      new RegExp(
        `authentication failed: refusing node "b" \\(127\\.0\\.0\\.1:${bPort}, outbound\\): node "b" failed to prove the cluster secret`,
      ),
    );
    await b.logger.waitFor(
      /authentication failed: node "a" \(127\.0\.0\.1:\d+, inbound\) refused the connection/,
    );
    // b dials a: the same, the other way round.
    await b.logger.waitFor(
      new RegExp(
        `authentication failed: refusing node "a" \\(127\\.0\\.0\\.1:${aPort}, outbound\\)`,
      ),
    );
    await a.logger.waitFor(
      /authentication failed: node "b" \(127\.0\.0\.1:\d+, inbound\) refused the connection/,
    );
    expect(a.transport.stats().authFailures).toBeGreaterThanOrEqual(2);
    expect(b.transport.stats().authFailures).toBeGreaterThanOrEqual(2);
    expect(a.inbox.items).toHaveLength(0);
    expect(b.inbox.items).toHaveLength(0);
    expect(a.hellos.items).toHaveLength(0);
  });

  it('refuses a dialer that cannot prove the secret and delivers none of its pipelined frames', async () => {
    const b = await cluster.startNode('b', { clusterSecret: SECRET });
    const raw = await rawDial(b.endpoint);
    const hello = encodeHello({
      protocolVersion: PROTOCOL_VERSION,
      nodeId: 'mallory',
      peerAddress: 'mallory:1',
      httpAddress: 'http://mallory',
      clusterId: 'cluster-test',
      nonce: Buffer.alloc(32, 1),
      proof: Buffer.alloc(0),
    });
    raw.write(encodeFrame(FrameKind.Hello, hello));
    await raw.frames.waitFor((f) => f.kind === FrameKind.HelloAck, WAIT_MS, 'HelloAck');
    // A guessed proof, and data sent right behind it without waiting for Welcome.
    raw.write(
      Buffer.concat([
        encodeFrame(FrameKind.Auth, Buffer.alloc(32, 2)),
        encodeFrame(FrameKind.Message, text('sneaky')),
      ]),
    );
    const refusal = await raw.frames.waitFor((f) => f.kind === FrameKind.Refuse, WAIT_MS, 'Refuse');
    expect(decodeRefusal(refusal.body).code).toBe(RefusalCode.AuthFailed);
    await within(raw.closed, WAIT_MS, 'b closing the connection');
    await b.logger.waitFor(
      /authentication failed: refusing node "mallory" \(127\.0\.0\.1:\d+, inbound\): node "mallory" failed to prove/,
    );
    expect(b.inbox.items).toHaveLength(0);
    expect(b.hellos.items).toHaveLength(0);
    expect(b.transport.stats().authFailures).toBe(1);
  });

  it('refuses when only one side has a secret, saying so', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b', { clusterSecret: SECRET });
    a.transport.send('b', text('hi'));
    await b.logger.waitFor(
      /refusing node "a" .*does not authenticate \(is cluster_secret set on it\?\)/,
    );
    await a.logger.waitFor(/node "b" .*refused the connection: node "a" does not authenticate/);
    b.transport.send('a', text('hi'));
    await a.logger.waitFor(
      /refusing node "b" .*requires authentication but this node has no cluster_secret/,
    );
    expect(a.inbox.items.length + b.inbox.items.length).toBe(0);
  });

  it('refuses another protocol version in words', async () => {
    const b = await cluster.startNode('b');
    const raw = await rawDial(b.endpoint);
    const hello = encodeHello({
      protocolVersion: PROTOCOL_VERSION + 1,
      nodeId: 'future',
      peerAddress: 'f',
      httpAddress: 'f',
      clusterId: 'cluster-test',
      nonce: Buffer.alloc(0),
      proof: Buffer.alloc(0),
    });
    raw.write(encodeFrame(FrameKind.Hello, hello));
    const refusal = await raw.frames.waitFor((f) => f.kind === FrameKind.Refuse, WAIT_MS, 'Refuse');
    expect(decodeRefusal(refusal.body)).toEqual({
      code: RefusalCode.ProtocolVersion,
      reason: `protocol version mismatch: this node speaks ${PROTOCOL_VERSION}, the peer ${PROTOCOL_VERSION + 1}`,
    });
    await within(raw.closed, WAIT_MS, 'b closing the connection');
    await b.logger.waitFor(
      /handshake refused: refusing peer at 127\.0\.0\.1:\d+, inbound: protocol version mismatch/,
    );
  });

  it('answers a hello with its own, carrying its addresses', async () => {
    const b = await cluster.startNode('b');
    const raw = await rawDial(b.endpoint);
    const hello = encodeHello({
      protocolVersion: PROTOCOL_VERSION,
      nodeId: 'x',
      peerAddress: 'x:1',
      httpAddress: 'http://x',
      clusterId: 'cluster-test',
      nonce: Buffer.alloc(0),
      proof: Buffer.alloc(0),
    });
    raw.write(encodeFrame(FrameKind.Hello, hello));
    const ack = await raw.frames.waitFor((f) => f.kind === FrameKind.HelloAck, WAIT_MS, 'HelloAck');
    expect(decodeHello(ack.body)).toMatchObject({
      nodeId: 'b',
      peerAddress: 'b.peer.test:8899',
      httpAddress: 'http://b.test:8000',
    });
    await raw.destroy();
  });
});
