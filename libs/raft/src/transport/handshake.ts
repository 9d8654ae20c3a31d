/**
 * Connection handshake, as two pure state machines (no sockets, no timers: tested frame by frame).
 *
 *   dialer                                   acceptor
 *   Hello{version, id, addresses, cluster, nonceD}  ──►  checks version, cluster id, auth config
 *                      ◄──  HelloAck{version, id, addresses, cluster, nonceA, proofA(nonceD)}
 *   checks version, cluster id, that it reached
 *   the node it dialed, proofA
 *   Auth{proofD(nonceA)}                     ──►  checks proofD
 *                                            ◄──  Welcome
 *   open                                          open
 *
 * Either side may answer any step with Refuse{code, reason} and close: the refusing side logs the
 * reason, and so does the refused side when the Refuse arrives. Without a secret on both sides,
 * nonces and proofs are empty and the same four steps run. A secret on one side only is refused,
 * in words, by whichever side notices first. No Message or Request is accepted before the
 * acceptor has sent Welcome, i.e. before the dialer proved the secret.
 */
import {
  decodeHello,
  encodeHello,
  helloProtocolVersion,
  type HelloBody,
  type PeerHello,
} from './hello-message';
import { computeProof, newNonce, proofMatches } from './peer-auth';
import { encodeFrame, FrameKind } from './frame-codec';
import { PROTOCOL_VERSION } from './transport.constants';
import { describeError } from './transport.errors';
import { utf8Truncated, WireReader } from './wire-reader';

export enum RefusalCode {
  Malformed = 1,
  ProtocolVersion = 2,
  ClusterMismatch = 3,
  AuthFailed = 4,
  WrongNode = 5,
  Unexpected = 6,
}

export interface Refusal {
  code: RefusalCode;
  reason: string;
}

/** A refusal reason on the wire is cut to this many bytes. */
const REFUSAL_REASON_BYTES_MAX = 1024;

export function encodeRefusal(refusal: Refusal): Buffer {
  return Buffer.concat([
    Buffer.from([refusal.code]),
    utf8Truncated(refusal.reason, REFUSAL_REASON_BYTES_MAX),
  ]);
}

export function decodeRefusal(body: Buffer): Refusal {
  const reader = new WireReader(body, 'refusal');
  const code = reader.u8();
  const reason = reader.restAsString();
  const known = Object.values(RefusalCode).includes(code);
  return { code: known ? (code as RefusalCode) : RefusalCode.Unexpected, reason };
}

/** This node, as it presents itself. */
export interface LocalIdentity {
  nodeId: string;
  peerAddress: string;
  httpAddress: string;
  clusterId: string;
}

export type HandshakeOutcome =
  /** Send `reply` (if any) and wait for the next frame. */
  | { status: 'continue'; reply?: Buffer }
  /** Send `reply` (if any); the connection is open and authenticated. */
  | { status: 'open'; reply?: Buffer; peer: PeerHello }
  /** Send `reply` (a Refuse, when this side refused) and close. */
  | { status: 'refused'; reply?: Buffer; refusal: Refusal; byPeer: boolean };

export interface Handshake {
  /** The node id the other side claims (or, for a dialer, is expected to have); for logs. */
  readonly peerId: string | undefined;
  /** First frame to send on connect, if this side speaks first. */
  start(): Buffer | undefined;
  receive(kind: FrameKind, body: Buffer): HandshakeOutcome;
}

abstract class HandshakeBase implements Handshake {
  abstract readonly peerId: string | undefined;
  protected readonly nonce: Buffer;
  /** The id the other side's hello claims, once parsed (also when it is then refused). */
  protected claimedPeerId: string | undefined;

  constructor(
    protected readonly local: LocalIdentity,
    protected readonly secret: Buffer | undefined,
  ) {
    this.nonce = secret === undefined ? Buffer.alloc(0) : newNonce();
  }

  abstract start(): Buffer | undefined;
  abstract receive(kind: FrameKind, body: Buffer): HandshakeOutcome;

  protected helloFrame(kind: FrameKind.Hello | FrameKind.HelloAck, proof: Buffer): Buffer {
    const body: HelloBody = {
      protocolVersion: PROTOCOL_VERSION,
      ...this.local,
      nonce: this.nonce,
      proof,
    };
    return encodeFrame(kind, encodeHello(body));
  }

  /** Version, shape, cluster and auth configuration checks common to Hello and HelloAck. */
  protected checkHello(body: Buffer): HelloBody | Refusal {
    const version = helloProtocolVersion(body);
    if (version === undefined)
      return { code: RefusalCode.Malformed, reason: 'not a hello of the xcron peer protocol' };
    if (version !== PROTOCOL_VERSION) {
      return {
        code: RefusalCode.ProtocolVersion,
        reason: `protocol version mismatch: this node speaks ${PROTOCOL_VERSION}, the peer ${version}`,
      };
    }
    let hello: HelloBody;
    try {
      hello = decodeHello(body);
    } catch (error) {
      return { code: RefusalCode.Malformed, reason: describeError(error) };
    }
    this.claimedPeerId = hello.nodeId;
    if (hello.clusterId !== this.local.clusterId) {
      return {
        code: RefusalCode.ClusterMismatch,
        reason: `cluster id mismatch: this node is in cluster ${JSON.stringify(this.local.clusterId)}, node ${JSON.stringify(hello.nodeId)} in ${JSON.stringify(hello.clusterId)}`,
      };
    }
    if (this.secret !== undefined && hello.nonce.length === 0) {
      return {
        code: RefusalCode.AuthFailed,
        reason: `node ${JSON.stringify(hello.nodeId)} does not authenticate (is cluster_secret set on it?)`,
      };
    }
    if (this.secret === undefined && hello.nonce.length > 0) {
      return {
        code: RefusalCode.AuthFailed,
        reason: `node ${JSON.stringify(hello.nodeId)} requires authentication but this node has no cluster_secret`,
      };
    }
    return hello;
  }

  protected refuse(refusal: Refusal): HandshakeOutcome {
    return {
      status: 'refused',
      reply: encodeFrame(FrameKind.Refuse, encodeRefusal(refusal)),
      refusal,
      byPeer: false,
    };
  }

  protected refusedByPeer(body: Buffer): HandshakeOutcome {
    return { status: 'refused', refusal: decodeRefusal(body), byPeer: true };
  }

  protected unexpected(kind: FrameKind, step: string): HandshakeOutcome {
    return this.refuse({
      code: RefusalCode.Unexpected,
      reason: `unexpected frame kind ${kind} while ${step}`,
    });
  }
}

export class DialerHandshake extends HandshakeBase {
  private step: 'awaitAck' | 'awaitWelcome' | 'done' = 'awaitAck';
  private peer: PeerHello | undefined;

  constructor(
    local: LocalIdentity,
    secret: Buffer | undefined,
    /** The node id this connection was dialed for; anyone else answering is refused. */
    private readonly expectedPeerId: string,
  ) {
    super(local, secret);
  }

  get peerId(): string {
    return this.expectedPeerId;
  }

  start(): Buffer {
    return this.helloFrame(FrameKind.Hello, Buffer.alloc(0));
  }

  receive(kind: FrameKind, body: Buffer): HandshakeOutcome {
    if (kind === FrameKind.Refuse) return this.refusedByPeer(body);
    if (this.step === 'awaitAck' && kind === FrameKind.HelloAck) return this.onHelloAck(body);
    if (this.step === 'awaitWelcome' && kind === FrameKind.Welcome && this.peer !== undefined) {
      this.step = 'done';
      return { status: 'open', peer: this.peer };
    }
    return this.unexpected(kind, `dialing (step ${this.step})`);
  }

  private onHelloAck(body: Buffer): HandshakeOutcome {
    const checked = this.checkHello(body);
    if (!('nodeId' in checked)) return this.refuse(checked);
    const ack = checked;
    if (ack.nodeId !== this.expectedPeerId) {
      return this.refuse({
        code: RefusalCode.WrongNode,
        reason: `dialed node ${JSON.stringify(this.expectedPeerId)} but reached node ${JSON.stringify(ack.nodeId)}`,
      });
    }
    let proof: Buffer = Buffer.alloc(0);
    if (this.secret !== undefined) {
      const ids = {
        dialerId: this.local.nodeId,
        acceptorId: ack.nodeId,
        clusterId: this.local.clusterId,
      };
      if (!proofMatches(this.secret, { role: 'acceptor', nonce: this.nonce, ...ids }, ack.proof)) {
        return this.refuse({
          code: RefusalCode.AuthFailed,
          reason: `node ${JSON.stringify(ack.nodeId)} failed to prove the cluster secret`,
        });
      }
      proof = computeProof(this.secret, { role: 'dialer', nonce: ack.nonce, ...ids });
    }
    this.peer = withoutAuth(ack);
    this.step = 'awaitWelcome';
    return { status: 'continue', reply: encodeFrame(FrameKind.Auth, proof) };
  }
}

export class AcceptorHandshake extends HandshakeBase {
  private step: 'awaitHello' | 'awaitAuth' | 'done' = 'awaitHello';
  private peer: PeerHello | undefined;

  get peerId(): string | undefined {
    return this.claimedPeerId;
  }

  start(): undefined {
    return undefined;
  }

  receive(kind: FrameKind, body: Buffer): HandshakeOutcome {
    if (kind === FrameKind.Refuse) return this.refusedByPeer(body);
    if (this.step === 'awaitHello' && kind === FrameKind.Hello) return this.onHello(body);
    if (this.step === 'awaitAuth' && kind === FrameKind.Auth && this.peer !== undefined)
      return this.onAuth(body, this.peer);
    return this.unexpected(kind, `accepting (step ${this.step})`);
  }

  private onHello(body: Buffer): HandshakeOutcome {
    const checked = this.checkHello(body);
    if (!('nodeId' in checked)) return this.refuse(checked);
    const hello = checked;
    if (hello.nodeId === this.local.nodeId) {
      return this.refuse({
        code: RefusalCode.WrongNode,
        reason: `peer claims this node's own id ${JSON.stringify(hello.nodeId)}`,
      });
    }
    this.peer = withoutAuth(hello);
    let proof: Buffer = Buffer.alloc(0);
    if (this.secret !== undefined) {
      proof = computeProof(this.secret, {
        role: 'acceptor',
        nonce: hello.nonce,
        dialerId: hello.nodeId,
        acceptorId: this.local.nodeId,
        clusterId: this.local.clusterId,
      });
    }
    this.step = 'awaitAuth';
    return { status: 'continue', reply: this.helloFrame(FrameKind.HelloAck, proof) };
  }

  private onAuth(proof: Buffer, peer: PeerHello): HandshakeOutcome {
    if (this.secret !== undefined) {
      const input = {
        role: 'dialer' as const,
        nonce: this.nonce,
        dialerId: peer.nodeId,
        acceptorId: this.local.nodeId,
        clusterId: this.local.clusterId,
      };
      if (!proofMatches(this.secret, input, proof)) {
        return this.refuse({
          code: RefusalCode.AuthFailed,
          reason: `node ${JSON.stringify(peer.nodeId)} failed to prove the cluster secret`,
        });
      }
    }
    this.step = 'done';
    return { status: 'open', reply: encodeFrame(FrameKind.Welcome), peer };
  }
}

function withoutAuth(hello: HelloBody): PeerHello {
  const { protocolVersion, nodeId, peerAddress, httpAddress, clusterId } = hello;
  return { protocolVersion, nodeId, peerAddress, httpAddress, clusterId };
}
