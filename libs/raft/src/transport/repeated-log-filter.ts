/**
 * Lets the first occurrence of a warning through, then at most one per `intervalMs` for the same
 * key, reporting how many were left out. A node of another cluster, or one with the wrong secret,
 * redials every backoff for as long as it is misconfigured: both sides should say so clearly, not
 * fill the log. Counters in `stats()` still count every occurrence.
 */
export class RepeatedLogFilter {
  private readonly byKey = new Map<string, { lastLoggedMs: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly keysMax: number,
    private readonly nowMs: () => number,
  ) {}

  /** Undefined when this occurrence should stay silent; else the count left out since the last one logged. */
  admit(key: string): { suppressed: number } | undefined {
    const now = this.nowMs();
    const entry = this.byKey.get(key);
    if (entry !== undefined && now - entry.lastLoggedMs < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (entry === undefined && this.byKey.size >= this.keysMax) this.byKey.clear(); // bounded memory
    const suppressed = entry?.suppressed ?? 0;
    this.byKey.set(key, { lastLoggedMs: now, suppressed: 0 });
    return { suppressed };
  }
}
