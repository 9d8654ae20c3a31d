import type { Entry, Member } from '../../core/types';
import type { RaftNodeOptions } from '../raft-node';
import type { StateMachine } from '../state-machine';

import { freePorts } from '@xcron/testing';

export { CapturingLogger, freePorts } from '@xcron/testing';

/** `count` voters on free loopback ports, each named by its peer address. */
export async function loopbackVoters(count: number): Promise<Member[]> {
  const ports = await freePorts(count);
  return ports.map((port) => ({
    id: `127.0.0.1:${port}`,
    role: 'voter',
    peerAddress: `127.0.0.1:${port}`,
  }));
}

/** Polls `done` every 20 ms; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  done: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Remembers only the size of what it applied: its snapshot (a file, with data) is a few bytes. */
export class CountingMachine implements StateMachine {
  appliedBytes = 0;
  apply(entries: readonly Entry[]): Uint8Array[] {
    for (const entry of entries) this.appliedBytes += entry.data.length;
    return entries.map(() => new Uint8Array(0));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.appliedBytes));
  }
  async restore(): Promise<void> {}
}

/**
 * The options every loopback test node shares: `member` on 127.0.0.1 at its peer port (HTTP
 * address the next port), the bootstrap `members`, a cluster secret and a fast tick.
 */
export function loopbackNodeOptions(
  member: Member,
  members: readonly Member[],
  dataDir: string,
): Pick<
  RaftNodeOptions,
  | 'id'
  | 'dataDir'
  | 'listenHost'
  | 'listenPort'
  | 'advertisedPeerAddress'
  | 'advertisedHttpAddress'
  | 'initialMembers'
  | 'clusterSecret'
  | 'tickMs'
  | 'electionTicks'
> {
  const port = Number(member.peerAddress.split(':')[1]);
  return {
    id: member.id,
    dataDir,
    listenHost: '127.0.0.1',
    listenPort: port,
    advertisedPeerAddress: member.peerAddress,
    advertisedHttpAddress: `127.0.0.1:${port + 1}`,
    initialMembers: [...members],
    clusterSecret: 'secret',
    tickMs: 20,
    electionTicks: 10,
  };
}
