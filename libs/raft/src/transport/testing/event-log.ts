/**
 * Items recorded as they happen, with a bounded wait for one that matches: tests await events
 * (a message, a log line, a hello) instead of polling, and a missing event fails after `timeoutMs`
 * with a message that says what was awaited and what was seen.
 */
export class EventLog<T> {
  readonly items: T[] = [];
  private waiters: Array<{
    matches: (item: T) => boolean;
    resolve: (item: T) => void;
    cancel: (reason: string) => void;
  }> = [];
  private endedReason: string | undefined;

  push(item: T): void {
    this.items.push(item);
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.matches(item)) waiter.resolve(item);
      else this.waiters.push(waiter);
    }
  }

  count(matches: (item: T) => boolean): number {
    return this.items.filter(matches).length;
  }

  /** The first recorded item that matches, or the next one to arrive within `timeoutMs`. */
  waitFor(matches: (item: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const found = this.items.find(matches);
    if (found !== undefined) return Promise.resolve(found);
    if (this.endedReason !== undefined)
      return Promise.reject(new Error(`${what} will never come: ${this.endedReason}`));
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        matches,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
        cancel: (reason: string) => {
          clearTimeout(timer);
          reject(new Error(`${what} will never come: ${reason}`));
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.items
          .slice(-10)
          .map((item) => JSON.stringify(item))
          .join('\n  ');
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last items:\n  ${seen}`),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** No more items will come (e.g. the connection closed): fail current and later waits at once. */
  end(reason: string): void {
    this.endedReason = reason;
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) waiter.cancel(reason);
  }

  /** Resolves once `count` items match in total (each item is tested once). */
  async waitForCount(
    matches: (item: T) => boolean,
    count: number,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    let matched = 0;
    const enough = (item: T): boolean => {
      if (matches(item)) matched++;
      return matched >= count;
    };
    try {
      await this.waitFor(enough, timeoutMs, `${count} × ${what}`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n(${matched} of ${count} arrived)`, {
        cause: error,
      });
    }
  }
}
