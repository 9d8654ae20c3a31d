import { resolveCallbackUrl } from './callback-targets';

describe('resolveCallbackUrl', () => {
  it('resolves origin, path (query included) and host once per URL text', () => {
    const first = resolveCallbackUrl('http://Example.com.:8080/hooks/a?x=1');
    expect(first).toEqual({
      origin: 'http://example.com.:8080',
      path: '/hooks/a?x=1',
      host: 'example.com',
    });
    expect(resolveCallbackUrl('http://Example.com.:8080/hooks/a?x=1')).toBe(first);
  });

  it('names the problem of a URL it refuses, also when asked again', () => {
    const problem = { problem: 'callback URL scheme must be http or https, got ftp' };
    expect(resolveCallbackUrl('ftp://a.example.com/')).toEqual(problem);
    expect(resolveCallbackUrl('ftp://a.example.com/')).toEqual(problem);
  });
});
