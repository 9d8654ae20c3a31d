import { TRANSPORT_LIMITS_DEFAULT } from './transport.constants';
import { TransportError } from './transport.errors';
import { resolveTransportOptions, type PeerTransportOptions } from './transport.options';

const base: PeerTransportOptions = {
  nodeId: 'a',
  listenHost: '127.0.0.1',
  listenPort: 0,
  advertisedPeerAddress: 'a:8899',
  advertisedHttpAddress: 'http://a:8000',
  clusterId: 'c',
  resolvePeer: () => undefined,
};

describe('resolveTransportOptions', () => {
  it('fills the default limits and keeps the injected random source', () => {
    const random = (): number => 0.25;
    const resolved = resolveTransportOptions({ ...base, random });
    expect(resolved.limits).toEqual(TRANSPORT_LIMITS_DEFAULT);
    expect(resolved.random).toBe(random);
    expect(resolved.clusterSecret).toBeUndefined();
  });

  it('copies the secret, so the caller may wipe its own buffer', () => {
    const secret = Buffer.from('0123456789abcdef');
    const resolved = resolveTransportOptions({ ...base, clusterSecret: secret });
    secret.fill(0);
    expect(resolved.clusterSecret?.toString()).toBe('0123456789abcdef');
  });

  it.each([
    [{ nodeId: '' }, /nodeId must be a string/],
    [{ listenPort: 70_000 }, /listenPort must be an integer from 0 to 65535/],
    [{ clusterSecret: '' }, /clusterSecret must not be empty/],
    [{ limits: { frameBytesMax: 10 } }, /limits.frameBytesMax must be an integer/],
    [
      { limits: { backoffMsMin: 500, backoffMsMax: 100 } },
      /backoffMsMin \(500\) must not exceed limits.backoffMsMax/,
    ],
    [
      { limits: { pingIntervalMs: 1_000, idleTimeoutMs: 1_500 } },
      /idleTimeoutMs \(1500\) must be at least twice/,
    ],
    [{ limits: { frameBytesMaxx: 1 } as object }, /unknown transport limit "frameBytesMaxx"/],
  ])('refuses %j, naming the option', (override, message) => {
    expect(() => resolveTransportOptions({ ...base, ...override })).toThrow(TransportError);
    expect(() => resolveTransportOptions({ ...base, ...override })).toThrow(message);
  });
});
