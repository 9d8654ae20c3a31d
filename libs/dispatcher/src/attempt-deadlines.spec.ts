import { AttemptDeadlines, type DeadlineEntry } from './attempt-deadlines';

class Entry implements DeadlineEntry {
  deadlineAtMs = 0;
  deadlinePrevious: DeadlineEntry | null = null;
  deadlineNext: DeadlineEntry | null = null;
  deadlineList: DeadlineEntry['deadlineList'] = null;
  constructor(
    readonly name: string,
    private readonly reached: string[],
    private readonly then?: () => void,
  ) {}
  deadline(): void {
    this.reached.push(this.name);
    this.then?.();
  }
}

describe('AttemptDeadlines', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('reaches each deadline once, never early, in deadline order across timeouts', () => {
    const deadlines = new AttemptDeadlines(() => Date.now());
    const reached: string[] = [];
    deadlines.add(new Entry('a', reached), 100);
    jest.advanceTimersByTime(30);
    deadlines.add(new Entry('b', reached), 100);
    jest.advanceTimersByTime(10);
    deadlines.add(new Entry('c', reached), 50); // due at +90, before a and b
    expect(deadlines.size).toBe(3);
    jest.advanceTimersByTime(49);
    expect(reached).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(reached).toEqual(['c']);
    jest.advanceTimersByTime(9);
    expect(reached).toEqual(['c']);
    jest.advanceTimersByTime(1);
    expect(reached).toEqual(['c', 'a']);
    jest.advanceTimersByTime(30);
    expect(reached).toEqual(['c', 'a', 'b']);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never reaches a removed entry; with none left, no timer stays armed', () => {
    const deadlines = new AttemptDeadlines(() => Date.now());
    const reached: string[] = [];
    const head = new Entry('head', reached);
    const middle = new Entry('middle', reached);
    const tail = new Entry('tail', reached);
    deadlines.add(head, 100);
    deadlines.add(middle, 100);
    deadlines.add(tail, 100);
    deadlines.remove(middle);
    deadlines.remove(middle); // twice: nothing
    deadlines.remove(head); // the timer, armed for head, finds nothing due and re-arms
    jest.advanceTimersByTime(100);
    expect(reached).toEqual(['tail']);
    const alone = new Entry('alone', reached);
    deadlines.add(alone, 5_000);
    deadlines.remove(alone);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(10_000);
    expect(reached).toEqual(['tail']);
  });

  it('lets a reached entry add and remove entries from its callback', () => {
    const deadlines = new AttemptDeadlines(() => Date.now());
    const reached: string[] = [];
    const later = new Entry('later', reached);
    const doomed = new Entry('doomed', reached);
    const first = new Entry('first', reached, () => {
      deadlines.add(later, 20);
      deadlines.remove(doomed);
    });
    deadlines.add(first, 10);
    deadlines.add(doomed, 15);
    jest.advanceTimersByTime(10);
    expect(reached).toEqual(['first']);
    jest.advanceTimersByTime(19);
    expect(reached).toEqual(['first']);
    jest.advanceTimersByTime(1);
    expect(reached).toEqual(['first', 'later']);
    expect(deadlines.size).toBe(0);
  });

  it('clear forgets every entry and stops the timer', () => {
    const deadlines = new AttemptDeadlines(() => Date.now());
    const reached: string[] = [];
    const entry = new Entry('x', reached);
    deadlines.add(entry, 10);
    deadlines.add(new Entry('y', reached), 20);
    deadlines.clear();
    expect(entry.deadlineList).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(100);
    expect(reached).toEqual([]);
  });
});
