import { RequestTimeoutError } from './transport.errors';

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests sent to one peer that await their response, by request id. Every entry ends exactly
 * once: response, remote error, timeout, connection loss or stop — whichever comes first; a later
 * answer for the same id is ignored.
 */
export class PendingRequests {
  private readonly byId = new Map<number, Pending>();
  private lastId = 0;

  constructor(private readonly peerId: string) {}

  get size(): number {
    return this.byId.size;
  }

  /**
   * A fresh id: u32, never 0, never one still pending. Unique among the requests in flight on the
   * peer's outbound connection, which is all a response needs to find its caller, since every
   * pending request is failed when that connection goes.
   */
  nextId(): number {
    do this.lastId = (this.lastId % 0xffff_ffff) + 1;
    while (this.byId.has(this.lastId));
    return this.lastId;
  }

  add(id: number, timeoutMs: number): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(
        () => this.reject(id, new RequestTimeoutError(this.peerId, timeoutMs)),
        timeoutMs,
      );
      this.byId.set(id, { resolve, reject, timer });
    });
  }

  resolve(id: number, payload: Uint8Array): boolean {
    const pending = this.take(id);
    pending?.resolve(payload);
    return pending !== undefined;
  }

  reject(id: number, error: Error): boolean {
    const pending = this.take(id);
    pending?.reject(error);
    return pending !== undefined;
  }

  rejectAll(error: Error): void {
    for (const id of [...this.byId.keys()]) this.reject(id, error);
  }

  private take(id: number): Pending | undefined {
    const pending = this.byId.get(id);
    if (pending === undefined) return undefined;
    clearTimeout(pending.timer);
    this.byId.delete(id);
    return pending;
  }
}
