import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signBinance, signKraken, verifyBinance, verifyKraken } from './signatures.js';

const query = fc
  .array(fc.tuple(fc.stringMatching(/^[a-zA-Z]{1,12}$/), fc.stringMatching(/^[\w.\-%]{0,20}$/)), {
    minLength: 1,
    maxLength: 8,
  })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

describe('Binance HMAC-SHA256', () => {
  const secret = randomBytes(32).toString('hex');

  it('verifies what was signed, in the query or in the body', () => {
    fc.assert(
      fc.property(query, (q) => {
        const signed = signBinance(secret, q);
        expect(verifyBinance(secret, signed, '')).toEqual({ ok: true, payload: q });
        expect(verifyBinance(secret, '', signed).ok).toBe(true);
      }),
    );
  });

  it('rejects a changed byte, another secret and a missing signature', () => {
    fc.assert(
      fc.property(query, (q) => {
        const signed = signBinance(secret, q);
        expect(verifyBinance(secret, `x${signed}`, '')).toEqual({ ok: false, why: 'mismatch' });
        expect(verifyBinance(randomBytes(32).toString('hex'), signed, '').ok).toBe(false);
        expect(verifyBinance(secret, q, '')).toEqual({ ok: false, why: 'missing' });
      }),
      { numRuns: 50 },
    );
  });

  it('accepts upper-case hex', () => {
    const signed = signBinance(secret, 'a=1');
    const upper = signed.replace(/signature=(\w+)$/, (_m, h: string) => `signature=${h.toUpperCase()}`);
    expect(verifyBinance(secret, upper, '').ok).toBe(true);
  });
});

describe('Kraken HMAC-SHA512', () => {
  const secret = randomBytes(64).toString('base64');

  it('verifies the signature over path, nonce and the raw body', () => {
    fc.assert(
      fc.property(query, fc.bigInt({ min: 1n, max: 2n ** 62n }), (q, n) => {
        const nonce = String(n);
        const body = `nonce=${nonce}&${q}`;
        const sig = signKraken(secret, '/0/private/AddOrder', nonce, body);
        expect(verifyKraken(secret, '/0/private/AddOrder', nonce, body, sig)).toBe(true);
        expect(verifyKraken(secret, '/0/private/CancelOrder', nonce, body, sig)).toBe(false);
        expect(verifyKraken(secret, '/0/private/AddOrder', nonce, `${body}&x=1`, sig)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects a missing or garbled signature', () => {
    expect(verifyKraken(secret, '/0/private/Balance', '1', 'nonce=1', undefined)).toBe(false);
    expect(verifyKraken(secret, '/0/private/Balance', '1', 'nonce=1', 'AAAA')).toBe(false);
  });
});
