import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderConfigTable, tomlLiteral } from './config.docs';
import { CONFIG_SCHEMA, SETTINGS, type XcronOptions } from './config.schema';

// Compile-time check (tsc --noEmit covers spec files): the options type derived from the table is
// exactly this. A new setting must be added here too, which is the point: it is a reviewed change.
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const derivedTypeIsExact: Equal<
  XcronOptions,
  {
    readonly env: 'debug' | 'prod';
    readonly httpHost: string;
    readonly httpPort: number;
    readonly monitorPort: number;
    readonly peerPort: number;
    readonly raftDir: string;
    readonly bodyLimitBytes: number;
    readonly peerListenHost: string;
    readonly nodeId: string;
    readonly advertiseAddr: string;
    readonly clusterSecret: string;
    readonly apiToken: string;
    readonly signingSecret: string;
    readonly allowedCallbackHosts: readonly string[];
    readonly misfireThresholdMs: number;
    readonly misfireMax: number;
    readonly dispatchConcurrency: number;
    readonly dispatchWarmupRequests: number;
    readonly shutdownDrainMs: number;
    readonly raftTickMs: number;
    readonly snapshotEveryEntries: number;
    readonly snapshotEveryBytes: number;
    readonly peerHosts: readonly string[];
  }
> = true;

describe('CONFIG_SCHEMA', () => {
  it('derives the options type from the table', () => {
    expect(derivedTypeIsExact).toBe(true);
  });

  it('has each TOML key and each option name once', () => {
    const keys = CONFIG_SCHEMA.map((spec) => spec.key);
    const options = SETTINGS.map((spec) => spec.option);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(options).size).toBe(options.length);
  });

  it('uses snake_case TOML keys and camelCase option names', () => {
    for (const spec of CONFIG_SCHEMA)
      expect(spec.key).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/);
    for (const spec of SETTINGS) expect(spec.option).toMatch(/^[a-z][a-zA-Z0-9]*$/);
  });

  it('has defaults that pass their own validation', () => {
    for (const spec of SETTINGS) {
      const parsed = spec.value.parse(spec.value.encode(spec.default), { cwd: '/' });
      expect({ key: spec.key, ok: parsed.ok }).toEqual({ key: spec.key, ok: true });
    }
  });

  it('describes every key', () => {
    for (const spec of SETTINGS) expect(spec.description.length).toBeGreaterThan(10);
  });

  it('has a comment for every key the shipped xcron.toml sets', () => {
    const shipped = readFileSync(resolve(__dirname, '../../../../xcron.toml'), 'utf8').split('\n');
    const assignments = shipped
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => /^\w+\s*=/.test(line));
    expect(assignments.length).toBeGreaterThanOrEqual(6);
    for (const { line, index } of assignments) {
      expect({ line, commentAbove: shipped[index - 1]?.startsWith('#') }).toEqual({
        line,
        commentAbove: true,
      });
    }
  });
});

describe('renderConfigTable', () => {
  it('has a row for every setting and names the ignored keys', () => {
    const table = renderConfigTable();
    for (const spec of SETTINGS) {
      const [head, leaf] = spec.key.split('.');
      expect(table).toContain(leaf === undefined ? `| \`${head}\` |` : `| \`[${head}] ${leaf}\` |`);
    }
    expect(table).toContain('`raft_file`');
    expect(table).toContain('`group.group_id`');
  });

  it('writes defaults as TOML literals', () => {
    const table = renderConfigTable();
    expect(table).toContain('| `http_port` | integer | `8000` | an integer from 1 to 65535 |');
    expect(table).toContain('| `raft_dir` | string | `"./data/"` |');
    expect(table).toContain('| `[peer] peer_hosts` | array of strings | `[]` |');
    expect(tomlLiteral(['a:1'])).toBe('[ "a:1" ]');
  });
});
