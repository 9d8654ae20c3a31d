import type { ConfChange, Member, Membership, NodeId } from './types';

export function voters(membership: Membership): NodeId[] {
  return membership.members.filter((m) => m.role === 'voter').map((m) => m.id);
}

export function memberIds(membership: Membership): NodeId[] {
  return membership.members.map((m) => m.id);
}

export function findMember(membership: Membership, id: NodeId): Member | undefined {
  return membership.members.find((m) => m.id === id);
}

export function isVoter(membership: Membership, id: NodeId): boolean {
  return findMember(membership, id)?.role === 'voter';
}

/** The membership after `change`, or a reason why it does not apply. Single-server changes only. */
export function applyConfChange(membership: Membership, change: ConfChange): Membership | string {
  const existing = findMember(membership, change.nodeId);
  const others = membership.members.filter((m) => m.id !== change.nodeId);
  switch (change.type) {
    case 'add-voter':
    case 'add-learner': {
      if (existing) return `${change.nodeId} is already a ${existing.role}`;
      if (!change.peerAddress) return `adding ${change.nodeId} needs its peer address`;
      const role = change.type === 'add-voter' ? 'voter' : 'learner';
      const member: Member = { id: change.nodeId, role, peerAddress: change.peerAddress };
      if (change.incarnation) member.incarnation = change.incarnation;
      if (role === 'learner' && change.promoteWhenCaughtUp) member.promoteWhenCaughtUp = true;
      return sorted([...others, member]);
    }
    case 'promote-learner': {
      if (!existing) return `${change.nodeId} is not a member`;
      if (existing.role !== 'learner') return `${change.nodeId} is already a voter`;
      const promoted: Member = { ...existing, role: 'voter' };
      delete promoted.promoteWhenCaughtUp;
      return sorted([...others, promoted]);
    }
    case 'readmit': {
      if (!existing) return `${change.nodeId} is not a member`;
      if (!change.incarnation) return `readmitting ${change.nodeId} needs its incarnation`;
      if (existing.incarnation === change.incarnation)
        return `${change.nodeId} is already this incarnation`;
      if (existing.role === 'voter' && voters(membership).length === 1)
        return 'cannot demote the last voter';
      const member: Member = {
        id: change.nodeId,
        role: 'learner',
        peerAddress: change.peerAddress ?? existing.peerAddress,
        incarnation: change.incarnation,
      };
      if (change.promoteWhenCaughtUp) member.promoteWhenCaughtUp = true;
      return sorted([...others, member]);
    }
    case 'remove-node':
      if (!existing) return `${change.nodeId} is not a member`;
      if (existing.role === 'voter' && voters(membership).length === 1)
        return 'cannot remove the last voter';
      return sorted(others);
  }
}

function sorted(members: Member[]): Membership {
  return { members: [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(change));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  return JSON.parse(decoder.decode(data)) as ConfChange;
}

/**
 * The memberships found in the log, by the index of the entry that set them (the first is the
 * snapshot's). A configuration takes effect as soon as its entry is in the log (Raft thesis §4.1),
 * so a truncated configuration entry rolls the membership back.
 */
export class MembershipHistory {
  private readonly changes: Array<{ index: number; membership: Membership }>;

  constructor(baseIndex: number, base: Membership) {
    this.changes = [{ index: baseIndex, membership: base }];
  }

  get current(): Membership {
    return this.changes[this.changes.length - 1].membership;
  }

  get lastChangeIndex(): number {
    return this.changes[this.changes.length - 1].index;
  }

  /** The membership in effect at `index` (for a snapshot taken there). */
  at(index: number): Membership {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      if (this.changes[i].index <= index) return this.changes[i].membership;
    }
    return this.changes[0].membership;
  }

  push(index: number, membership: Membership): void {
    this.changes.push({ index, membership });
  }

  /** Forgets changes at or after `index` (their entries were truncated); true when the membership changed. */
  truncateFrom(index: number): boolean {
    let changed = false;
    while (this.changes.length > 1 && this.changes[this.changes.length - 1].index >= index) {
      this.changes.pop();
      changed = true;
    }
    return changed;
  }

  /** Keeps only what matters from `index` on (after compaction). */
  compactTo(index: number): void {
    while (this.changes.length > 1 && this.changes[1].index <= index) this.changes.shift();
  }

  reset(index: number, membership: Membership): void {
    this.changes.length = 0;
    this.changes.push({ index, membership });
  }
}
