import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics';

const BUCKETS = [0.001, 0.01, 0.1];

describe('hot metrics', () => {
  it('export the same text as prom-client Counter and Histogram fed the same values', async () => {
    const hot = new Registry();
    const reference = new Registry();
    const counter = new HotCounter({ name: 'c_total', help: 'a counter', registry: hot });
    const refCounter = new Counter({
      name: 'c_total',
      help: 'a counter',
      labelNames: ['kind', 'status'],
      registers: [reference],
    });
    const histogram = new HotHistogram({
      name: 'h_seconds',
      help: 'a histogram',
      buckets: BUCKETS,
      registry: hot,
    });
    const refHistogram = new Histogram({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['outcome'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const a = counter.series({ kind: 'x', status: 'ok' });
    a.inc();
    a.inc(2);
    refCounter.inc({ kind: 'x', status: 'ok' }, 3);
    // A value equal to a bound counts in that bucket (le); one above every bound only in +Inf.
    for (const value of [0.001, 0.0011, 0.05, 0.1, 7]) {
      histogram.series({ outcome: 'success' }).observe(value);
      refHistogram.observe({ outcome: 'success' }, value);
    }
    expect(await hot.metrics()).toBe(await reference.metrics());
    expect(counter.series({ status: 'ok', kind: 'x' })).toBe(a);
  });

  it('reset() zeroes every series and keeps it exported', async () => {
    const registry = new Registry();
    const histogram = new HotHistogram({ name: 'h', help: 'h', buckets: BUCKETS, registry });
    const series = histogram.series();
    series.observe(0.5);
    registry.resetMetrics();
    expect(series.count).toBe(0);
    expect(await registry.metrics()).toContain('h_count 0');
  });
});
