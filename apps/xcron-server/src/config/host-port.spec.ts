import { formatHostPort, hostProblem, parseHostPort } from './host-port';

describe('parseHostPort', () => {
  it.each([
    ['10.0.0.1:8899', { host: '10.0.0.1', port: 8899 }],
    ['10.0.0.1', { host: '10.0.0.1' }],
    ['node-1.xcron.internal:1', { host: 'node-1.xcron.internal', port: 1 }],
    ['xcron_node:65535', { host: 'xcron_node', port: 65535 }],
    ['[::1]:8899', { host: '::1', port: 8899 }],
    ['[fd00::1]', { host: 'fd00::1' }],
    ['localhost.:80', { host: 'localhost.', port: 80 }],
  ])('splits %j', (entry, value) => {
    expect(parseHostPort(entry)).toEqual({ ok: true, value });
  });

  it.each([
    ['', 'the host is empty'],
    [':8899', 'the host is empty'],
    ['a:0', 'port 0 is not from 1 to 65535'],
    ['a:65536', 'port 65536 is not from 1 to 65535'],
    ['a:999999', 'port "999999" is not a number from 1 to 65535'],
    ['a:-1', 'port "-1" is not a number from 1 to 65535'],
    ['a:', 'port "" is not a number from 1 to 65535'],
    ['a b', '"a b" is not a host name or IP address'],
    ['http://a:1', 'is a URL: write only "host:port"'],
    ['a/b:1', '"a/b" is not a host name or IP address'],
    ['-a:1', '"-a" is not a host name or IP address'],
    ['::1', 'looks like an IPv6 address: write it in brackets, e.g. "[::1]:8899"'],
    ['[::1', 'has "[" without a closing "]"'],
    ['[::1]x', 'has "x" after "]"'],
    ['[10.0.0.1]:1', '"[10.0.0.1]" is not an IPv6 address'],
    [`${'a'.repeat(64)}:1`, `"${'a'.repeat(64)}" is not a host name or IP address`],
  ])('refuses %j', (entry, problem) => {
    expect(parseHostPort(entry)).toEqual({ ok: false, problem });
  });
});

describe('hostProblem', () => {
  it('accepts IP addresses and host names', () => {
    for (const host of ['0.0.0.0', '::', 'fe80::1', 'localhost', 'a.b.c'])
      expect(hostProblem(host)).toBeUndefined();
  });

  it('refuses names longer than DNS allows', () => {
    const name = Array.from({ length: 64 }, () => 'abc').join('.');
    expect(hostProblem(name)).toBe(`"${name}" is not a host name or IP address`);
  });
});

describe('formatHostPort', () => {
  it('puts IPv6 hosts in brackets so the result parses back', () => {
    expect(formatHostPort('::1', 8899)).toBe('[::1]:8899');
    expect(formatHostPort('10.0.0.1', 8899)).toBe('10.0.0.1:8899');
    expect(parseHostPort(formatHostPort('fd00::2', 7))).toEqual({
      ok: true,
      value: { host: 'fd00::2', port: 7 },
    });
  });
});
