import { DispatchWarmUp } from './dispatch-warm-up';

describe('DispatchWarmUp', () => {
  it('sends its POSTs through a dispatcher of its own to a loopback server, then closes both', async () => {
    const warmUp = new DispatchWarmUp();
    const report = await warmUp.run({ requests: 50, concurrency: 4, signingSecret: 's' });
    expect(report).toMatchObject({ requests: 50, failed: 0 });
    expect(report.ms).toBeGreaterThan(0);
  });

  it('stops early when asked', async () => {
    const warmUp = new DispatchWarmUp();
    const running = warmUp.run({ requests: 1_000_000, concurrency: 2 });
    setTimeout(() => void warmUp.stop(), 50);
    const report = await running;
    expect(report.requests).toBeLessThan(1_000_000);
  });
});
