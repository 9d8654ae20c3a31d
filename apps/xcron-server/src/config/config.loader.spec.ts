import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from './config.error';
import { loadConfig } from './config.loader';
import type { XcronOptions } from './config.schema';

const SHIPPED_CONFIG = resolve(__dirname, '../../../../xcron.toml');

let dir: string;
let fileCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcron-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh file in the temp directory and returns its path. */
function configFile(text: string): string {
  const file = join(dir, `case-${++fileCount}.toml`);
  writeFileSync(file, text);
  return file;
}

/** Loads `text` from a real file, with `cwd` = the temp directory; returns options and warnings. */
function load(text: string): { options: XcronOptions; warnings: string[]; file: string } {
  const file = configFile(text);
  const warnings: string[] = [];
  const options = loadConfig(file, {
    logger: { warn: (message) => warnings.push(message) },
    cwd: dir,
  });
  return { options, warnings, file };
}

/** Loads `text` expecting a ConfigError; returns it with the file's path. */
function failure(text: string): { error: ConfigError; file: string } {
  const file = configFile(text);
  try {
    loadConfig(file, { logger: { warn: () => undefined }, cwd: dir });
  } catch (error) {
    if (error instanceof ConfigError) return { error, file };
    throw error;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

const DEFAULTS = {
  env: 'debug',
  httpHost: '0.0.0.0',
  httpPort: 8000,
  monitorPort: 9910,
  peerPort: 8899,
  bodyLimitBytes: 65536,
  peerListenHost: '0.0.0.0',
  nodeId: '',
  advertiseAddr: '',
  clusterSecret: '',
  apiToken: '',
  signingSecret: '',
  allowedCallbackHosts: [],
  misfireThresholdMs: 5000,
  misfireMax: 100,
  dispatchConcurrency: 256,
  dispatchWarmupRequests: 400,
  shutdownDrainMs: 5000,
  raftTickMs: 100,
  snapshotEveryEntries: 10000,
  snapshotEveryBytes: 64 * 1024 * 1024,
  peerHosts: [],
};

describe('loadConfig', () => {
  it('parses the shipped xcron.toml with the original values and no warning', () => {
    const warnings: string[] = [];
    const options = loadConfig(SHIPPED_CONFIG, {
      logger: { warn: (m) => warnings.push(m) },
      cwd: '/srv/xcron',
    });
    expect(options).toEqual({ ...DEFAULTS, raftDir: '/srv/xcron/data' });
    expect(warnings).toEqual([]);
  });

  it('applies every default to an empty file', () => {
    expect(load('').options).toEqual({ ...DEFAULTS, raftDir: join(dir, 'data') });
  });

  it('applies defaults to the keys a file leaves out', () => {
    const { options } = load('http_port = 8080\n[peer]\npeer_hosts = ["10.0.0.1"]\n');
    expect(options).toMatchObject({
      httpPort: 8080,
      monitorPort: 9910,
      httpHost: '0.0.0.0',
      bodyLimitBytes: 65536,
    });
  });

  it('reads every key the original and the new schema know', () => {
    const { options } = load(
      [
        'env = "prod"',
        'http_host = "127.0.0.1"',
        'http_port = 18000',
        'monitor_port = 19910',
        'peer_port = 18899',
        'raft_dir = "/var/lib/xcron"',
        'body_limit_bytes = 1048576',
        '[peer]',
        'peer_hosts = ["10.0.0.1:18899", "node-2", "[fd00::3]:7000"]',
      ].join('\n'),
    );
    expect(options).toEqual({
      ...DEFAULTS,
      env: 'prod',
      httpHost: '127.0.0.1',
      httpPort: 18000,
      monitorPort: 19910,
      peerPort: 18899,
      raftDir: '/var/lib/xcron',
      bodyLimitBytes: 1048576,
      // A host without a port gets peer_port; every entry is in "host:port" form.
      peerHosts: ['10.0.0.1:18899', 'node-2:18899', '[fd00::3]:7000'],
    });
  });

  it('resolves a relative raft_dir against the working directory, not the file', () => {
    const file = join(dir, 'nested', 'xcron.toml');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    writeFileSync(file, 'raft_dir = "./raft"\n');
    const options = loadConfig(file, { logger: { warn: () => undefined }, cwd: '/opt/node-1' });
    expect(options.raftDir).toBe('/opt/node-1/raft');
  });

  it('returns a frozen object, arrays included', () => {
    const { options } = load('[peer]\npeer_hosts = ["a:1"]\n');
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.peerHosts)).toBe(true);
  });

  it('accepts a UTF-8 byte-order mark', () => {
    expect(load('\uFEFFhttp_port = 8001\n').options.httpPort).toBe(8001);
  });

  describe('keys of older files', () => {
    it('warns that raft_file is ignored, naming the key and the file', () => {
      const { options, warnings, file } = load('raft_file = "raft.db"\nhttp_port = 8001\n');
      expect(options.httpPort).toBe(8001);
      expect(warnings).toEqual([expect.stringContaining(`${file}: raft_file is ignored`)]);
    });

    it('warns once for each key of the [group] table', () => {
      const { warnings } = load(
        '[group]\ngroup_id = 1\ngroup_role = "master"\ngroup_master_hosts = ["10.0.0.1:8000"]\n',
      );
      expect(warnings).toHaveLength(3);
      for (const key of ['group.group_id', 'group.group_role', 'group.group_master_hosts']) {
        expect(warnings).toContainEqual(expect.stringMatching(new RegExp(`: ${key} is ignored`)));
      }
    });

    it('still refuses an unknown key inside [group]', () => {
      const { error, file } = failure('[group]\ngroup_idd = 1\n');
      expect(error.message).toBe(`${file}: group.group_idd is not a known key`);
    });
  });

  describe('file and syntax errors', () => {
    it('names a missing file', () => {
      const file = join(dir, 'absent.toml');
      expect(() => loadConfig(file, { logger: { warn: () => undefined } })).toThrow(ConfigError);
      expect(() => loadConfig(file, { logger: { warn: () => undefined } })).toThrow(
        `${file}: cannot read the config file (no such file; pass --config FILE or set XCRON_CONFIG)`,
      );
    });

    it('names a file that cannot be read', () => {
      const file = join(dir, 'a-directory.toml');
      mkdirSync(file);
      expect(() => loadConfig(file, { logger: { warn: () => undefined } })).toThrow(
        `${file}: cannot read the config file (it is a directory)`,
      );
    });

    it('gives line and column of a TOML syntax error, with the line quoted', () => {
      const { error, file } = failure('env = "debug"\nhttp_port = = 8000\n');
      expect(error.message.split('\n')[0]).toBe(`${file}:2:13: TOML syntax error: invalid value`);
      expect(error.message).toContain('http_port = = 8000');
      expect(error.key).toBeUndefined();
    });

    it('treats a key given twice as a syntax error at the second one', () => {
      const { error, file } = failure('http_port = 8000\nhttp_port = 8001\n');
      expect(error.message).toMatch(
        new RegExp(`^${escape(file)}:2:1: TOML syntax error: .*redefine`),
      );
    });

    it('reports an unterminated string', () => {
      expect(failure('env = "debug\n').error.message).toMatch(/:1:\d+: TOML syntax error: /);
    });
  });

  describe('unknown keys', () => {
    it.each([
      ['http_prot = 8000', 'http_prot is not a known key; did you mean http_port?'],
      ['evn = "prod"', 'evn is not a known key; did you mean env?'],
      ['HTTP_PORT = 8000', 'HTTP_PORT is not a known key; did you mean http_port?'],
      ['body_limit = 4096', 'body_limit is not a known key; did you mean body_limit_bytes?'],
      ['clustre = 1', 'clustre is not a known key'],
      // The classic TOML slip: a top-level key written below a [table] header.
      [
        '[peer]\nhttp_host = "127.0.0.1"',
        'peer.http_host is not a known key; did you mean http_host? It belongs before the first [table] header',
      ],
      [
        'peer_hosts = []',
        'peer_hosts is not a known key; did you mean peer_hosts in the [peer] table?',
      ],
      ['[peer]\npeer_host = []', 'peer.peer_host is not a known key; did you mean peer_hosts?'],
      ['[peers]\npeer_hosts = []', '[peers] is not a known table; did you mean [peer]?'],
      [
        '"peer.peer_hosts" = []',
        '"peer.peer_hosts" is not a known key; did you mean peer_hosts in the [peer] table?',
      ],
    ])('%j', (toml, message) => {
      const { error, file } = failure(`${toml}\n`);
      expect(error.message).toBe(`${file}: ${message}`);
    });
  });

  describe('wrong types and ranges', () => {
    it.each([
      ['http_port = "abc"', 'http_port', 'http_port must be an integer from 1 to 65535, got "abc"'],
      ['http_port = 0', 'http_port', 'http_port must be an integer from 1 to 65535, got 0'],
      [
        'monitor_port = 65536',
        'monitor_port',
        'monitor_port must be an integer from 1 to 65535, got 65536',
      ],
      ['peer_port = -1', 'peer_port', 'peer_port must be an integer from 1 to 65535, got -1'],
      [
        'http_port = 8000.0',
        'http_port',
        'http_port must be an integer from 1 to 65535, got 8000.0 (a float)',
      ],
      ['http_port = 80.5', 'http_port', 'http_port must be an integer from 1 to 65535, got 80.5'],
      [
        'http_port = 99999999999999999999',
        'http_port',
        'http_port must be an integer from 1 to 65535, got',
      ],
      ['http_port = true', 'http_port', 'http_port must be an integer from 1 to 65535, got true'],
      [
        'http_port = [8000]',
        'http_port',
        'http_port must be an integer from 1 to 65535, got an array',
      ],
      ['[http_port]', 'http_port', 'http_port must be an integer from 1 to 65535, got a table'],
      ['env = "dev"', 'env', 'env must be one of "debug", "prod", got "dev"'],
      ['env = 1', 'env', 'env must be one of "debug", "prod", got 1'],
      [
        'http_host = ""',
        'http_host',
        'http_host must be a host name or IP address (IPv6 without brackets), got ""',
      ],
      ['http_host = "not a host"', 'http_host', 'http_host must be a host name or IP address'],
      [
        'http_host = "[::1]"',
        'http_host',
        'http_host must be a host name or IP address (IPv6 without brackets), got "[::1]"',
      ],
      ['raft_dir = ""', 'raft_dir', 'raft_dir must be a non-empty directory path, got ""'],
      [
        'raft_dir = 1979-05-27',
        'raft_dir',
        'raft_dir must be a non-empty directory path, got the date 1979-05-27',
      ],
      [
        'body_limit_bytes = 1023',
        'body_limit_bytes',
        'body_limit_bytes must be an integer from 1024 (1 KiB) to 16777216 (16 MiB), got 1023',
      ],
      [
        'body_limit_bytes = 16777217',
        'body_limit_bytes',
        'body_limit_bytes must be an integer from 1024 (1 KiB) to 16777216 (16 MiB), got 16777217',
      ],
      ['peer = 1', 'peer', 'peer must be a table ([peer]), got 1'],
      [
        '[peer]\npeer_hosts = "10.0.0.1"',
        'peer.peer_hosts',
        'peer.peer_hosts must be an array of "host:port" or "host" strings, got "10.0.0.1"',
      ],
      [
        '[peer]\npeer_hosts = [8899]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 must be a "host:port" string, got 8899',
      ],
      [
        '[peer]\npeer_hosts = ["a:1", ""]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 2 "": the host is empty',
      ],
      [
        '[peer]\npeer_hosts = [":8899"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 ":8899": the host is empty',
      ],
      [
        '[peer]\npeer_hosts = ["a:0"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 "a:0": port 0 is not from 1 to 65535',
      ],
      [
        '[peer]\npeer_hosts = ["a:65536"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 "a:65536": port 65536 is not from 1 to 65535',
      ],
      [
        '[peer]\npeer_hosts = ["a:"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 "a:": port "" is not a number from 1 to 65535',
      ],
      [
        '[peer]\npeer_hosts = ["a:http"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 "a:http": port "http" is not a number from 1 to 65535',
      ],
      [
        '[peer]\npeer_hosts = ["fd00::1"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 "fd00::1": looks like an IPv6 address: write it in brackets, e.g. "[::1]:8899"',
      ],
      [
        '[peer]\npeer_hosts = ["a b:1"]',
        'peer.peer_hosts',
        'peer.peer_hosts entry 1 "a b:1": "a b" is not a host name or IP address',
      ],
    ])('%j', (toml, key, message) => {
      const { error, file } = failure(`${toml}\n`);
      expect(error.message.startsWith(`${file}: ${message}`)).toBe(true);
      expect(error.key).toBe(key);
      expect(error.file).toBe(file);
    });

    it('accepts the bounds of each range', () => {
      expect(load('http_port = 1\nmonitor_port = 65535\n').options).toMatchObject({
        httpPort: 1,
        monitorPort: 65535,
      });
      expect(load('body_limit_bytes = 1024').options.bodyLimitBytes).toBe(1024);
      expect(load('body_limit_bytes = 16777216').options.bodyLimitBytes).toBe(16 * 1024 * 1024);
    });

    it('accepts IPv4, IPv6 and host names as http_host', () => {
      for (const host of ['127.0.0.1', '::', '::1', 'localhost', 'xcron-1.internal']) {
        expect(load(`http_host = "${host}"`).options.httpHost).toBe(host);
      }
    });
  });

  describe('rules across keys', () => {
    it.each([
      [
        'http_port = 9000\nmonitor_port = 9000',
        'monitor_port',
        'monitor_port must differ from http_port (both are 9000)',
      ],
      ['http_port = 8899', 'peer_port', 'peer_port must differ from http_port (both are 8899)'],
      ['peer_port = 9910', 'peer_port', 'peer_port must differ from monitor_port (both are 9910)'],
    ])('ports: %j', (toml, key, message) => {
      const { error, file } = failure(`${toml}\n`);
      expect(error.message.startsWith(`${file}: ${message}`)).toBe(true);
      expect(error.key).toBe(key);
    });

    it.each([
      ['["a:1", "b:1", "a:1"]', 'lists "a:1" twice; each node must appear once'],
      [
        '["a", "a:8899"]',
        'lists "a" and "a:8899", which are both a:8899 (a host without a port means peer_port 8899); each node must appear once',
      ],
      [
        '["Node-1:7000", "node-1:7000"]',
        'lists "Node-1:7000" and "node-1:7000", which are both node-1:7000; each node must appear once',
      ],
      [
        '["[fd00::1]", "[fd00::1]:8899"]',
        'lists "[fd00::1]" and "[fd00::1]:8899", which are both [fd00::1]:8899',
      ],
    ])('duplicate peer_hosts %s', (hosts, message) => {
      const { error, file } = failure(`[peer]\npeer_hosts = ${hosts}\n`);
      expect(error.message.startsWith(`${file}: peer.peer_hosts ${message}`)).toBe(true);
      expect(error.key).toBe('peer.peer_hosts');
    });

    it('fills in peer_port after reading it, wherever it stands in the file', () => {
      const { options } = load('[peer]\npeer_hosts = ["a", "b:1"]\n');
      expect(options.peerHosts).toEqual(['a:8899', 'b:1']);
      const withPort = load('peer_port = 7000\n[peer]\npeer_hosts = ["a", "b:1"]\n');
      expect(withPort.options.peerHosts).toEqual(['a:7000', 'b:1']);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
