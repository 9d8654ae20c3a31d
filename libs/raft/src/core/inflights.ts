/**
 * The Append messages in flight to one follower, by the last index each carries, with their bytes:
 * bounded in count and in bytes so that a slow follower cannot make the leader buffer without end.
 */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly countMax: number,
    private readonly bytesMax: number,
  ) {}

  get count(): number {
    return this.lastIndexes.length;
  }

  get full(): boolean {
    return this.lastIndexes.length >= this.countMax || this.bytes >= this.bytesMax;
  }

  add(lastIndex: number, bytes: number): void {
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every message whose last index is at or below `index` (acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && this.lastIndexes[n] <= index) {
      this.bytes -= this.sizes[n];
      n += 1;
    }
    if (n === 0) return;
    this.lastIndexes.splice(0, n);
    this.sizes.splice(0, n);
  }

  /** Frees the oldest message (its answer was probably lost). */
  freeFirst(): void {
    if (this.lastIndexes.length === 0) return;
    this.freeLE(this.lastIndexes[0]);
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}
