import { encodeFrame, FrameDecoder, FrameKind } from './frame-codec';
import {
  AcceptorHandshake,
  decodeRefusal,
  DialerHandshake,
  RefusalCode,
  type Handshake,
  type HandshakeOutcome,
  type LocalIdentity,
} from './handshake';
import { decodeHello, encodeHello } from './hello-message';
import { computeProof } from './peer-auth';
import { PROTOCOL_VERSION } from './transport.constants';

const SECRET = Buffer.from('correct horse battery staple');
const OTHER_SECRET = Buffer.from('incorrect horse battery staple');

function identity(nodeId: string, clusterId = 'cluster-1'): LocalIdentity {
  return { nodeId, clusterId, peerAddress: `${nodeId}:8899`, httpAddress: `http://${nodeId}:8000` };
}

interface Exchange {
  dialer: HandshakeOutcome | undefined;
  acceptor: HandshakeOutcome | undefined;
  /** Every frame that crossed the wire, in order. */
  wire: Buffer[];
}

/** Plays the handshake in memory, frame by frame, until one side opens for good or refuses. */
function exchange(dialer: Handshake, acceptor: Handshake): Exchange {
  const wire: Buffer[] = [];
  const result: Exchange = { dialer: undefined, acceptor: undefined, wire };
  let inFlight: { to: 'dialer' | 'acceptor'; frame: Buffer } | undefined = {
    to: 'acceptor',
    frame: dialer.start() ?? Buffer.alloc(0),
  };
  for (let step = 0; inFlight !== undefined && step < 10; step++) {
    wire.push(inFlight.frame);
    const decoder = new FrameDecoder(8192);
    decoder.push(inFlight.frame);
    const frame = decoder.next();
    if (frame === undefined) throw new Error('incomplete frame');
    const side: Handshake = inFlight.to === 'dialer' ? dialer : acceptor;
    const outcome: HandshakeOutcome = side.receive(frame.kind, frame.body);
    result[inFlight.to] = outcome;
    const back: 'dialer' | 'acceptor' = inFlight.to === 'dialer' ? 'acceptor' : 'dialer';
    inFlight = outcome.reply === undefined ? undefined : { to: back, frame: outcome.reply };
  }
  return result;
}

function refusalOf(outcome: HandshakeOutcome | undefined): {
  code: RefusalCode;
  byPeer: boolean;
  reason: string;
} {
  if (outcome?.status !== 'refused') throw new Error(`expected a refusal, got ${outcome?.status}`);
  return { code: outcome.refusal.code, byPeer: outcome.byPeer, reason: outcome.refusal.reason };
}

describe('handshake', () => {
  it('opens both sides without a secret, each learning the other hello', () => {
    const result = exchange(
      new DialerHandshake(identity('a'), undefined, 'b'),
      new AcceptorHandshake(identity('b'), undefined),
    );
    expect(result.acceptor).toMatchObject({
      status: 'open',
      peer: { nodeId: 'a', httpAddress: 'http://a:8000', protocolVersion: PROTOCOL_VERSION },
    });
    expect(result.dialer).toMatchObject({
      status: 'open',
      peer: { nodeId: 'b', peerAddress: 'b:8899' },
    });
    expect(result.wire.map((frame) => frame[4])).toEqual([
      FrameKind.Hello,
      FrameKind.HelloAck,
      FrameKind.Auth,
      FrameKind.Welcome,
    ]);
  });

  it('opens both sides with the same secret, and the secret never crosses the wire', () => {
    const result = exchange(
      new DialerHandshake(identity('a'), SECRET, 'b'),
      new AcceptorHandshake(identity('b'), SECRET),
    );
    expect(result.dialer?.status).toBe('open');
    expect(result.acceptor?.status).toBe('open');
    const wire = Buffer.concat(result.wire);
    expect(wire.includes(SECRET)).toBe(false);
    expect(wire.includes(Buffer.from('horse'))).toBe(false);
  });

  it('with different secrets, the dialer refuses the acceptor that cannot prove the secret', () => {
    const result = exchange(
      new DialerHandshake(identity('a'), OTHER_SECRET, 'b'),
      new AcceptorHandshake(identity('b'), SECRET),
    );
    expect(refusalOf(result.dialer)).toMatchObject({ code: RefusalCode.AuthFailed, byPeer: false });
    expect(refusalOf(result.acceptor)).toMatchObject({
      code: RefusalCode.AuthFailed,
      byPeer: true,
      reason: expect.stringMatching(/failed to prove/),
    });
  });

  it('the acceptor refuses a dialer whose proof is wrong, even if it skipped checking the acceptor', () => {
    const acceptor = new AcceptorHandshake(identity('b'), SECRET);
    const hello = encodeHello({
      protocolVersion: PROTOCOL_VERSION,
      ...identity('mallory'),
      nonce: Buffer.alloc(32, 7),
      proof: Buffer.alloc(0),
    });
    expect(acceptor.receive(FrameKind.Hello, hello).status).toBe('continue');
    const forged = computeProof(OTHER_SECRET, {
      role: 'dialer',
      nonce: Buffer.alloc(32),
      dialerId: 'mallory',
      acceptorId: 'b',
      clusterId: 'cluster-1',
    });
    const outcome = acceptor.receive(FrameKind.Auth, forged);
    expect(refusalOf(outcome)).toMatchObject({ code: RefusalCode.AuthFailed, byPeer: false });
  });

  it('a node cannot be made to answer its own challenge (reflection)', () => {
    // Connection 1: mallory dials b and receives b's challenge nonceB.
    const first = new AcceptorHandshake(identity('b'), SECRET);
    const hello1 = encodeHello({
      protocolVersion: PROTOCOL_VERSION,
      ...identity('a'),
      nonce: Buffer.alloc(32, 1),
      proof: Buffer.alloc(0),
    });
    const ack1 = first.receive(FrameKind.Hello, hello1);
    const nonceB = decodeHello(frameBody(ack1.reply)).nonce;
    // Connection 2: mallory dials b again, sending nonceB as its own challenge, and gets b's proof over nonceB.
    const second = new AcceptorHandshake(identity('b'), SECRET);
    const hello2 = encodeHello({
      protocolVersion: PROTOCOL_VERSION,
      ...identity('a'),
      nonce: nonceB,
      proof: Buffer.alloc(0),
    });
    const reflected = decodeHello(frameBody(second.receive(FrameKind.Hello, hello2).reply)).proof;
    // Replaying that proof on connection 1 fails: acceptor and dialer proofs differ by role.
    expect(refusalOf(first.receive(FrameKind.Auth, reflected)).code).toBe(RefusalCode.AuthFailed);
  });

  it('refuses a secret on one side only, in words, on the side that notices', () => {
    const noSecretDialer = exchange(
      new DialerHandshake(identity('a'), undefined, 'b'),
      new AcceptorHandshake(identity('b'), SECRET),
    );
    expect(refusalOf(noSecretDialer.acceptor)).toMatchObject({
      code: RefusalCode.AuthFailed,
      reason: expect.stringMatching(/does not authenticate/),
    });
    expect(refusalOf(noSecretDialer.dialer).byPeer).toBe(true);
    const noSecretAcceptor = exchange(
      new DialerHandshake(identity('a'), SECRET, 'b'),
      new AcceptorHandshake(identity('b'), undefined),
    );
    expect(refusalOf(noSecretAcceptor.acceptor)).toMatchObject({
      code: RefusalCode.AuthFailed,
      reason: expect.stringMatching(/no cluster_secret/),
    });
  });

  it('refuses a different cluster id with both ids in the reason', () => {
    const result = exchange(
      new DialerHandshake(identity('a', 'east'), undefined, 'b'),
      new AcceptorHandshake(identity('b', 'west'), undefined),
    );
    const refusal = refusalOf(result.acceptor);
    expect(refusal).toMatchObject({ code: RefusalCode.ClusterMismatch, byPeer: false });
    expect(refusal.reason).toMatch(/"west".*"east"/);
    expect(refusalOf(result.dialer)).toMatchObject({
      code: RefusalCode.ClusterMismatch,
      byPeer: true,
    });
  });

  it('refuses another protocol version by its magic-and-version prefix alone', () => {
    const acceptor = new AcceptorHandshake(identity('b'), undefined);
    const future = encodeHello({
      protocolVersion: PROTOCOL_VERSION + 1,
      ...identity('a'),
      nonce: Buffer.alloc(0),
      proof: Buffer.alloc(0),
    });
    const truncated = future.subarray(0, 8); // a later version may lay out the rest differently
    const outcome = acceptor.receive(FrameKind.Hello, truncated);
    expect(refusalOf(outcome)).toMatchObject({
      code: RefusalCode.ProtocolVersion,
      reason: expect.stringMatching(/speaks 1, the peer 2/),
    });
    expect(decodeRefusal(frameBody(outcome.reply)).code).toBe(RefusalCode.ProtocolVersion);
  });

  it('the dialer refuses a node other than the one it dialed', () => {
    const result = exchange(
      new DialerHandshake(identity('a'), undefined, 'b'),
      new AcceptorHandshake(identity('c'), undefined),
    );
    expect(refusalOf(result.dialer)).toMatchObject({
      code: RefusalCode.WrongNode,
      reason: expect.stringMatching(/dialed node "b" but reached node "c"/),
    });
  });

  it('refuses data before the handshake completed, and garbage hellos', () => {
    const acceptor = new AcceptorHandshake(identity('b'), undefined);
    expect(refusalOf(acceptor.receive(FrameKind.Message, Buffer.from('early'))).code).toBe(
      RefusalCode.Unexpected,
    );
    const garbage = new AcceptorHandshake(identity('b'), undefined);
    expect(refusalOf(garbage.receive(FrameKind.Hello, Buffer.from('GET / HTTP/1.1'))).code).toBe(
      RefusalCode.Malformed,
    );
    const dialer = new DialerHandshake(identity('a'), undefined, 'b');
    expect(refusalOf(dialer.receive(FrameKind.Welcome, Buffer.alloc(0))).code).toBe(
      RefusalCode.Unexpected,
    );
  });

  it('refuses a peer claiming this node own id', () => {
    const result = exchange(
      new DialerHandshake(identity('b'), undefined, 'b'),
      new AcceptorHandshake(identity('b'), undefined),
    );
    expect(refusalOf(result.acceptor).code).toBe(RefusalCode.WrongNode);
  });

  it('reports a received Refuse as refused by the peer', () => {
    const dialer = new DialerHandshake(identity('a'), undefined, 'b');
    const refuse = frameBody(
      encodeFrame(
        FrameKind.Refuse,
        Buffer.concat([Buffer.from([RefusalCode.ClusterMismatch]), Buffer.from('nope')]),
      ),
    );
    expect(refusalOf(dialer.receive(FrameKind.Refuse, refuse))).toEqual({
      code: RefusalCode.ClusterMismatch,
      byPeer: true,
      reason: 'nope',
    });
  });
});

function frameBody(frame: Buffer | undefined): Buffer {
  if (frame === undefined) throw new Error('expected a frame');
  return frame.subarray(5);
}
