import type { NodeId } from './types';

interface ReadRequest {
  context: string;
  index: number;
  from: NodeId;
  acks: Set<NodeId>;
}

/**
 * ReadIndex rounds in progress on the leader (Raft thesis §6.4): each read waits for a heartbeat
 * round acknowledged by a majority, proving the leader was still the leader when the read arrived.
 */
export class ReadOnlyQueue {
  private readonly byContext = new Map<string, ReadRequest>();
  private readonly order: string[] = [];

  add(context: string, index: number, from: NodeId): void {
    if (this.byContext.has(context)) return;
    this.byContext.set(context, { context, index, from, acks: new Set() });
    this.order.push(context);
  }

  get lastContext(): string | undefined {
    return this.order[this.order.length - 1];
  }

  /** Notes a heartbeat answer for the round `context`; returns who acknowledged it so far. */
  recvAck(from: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const request = this.byContext.get(context);
    if (request === undefined) return undefined;
    request.acks.add(from);
    return request.acks;
  }

  /** Releases every read up to and including `context` (a later round's quorum covers earlier reads). */
  advance(context: string): ReadRequest[] {
    const position = this.order.indexOf(context);
    if (position < 0) return [];
    const released = this.order
      .splice(0, position + 1)
      .map((c) => this.byContext.get(c) as ReadRequest);
    for (const request of released) this.byContext.delete(request.context);
    return released;
  }

  clear(): void {
    this.byContext.clear();
    this.order.length = 0;
  }
}
