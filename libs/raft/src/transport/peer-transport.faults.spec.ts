import { encodeFrame, FrameKind } from './frame-codec';
import type { LocalIdentity } from './handshake';
import { rawDial, rawDialAuthenticated, SilentAcceptor } from './testing/raw-peer';
import { TestCluster, text, unusedPort, within, type TestNode } from './testing/transport-harness';

const WAIT_MS = 5_000;
const KiB = 1024;

let cluster: TestCluster;
beforeEach(() => {
  cluster = new TestCluster();
});
afterEach(async () => {
  await within(cluster.stopAll(), WAIT_MS, 'stopping every transport');
});

function mallory(): LocalIdentity {
  return {
    nodeId: 'mallory',
    clusterId: 'cluster-test',
    peerAddress: 'mallory:1',
    httpAddress: 'http://mallory',
  };
}

/** Sends one message from `from` to `to` and waits until it arrives. */
async function roundTrip(from: TestNode, to: TestNode, label: string): Promise<void> {
  expect(from.transport.send(to.id, text(label))).toBe(true);
  await to.inbox.waitFor(
    (m) => m.text === label && m.from === from.id,
    WAIT_MS,
    `"${label}" at ${to.id}`,
  );
}

describe('PeerTransport faults: bad frames close that connection only', () => {
  it('closes a connection that sends an oversized frame; other connections keep working', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b', { limits: { frameBytesMax: 64 * KiB } });
    const c = await cluster.startNode('c');
    await roundTrip(a, b, 'before');
    await roundTrip(c, b, 'before');
    const raw = await rawDialAuthenticated(b.endpoint, mallory(), 'b');
    const header = Buffer.from([0, 0, 0, 0, FrameKind.Message]);
    header.writeUInt32BE(64 * KiB, 0); // declares 64 KiB + 4 > frameBytesMax
    raw.write(header);
    await within(raw.closed, WAIT_MS, 'b closing the oversized sender');
    const line = await b.logger.waitFor(
      /closing connection with node "mallory" \(127\.0\.0\.1:\d+, inbound\).*exceeds the limit of 65536/,
    );
    expect(line.level).toBe('warn');
    expect(b.transport.stats().protocolErrors).toBe(1);
    await roundTrip(a, b, 'after');
    await roundTrip(c, b, 'after');
    await roundTrip(b, a, 'after');
    expect(a.transport.stats().peers.b.reconnects).toBe(0); // a's connection was never touched
  });

  it('closes a connection that sends garbage, before or after the handshake; others keep working', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    await roundTrip(a, b, 'before');

    const http = await rawDial(b.endpoint);
    http.write(Buffer.from('GET / HTTP/1.1\r\nHost: b\r\n\r\n'));
    await within(http.closed, WAIT_MS, 'b closing the HTTP client');
    await b.logger.waitFor(
      /closing connection with peer at 127\.0\.0\.1:\d+, inbound: frame of \d+ bytes exceeds the limit of 8192/,
    );

    const raw = await rawDialAuthenticated(b.endpoint, mallory(), 'b');
    raw.write(
      Buffer.concat([
        encodeFrame(FrameKind.Message, text('valid first')),
        Buffer.from([0, 0, 0, 1, 99]),
      ]),
    );
    await within(raw.closed, WAIT_MS, 'b closing the garbage sender');
    await b.logger.waitFor(/unknown frame kind 99/);
    await b.inbox.waitFor(
      (m) => m.from === 'mallory' && m.text === 'valid first',
      WAIT_MS,
      'the valid frame before the garbage',
    );

    const wrongWay = await rawDialAuthenticated(b.endpoint, mallory(), 'b');
    wrongWay.write(encodeFrame(FrameKind.Pong)); // only an acceptor sends Pong
    await within(wrongWay.closed, WAIT_MS, 'b closing the out-of-place frame');

    expect(b.transport.stats().protocolErrors).toBe(3);
    await roundTrip(a, b, 'after');
    await roundTrip(b, a, 'after');
  });
});

describe('PeerTransport faults: reconnecting', () => {
  it('reconnects after the peer stops and starts again, delivering what was queued meanwhile', async () => {
    const a = await cluster.startNode('a');
    const b1 = await cluster.startNode('b');
    await roundTrip(a, b1, 'first life');
    const port = b1.endpoint.port;
    await within(cluster.stopNode(b1), WAIT_MS, 'stopping b');
    await a.logger.waitFor(/connection to node "b" lost/);
    for (let i = 0; i < 5; i++) a.transport.send('b', text(`while down ${i}`));
    const b2 = await cluster.startNode('b', { listenPort: port });
    await b2.inbox.waitForCount(() => true, 5, WAIT_MS, 'queued messages at the restarted b');
    expect(b2.inbox.items.map((m) => m.text)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `while down ${i}`),
    );
    await roundTrip(a, b2, 'second life');
    await roundTrip(b2, a, 'second life, back');
    await a.logger.waitFor(/reconnected to node "b"/);
    expect(a.transport.stats().peers.b.reconnects).toBeGreaterThanOrEqual(1);
    expect(a.hellos.count((h) => h.direction === 'outbound' && h.nodeId === 'b')).toBe(2);
  });

  it('a link waiting out a long backoff dials at once when something is sent: a restarted peer is reached promptly', async () => {
    // First backoff 3.75 s (0.75 x 5 s with the harness's random 0.5): far beyond the wait below.
    const limits = { backoffMsMin: 5_000, backoffMsMax: 10_000, redialOnDemandMsMin: 10 };
    const a = await cluster.startNode('a', { limits });
    const b1 = await cluster.startNode('b');
    await roundTrip(a, b1, 'first life');
    const port = b1.endpoint.port;
    await within(cluster.stopNode(b1), WAIT_MS, 'stopping b');
    await a.logger.waitFor(/connection to node "b" lost/);
    const b2 = await cluster.startNode('b', { listenPort: port });

    expect(a.transport.send('b', text('after the restart'))).toBe(true);
    await b2.inbox.waitFor((m) => m.text === 'after the restart', 2_000, 'the message at b');
    expect(a.transport.stats().peers.b.reconnects).toBe(1);
  });

  it("reports a peer's process gone: its inbound connection closes and a reconnect is refused (peerReachability)", async () => {
    const a = await cluster.startNode('a');
    const b1 = await cluster.startNode('b');
    const downs: string[] = [];
    a.transport.onPeerLinkDown((peerId) => downs.push(peerId));
    await roundTrip(a, b1, 'a to b');
    await roundTrip(b1, a, 'b to a');
    expect(a.transport.peerReachability('b')).toEqual({ inboundOpen: true, connectRefused: false });
    const port = b1.endpoint.port;

    await within(cluster.stopNode(b1), WAIT_MS, 'stopping b');
    await a.logger.waitFor(/cannot connect to node "b".*ECONNREFUSED/);
    expect(a.transport.peerReachability('b')).toEqual({ inboundOpen: false, connectRefused: true });
    expect(downs.filter((id) => id === 'b').length).toBeGreaterThanOrEqual(2); // inbound closed, refused

    const b2 = await cluster.startNode('b', { listenPort: port });
    await roundTrip(a, b2, 'a to b again');
    expect(a.transport.peerReachability('b')).toEqual({
      inboundOpen: false,
      connectRefused: false,
    });
    await roundTrip(b2, a, 'b to a again');
    expect(a.transport.peerReachability('b')).toEqual({ inboundOpen: true, connectRefused: false });
  });

  it('drops (and counts) instead of growing the queue while the peer is unreachable', async () => {
    const a = await cluster.startNode('a', { limits: { sendQueueFramesMax: 10 } });
    cluster.directory.set('ghost', { host: '127.0.0.1', port: await unusedPort() });
    const results = Array.from({ length: 25 }, (_, i) => a.transport.send('ghost', text(`m${i}`)));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(results.slice(0, 10).every(Boolean)).toBe(true);
    await a.logger.waitFor(/cannot connect to node "ghost".*ECONNREFUSED.*retrying with backoff/);
    const later = Array.from({ length: 5 }, () => a.transport.send('ghost', text('later')));
    expect(later.some(Boolean)).toBe(false);
    const stats = a.transport.stats().peers.ghost;
    expect(stats).toMatchObject({
      sendDrops: 20,
      queuedFrames: 10,
      outboundOpen: false,
      framesSent: 0,
    });
    // The repeated failure is logged once, not once per attempt.
    expect(a.logger.matching(/cannot connect to node "ghost"/)).toHaveLength(1);
  });

  it('bounds the queue by bytes as well as by count', async () => {
    const a = await cluster.startNode('a', { limits: { sendQueueBytesMax: 4 * KiB } });
    cluster.directory.set('ghost', { host: '127.0.0.1', port: await unusedPort() });
    const results = Array.from({ length: 6 }, () =>
      a.transport.send('ghost', new Uint8Array(1000)),
    );
    expect(results).toEqual([true, true, true, true, false, false]);
    expect(a.transport.stats().peers.ghost).toMatchObject({
      sendDrops: 2,
      queuedFrames: 4,
      queuedBytes: 4 * 1005,
    });
  });

  it('stops writing when the socket backs up, and the bounded queue absorbs the rest', async () => {
    const stuck = new SilentAcceptor(
      { nodeId: 'b', clusterId: 'cluster-test', peerAddress: 'b', httpAddress: 'b' },
      true,
    );
    try {
      cluster.directory.set('b', await stuck.listen());
      const queueBytesMax = 1024 * KiB;
      const a = await cluster.startNode('a', {
        limits: { sendQueueBytesMax: queueBytesMax, idleTimeoutMs: 10_000, pingIntervalMs: 1_000 },
      });
      const payload = new Uint8Array(64 * KiB);
      let accepted = 0;
      // Bounded: at most 4,000 × 64 KiB; the peer reads nothing, so the queue must fill far sooner.
      for (let i = 0; i < 4_000 && a.transport.send('b', payload); i++) {
        accepted++;
        await new Promise((resolve) => setImmediate(resolve)); // let the connection write
      }
      const stats = a.transport.stats().peers.b;
      expect(stats.sendDrops).toBe(1);
      expect(stats.queuedBytes).toBeLessThanOrEqual(queueBytesMax);
      expect(stats.queuedBytes).toBeGreaterThan(queueBytesMax - 2 * payload.length);
      // Writes stopped once the kernel's socket buffers were full (a few MiB on loopback), instead
      // of following every send into Node's own unbounded write buffer.
      expect(stats.bytesSent).toBeLessThan(32 * 1024 * KiB);
      expect(stats.bytesSent + stats.queuedBytes).toBe(accepted * (payload.length + 5));
      expect(stats.outboundOpen).toBe(true);
    } finally {
      await cluster.stopAll();
      await stuck.close();
    }
  });
});

describe('PeerTransport faults: half-open connections', () => {
  it('a newer connection from the same node replaces a leftover older one', async () => {
    const b = await cluster.startNode('b');
    const old = await rawDialAuthenticated(b.endpoint, mallory(), 'b');
    const fresh = await rawDialAuthenticated(b.endpoint, mallory(), 'b'); // e.g. mallory restarted
    await within(old.closed, WAIT_MS, 'b closing the older connection');
    await b.logger.waitFor(/replaces its older connection/);
    fresh.write(encodeFrame(FrameKind.Message, text('on the new one')));
    await b.inbox.waitFor(
      (m) => m.text === 'on the new one',
      WAIT_MS,
      'the message on the newer connection',
    );
    expect(b.transport.stats().peers.mallory.inboundOpen).toBe(1);
    await fresh.destroy();
  });

  it('the dialer closes a connection whose peer stopped answering pings, then redials', async () => {
    const silent = new SilentAcceptor({
      nodeId: 'b',
      clusterId: 'cluster-test',
      peerAddress: 'b',
      httpAddress: 'b',
    });
    try {
      cluster.directory.set('b', await silent.listen());
      const a = await cluster.startNode('a');
      a.transport.send('b', text('hello?'));
      await a.hellos.waitFor((h) => h.nodeId === 'b', WAIT_MS, 'the connection to the silent peer');
      await a.logger.waitFor(/closing connection with node "b" .*nothing received for 1000 ms/);
      await silent.connections.waitForCount(() => true, 2, WAIT_MS, 'a redial');
    } finally {
      await cluster.stopAll();
      await silent.close();
    }
  });

  it('the acceptor closes an inbound connection that went silent', async () => {
    const b = await cluster.startNode('b');
    const raw = await rawDialAuthenticated(b.endpoint, mallory(), 'b'); // then never pings
    const started = performance.now();
    await within(raw.closed, WAIT_MS, 'b closing the silent connection');
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    await b.logger.waitFor(/closing connection with node "mallory" .*nothing received/);
  });

  it('keeps an idle connection alive with pings', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    await roundTrip(a, b, 'one');
    // Two idle timeouts with no traffic but pings and pongs.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await roundTrip(a, b, 'two');
    expect(a.transport.stats().peers.b.reconnects).toBe(0);
    expect(b.logger.matching(/nothing received/)).toHaveLength(0);
  });
});
