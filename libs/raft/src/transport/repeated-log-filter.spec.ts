import { RepeatedLogFilter } from './repeated-log-filter';

describe('RepeatedLogFilter', () => {
  it('lets the first occurrence through, then one per interval with the count left out', () => {
    let nowMs = 0;
    const filter = new RepeatedLogFilter(1_000, 10, () => nowMs);
    expect(filter.admit('b refused')).toEqual({ suppressed: 0 });
    nowMs = 10;
    expect(filter.admit('b refused')).toBeUndefined();
    expect(filter.admit('c refused')).toEqual({ suppressed: 0 }); // another key is independent
    nowMs = 500;
    expect(filter.admit('b refused')).toBeUndefined();
    nowMs = 1_000;
    expect(filter.admit('b refused')).toEqual({ suppressed: 2 });
    expect(filter.admit('b refused')).toBeUndefined();
  });

  it('forgets everything rather than grow past its key limit', () => {
    const filter = new RepeatedLogFilter(1_000, 2, () => 0);
    filter.admit('a');
    filter.admit('b');
    expect(filter.admit('a')).toBeUndefined();
    expect(filter.admit('c')).toEqual({ suppressed: 0 }); // full: cleared, then c remembered
    expect(filter.admit('a')).toEqual({ suppressed: 0 });
  });

  it('logs everything with an interval of 0', () => {
    const filter = new RepeatedLogFilter(0, 10, () => 0);
    expect(filter.admit('a')).toEqual({ suppressed: 0 });
    expect(filter.admit('a')).toEqual({ suppressed: 0 });
  });
});
