import {
  CallbackHeaderList,
  isReservedHeaderName,
  validateCallbackHeaders,
} from './callback-headers';

describe('callback headers', () => {
  it('reserves xcron and transport header names, case-insensitively', () => {
    for (const name of [
      'Content-Type',
      'idempotency-key',
      'X-Xcron-Attempt',
      'x-xcron-anything',
      'Host',
      'User-Agent',
    ]) {
      expect(isReservedHeaderName(name)).toBe(true);
    }
    expect(isReservedHeaderName('Authorization')).toBe(false);
    expect(isReservedHeaderName('X-Custom')).toBe(false);
  });

  it('validateCallbackHeaders refuses reserved names, bad tokens, CR/LF values, too many', () => {
    expect(validateCallbackHeaders(undefined)).toBeUndefined();
    expect(validateCallbackHeaders({ Authorization: 'Bearer x', 'X-Custom': 'y' })).toBeUndefined();
    expect(validateCallbackHeaders({ 'content-type': 'text/plain' })).toMatch(/set by xcron/);
    expect(validateCallbackHeaders({ 'X-Xcron-Task-Id': '1' })).toMatch(/set by xcron/);
    expect(validateCallbackHeaders({ 'bad name': 'x' })).toMatch(/token/);
    expect(validateCallbackHeaders({ 'X-A': 'a\r\nX-Injected: 1' })).toMatch(/invalid value/);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v']));
    expect(validateCallbackHeaders(many)).toMatch(/at most/);
    expect(validateCallbackHeaders({ 'X-Big': 'v'.repeat(9000) })).toMatch(/exceed/);
  });

  it('builds the flat list with xcron headers, drops reserved user headers, rewrites attempt and signature', () => {
    const list = CallbackHeaderList.build(
      '42',
      1_000,
      'xcron/test',
      { 'X-Custom': 'c', 'Content-Type': 'text/plain', 'X-Xcron-Attempt': '9' },
      true,
    );
    if (typeof list === 'string') {
      throw new Error(list);
    }
    list.setAttempt(3);
    list.setSignature('t=1,v1=ab');
    const pairs: [string, string][] = [];
    for (let i = 0; i < list.array.length; i += 2) {
      pairs.push([list.array[i], list.array[i + 1]]);
    }
    expect(pairs).toEqual([
      ['content-type', 'application/json'],
      ['user-agent', 'xcron/test'],
      ['idempotency-key', '42:1000'],
      ['x-xcron-task-id', '42'],
      ['x-xcron-scheduled-at', '1000'],
      ['X-Custom', 'c'],
      ['x-xcron-attempt', '3'],
      ['x-xcron-signature', 't=1,v1=ab'],
    ]);
  });

  it('builds the same list for a fire without user headers or signing, any attempt number', () => {
    const list = CallbackHeaderList.build('7', 2_500, 'xcron/test', undefined, false);
    if (typeof list === 'string') {
      throw new Error(list);
    }
    expect(list.array).toEqual([
      'content-type',
      'application/json',
      'user-agent',
      'xcron/test',
      'idempotency-key',
      '7:2500',
      'x-xcron-task-id',
      '7',
      'x-xcron-scheduled-at',
      '2500',
      'x-xcron-attempt',
      '1',
    ]);
    list.setSignature('ignored: not signed');
    list.setAttempt(2);
    expect(list.array.at(-1)).toBe('2');
    list.setAttempt(250);
    expect(list.array.at(-1)).toBe('250');
    expect(list.array).toHaveLength(12);
  });

  it('reports a malformed user header instead of building', () => {
    expect(CallbackHeaderList.build('1', 1, 'ua', { 'X-A': 'x\ny' }, false)).toMatch(
      /invalid value/,
    );
  });
});
