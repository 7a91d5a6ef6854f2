import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics/metrics.js';
import type { MarketInfo } from '../venues/venue-gateway.js';
import { createAccountBook, driftTolerance, type LedgerView } from './account-book.js';

const market = (base: string, stepSize: number): MarketInfo => ({
  symbol: `${base}USDT`,
  market: 'spot',
  base,
  quote: 'USDT',
  active: true,
  minQty: stepSize,
  stepSize,
  tickSize: 0.01,
  minNotional: 5,
  venueSymbol: `${base}/USDT`,
});
const MARKETS = { BTCUSDT: market('BTC', 0.00001), ETHUSDT: market('ETH', 0.0001) };

function ledger(balances: Record<string, number>): LedgerView {
  return {
    balances: (venue) => (venue === 'binance' ? balances : undefined),
    valuation: () => ({ venues: { binance: { equityUsd: 1_234, cashUsd: 1_000 } } }),
    markets: () => MARKETS,
  };
}
const entry = (total: number) => ({ free: total, used: 0, total });
const summary = { cashUsd: 999, marketValueUsd: 1, equityUsd: 1_000_000, exposureUsd: 1, openOrders: 0, assets: 2 };

async function gauge(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>) {
  const text = await metrics.registry.metrics();
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${sel}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('account book: the venue view beside the one book', () => {
  it('derives the tolerance from the asset precision: twice the step of a base asset, a cent otherwise', () => {
    expect(driftTolerance(MARKETS, 'BTC')).toBeCloseTo(0.00002, 12);
    expect(driftTolerance(MARKETS, 'ETH')).toBeCloseTo(0.0002, 12);
    expect(driftTolerance(MARKETS, 'USDT')).toBe(0.01);
  });

  it('publishes venue − ledger per asset and shows the ledger in /status, with the venue total beside it', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const book = createAccountBook(metrics, () => ledger({ USDT: 1_000, BTC: 0.5 }));
    book.update('binance', { summary, balances: { USDT: entry(1_000), BTC: entry(0.5003), ETH: entry(1) }, at: 1 });
    expect(await gauge(metrics, 'ledger_venue_drift', { venue: 'binance', asset: 'USDT' })).toBe(0);
    expect(await gauge(metrics, 'ledger_venue_drift', { venue: 'binance', asset: 'BTC' })).toBeCloseTo(0.0003, 12);
    expect(await gauge(metrics, 'ledger_venue_drift', { venue: 'binance', asset: 'ETH' })).toBe(1);
    expect(await gauge(metrics, 'ledger_venue_drift_tolerance', { venue: 'binance', asset: 'BTC' })).toBeCloseTo(
      0.00002,
      12,
    );
    const status = book.balances();
    // Equity and cash are the ledger's, never the venue poll's 1,000,000.
    expect(status.binance).toMatchObject({ equity_usd: 1_234, cash_usd: 1_000, source: 'ledger' });
    expect(status.binance?.assets.BTC).toEqual({ total: 0.5, venue_total: 0.5003, drift: expect.closeTo(0.0003, 12) });
    expect(status.binance?.assets.ETH).toEqual({ total: 0, venue_total: 1, drift: 1 });
    // The venue poll never writes equity_usd (one book).
    expect((await metrics.equityUsd.get()).values[0]?.value ?? 0).toBe(0);
  });

  it('removes the drift series of an asset neither book holds any more', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const held: Record<string, number> = { USDT: 1_000, ETH: 1 };
    const book = createAccountBook(metrics, () => ledger(held));
    book.update('binance', { summary, balances: { USDT: entry(1_000), ETH: entry(1) }, at: 1 });
    expect(await gauge(metrics, 'ledger_venue_drift', { venue: 'binance', asset: 'ETH' })).toBe(0);
    delete held.ETH;
    book.update('binance', { summary, balances: { USDT: entry(1_000) }, at: 2 });
    expect(await gauge(metrics, 'ledger_venue_drift', { venue: 'binance', asset: 'ETH' })).toBeUndefined();
  });
});
