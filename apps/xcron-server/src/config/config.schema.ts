/**
 * The schema of xcron.toml: ONE table, one entry per key. The options type, the defaults, the
 * validation, the unknown-key check and the README's configuration table all come from it, so a new
 * setting is one `setting(...)` line (plus, when it involves two keys, a cross-key rule below).
 */
import { validateAllowedHostPattern } from '@xcron/dispatcher';
import {
  bytes,
  directory,
  hostPortList,
  integer,
  listenHost,
  oneOf,
  port,
  stringList,
  text,
  type ValueKind,
} from './config.kinds';
import { formatHostPort, parseHostPort } from './host-port';

/** A key that becomes an option. `key` is the dotted TOML key (`peer.peer_hosts` = `[peer] peer_hosts`). */
export interface SettingSpec<O extends string, T> {
  readonly kind: 'setting';
  readonly key: string;
  /** The option's name in `XcronOptions`: camelCase, with its unit in the name. */
  readonly option: O;
  readonly value: ValueKind<T>;
  readonly default: T;
  readonly description: string;
}

/** A key of older xcron files: accepted, ignored, and warned about so the operator can remove it. */
export interface ObsoleteSpec {
  readonly kind: 'obsolete';
  readonly key: string;
  /** Completes "<key> is ignored: …" — what replaced it. */
  readonly reason: string;
}

export type KeySpec = SettingSpec<string, unknown> | ObsoleteSpec;

function setting<const O extends string, T>(
  key: string,
  option: O,
  value: ValueKind<T>,
  defaultValue: NoInfer<T>,
  description: string,
): SettingSpec<O, T> {
  return { kind: 'setting', key, option, value, default: defaultValue, description };
}

function obsolete(key: string, reason: string): ObsoleteSpec {
  return { kind: 'obsolete', key, reason };
}

const GROUP_REPLACED =
  '[group] belongs to older xcron files; the cluster is now the list in [peer] peer_hosts';

// prettier-ignore
export const CONFIG_SCHEMA = [
  //      TOML key            option            kind + range                    default        description
  setting('env',              'env',            oneOf(['debug', 'prod']),       'debug',       'Log detail: "debug" also logs debug and verbose lines; "prod" logs info, warnings and errors.'),
  setting('http_host',        'httpHost',       listenHost(),                   '0.0.0.0',     'Address the HTTP API listens on ("0.0.0.0": every IPv4 interface; "127.0.0.1": this machine only).'),
  setting('http_port',        'httpPort',       port(),                         8000,          'TCP port of the HTTP API (tasks, /healthz).'),
  setting('monitor_port',     'monitorPort',    port(),                         9910,          'TCP port that serves Prometheus metrics at /metrics.'),
  setting('peer_port',        'peerPort',       port(),                         8899,          'TCP port for Raft traffic between the nodes of the cluster; also the port of a peer_hosts entry that gives none.'),
  setting('raft_dir',         'raftDir',        directory(),                    './data/',     'Directory of the Raft log and snapshots, the state store (tasks, callbacks, executions) and the event journal; a relative path is taken from the working directory.'),
  setting('body_limit_bytes', 'bodyLimitBytes', bytes(1024, 16 * 1024 * 1024),  64 * 1024,     'Largest HTTP request body accepted; a larger one is refused with 413.'),
  setting('peer_listen_host', 'peerListenHost',       listenHost(),                   '0.0.0.0',     'Address the peer port listens on.'),
  setting('node_id',          'nodeId',         text(200),                      '',            'This node\'s id; empty = its own peer_hosts entry ("host:port"), or "127.0.0.1:<peer_port>" for a single node.'),
  setting('advertise_addr',   'advertiseAddr',  text(300),                      '',            'The "host:port" peers reach this node\'s peer port at; empty = its peer_hosts entry. Also gives the host of the HTTP address it announces.'),
  setting('cluster_secret',   'clusterSecret',  text(1024),                     '',            'Shared secret of the cluster: peers prove it by HMAC challenge-response (it never crosses the wire). Empty = no peer authentication (a warning at start-up).'),
  setting('api_token',        'apiToken',       text(1024),                     '',            'When set, every /xcron and /v1 request must carry "Authorization: Bearer <api_token>" (/healthz and /readyz stay open).'),
  setting('signing_secret',   'signingSecret',  text(1024),                     '',            'When set, callbacks carry X-Xcron-Signature: t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">.'),
  setting('allowed_callback_hosts', 'allowedCallbackHosts', stringList('an array of host names or "*.suffix" patterns', 'a host name', (entry) => validateAllowedHostPattern(entry)), [], 'Hosts callbacks may go to ("*.example.com" matches its subdomains); empty = any host.'),
  setting('misfire_threshold_ms', 'misfireThresholdMs', integer(100, 86_400_000), 5_000,   'A fire not dispatched within this long after its time is missed, and the task\'s misfire policy applies.'),
  setting('misfire_max',      'misfireMax',     integer(1, 10_000),             100,           'misfire = "fire_all" fires at most this many missed times (the latest).'),
  setting('dispatch_concurrency', 'dispatchConcurrency', integer(1, 100_000),   256,           'Callbacks in flight at once on the leader; more wait in a queue.'),
  setting('dispatch_warmup_requests', 'dispatchWarmupRequests', integer(0, 100_000), 400,   'POSTs to a loopback server that warm up the callback code (undici, its HTTP parser) once the node is ready, so its first real callbacks are not slowed by cold code; 0 = none.'),
  setting('shutdown_drain_ms', 'shutdownDrainMs', integer(0, 600_000),          5_000,         'On SIGTERM, how long callbacks in flight may take to finish before the node stops.'),
  setting('raft_tick_ms',     'raftTickMs',     integer(5, 10_000),             100,           'Raft\'s clock tick: heartbeats go out every tick, an election starts after 10-20 ticks without a leader, or 1-3 ticks after the leader\'s process is known gone (its connection closed and a reconnect refused).'),
  setting('snapshot_every_entries', 'snapshotEveryEntries', integer(100, 100_000_000), 10_000, 'A snapshot of the scheduler\'s state is taken after this many Raft entries; the log and journal before it are dropped.'),
  setting('snapshot_every_bytes', 'snapshotEveryBytes', bytes(1024 * 1024, 4 * 1024 * 1024 * 1024), 64 * 1024 * 1024, 'A snapshot is also taken once this many bytes of Raft entries were applied since the last one (whichever of the two limits comes first): it bounds the log kept in memory and on disk when entries are large (batches of tasks with big bodies).'),
  setting('peer.peer_hosts',  'peerHosts',      hostPortList(),                 [],            'Every node of the cluster, this one included, as "host:port" or "host" (then peer_port); empty = a single node.'),
  obsolete('raft_file',                'raft_dir holds all Raft data now'),
  obsolete('group.group_id',           GROUP_REPLACED),
  obsolete('group.group_role',         GROUP_REPLACED),
  obsolete('group.group_master_hosts', GROUP_REPLACED),
] as const;

type Settings = Extract<(typeof CONFIG_SCHEMA)[number], { readonly kind: 'setting' }>;

/** The settings of the table, typed for code that treats them alike (the loader, the docs). */
export const SETTINGS: readonly SettingSpec<string, unknown>[] = CONFIG_SCHEMA.filter(
  (spec): spec is Settings => spec.kind === 'setting',
);

/**
 * The validated configuration, as every module receives it (frozen, camelCase, units in names).
 * Derived from the table, so it cannot drift from it.
 */
export type XcronOptions = {
  readonly [S in Settings as S['option']]: S extends SettingSpec<string, infer T> ? T : never;
};

/** A key of `CONFIG_SCHEMA` and the failure of a cross-key rule about it. */
export interface CrossKeyProblem {
  readonly key: string;
  readonly problem: string;
}

/**
 * Rules that involve more than one key, run in order after every key passed its own check. Each
 * returns the options (possibly completed) or the problem, named by the key to change.
 */
export const CROSS_KEY_RULES: readonly ((
  options: XcronOptions,
) => XcronOptions | CrossKeyProblem)[] = [portsDiffer, peerHostsWithPorts];

/** http_port, monitor_port and peer_port are three listeners on the same addresses: they must differ. */
function portsDiffer(options: XcronOptions): XcronOptions | CrossKeyProblem {
  const ports = [
    ['http_port', options.httpPort],
    ['monitor_port', options.monitorPort],
    ['peer_port', options.peerPort],
  ] as const;
  for (const [index, [key, value]] of ports.entries()) {
    const earlier = ports.slice(0, index).find(([, other]) => other === value);
    if (earlier !== undefined) {
      return {
        key,
        problem: `must differ from ${earlier[0]} (both are ${value}): each port is a separate listener`,
      };
    }
  }
  return options;
}

/**
 * Gives every peer_hosts entry its port (peer_port when it names none), so the rest of the node
 * compares addresses in one form, and refuses an address listed twice: a duplicate would count one
 * node twice towards the Raft quorum.
 */
function peerHostsWithPorts(options: XcronOptions): XcronOptions | CrossKeyProblem {
  const seen = new Map<string, { readonly entry: string; readonly portGiven: boolean }>();
  const peerHosts: string[] = [];
  for (const entry of options.peerHosts) {
    const split = parseHostPort(entry);
    // The kind already checked every entry; this only narrows the type.
    if (!split.ok)
      return {
        key: 'peer.peer_hosts',
        problem: `entry ${JSON.stringify(entry)}: ${split.problem}`,
      };
    const portGiven = split.value.port !== undefined;
    // Host names are case-insensitive; a missing port is peer_port.
    const address = formatHostPort(
      split.value.host.toLowerCase(),
      split.value.port ?? options.peerPort,
    );
    const first = seen.get(address);
    if (first !== undefined) {
      const listed =
        first.entry === entry
          ? `${JSON.stringify(entry)} twice`
          : `${JSON.stringify(first.entry)} and ${JSON.stringify(entry)}, which are both ${address}`;
      const hint =
        first.entry === entry || (portGiven && first.portGiven)
          ? ''
          : ` (a host without a port means peer_port ${options.peerPort})`;
      return {
        key: 'peer.peer_hosts',
        problem: `lists ${listed}${hint}; each node must appear once`,
      };
    }
    seen.set(address, { entry, portGiven });
    peerHosts.push(address);
  }
  return { ...options, peerHosts };
}
