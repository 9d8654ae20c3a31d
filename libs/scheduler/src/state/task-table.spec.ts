import { SeededRandom } from '@xcron/testing';
import { TaskTable } from './task-table';

const MAX_ID = '9223372036854775807';
const ID_EPOCH_MS = Date.UTC(2024, 0, 1);

/** (ms since the epoch << 24) | (sequence << 16) | machine, as a sonyflake-style node mints them. */
function sonyflakeId(ms: number, sequence: number, machine: number): string {
  return (
    (BigInt(ms - ID_EPOCH_MS) << 24n) |
    (BigInt(sequence) << 16n) |
    BigInt(machine)
  ).toString();
}

/** A uniform id in [0, 2^63). */
function randomId(random: SeededRandom): string {
  return ((BigInt(random.nextUint32() >>> 1) << 32n) | BigInt(random.nextUint32())).toString();
}

const EDGE_IDS = [
  '0',
  '1',
  '9',
  '10',
  '9999999999', // the largest id with no high part
  '10000000000', // the smallest with one
  '10000000001',
  '4294967295', // 2^32 - 1
  '4294967296',
  '17179869183', // 2^34 - 1
  '1000000000000000000',
  '9223372030000000000', // the largest high part, low part 0
  '9223372036854775806',
  MAX_ID,
];

const NON_IDS = [
  '',
  '00',
  '01',
  '007',
  '-1',
  '-0',
  '+1',
  '1.5',
  '1.',
  '.5',
  '1e3',
  '0x1f',
  ' 1',
  '1 ',
  '1_000',
  '9223372036854775808', // 2^63
  '9223372036854775809',
  '9223372040000000000',
  '9999999999999999999', // 19 digits, beyond 2^63
  '10000000000000000000', // 20 digits
  '18446744073709551615',
  '00000000000000000001',
  '\u0661\u0662\u0663', // Arabic-Indic digits
  '\uff11', // fullwidth 1
  '1\u0000',
  'NaN',
  'Infinity',
  '/', // just below '0'
  ':', // just above '9'
];

interface ModelTask {
  slot: number;
  status: number;
  policyBits: number;
  scheduleRef: number;
  runCount: number;
  failureCount: number;
  historyCount: number;
  nextFireAtMs: number;
  runAtMs: number;
  createdAtMs: number;
  updatedAtMs: number;
  endedAtMs: number;
  extra: string | undefined;
}

/**
 * The error fn throws, or a failed expectation if it throws none. (An expect() per call costs
 * ~50 us, too much for every step of the model runs.)
 */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect('no error').toBe('an error');
}

function expectError(fn: () => unknown, type: ErrorConstructor, message: string): void {
  const error = thrownBy(fn);
  if (!(error instanceof Error) || error.constructor !== type || error.message !== message)
    expect(error).toEqual(new type(message));
}

function freshTask(slot: number): ModelTask {
  return {
    slot,
    status: 0,
    policyBits: 0,
    scheduleRef: 0,
    runCount: 0,
    failureCount: 0,
    historyCount: 0,
    nextFireAtMs: NaN,
    runAtMs: NaN,
    createdAtMs: NaN,
    updatedAtMs: NaN,
    endedAtMs: NaN,
    extra: undefined,
  };
}

function fieldsOf(table: TaskTable<string>, slot: number): ModelTask {
  return {
    slot,
    status: table.status(slot),
    policyBits: table.policyBits(slot),
    scheduleRef: table.scheduleRef(slot),
    runCount: table.runCount(slot),
    failureCount: table.failureCount(slot),
    historyCount: table.historyCount(slot),
    nextFireAtMs: table.nextFireAtMs(slot),
    runAtMs: table.runAtMs(slot),
    createdAtMs: table.createdAtMs(slot),
    updatedAtMs: table.updatedAtMs(slot),
    endedAtMs: table.endedAtMs(slot),
    extra: table.extra(slot),
  };
}

type NumberField = Exclude<keyof ModelTask, 'slot' | 'extra'>;

/** Each field, its setter and a generator of values it stores exactly. */
const FIELDS: ReadonlyArray<{
  name: NumberField;
  set: (table: TaskTable<string>, slot: number, value: number) => void;
  value: (random: SeededRandom) => number;
}> = [
  { name: 'status', set: (t, s, v) => t.setStatus(s, v), value: (r) => r.nextInt(256) },
  { name: 'policyBits', set: (t, s, v) => t.setPolicyBits(s, v), value: (r) => r.nextInt(65_536) },
  { name: 'scheduleRef', set: (t, s, v) => t.setScheduleRef(s, v), value: (r) => r.nextUint32() },
  { name: 'runCount', set: (t, s, v) => t.setRunCount(s, v), value: (r) => r.nextUint32() },
  { name: 'failureCount', set: (t, s, v) => t.setFailureCount(s, v), value: (r) => r.nextUint32() },
  { name: 'historyCount', set: (t, s, v) => t.setHistoryCount(s, v), value: (r) => r.nextUint32() },
  { name: 'nextFireAtMs', set: (t, s, v) => t.setNextFireAtMs(s, v), value: timeOrNone },
  { name: 'runAtMs', set: (t, s, v) => t.setRunAtMs(s, v), value: timeOrNone },
  { name: 'createdAtMs', set: (t, s, v) => t.setCreatedAtMs(s, v), value: timeOrNone },
  { name: 'updatedAtMs', set: (t, s, v) => t.setUpdatedAtMs(s, v), value: timeOrNone },
  { name: 'endedAtMs', set: (t, s, v) => t.setEndedAtMs(s, v), value: timeOrNone },
];

function timeOrNone(random: SeededRandom): number {
  if (random.chance(0.1)) return NaN;
  return ID_EPOCH_MS + random.nextInt(2 ** 32) * 1_000 + random.nextFloat();
}

/** Field by field with Object.is (NaN equals NaN); jest's toEqual only to show a difference. */
function expectFields(table: TaskTable<string>, task: ModelTask): void {
  const actual = fieldsOf(table, task.slot);
  for (const key of Object.keys(task) as Array<keyof ModelTask>) {
    if (!Object.is(actual[key], task[key])) expect(actual).toEqual(task);
  }
}

/** Every live task of the model is in the table with the same slot, id and fields, and no other. */
function expectSameAsModel(table: TaskTable<string>, model: Map<string, ModelTask>): void {
  expect(table.size).toBe(model.size);
  const bySlot = new Map<number, string>();
  for (const [id, task] of model) {
    if (table.slotOf(id) !== task.slot) expect([id, table.slotOf(id)]).toEqual([id, task.slot]);
    if (table.idOf(task.slot) !== id) expect(table.idOf(task.slot)).toBe(id);
    expectFields(table, task);
    bySlot.set(task.slot, id);
  }
  const visited = [...table.slots()];
  expect(visited).toEqual([...bySlot.keys()].sort((a, b) => a - b));
  for (let slot = 0; slot < table.slotLimit; slot++) {
    if (table.isLive(slot) !== bySlot.has(slot)) expect([slot, table.isLive(slot)]).toBe(false);
  }
}

describe('TaskTable against a Map model', () => {
  it.each([1, 2, 3, 1_234, 99_999])('agrees after every step (seed %i)', (seed) => {
    const random = new SeededRandom(seed);
    const startMs = Date.UTC(2025, 2, 1);
    // A pool that repeats ids (so adds collide and removed ids come back), with runs of
    // sonyflake ids sharing their high part (floor(id / 10^10) spans ~0.6 s of them).
    const pool = [...EDGE_IDS];
    for (let index = 0; index < 400; index++) {
      pool.push(sonyflakeId(startMs + (index >> 4), index & 15, index % 3));
      pool.push(randomId(random));
      pool.push(String(random.nextUint32()));
    }
    const table = new TaskTable<string>({ initialCapacity: 1 + random.nextInt(8) });
    const model = new Map<string, ModelTask>();
    const slotsInUse = new Set<number>();
    const liveIds: string[] = []; // the model's keys, to pick from in O(1)
    const pickLive = (): string => liveIds[random.nextInt(liveIds.length)];

    for (let step = 0; step < 4_000; step++) {
      const roll = random.nextFloat();
      let touched: string | undefined;
      if (roll < 0.35) {
        const id = random.pick(pool);
        touched = id;
        if (model.has(id)) {
          expectError(() => table.add(id), Error, `task ${id} is already in the table`);
        } else {
          const slot = table.add(id);
          if (slotsInUse.has(slot) || slot >= table.slotLimit) expect(slot).toBe('a free slot');
          slotsInUse.add(slot);
          liveIds.push(id);
          model.set(id, freshTask(slot));
        }
      } else if (roll < 0.38) {
        const nonId = random.pick(NON_IDS);
        expectError(() => table.add(nonId), RangeError, `not a task id: ${JSON.stringify(nonId)}`);
      } else if (roll < 0.58) {
        if (model.size > 0) {
          const index = random.nextInt(liveIds.length);
          const id = liveIds[index];
          liveIds[index] = liveIds[liveIds.length - 1];
          liveIds.pop();
          touched = id;
          table.remove(model.get(id)!.slot);
          slotsInUse.delete(model.get(id)!.slot);
          model.delete(id);
        }
      } else if (roll < 0.68) {
        const probe = random.chance(0.8) ? random.pick(pool) : random.pick(NON_IDS);
        const expected = model.get(probe)?.slot ?? -1;
        if (table.slotOf(probe) !== expected || table.has(probe) !== model.has(probe))
          expect([probe, table.slotOf(probe), table.has(probe)]).toEqual([
            probe,
            expected,
            expected !== -1,
          ]);
      } else if (roll < 0.95) {
        if (model.size > 0) {
          const id = pickLive();
          touched = id;
          const task = model.get(id)!;
          const field = random.pick(FIELDS);
          const value = field.value(random);
          field.set(table, task.slot, value);
          task[field.name] = value;
        }
      } else if (roll < 0.999) {
        if (model.size > 0) {
          const task = model.get(pickLive())!;
          const extra = random.chance(0.7) ? `extra ${step}` : undefined;
          table.setExtra(task.slot, extra);
          task.extra = extra;
        }
      } else {
        table.clear();
        model.clear();
        slotsInUse.clear();
        liveIds.length = 0;
      }

      if (table.size !== model.size) expect(table.size).toBe(model.size);
      if (touched !== undefined) {
        const task = model.get(touched);
        if (table.slotOf(touched) !== (task?.slot ?? -1))
          expect(table.slotOf(touched)).toBe(task?.slot);
        if (task !== undefined) expectFields(table, task);
      }
      if (step % 500 === 0) expectSameAsModel(table, model);
    }
    expectSameAsModel(table, model);
  });

  it('answers -1 (slotOf), false (has) and RangeError (add) for what is not a task id', () => {
    const table = new TaskTable<string>();
    for (const id of EDGE_IDS) table.add(id);
    for (const nonId of NON_IDS) {
      expect(table.slotOf(nonId)).toBe(-1);
      expect(table.has(nonId)).toBe(false);
      expect(() => table.add(nonId)).toThrow(RangeError);
    }
    for (const notAString of [undefined, null, 1, 1n, {}]) {
      expect(table.slotOf(notAString as unknown as string)).toBe(-1);
      expect(() => table.add(notAString as unknown as string)).toThrow(RangeError);
    }
    expect(table.size).toBe(EDGE_IDS.length);
    for (const id of EDGE_IDS) expect(table.idOf(table.slotOf(id))).toBe(id);
  });
});

describe('TaskTable growth and slots', () => {
  /** Fields that depend only on the id, to check after any number of moves. */
  function fill(table: TaskTable<string>, slot: number, n: number): void {
    table.setStatus(slot, n % 256);
    table.setPolicyBits(slot, (n * 7) % 65_536);
    table.setScheduleRef(slot, n * 3);
    table.setRunCount(slot, n + 1);
    table.setFailureCount(slot, n + 2);
    table.setHistoryCount(slot, n + 3);
    table.setNextFireAtMs(slot, n * 1_000 + 0.5);
    table.setRunAtMs(slot, n * 1_000 + 1);
    table.setCreatedAtMs(slot, n * 1_000 + 2);
    table.setUpdatedAtMs(slot, n * 1_000 + 3);
    table.setEndedAtMs(slot, n % 2 === 0 ? NaN : n);
    if (n % 97 === 0) table.setExtra(slot, `extra ${n}`);
  }

  function expectFilled(table: TaskTable<string>, slot: number, n: number): void {
    const actual = [
      table.status(slot),
      table.policyBits(slot),
      table.scheduleRef(slot),
      table.runCount(slot),
      table.failureCount(slot),
      table.historyCount(slot),
      table.nextFireAtMs(slot),
      table.runAtMs(slot),
      table.createdAtMs(slot),
      table.updatedAtMs(slot),
      table.endedAtMs(slot),
      table.extra(slot),
    ];
    const expected = [
      n % 256,
      (n * 7) % 65_536,
      n * 3,
      n + 1,
      n + 2,
      n + 3,
      n * 1_000 + 0.5,
      n * 1_000 + 1,
      n * 1_000 + 2,
      n * 1_000 + 3,
      n % 2 === 0 ? NaN : n,
      n % 97 === 0 ? `extra ${n}` : undefined,
    ];
    if (actual.some((value, index) => !Object.is(value, expected[index])))
      expect(actual).toEqual(expected);
  }

  it('keeps every field of every live slot across many thousands of adds and removes', () => {
    const random = new SeededRandom(7);
    const table = new TaskTable<string>({ initialCapacity: 4 });
    const startMs = Date.UTC(2025, 0, 1);
    const live = new Map<string, number>(); // id -> n
    const order: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const id = sonyflakeId(startMs + (n >> 6), n & 63, n % 5);
      fill(table, table.add(id), n);
      live.set(id, n);
      order.push(id);
      if (random.chance(0.4)) {
        const victim = order.splice(random.nextInt(order.length), 1)[0];
        table.remove(table.slotOf(victim));
        live.delete(victim);
      }
    }
    expect(table.size).toBe(live.size);
    expect(table.slotLimit).toBeGreaterThanOrEqual(live.size);
    for (const [id, n] of live) {
      const slot = table.slotOf(id);
      if (table.idOf(slot) !== id) expect(table.idOf(slot)).toBe(id);
      expectFilled(table, slot, n);
    }
    const visited = [...table.slots()];
    expect(visited.length).toBe(live.size);
    const liveSlots = [...live.keys()].map((id) => table.slotOf(id)).sort((a, b) => a - b);
    // Jest's deep equality is slow on big arrays: compare as one string.
    expect(visited.join()).toBe(liveSlots.join());
  });

  it('reuses a freed slot with every field reset', () => {
    const table = new TaskTable<string>({ initialCapacity: 2 });
    const a = table.add('11');
    const b = table.add('22');
    fill(table, a, 97);
    fill(table, b, 5);
    table.remove(a);
    expect(table.isLive(a)).toBe(false);
    expect(table.extra(a)).toBeUndefined();
    const c = table.add('33');
    expect(c).toBe(a);
    expect(fieldsOf(table, c)).toEqual(freshTask(c));
    expect(table.idOf(c)).toBe('33');
    expect(table.slotOf('11')).toBe(-1);
    expectFilled(table, b, 5);
    expect(table.slotLimit).toBe(2);
    const d = table.add('44'); // grows: 2 -> 3
    expect(d).toBe(2);
    expect(table.slotLimit).toBe(3);
    expect(fieldsOf(table, d)).toEqual(freshTask(d));
    expectFilled(table, b, 5);
  });

  it('clear drops every task and hands out slots from 0 again', () => {
    const table = new TaskTable<string>();
    for (let n = 0; n < 2_000; n++) fill(table, table.add(String(n * 1_000_003)), n);
    const slotLimit = table.slotLimit;
    table.clear();
    expect(table.size).toBe(0);
    expect([...table.slots()]).toEqual([]);
    expect(table.slotOf('0')).toBe(-1);
    expect(table.isLive(0)).toBe(false);
    expect(table.extra(0)).toBeUndefined();
    expect(table.slotLimit).toBe(slotLimit);
    expect(table.add('1000003')).toBe(0);
    expect(fieldsOf(table, 0)).toEqual(freshTask(0));
  });

  it('slots() skips slots removed during the iteration, not yet visited', () => {
    const table = new TaskTable<string>({ initialCapacity: 4 });
    for (let n = 0; n < 10; n++) table.add(String(n));
    table.remove(3);
    const visited: number[] = [];
    for (const slot of table.slots()) {
      visited.push(slot);
      if (slot === 1) {
        table.remove(5); // not yet visited: skipped
        table.remove(0); // visited already
      }
    }
    expect(visited).toEqual([0, 1, 2, 4, 6, 7, 8, 9]);
  });

  it('slots() visits every slot live throughout, once, in order, when adds grow the table meanwhile', () => {
    const table = new TaskTable<string>({ initialCapacity: 4 });
    for (let n = 0; n < 10; n++) table.add(String(n));
    table.remove(3);
    table.remove(7);
    const visited: number[] = [];
    for (const slot of table.slots()) {
      expect(table.isLive(slot)).toBe(true);
      visited.push(slot);
      if (slot === 2) for (let n = 100; n < 140; n++) table.add(String(n)); // reuses 7, 3; grows
    }
    expect(visited.slice(0, 2)).toEqual([0, 1]);
    for (const slot of [0, 1, 2, 4, 5, 6, 8, 9]) expect(visited).toContain(slot);
    expect(visited).toEqual([...new Set(visited)].sort((a, b) => a - b));
    expect(visited.every((slot) => slot < table.slotLimit)).toBe(true);
  });

  it('checks the slots given to remove, isLive, idOf and writeIdBytes', () => {
    const table = new TaskTable<string>();
    const slot = table.add('42');
    for (const bad of [-1, 0.5, 1, 1_023, 1_024, NaN, Infinity]) {
      expect(table.isLive(bad)).toBe(false);
      expect(() => table.remove(bad)).toThrow(RangeError);
      expect(() => table.idOf(bad)).toThrow(RangeError);
      expect(() => table.writeIdBytes(bad, new Uint8Array(8), 0)).toThrow(RangeError);
    }
    table.remove(slot);
    expect(() => table.remove(slot)).toThrow(RangeError);
    expect(table.size).toBe(0);
    expect(() => new TaskTable({ initialCapacity: 0 })).toThrow(RangeError);
    expect(() => new TaskTable({ initialCapacity: 1.5 })).toThrow(RangeError);
  });

  it('hashes sonyflake ids without long clusters', () => {
    const table = new TaskTable<string>();
    const startMs = Date.UTC(2025, 6, 1);
    for (let n = 0; n < 30_000; n++) table.add(sonyflakeId(startMs + (n >> 8), n & 255, 1));
    // The only look inside: the buckets of the id index. In a linear-probing table a lookup costs
    // about the length of the cluster it lands in; random hashing at load 0.46 (30,000 of 65,536
    // buckets) gives clusters of ~3.5 on average per entry, a few dozen at most.
    const buckets = (table as unknown as { buckets: Int32Array }).buckets;
    expect(buckets.length).toBe(65_536);
    let sumOfSquares = 0;
    let longest = 0;
    let run = 0;
    for (let index = 0; index <= buckets.length; index++) {
      if (index < buckets.length && buckets[index] !== -1) run++;
      else {
        sumOfSquares += run * run;
        longest = Math.max(longest, run);
        run = 0;
      }
    }
    expect(sumOfSquares / table.size).toBeLessThan(8);
    expect(longest).toBeLessThan(100);
  });
});

describe('TaskTable id bytes', () => {
  function bigIntOf(bytes: Uint8Array, offset: number): bigint {
    return Buffer.from(bytes.buffer, bytes.byteOffset + offset, 8).readBigUInt64BE();
  }

  it('writes 8 bytes big-endian and reads them back, exactly, around every word boundary', () => {
    const random = new SeededRandom(11);
    const ids = [...EDGE_IDS];
    const boundaries = [1n, 2n ** 32n, 2n ** 34n, 10n ** 10n, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n];
    for (let k = 0; k < 300; k++)
      boundaries.push(BigInt(random.nextInt(922_337_203) + 1) * 10n ** 10n);
    for (let k = 0; k < 300; k++) boundaries.push(BigInt(random.nextInt(2 ** 31 - 1) + 1) << 32n);
    for (const boundary of boundaries) {
      for (const delta of [-2n, -1n, 0n, 1n]) {
        const id = boundary + delta;
        if (id >= 0n && id < 2n ** 63n) ids.push(id.toString());
      }
    }
    for (let k = 0; k < 2_000; k++) ids.push(randomId(random));

    const table = new TaskTable<string>();
    const bytes = new Uint8Array(11);
    for (const id of ids) {
      if (!table.has(id)) table.add(id);
      bytes.fill(0xee);
      table.writeIdBytes(table.slotOf(id), bytes, 2);
      const written = bigIntOf(bytes, 2);
      const readBack = TaskTable.idFromBytes(bytes, 2);
      if (written !== BigInt(id) || readBack !== id || bytes[1] !== 0xee || bytes[10] !== 0xee)
        expect([written.toString(), readBack, bytes[1], bytes[10]]).toEqual([id, id, 0xee, 0xee]);
    }
  });

  it('orders the bytes like the ids', () => {
    const random = new SeededRandom(12);
    const table = new TaskTable<string>();
    const ids = [...EDGE_IDS];
    for (let k = 0; k < 500; k++) {
      ids.push(randomId(random), String(random.nextUint32()));
      ids.push(sonyflakeId(Date.UTC(2025, 0, 1) + random.nextInt(5), random.nextInt(256), 0));
    }
    const keys = [...new Set(ids)].map((id) => {
      const key = Buffer.alloc(8);
      table.writeIdBytes(table.add(id), key, 0);
      return { id, key };
    });
    const byBytes = [...keys].sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => k.id);
    const byValue = [...keys]
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .map((k) => k.id);
    expect(byBytes).toEqual(byValue);
  });

  it('refuses bytes of 2^63 or more and reads or writes that overrun the array', () => {
    expect(() => TaskTable.idFromBytes(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0), 0)).toThrow(
      RangeError,
    );
    expect(TaskTable.idFromBytes(Uint8Array.of(0x7f, 255, 255, 255, 255, 255, 255, 255), 0)).toBe(
      MAX_ID,
    );
    expect(() => TaskTable.idFromBytes(new Uint8Array(8), 1)).toThrow(RangeError);
    expect(() => TaskTable.idFromBytes(new Uint8Array(8), -1)).toThrow(RangeError);
    const table = new TaskTable<string>();
    const slot = table.add('1');
    expect(() => table.writeIdBytes(slot, new Uint8Array(8), 1)).toThrow(RangeError);
    expect(() => table.writeIdBytes(slot, new Uint8Array(9), 0.5)).toThrow(RangeError);
  });
});

describe('TaskTable clone and addFromBytes', () => {
  it('adds from the bytes writeIdBytes wrote the same task as add() from its id', () => {
    const random = new SeededRandom(21);
    const source = new TaskTable<string>();
    const target = new TaskTable<string>();
    const ids = [...EDGE_IDS];
    for (let k = 0; k < 3_000; k++) ids.push(randomId(random));
    const bytes = new Uint8Array(8);
    for (const id of new Set(ids)) {
      source.writeIdBytes(source.add(id), bytes, 0);
      const slot = target.addFromBytes(bytes, 0);
      expect(target.idOf(slot)).toBe(id);
      expect(target.slotOf(id)).toBe(slot);
    }
    expect(target.size).toBe(source.size);
    expect(() => target.addFromBytes(bytes, 0)).toThrow(/already in the table/);
    expect(() => target.addFromBytes(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0), 0)).toThrow(
      RangeError,
    );
  });

  it('clones a table that later changes of the original do not touch', () => {
    const table = new TaskTable<{ n: number }>();
    const a = table.add('11');
    const b = table.add('22');
    table.setNextFireAtMs(a, 1_000);
    table.setExtra(b, { n: 1 });
    const copy = table.clone();
    table.setNextFireAtMs(a, 2_000);
    table.setExtra(b, { n: 2 });
    table.remove(a);
    table.add('33');
    expect(copy.size).toBe(2);
    expect([...copy.slots()].map((slot) => copy.idOf(slot))).toEqual(['11', '22']);
    expect(copy.nextFireAtMs(copy.slotOf('11'))).toBe(1_000);
    expect(copy.extra(copy.slotOf('22'))).toEqual({ n: 1 });
    expect(copy.has('33')).toBe(false);
    expect(table.has('11')).toBe(false);
  });
});

describe('TaskTable reserve', () => {
  it('makes room at once and keeps what is there', () => {
    const table = new TaskTable<string>();
    const a = table.add('5');
    table.setRunAtMs(a, 42);
    table.reserve(100_000);
    expect(table.slotLimit).toBeGreaterThanOrEqual(100_000);
    const limit = table.slotLimit;
    for (let i = 0; i < 99_999; i++) table.add(String(1_000 + i));
    expect(table.slotLimit).toBe(limit); // no growth on the way
    expect(table.runAtMs(table.slotOf('5'))).toBe(42);
    expect(table.slotOf('100998')).toBeGreaterThanOrEqual(0);
  });
});

describe('TaskTable pageOfSlots', () => {
  it('pages through the accepted ids in ascending order, as a sort of every id would', () => {
    const random = new SeededRandom(31);
    const table = new TaskTable<string>();
    const ids = new Set<string>(EDGE_IDS);
    for (let k = 0; k < 3_000; k++) ids.add(randomId(random));
    for (const id of ids) table.add(id);
    for (const id of [...ids].filter((_, i) => i % 7 === 0)) table.remove(table.slotOf(id));
    const accept = (slot: number): boolean => table.idOf(slot).endsWith('3') === false;
    const expected = [...ids]
      .filter((id) => table.has(id) && !id.endsWith('3'))
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1_000; pages++) {
      const page = table.pageOfSlots(97, cursor, accept);
      seen.push(...page.slots.map((slot) => table.idOf(slot)));
      if (!page.more) break;
      cursor = table.idOf(page.slots[page.slots.length - 1]);
    }
    expect(seen).toEqual(expected);
    expect(table.pageOfSlots(10, MAX_ID, () => true)).toEqual({ slots: [], more: false });
  });
});
