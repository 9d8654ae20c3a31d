import { bearerTokenCheck } from './bearer-token';

describe('bearerTokenCheck', () => {
  it('lets everything through without a token', () => {
    expect(bearerTokenCheck(undefined)(undefined)).toBe(true);
  });

  it('accepts exactly "Bearer <token>" (scheme in any case)', () => {
    const check = bearerTokenCheck('s3cret');
    expect(check('Bearer s3cret')).toBe(true);
    expect(check('bearer s3cret')).toBe(true);
    expect(check(undefined)).toBe(false);
    expect(check('')).toBe(false);
    expect(check('Bearer')).toBe(false);
    expect(check('Bearer s3cre')).toBe(false);
    expect(check('Bearer s3cret2')).toBe(false);
    expect(check('Basic s3cret')).toBe(false);
    expect(check('s3cret')).toBe(false);
  });

  it('does not accept an empty token for a configured one', () => {
    expect(bearerTokenCheck('x')('Bearer ')).toBe(false);
  });
});
