/**
 * What AttemptDeadlines keeps of one entry: the list links live on the entry itself (the
 * attempt), so a deadline costs no object of its own.
 */
export interface DeadlineEntry {
  deadlineAtMs: number;
  deadlinePrevious: DeadlineEntry | null;
  deadlineNext: DeadlineEntry | null;
  /** The list the entry is in; null when it is in none. */
  deadlineList: DeadlineList | null;
  /** Called once, when the deadline has passed (the entry is out of the queue by then). */
  deadline(): void;
}

export interface DeadlineList {
  readonly timeoutMs: number;
  head: DeadlineEntry | null;
  tail: DeadlineEntry | null;
}

/**
 * The deadlines of the attempts on the wire, behind one Node timer. A `setTimeout` per attempt
 * made a Timeout object (~500 B) and a timer-list insert and removal for every callback, and
 * nearly all of them were cleared unfired.
 *
 * Entries with the same timeout get their deadlines in the order they are added, so each timeout
 * has a FIFO list (append, unlink: O(1)); the timer is armed for the earliest head. Removing an
 * entry does not re-arm it: a timer that finds nothing due re-arms for what is left. A deadline
 * is reached no earlier than `timeoutMs` after add(), on the `nowMs` clock (monotonic).
 */
export class AttemptDeadlines {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #nowMs: () => number;
  #timer: NodeJS.Timeout | null = null;
  #timerAtMs = Infinity;
  #size = 0;

  constructor(nowMs: () => number = () => performance.now()) {
    this.#nowMs = nowMs;
  }

  get size(): number {
    return this.#size;
  }

  add(entry: DeadlineEntry, timeoutMs: number): void {
    if (entry.deadlineList !== null) this.remove(entry);
    const atMs = this.#nowMs() + timeoutMs;
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) {
      list = { timeoutMs, head: null, tail: null };
      this.#lists.set(timeoutMs, list);
    }
    entry.deadlineAtMs = atMs;
    entry.deadlineList = list;
    entry.deadlineNext = null;
    entry.deadlinePrevious = list.tail;
    if (list.tail === null) list.head = entry;
    else list.tail.deadlineNext = entry;
    list.tail = entry;
    this.#size++;
    if (atMs < this.#timerAtMs) this.#arm(atMs);
  }

  /** Takes `entry` out (its deadline will not be reached); nothing if it is in no list. */
  remove(entry: DeadlineEntry): void {
    const list = entry.deadlineList;
    if (list === null) return;
    unlink(list, entry);
    if (list.head === null) this.#lists.delete(list.timeoutMs);
    this.#size--;
    if (this.#size === 0) this.#disarm();
  }

  /** Forgets every entry without reaching their deadlines, and stops the timer. */
  clear(): void {
    for (const list of this.#lists.values())
      for (let entry = list.head; entry !== null; entry = list.head) unlink(list, entry);
    this.#lists.clear();
    this.#size = 0;
    this.#disarm();
  }

  #arm(atMs: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    // At least 1 ms; a timer that fires before atMs on our clock finds nothing due and re-arms.
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(atMs - this.#nowMs())));
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAtMs = Infinity;
  }

  readonly #expire = (): void => {
    this.#timer = null;
    this.#timerAtMs = Infinity;
    const nowMs = this.#nowMs();
    const due: DeadlineEntry[] = [];
    let nextAtMs = Infinity;
    for (const list of this.#lists.values()) {
      while (list.head !== null && list.head.deadlineAtMs <= nowMs) {
        const entry = list.head;
        unlink(list, entry);
        this.#size--;
        due.push(entry);
      }
      if (list.head === null) this.#lists.delete(list.timeoutMs);
      else nextAtMs = Math.min(nextAtMs, list.head.deadlineAtMs);
    }
    if (nextAtMs < Infinity) this.#arm(nextAtMs);
    // Out of every list first: a callback may add or remove entries.
    for (const entry of due) entry.deadline();
  };
}

function unlink(list: DeadlineList, entry: DeadlineEntry): void {
  const previous = entry.deadlinePrevious;
  const next = entry.deadlineNext;
  if (previous === null) list.head = next;
  else previous.deadlineNext = next;
  if (next === null) list.tail = previous;
  else next.deadlinePrevious = previous;
  entry.deadlinePrevious = null;
  entry.deadlineNext = null;
  entry.deadlineList = null;
}
