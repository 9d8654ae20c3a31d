import type { Member, SnapshotMeta } from '../core/types';
import { RAFT_STORAGE_LIMITS } from './storage.constants';

/**
 * A SnapshotMeta as JSON, in the log store and in snapshot file headers. Only the known fields are
 * written, and everything read is checked field by field: a header or record that parses as JSON
 * but is not a SnapshotMeta is corruption, not something to pass on to the core.
 */
export function encodeSnapshotMetaJson(meta: SnapshotMeta): Buffer {
  const plain: SnapshotMeta = {
    index: meta.index,
    term: meta.term,
    membership: {
      members: meta.membership.members.map((m) => {
        const member: Member = { id: m.id, role: m.role, peerAddress: m.peerAddress };
        if (m.incarnation) member.incarnation = m.incarnation;
        if (m.promoteWhenCaughtUp) member.promoteWhenCaughtUp = true;
        return member;
      }),
    },
  };
  return Buffer.from(JSON.stringify(plain), 'utf8');
}

/** The meta, or why the bytes are not one. */
export function decodeSnapshotMetaJson(bytes: Uint8Array): SnapshotMeta | string {
  if (bytes.length > RAFT_STORAGE_LIMITS.snapshotMetaJsonBytesMax) {
    return `snapshot meta of ${bytes.length} bytes exceeds the limit`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (error) {
    return `snapshot meta is not JSON (${(error as Error).message})`;
  }
  if (!isRecord(parsed)) return 'snapshot meta is not an object';
  const { index, term, membership } = parsed;
  if (!isIndex(index) || !isIndex(term)) return 'snapshot meta without a valid index and term';
  if (!isRecord(membership) || !Array.isArray(membership.members)) {
    return 'snapshot meta without a membership';
  }
  const members: Member[] = [];
  for (const m of membership.members as unknown[]) {
    if (
      !isRecord(m) ||
      typeof m.id !== 'string' ||
      (m.role !== 'voter' && m.role !== 'learner') ||
      typeof m.peerAddress !== 'string' ||
      (m.incarnation !== undefined && typeof m.incarnation !== 'string') ||
      (m.promoteWhenCaughtUp !== undefined && typeof m.promoteWhenCaughtUp !== 'boolean')
    ) {
      return 'snapshot meta with a malformed member';
    }
    const member: Member = { id: m.id, role: m.role, peerAddress: m.peerAddress };
    if (m.incarnation) member.incarnation = m.incarnation;
    if (m.promoteWhenCaughtUp) member.promoteWhenCaughtUp = true;
    members.push(member);
  }
  return { index, term, membership: { members } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
