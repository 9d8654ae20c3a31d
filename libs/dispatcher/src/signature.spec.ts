import { createHmac } from 'node:crypto';
import {
  computeCallbackSignature,
  formatSignatureHeader,
  parseSignatureHeader,
  verifyCallbackSignature,
} from './signature';

const secret = 'whsec_test';
const body = '{"hello":"world"}';
const t = 1_767_225_600_000;

describe('callback signatures', () => {
  it('is the hex HMAC-SHA256 of "<t>.<body>"', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(computeCallbackSignature(secret, t, body)).toBe(expected);
    expect(computeCallbackSignature(secret, t, Buffer.from(body))).toBe(expected);
    expect(formatSignatureHeader(secret, t, body)).toBe(`t=${t},v1=${expected}`);
  });

  it('verifies a fresh signature and refuses a wrong secret, a tampered body, an old or future t', () => {
    const header = formatSignatureHeader(secret, t, body);
    expect(verifyCallbackSignature(secret, header, body, { nowMs: t + 1_000 })).toBe(true);
    expect(verifyCallbackSignature('other', header, body, { nowMs: t })).toBe(false);
    expect(verifyCallbackSignature(secret, header, '{"hello":"World"}', { nowMs: t })).toBe(false);
    expect(verifyCallbackSignature(secret, header, body, { nowMs: t + 300_001 })).toBe(false);
    expect(verifyCallbackSignature(secret, header, body, { nowMs: t - 300_001 })).toBe(false);
    expect(
      verifyCallbackSignature(secret, header, body, { nowMs: t + 60_000, toleranceMs: 59_999 }),
    ).toBe(false);
  });

  it('accepts any of several secrets or v1 entries (rotation), ignores unknown schemes', () => {
    const v1 = computeCallbackSignature(secret, t, body);
    const old = computeCallbackSignature('old', t, body);
    const header = `t=${t},v1=${old},v2=abc,v1=${v1}`;
    expect(verifyCallbackSignature(secret, header, body, { nowMs: t })).toBe(true);
    expect(verifyCallbackSignature(['nope', 'old'], `t=${t},v1=${old}`, body, { nowMs: t })).toBe(
      true,
    );
  });

  it('refuses malformed headers', () => {
    const v1 = computeCallbackSignature(secret, t, body);
    for (const header of [
      undefined,
      '',
      `v1=${v1}`,
      `t=${t}`,
      `t=abc,v1=${v1}`,
      `t=${t},v1=xyz`,
      `t=${t},t=${t},v1=${v1}`,
      `t=${t};v1=${v1}`,
    ]) {
      expect(verifyCallbackSignature(secret, header, body, { nowMs: t })).toBe(false);
    }
    expect(parseSignatureHeader(`t=${t},v1=${v1.toUpperCase()}`)?.signatures).toEqual([v1]);
  });
});
