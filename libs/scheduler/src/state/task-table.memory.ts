/**
 * By hand, not in CI: what 1,000,000 tasks cost the task table (slot arrays and id index).
 *   node --expose-gc -r @swc-node/register libs/scheduler/src/state/task-table.memory.ts
 *   INITIAL_CAPACITY=1000000 node --expose-gc -r @swc-node/register libs/scheduler/src/state/task-table.memory.ts
 *   TASKS=672612 node --expose-gc -r @swc-node/register libs/scheduler/src/state/task-table.memory.ts
 * (672,612 tasks: one past a growth from the default capacity, the most slack there is.)
 * See the figures in the comment at the top of task-table.ts.
 */
import { TaskTable } from './task-table';

const TASKS = Number(process.env.TASKS ?? 1_000_000);
const DAY_MS = 86_400_000;
const ID_EPOCH_MS = Date.UTC(2024, 0, 1);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

/**
 * Sonyflake-style ids as a busy node mints them: (ms since the epoch << 24) | (sequence << 16) |
 * machine, ~50 per millisecond over a few machines. Made before the baseline: not counted.
 */
function makeIds(count: number): string[] {
  const ids: string[] = [];
  let ms = Date.UTC(2025, 5, 1) - ID_EPOCH_MS;
  let sequence = 0;
  while (ids.length < count) {
    const machine = BigInt(ids.length % 7);
    ids.push(((BigInt(ms) << 24n) | (BigInt(sequence) << 16n) | machine).toString());
    if (++sequence === 50) {
      sequence = 0;
      ms += 1;
    }
  }
  return ids;
}

const ids = makeIds(TASKS);
/** The same ids in random order, for the lookups (the order of adds is the easy case). */
const shuffled = [...ids];
for (let index = shuffled.length - 1; index > 0; index--) {
  const other = Math.floor(Math.random() * (index + 1));
  [shuffled[index], shuffled[other]] = [shuffled[other], shuffled[index]];
}
/** Ids minted a day later: none is in the table. */
const absent = makeIds(TASKS).map((id) => (BigInt(id) + (BigInt(DAY_MS) << 24n)).toString());

/** Collects a few times with a turn of the event loop between: freed array buffers are released late. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let round = 0; round < 3; round++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

function nsPerOp(startedNs: bigint, ops: number): string {
  return (Number(process.hrtime.bigint() - startedNs) / ops).toFixed(0);
}

async function main(): Promise<void> {
  const before = await settledMemory();

  const table = new TaskTable<{ note: string }>({
    initialCapacity: Number(process.env.INITIAL_CAPACITY ?? 1_024),
  });
  const nowMs = Date.now();
  const addStartedNs = process.hrtime.bigint();
  for (let index = 0; index < TASKS; index++) table.add(ids[index]);
  const addNs = nsPerOp(addStartedNs, TASKS);

  // Realistic fields: every task pending with a next fire time; a third recurring (runs and
  // failures counted, a schedule reference); one in a thousand with extra data.
  for (let index = 0; index < TASKS; index++) {
    const slot = index; // adds into an empty table hand out 0, 1, 2, ...
    table.setStatus(slot, 1);
    table.setPolicyBits(slot, 0b101);
    table.setCreatedAtMs(slot, nowMs - (index % 1_000_000));
    table.setUpdatedAtMs(slot, nowMs);
    table.setNextFireAtMs(slot, nowMs + Math.floor(Math.random() * 30 * DAY_MS));
    if (index % 3 === 0) {
      table.setScheduleRef(slot, index);
      table.setRunCount(slot, index % 500);
      table.setFailureCount(slot, index % 7);
      table.setHistoryCount(slot, index % 20);
    } else table.setRunAtMs(slot, table.nextFireAtMs(slot));
    if (index % 1_000 === 0) table.setExtra(slot, { note: `extra ${index}` });
  }
  const after = await settledMemory();

  const heapBytes = after.heapUsed - before.heapUsed;
  const bufferBytes = after.arrayBuffers - before.arrayBuffers;
  console.log(
    `table: ${((heapBytes + bufferBytes) / TASKS).toFixed(1)} bytes per task for ${TASKS} tasks ` +
      `(heap ${(heapBytes / 1e6).toFixed(1)} MB, typed arrays ${(bufferBytes / 1e6).toFixed(1)} MB; ` +
      `slotLimit ${table.slotLimit})`,
  );
  console.log(`add: ${addNs} ns per task`);

  let found = 0;
  const presentStartedNs = process.hrtime.bigint();
  for (let index = 0; index < TASKS; index++) if (table.slotOf(shuffled[index]) !== -1) found++;
  const presentNs = nsPerOp(presentStartedNs, TASKS);
  const absentStartedNs = process.hrtime.bigint();
  for (let index = 0; index < TASKS; index++) if (table.slotOf(absent[index]) !== -1) found++;
  const absentNs = nsPerOp(absentStartedNs, TASKS);
  if (found !== TASKS) throw new Error(`found ${found} of ${TASKS}`);
  console.log(
    `slotOf: ${presentNs} ns per present id (random order), ${absentNs} ns per absent id`,
  );

  // For scale, on the same machine at the same moment: the Map<string, slot> this table replaces.
  const map = new Map<string, number>();
  for (let index = 0; index < TASKS; index++) map.set(ids[index], index);
  const mapStartedNs = process.hrtime.bigint();
  for (let index = 0; index < TASKS; index++) if (map.get(shuffled[index]) === undefined) found--;
  console.log(`(Map<string, number>.get: ${nsPerOp(mapStartedNs, TASKS)} ns per present id)`);
}

void main();
