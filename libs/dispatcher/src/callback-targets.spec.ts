import { CallbackTargets } from './callback-targets';

describe('CallbackTargets', () => {
  it('resolves origin and path (query included) once per URL text', () => {
    const targets = new CallbackTargets(undefined);
    const first = targets.resolve('http://Example.com:8080/hooks/a?x=1');
    expect(first).toEqual({ origin: 'http://example.com:8080', path: '/hooks/a?x=1' });
    expect(targets.resolve('http://Example.com:8080/hooks/a?x=1')).toBe(first);
  });

  it('refuses with the reason, also when asked again: bad URLs and hosts outside the allow-list', () => {
    const targets = new CallbackTargets(['*.example.com']);
    expect(targets.resolve('ftp://a.example.com/')).toBe(
      'invalid callback URL: callback URL scheme must be http or https, got ftp',
    );
    expect(targets.resolve('http://evil.test/')).toBe(
      'callback host "evil.test" is not in the allow-list',
    );
    expect(targets.resolve('http://evil.test/')).toBe(
      'callback host "evil.test" is not in the allow-list',
    );
    expect(targets.resolve('https://a.example.com/x')).toEqual({
      origin: 'https://a.example.com',
      path: '/x',
    });
  });
});
