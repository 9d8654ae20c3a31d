import { hostname, networkInterfaces } from 'node:os';
import type { XcronOptions } from '../config/config.schema';
import { formatHostPort, parseHostPort } from '../config/host-port';

/** Who this node is in its cluster, resolved from xcron.toml (DESIGN.md, "Identity and bootstrap"). */
export interface NodeIdentity {
  readonly nodeId: string;
  /** The peer address peers reach this node at. */
  readonly peerAddress: string;
  /** The HTTP address it announces to peers (for /v1/cluster and redirects). */
  readonly httpAddress: string;
  /** The bootstrap membership: every peer_hosts entry as a voter (sorted), or this node alone. */
  readonly initialMembers: readonly { readonly id: string; readonly peerAddress: string }[];
  /**
   * A node added at run time: its advertise_addr is not among peer_hosts (which list the cluster
   * it joins). It never bootstraps; it asks the leader to admit it once an operator added it
   * (POST /v1/cluster/members).
   */
  readonly joining: boolean;
}

/** Why the node cannot tell which peer_hosts entry it is: an operator's fix, not a crash. */
export class NodeIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeIdentityError';
  }
}

/** Every address this machine answers to: its interfaces, loopback names and its host name. */
export function ownHostNames(): Set<string> {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1', hostname().toLowerCase()]);
  for (const addresses of Object.values(networkInterfaces()))
    for (const address of addresses ?? []) names.add(address.address.toLowerCase());
  return names;
}

/**
 * A node is the peer_hosts entry whose port is its peer_port and whose host is one of its own
 * addresses — exactly one must match — unless `advertise_addr` names it. Its id is that address
 * unless `node_id` is set. With no peer_hosts it is a single node.
 */
export function resolveNodeIdentity(
  options: Pick<XcronOptions, 'peerHosts' | 'peerPort' | 'httpPort' | 'nodeId' | 'advertiseAddr'>,
  ownHosts: ReadonlySet<string> = ownHostNames(),
): NodeIdentity {
  const peerHosts = [...options.peerHosts].sort();
  let peerAddress: string;
  if (options.advertiseAddr !== '') {
    const split = parseHostPort(options.advertiseAddr);
    if (!split.ok)
      throw new NodeIdentityError(
        `advertise_addr ${JSON.stringify(options.advertiseAddr)}: ${split.problem}`,
      );
    peerAddress = formatHostPort(
      split.value.host.toLowerCase(),
      split.value.port ?? options.peerPort,
    );
  } else if (peerHosts.length === 0) {
    peerAddress = formatHostPort('127.0.0.1', options.peerPort);
  } else {
    const mine = peerHosts.filter((entry) => {
      const split = parseHostPort(entry);
      return (
        split.ok &&
        split.value.port === options.peerPort &&
        ownHosts.has(split.value.host.toLowerCase())
      );
    });
    if (mine.length !== 1)
      throw new NodeIdentityError(
        mine.length === 0
          ? `none of [peer] peer_hosts (${peerHosts.join(', ')}) is this machine with peer_port ${options.peerPort}; fix peer_port or peer_hosts, or set advertise_addr`
          : `several [peer] peer_hosts entries are this machine with peer_port ${options.peerPort} (${mine.join(', ')}); set advertise_addr to say which one this node is`,
      );
    peerAddress = mine[0];
  }
  const split = parseHostPort(peerAddress);
  const host = split.ok ? split.value.host : '127.0.0.1';
  // Every node of a cluster bootstraps the same membership, so ids there must be what every node
  // can derive alone: the peer_hosts entries.
  if (options.nodeId !== '' && peerHosts.length > 0)
    throw new NodeIdentityError(
      'node_id cannot be combined with [peer] peer_hosts: the ids of a cluster bootstrapped from peer_hosts are its entries',
    );
  const nodeId = options.nodeId !== '' ? options.nodeId : peerAddress;
  const members =
    peerHosts.length === 0
      ? [{ id: nodeId, peerAddress }]
      : peerHosts.map((entry) => ({ id: entry, peerAddress: entry }));
  return {
    nodeId,
    peerAddress,
    joining: peerHosts.length > 0 && !peerHosts.includes(peerAddress),
    httpAddress: formatHostPort(host === '0.0.0.0' ? '127.0.0.1' : host, options.httpPort),
    initialMembers: members,
  };
}
