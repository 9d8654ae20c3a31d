/**
 * Shared helpers for the benchmarks under bench/: a high-resolution timer, percentiles, number
 * formatting, bounded command-line flags and temp directories that are removed on every exit path.
 *
 * Benchmarks are scripts, not tests: they print readable figures and end with one JSON line. The
 * machine they run on is shared and noisy, so every figure should come with a baseline measured in
 * the same run and a ratio; absolute figures alone are not comparable between runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

// ---- time ----------------------------------------------------------------------------------

/** Milliseconds on a monotonic, sub-microsecond clock (never the wall clock, which can jump). */
export function nowMs(): number {
  return performance.now();
}

/** Measures one interval; `lap` reads it without stopping, so a loop can check a time bound. */
export class Timer {
  private readonly startMs = nowMs();

  elapsedMs(): number {
    return nowMs() - this.startMs;
  }

  elapsedS(): number {
    return this.elapsedMs() / 1000;
  }
}

/** Runs `task` once and returns its result with the milliseconds it took. */
export async function timed<T>(task: () => Promise<T> | T): Promise<{ result: T; ms: number }> {
  const timer = new Timer();
  const result = await task();
  return { result, ms: timer.elapsedMs() };
}

/**
 * The least of `runs` timings of `task`. For a CPU-bound piece on a shared machine the minimum is the
 * best estimate of its own cost: other tenants and GC only ever add time.
 */
export async function leastMs(
  runs: number,
  task: () => Promise<unknown> | unknown,
): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    const timer = new Timer();
    await task();
    least = Math.min(least, timer.elapsedMs());
  }
  return least;
}

/** Resolves after pending I/O callbacks and immediates have run: a cheap way to yield to the loop. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---- statistics ----------------------------------------------------------------------------

/**
 * The `p`-th percentile (0–100) of the first `count` values, by the nearest-rank method: always a
 * value that was measured, which is what a latency report should quote. Sorts a copy, so the
 * caller's samples keep their order.
 */
export function percentile(
  values: Float64Array | readonly number[],
  p: number,
  count = values.length,
): number {
  if (count <= 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, got ${p}`);
  const sorted = sortedCopy(values, count);
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  return sorted[rank - 1];
}

/** Several percentiles at once, sorting only once (latency arrays can hold hundreds of thousands). */
export function percentiles(
  values: Float64Array | readonly number[],
  ps: readonly number[],
  count = values.length,
): number[] {
  if (count <= 0) return ps.map(() => Number.NaN);
  const sorted = sortedCopy(values, count);
  return ps.map((p) => {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, got ${p}`);
    return sorted[Math.max(1, Math.ceil((p / 100) * count)) - 1];
  });
}

/** A numerically sorted copy of the first `count` values (a typed array sorts by value, not as text). */
function sortedCopy(values: Float64Array | readonly number[], count: number): Float64Array {
  const copy =
    values instanceof Float64Array
      ? values.slice(0, count)
      : Float64Array.from(values.slice(0, count));
  return copy.sort();
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** ours / baseline, or NaN when the baseline is not a positive finite number. */
export function ratio(ours: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(baseline) ? ours / baseline : Number.NaN;
}

// ---- formatting ----------------------------------------------------------------------------

/** Rounds to `digits` significant digits, for JSON that stays readable (1234567 → 1230000 at 3). */
export function sig(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

/** Rounds to `decimals` places (for ratios and milliseconds). */
export function round(value: number, decimals = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** 1234567 → "1,234,567"; fractions keep at most `decimals` places. */
export function formatNumber(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', {
    maximumFractionDigits: decimals,
    minimumFractionDigits: decimals,
  });
}

/** A per-second rate with a unit and a k/M suffix: "412k records/s". */
export function formatRate(perSecond: number, unit: string): string {
  if (!Number.isFinite(perSecond)) return `${String(perSecond)} ${unit}/s`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M ${unit}/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k ${unit}/s`;
  return `${perSecond.toFixed(1)} ${unit}/s`;
}

export function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(3)} ms`;
}

/** Bytes per second in MB/s (decimal megabytes, like disk vendors and `dd`). */
export function mbPerS(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : Number.NaN;
}

export function perS(count: number, ms: number): number {
  return ms > 0 ? count / (ms / 1000) : Number.NaN;
}

/** "AMD EPYC × 2 cores, Node v20.20.2, linux x64": enough to tell machines apart in a report. */
export function machineDescription(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  return `${model} × ${cores.length} cores, Node ${process.version}, ${process.platform} ${process.arch}`;
}

// ---- command line --------------------------------------------------------------------------

/**
 * Reads an integer flag given as `--name N` or `--name=N` (underscores and commas allowed:
 * `--records 1_000_000`). Out-of-range or malformed values exit with a message rather than run a
 * benchmark of the wrong size.
 */
export function integerFlag(
  argv: readonly string[],
  name: string,
  defaultValue: number,
  min: number,
  max: number,
): number {
  const flag = `--${name}`;
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) raw = argv[i + 1];
    else if (argv[i].startsWith(`${flag}=`)) raw = argv[i].slice(flag.length + 1);
  }
  if (raw === undefined) return defaultValue;
  const value = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

// ---- temp directories ----------------------------------------------------------------------

const tempDirs = new Set<string>();
let cleanupInstalled = false;

/**
 * A new directory under os.tmpdir(), removed by `removeTempDirs` or, failing that, when the process
 * exits or is interrupted: a benchmark that writes gigabytes must not leave them behind.
 */
export function makeTempDir(prefix: string): string {
  installCleanup();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export function removeTempDirs(): void {
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', removeTempDirs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeTempDirs();
      // Re-raise so the exit status says the run was interrupted.
      process.kill(process.pid, signal);
    });
  }
}
