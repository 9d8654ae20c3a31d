import { HELLO_FIELD_BYTES_MAX, HELLO_MAGIC } from './transport.constants';
import { MalformedFrameError } from './transport.errors';
import { string16, WireReader } from './wire-reader';

/** What one node tells another about itself when a connection opens. Addresses are opaque strings. */
export interface PeerHello {
  protocolVersion: number;
  nodeId: string;
  /** Where peers reach this node's peer port, as the driver advertises it. */
  peerAddress: string;
  /** Where clients reach this node's HTTP API (the driver shows it in /v1/cluster). */
  httpAddress: string;
  clusterId: string;
}

/** A Hello or HelloAck body: the hello, plus the sender's challenge and its proof (empty without a secret). */
export interface HelloBody extends PeerHello {
  nonce: Buffer;
  proof: Buffer;
}

/**
 * Layout: [u32 magic "XCRP"][u16 protocol version][str node id][str peer address]
 * [str http address][str cluster id][u8 nonce length][nonce][u8 proof length][proof],
 * where str = [u16 byte length][UTF-8], at most HELLO_FIELD_BYTES_MAX bytes.
 * Magic and version come first and stay there in every version, so a peer of another version is
 * recognised (and refused in words) even when the rest of its hello cannot be parsed.
 */
export function encodeHello(hello: HelloBody): Buffer {
  const head = Buffer.allocUnsafe(6);
  head.writeUInt32BE(HELLO_MAGIC, 0);
  head.writeUInt16BE(hello.protocolVersion, 4);
  const fields = [hello.nodeId, hello.peerAddress, hello.httpAddress, hello.clusterId].map((text) =>
    string16(text, HELLO_FIELD_BYTES_MAX),
  );
  return Buffer.concat([head, ...fields, shortBytes(hello.nonce), shortBytes(hello.proof)]);
}

/** The protocol version a hello body declares, or undefined when it is not a hello of this protocol. */
export function helloProtocolVersion(body: Buffer): number | undefined {
  if (body.length < 6 || body.readUInt32BE(0) !== HELLO_MAGIC) return undefined;
  return body.readUInt16BE(4);
}

/** Throws MalformedFrameError when the body is not a well-formed hello. */
export function decodeHello(body: Buffer): HelloBody {
  const reader = new WireReader(body, 'hello');
  if (reader.u32() !== HELLO_MAGIC) throw new MalformedFrameError('malformed hello: wrong magic');
  const protocolVersion = reader.u16();
  const nodeId = reader.string16('node id', HELLO_FIELD_BYTES_MAX);
  const peerAddress = reader.string16('peer address', HELLO_FIELD_BYTES_MAX);
  const httpAddress = reader.string16('http address', HELLO_FIELD_BYTES_MAX);
  const clusterId = reader.string16('cluster id', HELLO_FIELD_BYTES_MAX);
  const nonce = Buffer.from(reader.bytesOf(reader.u8()));
  const proof = Buffer.from(reader.bytesOf(reader.u8()));
  reader.expectEnd();
  if (nodeId.length === 0) throw new MalformedFrameError('malformed hello: empty node id');
  return { protocolVersion, nodeId, peerAddress, httpAddress, clusterId, nonce, proof };
}

function shortBytes(bytes: Buffer): Buffer {
  if (bytes.length > 255)
    throw new RangeError(`hello byte field of ${bytes.length} bytes, at most 255`);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}
