/**
 * Reads xcron.toml once at start-up and turns it into the frozen `XcronOptions`, or throws a
 * `ConfigError` naming the file and the key. Free of Nest, so it runs before the app is built and
 * unit tests load it cheaply.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError, type TomlTable, type TomlValue } from 'smol-toml';
import { closestKey, suggestionFor } from './closest-key';
import { ConfigError } from './config.error';
import { describeTomlValue, isTomlTable, type ParseContext } from './config.kinds';
import {
  CONFIG_SCHEMA,
  CROSS_KEY_RULES,
  SETTINGS,
  type KeySpec,
  type XcronOptions,
} from './config.schema';

/** Where deprecation warnings go: Nest's `Logger` fits, and so does a test's recorder. */
export interface ConfigWarningLogger {
  warn(message: string): void;
}

export interface LoadConfigOptions {
  readonly logger: ConfigWarningLogger;
  /** Base of relative paths (`raft_dir`); the process's working directory unless a test says otherwise. */
  readonly cwd?: string;
}

/** Reads and validates the config file; `file` is shown in messages as given. */
export function loadConfig(file: string, options: LoadConfigOptions): XcronOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${file}: cannot read the config file (${describeFsError(error)})`,
      file,
      undefined,
      {
        cause: error,
      },
    );
  }
  return parseConfig(text, file, options);
}

/** Validates config text as if read from `file`. */
export function parseConfig(text: string, file: string, options: LoadConfigOptions): XcronOptions {
  const document = parseToml(text, file);
  checkKeys(document, '', file, options.logger);
  const context: ParseContext = { cwd: options.cwd ?? process.cwd() };
  const draft: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const raw = valueAt(document, spec.key);
    // A default goes through the same check as a file value: raft_dir's is resolved like any path.
    const parsed = spec.value.parse(raw ?? spec.value.encode(spec.default), context);
    if (!parsed.ok) {
      const where = raw === undefined ? ' (the default)' : '';
      throw new ConfigError(`${file}: ${spec.key}${where} ${parsed.problem}`, file, spec.key);
    }
    draft[spec.option] = parsed.value;
  }
  // Every setting of the table has been filled in just above, so the draft is complete.
  let result = draft as XcronOptions;
  for (const rule of CROSS_KEY_RULES) {
    const outcome = rule(result);
    if ('problem' in outcome)
      throw new ConfigError(`${file}: ${outcome.key} ${outcome.problem}`, file, outcome.key);
    result = outcome;
  }
  return deepFreeze(result);
}

function parseToml(text: string, file: string): TomlTable {
  try {
    // Integers as bigint keep `8000` (integer) apart from `8000.0` (float) and never round.
    return parse(text.replace(/^\uFEFF/, ''), { integersAsBigInt: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message is "Invalid TOML document: <reason>\n\n<excerpt with a caret>".
    const [head = '', ...excerpt] = error.message.split('\n');
    const reason = head.replace(/^Invalid TOML document:\s*/, '');
    const codeblock = excerpt.join('\n').replace(/^\n+|\n+$/g, '');
    throw new ConfigError(
      `${file}:${error.line}:${error.column}: TOML syntax error: ${reason}${codeblock === '' ? '' : `\n${codeblock}`}`,
      file,
      undefined,
      { cause: error },
    );
  }
}

const SETTING_KEYS = SETTINGS.map((spec) => spec.key);
const SPECS_BY_KEY: ReadonlyMap<string, KeySpec> = new Map(
  CONFIG_SCHEMA.map((spec) => [spec.key, spec]),
);
/** Tables are the prefixes of dotted keys: `peer` for `peer.peer_hosts`. */
const TABLES: ReadonlySet<string> = new Set(
  CONFIG_SCHEMA.flatMap((spec) =>
    spec.key
      .split('.')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
  ),
);

/**
 * Refuses keys the schema does not know (a typo would otherwise silently leave a default in place)
 * and warns about obsolete ones.
 */
function checkKeys(
  table: TomlTable,
  prefix: string,
  file: string,
  logger: ConfigWarningLogger,
): void {
  for (const [name, value] of Object.entries(table)) {
    // A quoted key with a dot or space in it ("peer.peer_hosts" = …) never matches a schema key.
    const segment = /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
    const key = prefix === '' ? segment : `${prefix}.${segment}`;
    const spec = SPECS_BY_KEY.get(key);
    if (spec?.kind === 'obsolete') {
      logger.warn(`${file}: ${key} is ignored: ${spec.reason}. Remove it to silence this warning.`);
    } else if (spec === undefined && TABLES.has(key)) {
      if (!isTomlTable(value)) {
        throw new ConfigError(
          `${file}: ${key} must be a table ([${key}]), got ${describeTomlValue(value)}`,
          file,
          key,
        );
      }
      checkKeys(value, key, file, logger);
    } else if (spec === undefined && isTomlTable(value)) {
      const suggestion = closestKey(key, [...TABLES]);
      const hint = suggestion === undefined ? '' : `; did you mean [${suggestion}]?`;
      throw new ConfigError(`${file}: [${key}] is not a known table${hint}`, file, key);
    } else if (spec === undefined) {
      const suggestion = closestKey(key, SETTING_KEYS);
      const hint = suggestion === undefined ? '' : `; ${suggestionFor(key, suggestion)}`;
      throw new ConfigError(`${file}: ${key} is not a known key${hint}`, file, key);
    }
  }
}

function valueAt(document: TomlTable, dottedKey: string): TomlValue | undefined {
  let current: TomlValue | undefined = document;
  for (const segment of dottedKey.split('.')) {
    current = isTomlTable(current) ? current[segment] : undefined;
  }
  return current;
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file; pass --config FILE or set XCRON_CONFIG';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
