import { OriginPools } from './origin-pools';
import { CallbackReceiver, until } from './testing/callback-receiver';

describe('OriginPools', () => {
  let receiver: CallbackReceiver;
  let pools: OriginPools;

  beforeEach(async () => {
    receiver = await CallbackReceiver.start();
    pools = new OriginPools({
      connections: 4,
      keepAliveTimeoutMs: 50,
      connectTimeoutMs: 1_000,
      sweepIntervalMs: 60_000,
    });
  });

  afterEach(async () => {
    await pools.destroy();
    await receiver.close();
  });

  it('keeps one pool per origin and sweeps it once its connections are gone', async () => {
    const origin = receiver.url('');
    const pool = pools.get(origin);
    expect(pools.get(origin)).toBe(pool);
    const response = await pool.request({ path: '/', method: 'POST', body: '{}' });
    await response.body.dump();
    pools.sweep();
    expect(pools.size).toBe(1); // still connected (keep-alive)
    // keepAliveTimeoutMs 50 caps the server's "Keep-Alive: timeout=5" hint.
    await until(() => pool.stats.connected === 0);
    pools.sweep();
    expect(pools.size).toBe(0);
    expect(pools.get(origin)).not.toBe(pool);
  });

  it('refuses new pools once destroyed', async () => {
    await pools.destroy();
    expect(() => pools.get(receiver.url(''))).toThrow(/destroyed/);
  });
});
