/**
 * The iterator of `DiskQueue.records`: one record at a time out of the batches of `recordBatches`.
 *
 * An async generator doing `for (const r of batch) yield r` costs an await and a generator resume
 * per record (`yield* batch` costs more); this hands out a buffered record as an already resolved
 * promise, which measured records() within about 10% of recordBatches() instead of twice its time.
 * It behaves like the generator it replaces: calls to `next` are answered in order even when the
 * caller does not wait between them, and `return` / `throw` close the batches (and so their file).
 */
export class RecordIterator<T> implements AsyncGenerator<T, undefined> {
  private batch: readonly T[] = [];
  private index = 0;
  /** The pending fetch of the next batch; later calls of `next` wait behind it. */
  private fetching: Promise<IteratorResult<T, undefined>> | undefined;

  constructor(private readonly batches: AsyncGenerator<readonly T[]>) {}

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.fetching !== undefined) return this.fetching.then(() => this.next());
    if (this.index < this.batch.length) {
      return Promise.resolve({ done: false, value: this.batch[this.index++] });
    }
    const fetching = this.batches.next().then(
      (result): Promise<IteratorResult<T, undefined>> | IteratorResult<T, undefined> => {
        this.fetching = undefined;
        if (result.done === true) return DONE;
        this.batch = result.value;
        this.index = 0;
        return this.next(); // an empty batch just means: fetch again
      },
      (error: unknown) => {
        this.fetching = undefined;
        throw error;
      },
    );
    this.fetching = fetching;
    return fetching;
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.batch = [];
    await this.batches.return(undefined);
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    this.batch = [];
    await this.batches.return(undefined);
    throw error;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
