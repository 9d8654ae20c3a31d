import {
  ConnectionLostError,
  RemoteHandlerError,
  RequestTimeoutError,
  TransportError,
  TransportErrorCode,
  TransportStoppedError,
} from './transport.errors';
import { TestCluster, text, within } from './testing/transport-harness';

const WAIT_MS = 5_000;

let cluster: TestCluster;
beforeEach(() => {
  cluster = new TestCluster();
});
afterEach(async () => {
  await within(cluster.stopAll(), WAIT_MS, 'stopping every transport');
});

describe('PeerTransport messages over TCP', () => {
  it('carries messages between two nodes, in order, both ways', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    const count = 2_000;
    let accepted = 0;
    for (let i = 0; i < count; i++) {
      if (a.transport.send('b', text(`a→b ${i}`))) accepted++;
      if (b.transport.send('a', text(`b→a ${i}`))) accepted++;
    }
    expect(accepted).toBe(2 * count);
    await b.inbox.waitForCount(() => true, count, WAIT_MS, 'messages at b');
    await a.inbox.waitForCount(() => true, count, WAIT_MS, 'messages at a');
    expect(b.inbox.items.map((m) => m.text)).toEqual(
      Array.from({ length: count }, (_, i) => `a→b ${i}`),
    );
    expect(b.inbox.items.every((m) => m.from === 'a')).toBe(true);
    expect(a.inbox.items.map((m) => m.text)).toEqual(
      Array.from({ length: count }, (_, i) => `b→a ${i}`),
    );
    const stats = a.transport.stats();
    expect(stats.peers.b).toMatchObject({ sendDrops: 0, outboundOpen: true, inboundOpen: 1 });
    expect(stats.peers.b.framesSent).toBeGreaterThanOrEqual(count);
    expect(stats.peers.b.framesReceived).toBeGreaterThanOrEqual(count);
    expect(stats.peers.b.bytesReceived).toBeGreaterThan(count * 10);
  });

  it('carries messages among three nodes, each sender in order', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map((id) => cluster.startNode(id)));
    const count = 500;
    for (let i = 0; i < count; i++) {
      for (const from of nodes) {
        for (const to of nodes)
          if (to !== from) from.transport.send(to.id, text(`${from.id}:${i}`));
      }
    }
    for (const node of nodes) {
      await node.inbox.waitForCount(() => true, 2 * count, WAIT_MS, `messages at ${node.id}`);
      for (const from of nodes.filter((n) => n !== node)) {
        const texts = node.inbox.items.filter((m) => m.from === from.id).map((m) => m.text);
        expect(texts).toEqual(Array.from({ length: count }, (_, i) => `${from.id}:${i}`));
      }
    }
  });

  it('tells the driver each peer hello, with its HTTP address, both directions', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    a.transport.send('b', text('hi'));
    const atB = await b.hellos.waitFor(
      (h) => h.direction === 'inbound',
      WAIT_MS,
      'inbound hello at b',
    );
    expect(atB).toMatchObject({
      nodeId: 'a',
      httpAddress: 'http://a.test:8000',
      peerAddress: 'a.peer.test:8899',
      clusterId: 'cluster-test',
      knownPeer: true,
      authenticated: false,
    });
    expect(atB.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const atA = await a.hellos.waitFor(
      (h) => h.direction === 'outbound',
      WAIT_MS,
      'outbound hello at a',
    );
    expect(atA).toMatchObject({
      nodeId: 'b',
      httpAddress: 'http://b.test:8000',
      remoteAddress: `127.0.0.1:${b.endpoint.port}`,
    });
  });

  it('lets in a node id the membership does not know, reporting its claimed id', async () => {
    const b = await cluster.startNode('b');
    const stranger = await cluster.startNode('stranger');
    cluster.directory.delete('stranger'); // b's membership no longer knows it
    stranger.transport.send('b', text('let me in'));
    const message = await b.inbox.waitFor(() => true, WAIT_MS, 'the stranger message');
    expect(message).toEqual({ from: 'stranger', text: 'let me in' });
    const hello = await b.hellos.waitFor(
      (h) => h.nodeId === 'stranger',
      WAIT_MS,
      'the stranger hello',
    );
    expect(hello.knownPeer).toBe(false);
    await b.logger.waitFor(/accepted node "stranger".*not in this node's membership/);
  });

  it('keeps the connection when a message handler throws', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    const seen: string[] = [];
    b.transport.onMessage((_, payload) => {
      const value = Buffer.from(payload).toString();
      seen.push(value);
      if (value === 'boom') throw new Error('handler bug');
      b.inbox.push({ from: 'a', text: value });
    });
    a.transport.send('b', text('boom'));
    a.transport.send('b', text('after'));
    await b.inbox.waitFor((m) => m.text === 'after', WAIT_MS, 'the message after the throw');
    expect(seen).toEqual(['boom', 'after']);
    await b.logger.waitFor(/message handler failed.*handler bug/);
  });

  it('flushNow() writes the queued messages at once instead of on the next turn', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    a.transport.send('b', text('opens the connection'));
    await b.inbox.waitFor((m) => m.text === 'opens the connection', WAIT_MS, 'the first message');
    const sentBefore = a.transport.stats().peers.b.framesSent;
    a.transport.send('b', text('queued'));
    a.transport.send('b', text('queued too'));
    // Sends coalesce until the next turn: nothing is written yet.
    expect(a.transport.stats().peers.b.framesSent).toBe(sentBefore);
    a.transport.flushNow();
    expect(a.transport.stats().peers.b.framesSent).toBe(sentBefore + 2);
    await b.inbox.waitFor((m) => m.text === 'queued too', WAIT_MS, 'the flushed messages');
    expect(b.inbox.items.map((m) => m.text)).toEqual([
      'opens the connection',
      'queued',
      'queued too',
    ]);
    // Nothing left for the scheduled flush: the frames went out once.
    expect(a.transport.stats().peers.b.framesSent).toBe(sentBefore + 2);
  });

  it('refuses a payload over the limit and a send to itself, as caller errors', async () => {
    const a = await cluster.startNode('a', {
      limits: { frameBytesMax: 4096, handshakeFrameBytesMax: 4096 },
    });
    await cluster.startNode('b');
    expect(a.transport.payloadBytesMax).toBe(4096 - 9);
    expect(() => a.transport.send('b', new Uint8Array(4096))).toThrow(TransportError);
    expect(() => a.transport.send('a', text('me'))).toThrow(/itself/);
    await expect(a.transport.request('b', new Uint8Array(5000))).rejects.toMatchObject({
      code: TransportErrorCode.PayloadTooLarge,
    });
    expect(a.transport.send('nobody', text('?'))).toBe(false);
    await expect(a.transport.request('nobody', text('?'))).rejects.toMatchObject({
      code: TransportErrorCode.UnknownPeer,
    });
  });
});

describe('PeerTransport lifecycle', () => {
  it('start() reports a port in use as a listen failure', async () => {
    const a = await cluster.startNode('a');
    const clash = cluster.startNode('clash', { listenPort: a.endpoint.port });
    await expect(clash).rejects.toMatchObject({
      code: TransportErrorCode.ListenFailed,
      message: /EADDRINUSE/,
    });
  });

  it('stop() during start() leaves nothing listening', async () => {
    const { PeerTransport } = await import('./peer-transport');
    const transport = new PeerTransport({
      nodeId: 'x',
      listenHost: '127.0.0.1',
      listenPort: 0,
      advertisedPeerAddress: 'x',
      advertisedHttpAddress: 'x',
      clusterId: 'c',
      resolvePeer: () => undefined,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const starting = transport.start();
    const stopping = transport.stop();
    const outcome = await within(
      starting.catch((e: unknown) => e),
      WAIT_MS,
      'start to give up',
    );
    expect(outcome).toBeInstanceOf(TransportStoppedError);
    await within(stopping, WAIT_MS, 'stop');
  });
});

describe('PeerTransport requests over TCP', () => {
  it('answers requests with the handler result, matched by request id', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    b.transport.onRequest(async (from, payload) => {
      const value = Buffer.from(payload).toString();
      // Answer out of order: later requests finish first.
      await new Promise((resolve) => setTimeout(resolve, value.endsWith('0') ? 30 : 1));
      return text(`${from} asked ${value}`);
    });
    const answers = await within(
      Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          a.transport.request('b', text(`q${i}`), { timeoutMs: WAIT_MS }),
        ),
      ),
      WAIT_MS,
      'answers',
    );
    expect(answers.map((answer) => Buffer.from(answer).toString())).toEqual(
      Array.from({ length: 50 }, (_, i) => `a asked q${i}`),
    );
  });

  it('carries a handler error (message and code) back to the requester', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    b.transport.onRequest(async () => {
      throw Object.assign(new Error('not the leader; try node c'), { code: 'NOT_LEADER' });
    });
    const error = await a.transport
      .request('b', text('write'), { timeoutMs: WAIT_MS })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      peerId: 'b',
      remoteMessage: 'not the leader; try node c',
      remoteCode: 'NOT_LEADER',
    });
    b.transport.onRequest(() => {
      throw new Error('synchronous throw');
    });
    await expect(
      a.transport.request('b', text('again'), { timeoutMs: WAIT_MS }),
    ).rejects.toMatchObject({
      remoteMessage: 'synchronous throw',
      remoteCode: undefined,
    });
    b.transport.onRequest(async () => text('fine'));
    const answer = await a.transport.request('b', text('still connected?'), { timeoutMs: WAIT_MS });
    expect(Buffer.from(answer).toString()).toBe('fine');
    expect(b.hellos.count((h) => h.nodeId === 'a')).toBe(1); // the same connection throughout
  });

  it('answers with an error when the peer has no request handler', async () => {
    const a = await cluster.startNode('a');
    await cluster.startNode('b');
    await expect(
      a.transport.request('b', text('anyone?'), { timeoutMs: WAIT_MS }),
    ).rejects.toMatchObject({
      remoteCode: 'TRANSPORT_NO_REQUEST_HANDLER',
    });
  });

  it('times out a request whose handler does not answer in time, and ignores the late answer', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    b.transport.onRequest(async (_, payload) => {
      if (Buffer.from(payload).toString() === 'slow') await released;
      return text('done');
    });
    const started = performance.now();
    const error = await a.transport
      .request('b', text('slow'), { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ peerId: 'b', timeoutMs: 200 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    release();
    expect(
      Buffer.from(await a.transport.request('b', text('fast'), { timeoutMs: WAIT_MS })).toString(),
    ).toBe('done');
  });

  it('stop() rejects pending requests with TransportStoppedError', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    b.transport.onRequest(() => new Promise<Uint8Array>(() => undefined)); // never answers
    const pending = a.transport
      .request('b', text('forever'), { timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    await b.hellos.waitFor((h) => h.nodeId === 'a', WAIT_MS, 'the connection');
    await within(cluster.stopNode(a), WAIT_MS, 'stopping a');
    expect(await pending).toBeInstanceOf(TransportStoppedError);
    await expect(a.transport.request('b', text('after stop'))).rejects.toBeInstanceOf(
      TransportStoppedError,
    );
    expect(a.transport.send('b', text('after stop'))).toBe(false);
  });

  it('rejects pending requests with ConnectionLostError when the peer goes away', async () => {
    const a = await cluster.startNode('a');
    const b = await cluster.startNode('b');
    b.transport.onRequest(() => new Promise<Uint8Array>(() => undefined));
    const pending = a.transport
      .request('b', text('forever'), { timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    await b.hellos.waitFor((h) => h.nodeId === 'a', WAIT_MS, 'the connection');
    await within(cluster.stopNode(b), WAIT_MS, 'stopping b');
    const error = await within(pending, WAIT_MS, 'the rejection');
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error).toMatchObject({ peerId: 'b', code: TransportErrorCode.ConnectionLost });
  });

  it('fails a request fast with ConnectionLostError when the peer cannot be reached', async () => {
    const a = await cluster.startNode('a');
    cluster.directory.set('ghost', { host: '127.0.0.1', port: 1 }); // nothing listens on port 1
    const error = await within(
      a.transport.request('ghost', text('?'), { timeoutMs: 60_000 }).catch((e: unknown) => e),
      WAIT_MS,
      'the rejection',
    );
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});
