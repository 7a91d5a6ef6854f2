import { describe, expect, it } from 'vitest';
import { createRng } from '../strategies/seeded-random.js';
import { clientOrderId, parseClientOrderId, sanitizeNode } from './client-order-id.js';

describe('clientOrderId', () => {
  it('is deterministic, at most 36 of [A-Za-z0-9_-], and parses back', () => {
    const rng = createRng(7);
    const alphabet = 'abcXYZ019-._ é:/';
    for (let i = 0; i < 5_000; i++) {
      const node = Array.from(
        { length: Math.floor(rng.next() * 30) },
        () => alphabet[Math.floor(rng.next() * alphabet.length)],
      ).join('');
      const seq = 1 + Math.floor(rng.next() * (36 ** 7 - 2));
      const p = {
        node,
        venue: rng.next() < 0.5 ? 'binance' : 'kraken',
        symbol: 'VERYLONGSYMBOLUSDT',
        strategy: 'trend',
        seq,
      };
      const id = clientOrderId(p);
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,36}$/);
      expect(clientOrderId(p)).toBe(id);
      expect(parseClientOrderId(id)).toEqual({ node: sanitizeNode(node), strategyCode: 't', seq });
    }
  });

  it('is unique across 100,000 sequences of one node', () => {
    const ids = new Set<string>();
    for (let seq = 1; seq <= 100_000; seq++)
      ids.add(clientOrderId({ node: 'bosun', venue: 'binance', symbol: 'BTCUSDT', strategy: 'hmm', seq }));
    expect(ids.size).toBe(100_000);
  });

  it('refuses a sequence outside its range and leaves foreign ids unparsed', () => {
    expect(() => clientOrderId({ node: 'n', venue: 'binance', symbol: 'BTCUSDT', strategy: 'hmm', seq: 0 })).toThrow(
      RangeError,
    );
    for (const foreign of ['manual-trade-1', 'x-AB12', '', 'web_1700000000', 'ext-binance-123'])
      expect(parseClientOrderId(foreign)).toBeNull();
  });
});
