import { describe, expect, it } from 'vitest';
import { createRng } from '../strategies/seeded-random.js';
import {
  clientOrderId,
  drawIncarnation,
  keyedClientOrderId,
  parseClientOrderId,
  sanitizeNode,
} from './client-order-id.js';

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
      expect(parseClientOrderId(id)).toEqual({ node: sanitizeNode(node), strategyCode: 't', seq, incarnation: null });
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

  it('with an incarnation: at most 36 characters, parses back, and never equals an id of another incarnation', () => {
    const rng = createRng(11);
    const used = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const incarnation = drawIncarnation(() => rng.next(), used);
      expect(used.has(incarnation)).toBe(false);
      used.add(incarnation);
      const seq = 1 + Math.floor(rng.next() * (36 ** 6 - 2));
      const p = { node: 'a-very-long-node-name', venue: 'binance', symbol: 'VERYLONGSYMBOLUSDT', strategy: 'hmm', seq };
      const id = clientOrderId({ ...p, incarnation });
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,36}$/);
      expect(parseClientOrderId(id)).toEqual({
        node: sanitizeNode(p.node).slice(0, 10),
        strategyCode: 'h',
        seq,
        incarnation,
      });
    }
    // The same node, symbol, strategy and sequence from two incarnations (a fresh state directory beside an old
    // account) are two ids, and neither is the older format's id.
    const base = { node: 'bosun', venue: 'binance', symbol: 'BTCUSDT', strategy: 'operator', seq: 1 };
    const a = clientOrderId({ ...base, incarnation: 'A000' });
    const b = clientOrderId({ ...base, incarnation: 'B000' });
    expect(new Set([a, b, clientOrderId(base)]).size).toBe(3);
    expect(() => clientOrderId({ ...base, incarnation: '1ABC' })).toThrow(RangeError);
  });
});

describe('keyedClientOrderId (an operator order with an Idempotency-Key)', () => {
  const base = { node: 'a-very-long-node-name', venue: 'binance', symbol: 'VERYLONGSYMBOLUSDT' };
  it('is the same for the same key, fits Binance, parses as an operator id, and differs per key', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = keyedClientOrderId({ ...base, key: `key-${i}` });
      expect(id).toBe(keyedClientOrderId({ ...base, key: `key-${i}` }));
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,36}$/);
      const p = parseClientOrderId(id);
      expect(p?.strategyCode).toBe('o');
      expect(p?.incarnation).toMatch(/^K[0-9A-Z]{3}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(20_000);
  });
  it('never equals an id an incarnation draws (its sequence slot starts with 0, which no sequence does)', () => {
    const id = keyedClientOrderId({ node: 'bosun', venue: 'binance', symbol: 'BTCUSDT', key: 'k' });
    const p = parseClientOrderId(id);
    if (!p?.incarnation) throw new Error(`${id} did not parse`);
    const drawn = clientOrderId({
      node: 'bosun',
      venue: 'binance',
      symbol: 'BTCUSDT',
      strategy: 'operator',
      seq: p.seq,
      incarnation: p.incarnation,
    });
    expect(drawn).not.toBe(id);
    expect(id.slice(-6)).toMatch(/^0/);
  });
});
