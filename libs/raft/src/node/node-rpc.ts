import type { ConfChange, Member, NodeId, SnapshotMeta } from '../core/types';
import type { SnapshotExpectation } from '../storage/snapshot-receiver';
import { WireReader } from '../transport/wire-reader';
import { WireWriter } from '../transport/wire-writer';
import { MalformedFrameError } from '../transport/transport.errors';

/**
 * Requests between node drivers over the transport's request/response channel: a follower
 * forwarding a write (or a membership change) to the leader, the leader streaming a snapshot to a
 * follower in chunks (the size and CRC32C of the data announced ahead of them for a snapshot file,
 * after the last one — in `snapshot-end` — for a state machine's stream), a node with an empty disk probing its peers at start-up (`cluster-probe`,
 * answered with a ClusterProbeAnswer), and a joining node asking the leader to re-admit it
 * (`rejoin`, answered with a RejoinAnswer).
 */
export type NodeRequest =
  | { kind: 'propose'; data: Uint8Array; timeoutMs: number }
  | { kind: 'cluster-probe' }
  | { kind: 'rejoin'; nodeId: NodeId; peerAddress: string; incarnation: string }
  | { kind: 'conf-change'; change: ConfChange; timeoutMs: number }
  | {
      kind: 'snapshot-begin';
      meta: SnapshotMeta;
      /** Undefined: announced in `snapshot-end` (a stream of unknown length). */
      announced?: SnapshotExpectation;
      term: number;
    }
  | { kind: 'snapshot-chunk'; snapshotIndex: number; offsetBytes: number; data: Uint8Array }
  | { kind: 'snapshot-end'; snapshotIndex: number; final?: SnapshotExpectation };

/**
 * The size a `snapshot-begin` announces for a stream of unknown length (the wire keeps the field:
 * a node of an older build refuses such a transfer, being unable to take the size at the end).
 */
const DATA_BYTES_UNKNOWN = Number.MAX_SAFE_INTEGER;

/** What a node tells a prober: enough to know whether a cluster already exists, and its leader. */
export interface ClusterProbeAnswer {
  clusterId: string;
  /** True while the answering node is itself still probing (it has no state yet). */
  starting: boolean;
  term: number;
  commit: number;
  leaderId: NodeId;
  members: Member[];
}

export type RejoinAnswer = { status: 'proposed' | 'admitted' };

const KINDS = [
  'propose',
  'snapshot-begin',
  'snapshot-chunk',
  'snapshot-end',
  'cluster-probe',
  'rejoin',
  'conf-change',
] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Answers of the small requests: JSON (rare, tiny). */
export function encodeJsonAnswer(value: ClusterProbeAnswer | RejoinAnswer): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJsonAnswer<T extends ClusterProbeAnswer | RejoinAnswer>(
  bytes: Uint8Array,
): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch {
    throw new MalformedFrameError('malformed node answer');
  }
}

export function encodeNodeRequest(request: NodeRequest): Buffer {
  const writer = new WireWriter(64 + ('data' in request ? request.data.length : 0));
  writer.u8(KINDS.indexOf(request.kind));
  switch (request.kind) {
    case 'propose':
      return writer.u32(request.timeoutMs).bytes32(request.data).finish();
    case 'snapshot-begin':
      return writer
        .string32(JSON.stringify(request.meta))
        .u64(request.announced?.dataBytes ?? DATA_BYTES_UNKNOWN)
        .u32(request.announced?.dataCrc32c ?? 0)
        .u64(request.term)
        .finish();
    case 'snapshot-chunk':
      return writer
        .u64(request.snapshotIndex)
        .u64(request.offsetBytes)
        .bytes32(request.data)
        .finish();
    case 'snapshot-end':
      writer.u64(request.snapshotIndex);
      if (request.final) writer.u64(request.final.dataBytes).u32(request.final.dataCrc32c);
      return writer.finish();
    case 'cluster-probe':
      return writer.finish();
    case 'rejoin':
      return writer
        .string32(request.nodeId)
        .string32(request.peerAddress)
        .string32(request.incarnation)
        .finish();
    case 'conf-change':
      return writer.u32(request.timeoutMs).string32(JSON.stringify(request.change)).finish();
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
    case 'snapshot-begin': {
      const meta = JSON.parse(reader.string32()) as SnapshotMeta;
      const dataBytes = reader.u64();
      const dataCrc32c = reader.u32();
      const term = reader.u64();
      request = { kind, meta, term };
      if (dataBytes !== DATA_BYTES_UNKNOWN) request.announced = { dataBytes, dataCrc32c };
      break;
    }
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
      if (reader.remainingBytes > 0)
        request.final = { dataBytes: reader.u64(), dataCrc32c: reader.u32() };
      break;
    case 'cluster-probe':
      request = { kind };
      break;
    case 'rejoin':
      request = {
        kind,
        nodeId: reader.string32(),
        peerAddress: reader.string32(),
        incarnation: reader.string32(),
      };
      break;
    case 'conf-change': {
      const timeoutMs = reader.u32();
      let change: ConfChange;
      try {
        change = JSON.parse(reader.string32()) as ConfChange;
      } catch {
        throw new MalformedFrameError('malformed membership change');
      }
      request = { kind, timeoutMs, change };
      break;
    }
    default:
      throw new MalformedFrameError('unknown node request kind');
  }
  reader.expectEnd();
  return request;
}
