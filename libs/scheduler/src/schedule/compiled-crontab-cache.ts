import type { CronExpression } from 'cron-parser';

/**
 * Parsed crontabs by zone and normalized text, least recently used evicted. Parsing costs
 * 0.1-0.4 ms and a busy node compiles the same few expressions for many tasks, so they share one
 * parsed expression. Sharing is safe because every use resets the expression's current date and
 * runs to completion synchronously.
 */
export class CompiledCrontabCache {
  private readonly expressionsByKey = new Map<string, CronExpression>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.expressionsByKey.size;
  }

  getOrParse(timeZone: string, sixFields: string, parse: () => CronExpression): CronExpression {
    const key = `${timeZone} ${sixFields}`;
    const cached = this.expressionsByKey.get(key);
    if (cached !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.expressionsByKey.delete(key);
      this.expressionsByKey.set(key, cached);
      return cached;
    }
    const parsed = parse();
    if (this.expressionsByKey.size >= this.maxEntries) {
      const leastRecentKey = this.expressionsByKey.keys().next().value;
      if (leastRecentKey !== undefined) this.expressionsByKey.delete(leastRecentKey);
    }
    this.expressionsByKey.set(key, parsed);
    return parsed;
  }
}
