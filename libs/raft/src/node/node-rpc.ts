import type { SnapshotMeta } from '../core/types';
import { WireReader } from '../transport/wire-reader';
import { WireWriter } from '../transport/wire-writer';
import { MalformedFrameError } from '../transport/transport.errors';

/**
 * Requests between node drivers over the transport's request/response channel: a follower
 * forwarding a write to the leader, and the leader streaming a snapshot to a follower in chunks.
 */
export type NodeRequest =
  | { kind: 'propose'; data: Uint8Array; timeoutMs: number }
  | {
      kind: 'snapshot-begin';
      meta: SnapshotMeta;
      dataBytes: number;
      dataCrc32c: number;
      term: number;
    }
  | { kind: 'snapshot-chunk'; snapshotIndex: number; offsetBytes: number; data: Uint8Array }
  | { kind: 'snapshot-end'; snapshotIndex: number };

const KINDS = ['propose', 'snapshot-begin', 'snapshot-chunk', 'snapshot-end'] as const;

export function encodeNodeRequest(request: NodeRequest): Buffer {
  const writer = new WireWriter(64 + ('data' in request ? request.data.length : 0));
  writer.u8(KINDS.indexOf(request.kind));
  switch (request.kind) {
    case 'propose':
      return writer.u32(request.timeoutMs).bytes32(request.data).finish();
    case 'snapshot-begin':
      return writer
        .string32(JSON.stringify(request.meta))
        .u64(request.dataBytes)
        .u32(request.dataCrc32c)
        .u64(request.term)
        .finish();
    case 'snapshot-chunk':
      return writer
        .u64(request.snapshotIndex)
        .u64(request.offsetBytes)
        .bytes32(request.data)
        .finish();
    case 'snapshot-end':
      return writer.u64(request.snapshotIndex).finish();
  }
}

export function decodeNodeRequest(bytes: Uint8Array): NodeRequest {
  const reader = new WireReader(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    'node request',
  );
  const kind = KINDS[reader.u8()];
  let request: NodeRequest;
  switch (kind) {
    case 'propose':
      request = { kind, timeoutMs: reader.u32(), data: Uint8Array.from(reader.bytes32()) };
      break;
    case 'snapshot-begin':
      request = {
        kind,
        meta: JSON.parse(reader.string32()) as SnapshotMeta,
        dataBytes: reader.u64(),
        dataCrc32c: reader.u32(),
        term: reader.u64(),
      };
      break;
    case 'snapshot-chunk':
      request = {
        kind,
        snapshotIndex: reader.u64(),
        offsetBytes: reader.u64(),
        data: Uint8Array.from(reader.bytes32()),
      };
      break;
    case 'snapshot-end':
      request = { kind, snapshotIndex: reader.u64() };
      break;
    default:
      throw new MalformedFrameError('unknown node request kind');
  }
  reader.expectEnd();
  return request;
}
