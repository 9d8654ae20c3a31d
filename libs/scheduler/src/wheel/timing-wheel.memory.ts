/**
 * By hand, not in CI: what 1,000,000 scheduled items cost the wheel, beyond the items.
 *   node --expose-gc -r @swc-node/register libs/scheduler/src/wheel/timing-wheel.memory.ts
 *   INITIAL_CAPACITY=1000000 node --expose-gc -r @swc-node/register libs/scheduler/src/wheel/timing-wheel.memory.ts
 * See the figures in the comment at the top of timing-wheel.ts.
 */
import { TimingWheel } from './timing-wheel';

const ITEMS = 1_000_000;
const DAY_MS = 86_400_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const startMs = Date.UTC(2025, 0, 1);
const items = Array.from({ length: ITEMS }, (_, index) => ({ taskId: index }));
const dueTimesMs = Float64Array.from(
  { length: ITEMS },
  () => startMs + 1 + Math.floor(Math.random() * 30 * DAY_MS),
);
const handles = new Float64Array(ITEMS); // what a caller keeps to cancel (8 bytes), not counted

/** Collects twice with a turn of the event loop between: freed array buffers are released late. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let round = 0; round < 3; round++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const before = await settledMemory();

  const wheel = new TimingWheel<{ taskId: number }>(startMs, {
    initialCapacity: Number(process.env.INITIAL_CAPACITY ?? 1_024),
  });
  const scheduleStartedNs = process.hrtime.bigint();
  for (let index = 0; index < ITEMS; index++)
    handles[index] = wheel.schedule(items[index], dueTimesMs[index]);
  const scheduleNs = Number(process.hrtime.bigint() - scheduleStartedNs);
  const after = await settledMemory();

  const heapBytes = after.heapUsed - before.heapUsed;
  const bufferBytes = after.arrayBuffers - before.arrayBuffers;
  console.log(
    `wheel: ${((heapBytes + bufferBytes) / ITEMS).toFixed(1)} bytes per item beyond the items ` +
      `(heap ${(heapBytes / 1e6).toFixed(1)} MB, typed arrays ${(bufferBytes / 1e6).toFixed(1)} MB)`,
  );
  console.log(`schedule: ${(scheduleNs / ITEMS).toFixed(0)} ns per item`);

  let fired = 0;
  const advanceStartedNs = process.hrtime.bigint();
  for (let nowMs = startMs; nowMs <= startMs + 30 * DAY_MS + 1_000; nowMs += 1_000) {
    fired += wheel.advance(nowMs, () => undefined);
  }
  const advanceNs = Number(process.hrtime.bigint() - advanceStartedNs);
  console.log(
    `advance through 30 days in 1 s steps (2.6M calls): ${fired} fired in ${(advanceNs / 1e6).toFixed(0)} ms`,
  );
}

void main();
