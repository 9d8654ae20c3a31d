import { NodeIdentityError, resolveNodeIdentity } from './node-identity';

const base = { peerPort: 8899, httpPort: 8000, nodeId: '', advertiseAddr: '' };
const hosts = new Set(['127.0.0.1', 'localhost', '10.0.0.2']);

describe('resolveNodeIdentity', () => {
  it('makes a single node of an empty peer_hosts', () => {
    const identity = resolveNodeIdentity({ ...base, peerHosts: [] }, hosts);
    expect(identity).toEqual({
      nodeId: '127.0.0.1:8899',
      peerAddress: '127.0.0.1:8899',
      httpAddress: '127.0.0.1:8000',
      initialMembers: [{ id: '127.0.0.1:8899', peerAddress: '127.0.0.1:8899' }],
      joining: false,
    });
  });

  it('finds itself by peer_port among entries of this machine, and sorts the membership', () => {
    const peerHosts = ['127.0.0.1:8901', '127.0.0.1:8899', '127.0.0.1:8900'];
    const identity = resolveNodeIdentity(
      { ...base, peerPort: 8900, httpPort: 8001, peerHosts },
      hosts,
    );
    expect(identity.nodeId).toBe('127.0.0.1:8900');
    expect(identity.httpAddress).toBe('127.0.0.1:8001');
    expect(identity.initialMembers.map((m) => m.id)).toEqual([
      '127.0.0.1:8899',
      '127.0.0.1:8900',
      '127.0.0.1:8901',
    ]);
  });

  it('finds itself by one of its addresses among other machines', () => {
    const peerHosts = ['10.0.0.1:8899', '10.0.0.2:8899', '10.0.0.3:8899'];
    expect(resolveNodeIdentity({ ...base, peerHosts }, hosts).nodeId).toBe('10.0.0.2:8899');
  });

  it('refuses when no entry or several entries are this node', () => {
    expect(() => resolveNodeIdentity({ ...base, peerHosts: ['10.0.0.9:8899'] }, hosts)).toThrow(
      /none of \[peer\] peer_hosts .* is this machine with peer_port 8899/,
    );
    expect(() =>
      resolveNodeIdentity({ ...base, peerHosts: ['127.0.0.1:8899', 'localhost:8899'] }, hosts),
    ).toThrow(/several \[peer\] peer_hosts entries .* set advertise_addr/);
  });

  it('lets advertise_addr say which entry it is', () => {
    const peerHosts = ['127.0.0.1:8899', 'localhost:8899'];
    const identity = resolveNodeIdentity(
      { ...base, peerHosts, advertiseAddr: 'localhost:8899' },
      hosts,
    );
    expect(identity).toMatchObject({ nodeId: 'localhost:8899', joining: false });
  });

  it('makes a node whose advertise_addr is not listed a joining node of the listed cluster', () => {
    const peerHosts = ['127.0.0.1:8899', '127.0.0.1:8900'];
    const identity = resolveNodeIdentity(
      { ...base, peerHosts, advertiseAddr: '127.0.0.1:8901' },
      hosts,
    );
    expect(identity).toMatchObject({ nodeId: '127.0.0.1:8901', joining: true });
    expect(identity.initialMembers.map((m) => m.id)).toEqual(peerHosts);
    expect(() =>
      resolveNodeIdentity({ ...base, peerHosts, advertiseAddr: 'bad host' }, hosts),
    ).toThrow(NodeIdentityError);
  });

  it('takes node_id for a single node only', () => {
    expect(resolveNodeIdentity({ ...base, peerHosts: [], nodeId: 'n1' }, hosts).nodeId).toBe('n1');
    expect(() =>
      resolveNodeIdentity({ ...base, peerHosts: ['127.0.0.1:8899'], nodeId: 'n1' }, hosts),
    ).toThrow(/node_id cannot be combined/);
  });
});
