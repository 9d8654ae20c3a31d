import { execFileSync } from 'node:child_process';

/**
 * Network namespaces for chaos:server --netns (needs root and iproute2): each node gets a namespace
 * of its own with two interfaces, one on an "access" bridge (its HTTP API; the harness and the
 * callback receiver sit on that bridge's address in the root namespace) and one on a "cluster"
 * bridge (its peer port). Cutting a node's cluster link partitions it from its peers while clients
 * still reach it — the partition a leader must notice itself (check-quorum) and step down from.
 * On 127.0.0.1 alone no such partition can be made: every process shares one loopback.
 */
export class ChaosNetwork {
  private readonly subnet: number;
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];

  /** `tag` (a small integer) names the interfaces and namespaces of this run. */
  constructor(
    private readonly tag: number,
    private readonly nodeCount: number,
  ) {
    this.subnet = 10 + (tag % 240);
  }

  /** The root namespace's address on the access bridge: the harness and the receiver use it. */
  get hostAddress(): string {
    return `10.231.${this.subnet}.1`;
  }

  /** Where node `index` listens: HTTP on the access network, peers on the cluster network. */
  node(index: number): { httpHost: string; peerHost: string; netns: string } {
    return {
      httpHost: `10.231.${this.subnet}.${10 + index}`,
      peerHost: `10.232.${this.subnet}.${10 + index}`,
      netns: this.namespaceOf(index),
    };
  }

  setUp(): void {
    const access = `xca${this.tag}`;
    const cluster = `xcc${this.tag}`;
    for (const bridge of [access, cluster]) {
      ip('link', 'add', bridge, 'type', 'bridge');
      this.links.push(bridge);
      ip('link', 'set', bridge, 'up');
    }
    ip('addr', 'add', `${this.hostAddress}/24`, 'dev', access);
    for (let index = 0; index < this.nodeCount; index++) {
      const netns = this.namespaceOf(index);
      ip('netns', 'add', netns);
      this.namespaces.push(netns);
      ip('netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up');
      const { httpHost, peerHost } = this.node(index);
      for (const [kind, bridge, address] of [
        ['a', access, httpHost],
        ['c', cluster, peerHost],
      ] as const) {
        const outside = `xc${this.tag}${kind}${index}`;
        const inside = `${kind}${index}in`;
        ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
        this.links.push(outside);
        ip('link', 'set', inside, 'netns', netns);
        ip('link', 'set', outside, 'master', bridge);
        ip('link', 'set', outside, 'up');
        ip('netns', 'exec', netns, 'ip', 'addr', 'add', `${address}/24`, 'dev', inside);
        ip('netns', 'exec', netns, 'ip', 'link', 'set', inside, 'up');
      }
    }
  }

  /** Cuts node `index` off from its peers (its HTTP API stays reachable). */
  cut(index: number): void {
    ip('link', 'set', `xc${this.tag}c${index}`, 'down');
  }

  heal(index: number): void {
    ip('link', 'set', `xc${this.tag}c${index}`, 'up');
  }

  /** Deletes what setUp made (best effort: a half-made network is torn down as far as it got). */
  tearDown(): void {
    for (const netns of this.namespaces.splice(0)) tryIp('netns', 'del', netns);
    for (const link of this.links.splice(0).reverse()) tryIp('link', 'del', link);
  }

  private namespaceOf(index: number): string {
    return `xcron-${this.tag}-${index}`;
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone (a veth goes with its namespace)
  }
}
