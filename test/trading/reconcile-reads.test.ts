import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGateway } from '../../src/venues/index.js';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import type { MarketKind, TradesQuery, VenueGateway } from '../../src/venues/venue-gateway.js';
import { boot, type EngineRig, engineRig } from './engine-harness.js';
import { manualBuy } from './support.js';

/**
 * Binance reconciliation reads what it must, not every followed symbol (issue 14: at 1,000 symbols the per-symbol
 * reads cost about 26,000 weight a pass against 6,000 a minute): open orders in one call past 13 symbols (80 weight
 * against 6 each), and trade history (20 weight a symbol) only for the symbols Bosun had orders on and those
 * whose base the venue's balances show moved behind Bosun's back. The ledger still equals the venue after a
 * manual trade, and the venue is not halted. `npm test` follows 20 symbols; `npm run test:long` follows 1,000
 * (RECONCILE_READS_SYMBOLS), where the same passes must make the same reads.
 */
const SYMBOLS = Number(process.env.RECONCILE_READS_SYMBOLS ?? 20);
let sim: Simulator;
let r: EngineRig;
const calls: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', seed: 211, extraAlts: SYMBOLS });
  const probe = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl, ...sim.keys.binance });
  await probe.loadMarkets();
  const symbols = Object.values(probe.markets('spot'))
    .filter((m) => m.quote === 'USDT')
    .map((m) => m.symbol)
    .slice(0, SYMBOLS);
  await probe.close();
  expect(symbols).toHaveLength(SYMBOLS);
  expect(symbols).toContain('BTCUSDT');
  expect(symbols).toContain('ETHUSDT');
  r = await engineRig(sim, {
    symbols,
    wrap: (gw) =>
      Object.create(gw, {
        fetchMyTrades: {
          value: (q: TradesQuery) => {
            calls.push(`myTrades ${q.symbol ?? '*'}`);
            return gw.fetchMyTrades(q);
          },
        },
        fetchOpenOrders: {
          value: (symbol?: string, market?: MarketKind) => {
            calls.push(`openOrders ${symbol ?? '*'}`);
            return gw.fetchOpenOrders(symbol, market);
          },
        },
      }) as VenueGateway,
  });
  await boot(r);
}, 60_000);

afterAll(async () => {
  await r?.close();
  await sim?.close();
});

const pass = async () => {
  calls.length = 0;
  const res = await r.engine.reconcileAll();
  expect(res.venues.binance?.error).toBeUndefined();
  expect(res.venues.binance?.mismatches).toEqual([]);
  return [...calls];
};

it(`a quiet pass over ${SYMBOLS} symbols: one open-orders call, no trade history`, async () => {
  expect(await pass()).toEqual(['openOrders *']);
});

it('after an order, the trade history of its symbol only', async () => {
  const placed = await r.engine.submitOperator({
    venue: 'binance',
    symbol: 'BTCUSDT',
    side: 'buy',
    quote: 50,
    actor: 'test',
  });
  expect(placed.status).toBe('accepted');
  expect(await pass()).toEqual(['openOrders *', 'myTrades BTCUSDT']);
});

it('a manual trade behind Bosun: its symbol is found from the balances, applied, and the ledger equals the venue', async () => {
  const bought = await manualBuy(sim, r.keys, { clientOrderId: 'by-hand-eth', symbol: 'ETHUSDT', amount: 0.01 });
  expect(bought.status).toBe('accepted');
  const seen = await pass();
  expect(seen.filter((c) => c.startsWith('myTrades'))).toEqual(['myTrades BTCUSDT', 'myTrades ETHUSDT']);
  const acct = sim.state({ venue: 'binance' }).accounts.find((a) => a.apiKey === r.keys.apiKey);
  const ledger = r.book.ledger().venues.binance?.balances ?? {};
  for (const a of ['ETH', 'USDT', 'BTC']) {
    const b = acct?.spot[a];
    expect(ledger[a]).toBeCloseTo((b?.free ?? 0) + (b?.locked ?? 0), 8);
  }
  expect(ledger.ETH).toBeGreaterThan(0.1);
  expect(r.halts).toEqual([]);
});
