/**
 * The fault matrix through the real ccxt classes: every fault (and natural failure) in FAULT_MATRIX surfaces
 * as exactly the ccxt error class the table lists.
 */
import { randomBytes } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAULT_MATRIX, type FaultCase, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { binanceClient, freshLike, krakenClient, rejectionOf } from './sim-ccxt.js';

let sim: Simulator;
let binanceTemplate: Exchange;
let krakenTemplate: Exchange;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11 });
  binanceTemplate = binanceClient(sim);
  krakenTemplate = krakenClient(sim);
  await Promise.all([binanceTemplate.loadMarkets(), krakenTemplate.loadMarkets()]);
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

const SHORT_TIMEOUT = 400;

function clientFor(c: FaultCase): Exchange {
  const slow = c.fault?.kind === 'hang' || c.fault?.kind === 'latency';
  const timeout = slow ? SHORT_TIMEOUT : 5000;
  const bad =
    c.natural === 'bad_api_key'
      ? { apiKey: c.venue === 'binance' ? randomBytes(32).toString('hex') : randomBytes(42).toString('base64') }
      : c.natural === 'bad_secret'
        ? { secret: c.venue === 'binance' ? randomBytes(32).toString('hex') : randomBytes(64).toString('base64') }
        : {};
  return c.venue === 'binance'
    ? freshLike(binanceTemplate, () => binanceClient(sim, { timeout, ...bad }))
    : freshLike(krakenTemplate, () => krakenClient(sim, { timeout, ...bad }));
}

function fair(symbol: string): number {
  return Number(sim.prices()[symbol]);
}

/** Runs the case's probe; natural failures shape the probe so the venue itself refuses. */
async function probe(ex: Exchange, c: FaultCase): Promise<unknown> {
  const bin = c.venue === 'binance';
  const sym = bin ? 'BTC/USDT' : 'BTC/USD';
  switch (c.natural) {
    case 'reused_nonce':
      ex.nonce = () => 1_000;
      await ex.fetchBalance();
      return ex.fetchBalance();
    case 'insufficient_funds':
      return ex.createOrder(sym, 'limit', 'buy', 10, 50_000);
    case 'lot_size':
      return ex.createOrder(sym, 'limit', 'buy', bin ? 0.00002 : 0.000001, 50_000);
    case 'min_notional':
      return ex.createOrder(sym, 'limit', 'buy', 0.0001, 30_000);
    case 'post_only_would_take':
      return ex.createOrder(sym, 'limit', 'buy', 0.001, Math.round(fair('binance:spot:BTCUSDT') * 1.02), {
        postOnly: true,
      });
    case 'stop_would_trigger':
      return ex.createOrder(sym, 'market', 'sell', 0.001, undefined, {
        stopLossPrice: Math.round(fair('binance:spot:BTCUSDT') * 1.05),
      });
    case 'weight_limit_429':
      sim.setLimits({ spotWeightPerMinute: 5 });
      await ex.fetchTicker(sym);
      await ex.fetchTicker(sym);
      return ex.fetchTicker(sym);
    case 'weight_limit_418':
      sim.setLimits({ spotWeightPerMinute: 2, banAfter429s: 1 });
      await ex.fetchTicker(sym);
      await rejectionOf(ex.fetchTicker(sym));
      return ex.fetchTicker(sym);
    default:
      break;
  }
  switch (c.probe) {
    case 'fetchBalance':
      return ex.fetchBalance();
    case 'fetchTicker':
      return ex.fetchTicker(sym);
    case 'createOrder':
      return ex.createOrder(sym, 'limit', 'buy', 0.001, 50_000, {
        clientOrderId: `fm-${c.id.replace(/\W/g, '')}`.slice(0, 30),
      });
    case 'cancelOrder':
      return ex.cancelOrder(bin ? '987654321' : 'OZZZZZ-ZZZZZ-ZZZZZZ', sym);
  }
}

describe('fault matrix through real ccxt', () => {
  it('covers both venues, every fault kind and the natural failures', () => {
    const kinds = new Set(FAULT_MATRIX.flatMap((c) => (c.fault ? [c.fault.kind] : [])));
    for (const k of [
      'hang',
      'latency',
      'disconnect',
      'http_429',
      'http_418',
      'http_5xx',
      'venue_error',
      'accept_then_502',
      'clock_skew',
    ])
      expect(kinds.has(k as never), k).toBe(true);
    expect(FAULT_MATRIX.filter((c) => c.venue === 'kraken').length).toBeGreaterThan(15);
    expect(new Set(FAULT_MATRIX.map((c) => c.id)).size).toBe(FAULT_MATRIX.length);
  });

  it.each(FAULT_MATRIX.map((c) => [c.id, c] as const))('%s surfaces as its listed ccxt class', async (_id, c) => {
    const ex = clientFor(c);
    if (c.fault !== undefined) sim.faults.add(c.fault);
    const err = await rejectionOf(probe(ex, c));
    const cls = (ccxt as unknown as Record<string, new () => Error>)[c.expected];
    expect(cls, `ccxt exports ${c.expected}`).toBeDefined();
    expect(err, `${err.constructor.name}: ${err.message.slice(0, 200)}`).toBeInstanceOf(cls!);
    expect(err.constructor.name).toBe(c.expected);
  });
});

describe('rate-limit escalation', () => {
  it('answers 429 with Retry-After, then bans with 418 when the client keeps going', async () => {
    sim.setLimits({ spotWeightPerMinute: 4, banAfter429s: 2 });
    const url = `${sim.baseUrl}/api/v3/ticker/price?symbol=BTCUSDT`;
    const statuses: number[] = [];
    const retryAfter: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(url);
      statuses.push(r.status);
      retryAfter.push(r.headers.get('retry-after'));
      await r.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 429, 429, 418, 418]);
    expect(Number(retryAfter[2])).toBeGreaterThan(0);
    expect(Number(retryAfter[4])).toBeGreaterThanOrEqual(119);
    sim.advance(121_000);
    const after = await fetch(url);
    expect(after.status).toBe(200);
  });
});
