import {
  hostMatchesPattern,
  isCallbackUrlAllowed,
  validateAllowedHostPattern,
  validateCallbackUrl,
} from './callback-url';

describe('validateCallbackUrl', () => {
  it('accepts absolute http and https URLs', () => {
    expect(validateCallbackUrl('http://127.0.0.1:8080/hook')).toBeUndefined();
    expect(validateCallbackUrl('https://api.example.com/x?y=1')).toBeUndefined();
    expect(validateCallbackUrl('http://[::1]:9000/')).toBeUndefined();
  });

  it('refuses other schemes, relative URLs, credentials and empty input', () => {
    expect(validateCallbackUrl('ftp://example.com/')).toMatch(/http or https/);
    expect(validateCallbackUrl('file:///etc/passwd')).toMatch(/http or https/);
    expect(validateCallbackUrl('/hook')).toMatch(/not a valid absolute URL/);
    expect(validateCallbackUrl('https://user:pw@example.com/')).toMatch(/credentials/);
    expect(validateCallbackUrl('https://user@example.com/')).toMatch(/credentials/);
    expect(validateCallbackUrl('')).toMatch(/empty/);
    expect(validateCallbackUrl(`https://example.com/${'a'.repeat(3000)}`)).toMatch(/longer/);
  });
});

describe('isCallbackUrlAllowed', () => {
  const allowed = ['api.example.com', '*.hooks.example.org', '10.0.0.7', '::1'];

  it('allows every host without an allow-list, and none with an empty one', () => {
    expect(isCallbackUrlAllowed('https://anything.test/', undefined)).toBe(true);
    expect(isCallbackUrlAllowed('https://anything.test/', [])).toBe(false);
  });

  it('matches exact names case-insensitively, ignoring port and a trailing dot', () => {
    expect(isCallbackUrlAllowed('https://API.Example.com:8443/x', allowed)).toBe(true);
    expect(isCallbackUrlAllowed('https://api.example.com./x', allowed)).toBe(true);
    expect(isCallbackUrlAllowed('https://evil-api.example.com/x', allowed)).toBe(false);
    expect(isCallbackUrlAllowed('https://api.example.com.evil.test/x', allowed)).toBe(false);
  });

  it('matches *.domain patterns for subdomains only', () => {
    expect(isCallbackUrlAllowed('https://a.hooks.example.org/', allowed)).toBe(true);
    expect(isCallbackUrlAllowed('https://a.b.hooks.example.org/', allowed)).toBe(true);
    expect(isCallbackUrlAllowed('https://hooks.example.org/', allowed)).toBe(false);
    expect(isCallbackUrlAllowed('https://xhooks.example.org/', allowed)).toBe(false);
  });

  it('matches IP addresses, IPv6 without brackets', () => {
    expect(isCallbackUrlAllowed('http://10.0.0.7:80/', allowed)).toBe(true);
    expect(isCallbackUrlAllowed('http://10.0.0.8/', allowed)).toBe(false);
    expect(isCallbackUrlAllowed('http://[::1]:8080/', allowed)).toBe(true);
  });

  it('never allows an unparseable URL', () => {
    expect(isCallbackUrlAllowed('not a url', undefined)).toBe(false);
  });

  it('exposes the single-pattern matcher', () => {
    expect(hostMatchesPattern('x.example.com', '*.EXAMPLE.com')).toBe(true);
    expect(hostMatchesPattern('example.com', '*.example.com')).toBe(false);
    expect(hostMatchesPattern('example.com', '')).toBe(false);
  });
});

describe('validateAllowedHostPattern', () => {
  it('accepts names, wildcard domains and IPs', () => {
    for (const p of ['example.com', '*.example.com', '10.1.2.3', '::1', '[::1]']) {
      expect(validateAllowedHostPattern(p)).toBeUndefined();
    }
  });

  it('refuses schemes, ports, paths and misplaced wildcards', () => {
    for (const p of [
      'https://example.com',
      'example.com:443',
      'example.com/x',
      '*',
      'a.*.com',
      '',
    ]) {
      expect(validateAllowedHostPattern(p)).toBeDefined();
    }
  });
});
