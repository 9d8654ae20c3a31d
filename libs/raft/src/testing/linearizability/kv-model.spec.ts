import { kvModel } from './kv-model';
import type { KvInput, KvOperation, KvOutput, KvState } from './kv-model';
import { UNKNOWN_OUTPUT } from './model';

function step(state: KvState, input: KvInput, output: KvOutput | typeof UNKNOWN_OUTPUT) {
  return kvModel.step(state, input, output);
}

describe('kvModel', () => {
  it('starts with the key absent', () => {
    expect(kvModel.init()).toBeUndefined();
  });

  it('puts, appends (to an absent key as to an empty one) and reads', () => {
    expect(step(undefined, { op: 'put', key: 'x', value: 'a' }, {})).toEqual({
      ok: true,
      state: 'a',
    });
    expect(step('a', { op: 'append', key: 'x', value: 'b' }, {})).toEqual({
      ok: true,
      state: 'ab',
    });
    expect(step(undefined, { op: 'append', key: 'x', value: 'b' }, {})).toEqual({
      ok: true,
      state: 'b',
    });
    expect(step('ab', { op: 'get', key: 'x' }, { value: 'ab' })).toEqual({ ok: true, state: 'ab' });
    expect(step('ab', { op: 'get', key: 'x' }, { value: 'a' }).ok).toBe(false);
    expect(step(undefined, { op: 'get', key: 'x' }, { value: undefined }).ok).toBe(true);
    // An empty value is not an absent key.
    expect(step('', { op: 'get', key: 'x' }, { value: undefined }).ok).toBe(false);
    expect(step(undefined, { op: 'get', key: 'x' }, { value: '' }).ok).toBe(false);
  });

  it('accepts an unknown output and still applies a lost write', () => {
    expect(step('a', { op: 'get', key: 'x' }, UNKNOWN_OUTPUT)).toEqual({ ok: true, state: 'a' });
    expect(step('a', { op: 'append', key: 'x', value: 'b' }, UNKNOWN_OUTPUT)).toEqual({
      ok: true,
      state: 'ab',
    });
  });

  it("throws on a get recorded with a write's output, a harness bug", () => {
    expect(() => step('a', { op: 'get', key: 'x' }, {})).toThrow(TypeError);
  });

  it('tells states apart by hash and equality', () => {
    expect(kvModel.hash(undefined)).not.toBe(kvModel.hash(''));
    expect(kvModel.hash('a')).toBe(kvModel.hash('a'));
    expect(kvModel.equal('a', 'a')).toBe(true);
    expect(kvModel.equal(undefined, '')).toBe(false);
  });

  it('partitions a history by key, keeping each key’s operations in order', () => {
    const op = (key: string, value: string): KvOperation => ({
      clientId: 0,
      input: { op: 'put', key, value },
      output: {},
      callTime: 0,
      returnTime: 1,
    });
    const history = [op('x', '1'), op('y', '2'), op('x', '3')];
    expect(kvModel.partition?.(history)).toEqual([[history[0], history[2]], [history[1]]]);
  });

  it('describes operations and states for failure reports', () => {
    const describeOp = kvModel.describeOperation;
    expect(describeOp?.({ op: 'put', key: 'x', value: 'a' }, {})).toBe('put("x", "a")');
    expect(describeOp?.({ op: 'append', key: 'x', value: 'a' }, UNKNOWN_OUTPUT)).toBe(
      'append("x", "a") (no response)',
    );
    expect(describeOp?.({ op: 'get', key: 'x' }, { value: 'a' })).toBe('get("x") → "a"');
    expect(describeOp?.({ op: 'get', key: 'x' }, { value: undefined })).toBe('get("x") → absent');
    expect(describeOp?.({ op: 'get', key: 'x' }, UNKNOWN_OUTPUT)).toBe(
      'get("x") → ? (no response)',
    );
    expect(kvModel.describeState?.(undefined)).toBe('absent');
    expect(kvModel.describeState?.('a"b')).toBe('"a\\"b"');
  });
});
