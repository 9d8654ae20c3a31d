/**
 * Value kinds of the config schema: each knows its TOML type, what a valid value is (in words, for
 * error messages and the README table), how to turn a parsed TOML value into the option's value,
 * and how to write a default back as TOML. A new setting picks one; a new kind is a few lines here.
 */
import { resolve } from 'node:path';
import { TomlDate, type TomlValue } from 'smol-toml';
import { MAX_PORT, MIN_PORT, hostProblem, parseHostPort } from './host-port';

export interface ParseContext {
  /** Directory that relative paths are resolved against (the process's working directory). */
  readonly cwd: string;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

export interface ValueKind<T> {
  /** The TOML type, for docs: `integer`, `string`, `array of strings`. */
  readonly type: string;
  /** Completes "must be …" in errors and is the "allowed values" column in docs. */
  readonly expected: string;
  /**
   * Checks a value as smol-toml parsed it (integers as bigint, so an integer and a float such as
   * 8000.0 stay apart) and returns the option's value or the text after the key in the error.
   */
  parse(raw: TomlValue, context: ParseContext): Parsed<T>;
  /** The value as TOML would hold it: defaults go through `parse` like any file value, and docs print it. */
  encode(value: T): TomlValue;
}

/** How a TOML value is shown after "got" in an error: short, and as the operator wrote it. */
export function describeTomlValue(raw: TomlValue): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (typeof raw === 'bigint') return `${raw}`;
  if (typeof raw === 'number') {
    if (Number.isNaN(raw)) return 'nan';
    if (!Number.isFinite(raw)) return raw > 0 ? 'inf' : '-inf';
    return Number.isInteger(raw) ? `${raw.toFixed(1)} (a float)` : `${raw}`;
  }
  if (typeof raw === 'boolean') return `${raw}`;
  if (raw instanceof TomlDate) return `the date ${raw.toISOString()}`;
  if (Array.isArray(raw)) return raw.length === 0 ? 'an empty array' : 'an array';
  if (isTomlTable(raw)) return 'a table';
  return 'a date/time value';
}

/** True for a TOML table (smol-toml makes them prototype-less objects), false for arrays and dates. */
export function isTomlTable(raw: TomlValue | undefined): raw is { [key: string]: TomlValue } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Date)
    return false;
  const prototype: unknown = Object.getPrototypeOf(raw);
  return prototype === null || prototype === Object.prototype;
}

function mismatch<T>(expected: string, raw: TomlValue): Parsed<T> {
  return { ok: false, problem: `must be ${expected}, got ${describeTomlValue(raw)}` };
}

/** An integer from `min` to `max`; `label` formats a bound for people (e.g. "1024 (1 KiB)"). */
export function integer(
  min: number,
  max: number,
  label: (bound: number) => string = String,
): ValueKind<number> {
  const expected = `an integer from ${label(min)} to ${label(max)}`;
  return {
    type: 'integer',
    expected,
    parse(raw) {
      if (typeof raw !== 'bigint' || raw < BigInt(min) || raw > BigInt(max))
        return mismatch(expected, raw);
      return { ok: true, value: Number(raw) };
    },
    encode: (value) => BigInt(value),
  };
}

export const port = (): ValueKind<number> => integer(MIN_PORT, MAX_PORT);

/** A byte count, shown with its binary unit where it is a whole number of KiB / MiB. */
export function bytes(minBytes: number, maxBytes: number): ValueKind<number> {
  return integer(minBytes, maxBytes, formatBytes);
}

export function formatBytes(countBytes: number): string {
  const MiB = 1024 * 1024;
  if (countBytes >= MiB && countBytes % MiB === 0) return `${countBytes} (${countBytes / MiB} MiB)`;
  if (countBytes >= 1024 && countBytes % 1024 === 0)
    return `${countBytes} (${countBytes / 1024} KiB)`;
  return `${countBytes}`;
}

/** One of a fixed set of strings; the option's type is the union of them. */
export function oneOf<const V extends string>(values: readonly V[]): ValueKind<V> {
  const expected = `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`;
  return {
    type: 'string',
    expected,
    parse(raw) {
      const match = values.find((value) => value === raw);
      return match === undefined ? mismatch(expected, raw) : { ok: true, value: match };
    },
    encode: (value) => value,
  };
}

/** An address to listen on: a host name, an IPv4 address, or an IPv6 address without brackets. */
export function listenHost(): ValueKind<string> {
  const expected = 'a host name or IP address (IPv6 without brackets)';
  return {
    type: 'string',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || hostProblem(raw) !== undefined) return mismatch(expected, raw);
      return { ok: true, value: raw };
    },
    encode: (value) => value,
  };
}

/**
 * A directory path. A relative path is resolved against the process's working directory, not the
 * config file's directory: that is what the original xcron did (Go opens "./data/" from the cwd),
 * so existing deployments keep their data where it is. The option holds the absolute path, so a
 * later change of directory cannot move it and the start-up log shows exactly where data goes.
 */
export function directory(): ValueKind<string> {
  const expected = 'a non-empty directory path';
  return {
    type: 'string',
    expected,
    parse(raw, context) {
      if (typeof raw !== 'string' || raw.trim() === '' || raw.includes('\0'))
        return mismatch(expected, raw);
      return { ok: true, value: resolve(context.cwd, raw) };
    },
    encode: (value) => value,
  };
}

/**
 * A list of `host[:port]` peer addresses, checked one by one; the entries stay as written here.
 * Filling in the default port and finding duplicates needs `peer_port`, so the schema's cross-key
 * rules do that.
 */
export function hostPortList(): ValueKind<readonly string[]> {
  return stringList(
    'an array of "host:port" or "host" strings',
    'a "host:port" string',
    (entry) => {
      const split = parseHostPort(entry);
      return split.ok ? undefined : `${JSON.stringify(entry)}: ${split.problem}`;
    },
  );
}

/** A string of at most `maxChars` characters; empty means "not set" where the setting says so. */
export function text(maxChars: number): ValueKind<string> {
  const expected = `a string of at most ${maxChars} characters`;
  return {
    type: 'string',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || raw.length > maxChars || raw.includes('\0'))
        return mismatch(expected, raw);
      return { ok: true, value: raw };
    },
    encode: (value) => value,
  };
}

/**
 * A list of strings, each checked by `problemOf` (undefined = fine; otherwise the text after
 * "entry N" in the error).
 */
export function stringList(
  expected: string,
  entryExpected: string,
  problemOf: (entry: string) => string | undefined,
): ValueKind<readonly string[]> {
  return {
    type: 'array of strings',
    expected,
    parse(raw) {
      if (!Array.isArray(raw)) return mismatch(expected, raw);
      const entries: string[] = [];
      for (const [index, entry] of raw.entries()) {
        if (typeof entry !== 'string')
          return {
            ok: false,
            problem: `entry ${index + 1} must be ${entryExpected}, got ${describeTomlValue(entry)}`,
          };
        const problem = problemOf(entry);
        if (problem !== undefined) return { ok: false, problem: `entry ${index + 1} ${problem}` };
        entries.push(entry);
      }
      return { ok: true, value: entries };
    },
    encode: (value) => [...value],
  };
}
