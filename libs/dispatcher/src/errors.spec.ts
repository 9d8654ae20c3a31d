import { describeTransportError, isRetryableTransportError } from './errors';
import { isRetryableStatus, isSuccessStatus } from './retry-classification';

describe('retry classification', () => {
  it('retries 408, 425, 429 and every 5xx; not other 4xx, 3xx', () => {
    for (const s of [408, 425, 429, 500, 502, 503, 504, 599]) {
      expect(isRetryableStatus(s)).toBe(true);
    }
    for (const s of [301, 302, 400, 401, 403, 404, 409, 410, 413, 422]) {
      expect(isRetryableStatus(s)).toBe(false);
    }
    expect(isSuccessStatus(204)).toBe(true);
    expect(isSuccessStatus(300)).toBe(false);
  });

  it('describes transport errors shortly and keeps undici argument errors final', () => {
    expect(
      describeTransportError(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('ECONNREFUSED');
    const aggregate = Object.assign(
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''),
      {},
    );
    expect(describeTransportError(aggregate)).toBe('ECONNREFUSED');
    expect(
      describeTransportError(
        Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      ),
    ).toBe('other side closed');
    expect(describeTransportError(new Error('x'.repeat(500))).length).toBeLessThanOrEqual(160);
    expect(
      isRetryableTransportError(Object.assign(new Error('bad'), { code: 'UND_ERR_INVALID_ARG' })),
    ).toBe(false);
    expect(
      isRetryableTransportError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })),
    ).toBe(true);
  });
});
