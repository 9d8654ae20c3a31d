import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the dispatch path, exported through a prom-client registry.
 *
 * prom-client hashes the label object on every `inc`/`observe` (sorts the names, builds a key,
 * validates, allocates a pair): 1–2 µs each, four per fire — 4% of a leader's CPU at 5,000
 * callbacks/s, measured. Here each series (one set of label values) is an object made once, that
 * the caller keeps: `inc` and `observe` are a few additions. The registry reads them at scrape
 * time through `get()`, in prom-client's own shape, so the exposition text is the same.
 */

type Labels = Readonly<Record<string, string>>;

interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

interface MetricData {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: Sample[];
  readonly aggregator: 'sum';
}

export class CounterSeries {
  value = 0;

  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by;
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly upperBounds: readonly number[],
  ) {
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  /** Counts `value` in the first bucket whose upper bound is ≥ it (Prometheus' `le`). */
  observe(value: number): void {
    const bounds = this.upperBounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]) bucket++;
    this.counts[bucket]++;
    this.sum += value;
    this.count++;
  }
}

abstract class HotMetric<S extends { readonly labels: Labels }> {
  readonly aggregator = 'sum';
  private readonly all: S[] = [];

  protected constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    // prom-client's types list its own four classes; the registry itself only calls get() and
    // reset() (and reads name, help, type, aggregator), which this class has.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, made at the first call: keep it, do not look it up per use. */
  series(labels: Labels = {}): S {
    const key = labelKey(labels);
    const found = this.all.find((series) => labelKey(series.labels) === key);
    if (found !== undefined) return found;
    const made = this.newSeries({ ...labels });
    this.all.push(made);
    return made;
  }

  abstract readonly type: MetricData['type'];

  protected abstract newSeries(labels: Labels): S;

  protected abstract samples(series: S): Sample[];

  abstract reset(): void;

  get(): Promise<MetricData> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.all.flatMap((series) => this.samples(series)),
      aggregator: this.aggregator,
    });
  }

  protected forEachSeries(visit: (series: S) => void): void {
    for (const series of this.all) visit(series);
  }
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter';

  constructor(options: { name: string; help: string; registry: Registry }) {
    super(options.name, options.help, options.registry);
  }

  protected newSeries(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  protected samples(series: CounterSeries): Sample[] {
    return [{ value: series.value, labels: series.labels }];
  }

  reset(): void {
    this.forEachSeries((series) => (series.value = 0));
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram';
  private readonly upperBounds: readonly number[];

  constructor(options: { name: string; help: string; buckets: number[]; registry: Registry }) {
    super(options.name, options.help, options.registry);
    this.upperBounds = [...options.buckets].sort((a, b) => a - b);
  }

  protected newSeries(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.upperBounds);
  }

  protected samples(series: HistogramSeries): Sample[] {
    const bucketName = `${this.name}_bucket`;
    const samples: Sample[] = [];
    let cumulative = 0;
    this.upperBounds.forEach((le, i) => {
      cumulative += series.counts[i];
      samples.push({ value: cumulative, labels: { le, ...series.labels }, metricName: bucketName });
    });
    samples.push(
      { value: series.count, labels: { le: '+Inf', ...series.labels }, metricName: bucketName },
      { value: series.sum, labels: series.labels, metricName: `${this.name}_sum` },
      { value: series.count, labels: series.labels, metricName: `${this.name}_count` },
    );
    return samples;
  }

  reset(): void {
    this.forEachSeries((series) => {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    });
  }
}

function labelKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((name) => [name, labels[name]]),
  );
}
