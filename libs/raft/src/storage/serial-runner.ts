/**
 * Runs async operations one at a time, in call order. A store's in-memory position (last index,
 * compaction point) is only valid between writes, so a lazy compact() must not interleave with a
 * save() that is computing its deletes from that position.
 */
export class SerialRunner {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation);
    // The chain continues whatever happened; each caller sees its own operation's outcome.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every operation queued so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
