import { describe, expect, it } from 'vitest';
import { checkRails, RAIL_REASONS, type RailContext, type RailIntent, type RailReason } from './rails.js';

const intent: RailIntent = {
  venue: 'binance',
  symbol: 'BTCUSDT',
  base: 'BTC',
  quote: 'USDT',
  side: 'buy',
  notionalUsdt: 50,
  reduceOnly: false,
  price: 60_000,
};
const ctx: RailContext = {
  trading: { global: 'ACTIVE', venue: 'ACTIVE', symbol: 'ACTIVE' },
  limits: {
    maxNotionalUsdt: 100,
    maxSymbolExposureUsdt: 1_000,
    maxVenueExposureUsdt: 2_000,
    maxAssetExposureUsdt: 1_500,
    equityFloorUsd: 1_000,
    maxDrawdownPct: 10,
    equityCooldownSec: 900,
    orderCooldownSec: 30,
  },
  policyAllowed: true,
  minNotionalUsdt: 5,
  exposure: { symbolUsdt: 0, venueUsdt: 0, assetUsdt: 0 },
  equityBreaker: { tripped: false, reason: '' },
  venueBreaker: { tripped: false, reason: '' },
  guards: { depegActive: false, fundingSpike: false },
  inFlight: false,
  cooldownUntil: 0,
  now: 1_000,
  ratePressure: 0,
};
const sell = { side: 'sell' as const, reduceOnly: true };

type Row = [string, Partial<RailIntent>, Partial<RailContext>, RailReason | 'ok'];
const rows: Row[] = [
  ['baseline passes', {}, {}, 'ok'],
  ['non-finite price', { price: Number.NaN }, {}, 'bad_price'],
  ['zero notional', { notionalUsdt: 0 }, {}, 'bad_price'],
  ['global halt', {}, { trading: { global: 'HALTED', venue: 'ACTIVE', symbol: 'ACTIVE' } }, 'trading_halted'],
  [
    'global halt stops exits too',
    sell,
    { trading: { global: 'HALTED', venue: 'ACTIVE', symbol: 'ACTIVE' } },
    'trading_halted',
  ],
  ['venue halt', {}, { trading: { global: 'ACTIVE', venue: 'HALTED', symbol: 'ACTIVE' } }, 'venue_halted'],
  ['symbol halt', {}, { trading: { global: 'ACTIVE', venue: 'ACTIVE', symbol: 'HALTED' } }, 'symbol_halted'],
  [
    'entry while REDUCING',
    {},
    { trading: { global: 'REDUCING', venue: 'ACTIVE', symbol: 'ACTIVE' } },
    'trading_reducing',
  ],
  ['exit while REDUCING passes', sell, { trading: { global: 'ACTIVE', venue: 'REDUCING', symbol: 'ACTIVE' } }, 'ok'],
  ['policy blocks', {}, { policyAllowed: false }, 'policy_blocked'],
  ['in flight', {}, { inFlight: true }, 'in_flight'],
  ['in flight stops exits too', sell, { inFlight: true }, 'in_flight'],
  ['cooldown', {}, { cooldownUntil: 2_000 }, 'cooldown'],
  ['cooldown ends exactly now', {}, { cooldownUntil: 1_000 }, 'ok'],
  ['exit during cooldown passes', sell, { cooldownUntil: 5_000 }, 'ok'],
  ['notional above cap', { notionalUsdt: 100.01 }, {}, 'notional_cap'],
  ['notional exactly at cap passes', { notionalUsdt: 100 }, {}, 'ok'],
  ['a whole perpetual close above the cap passes', { ...sell, notionalUsdt: 100.05, closesPosition: true }, {}, 'ok'],
  ['a close not reduce-only is capped', { notionalUsdt: 100.05, closesPosition: true }, {}, 'notional_cap'],
  ['a reduce-only exit that is not a whole close is capped', { ...sell, notionalUsdt: 100.05 }, {}, 'notional_cap'],
  [
    'cap 0 blocks a whole close too',
    { ...sell, notionalUsdt: 1, closesPosition: true },
    { minNotionalUsdt: 0, limits: { ...ctx.limits, maxNotionalUsdt: 0 } },
    'notional_cap',
  ],
  [
    'cap 0 blocks everything',
    { notionalUsdt: 1 },
    { minNotionalUsdt: 0, limits: { ...ctx.limits, maxNotionalUsdt: 0 } },
    'notional_cap',
  ],
  ['below venue minimum', { notionalUsdt: 4.99 }, {}, 'min_notional'],
  ['venue breaker', {}, { venueBreaker: { tripped: true, reason: 'venue_error_rate: 60%' } }, 'venue_breaker'],
  ['exit with venue breaker passes', sell, { venueBreaker: { tripped: true, reason: 'x' } }, 'ok'],
  ['equity floor', {}, { equityBreaker: { tripped: true, reason: 'equity_floor' } }, 'equity_floor'],
  ['drawdown', {}, { equityBreaker: { tripped: true, reason: 'drawdown' } }, 'drawdown'],
  ['exit with equity breaker passes', sell, { equityBreaker: { tripped: true, reason: 'drawdown' } }, 'ok'],
  ['depeg on a USDT entry', {}, { guards: { depegActive: true, fundingSpike: false } }, 'depeg'],
  [
    'depeg does not block a USD-quoted entry',
    { quote: 'USD' },
    { guards: { depegActive: true, fundingSpike: false } },
    'ok',
  ],
  ['funding spike', {}, { guards: { depegActive: false, fundingSpike: true } }, 'funding'],
  ['rate budget exhausted', {}, { ratePressure: 0.96 }, 'rate_budget'],
  ['rate budget just under', {}, { ratePressure: 0.94 }, 'ok'],
  ['symbol exposure over', {}, { exposure: { symbolUsdt: 951, venueUsdt: 0, assetUsdt: 0 } }, 'symbol_exposure'],
  ['symbol exposure exactly at cap', {}, { exposure: { symbolUsdt: 950, venueUsdt: 0, assetUsdt: 0 } }, 'ok'],
  ['venue exposure over', {}, { exposure: { symbolUsdt: 0, venueUsdt: 1_951, assetUsdt: 0 } }, 'venue_exposure'],
  ['asset exposure over', {}, { exposure: { symbolUsdt: 0, venueUsdt: 0, assetUsdt: 1_451 } }, 'asset_exposure'],
  ['exit ignores exposure caps', sell, { exposure: { symbolUsdt: 9e9, venueUsdt: 9e9, assetUsdt: 9e9 } }, 'ok'],
  [
    'perp entry with liquidation 10% away, 20% required',
    {},
    { perp: { liquidationPrice: 54_000, minDistancePct: 20 } },
    'liquidation_distance',
  ],
  ['perp entry with liquidation 50% away passes', {}, { perp: { liquidationPrice: 30_000, minDistancePct: 20 } }, 'ok'],
  [
    'perp entry with a NaN liquidation price is refused',
    {},
    { perp: { liquidationPrice: Number.NaN, minDistancePct: 20 } },
    'liquidation_distance',
  ],
  ['perp exit ignores the liquidation rail', sell, { perp: { liquidationPrice: 59_999, minDistancePct: 20 } }, 'ok'],
];

describe('risk rails', () => {
  it.each(rows)('%s', (_name, i, c, expected) => {
    const v = checkRails({ ...intent, ...i }, { ...ctx, ...c });
    if (expected === 'ok') expect(v).toEqual({ ok: true });
    else {
      expect(v.ok).toBe(false);
      if (!v.ok) {
        expect(v.reason).toBe(expected);
        expect(v.message.length).toBeGreaterThan(5);
      }
    }
  });

  it('every reason has a rejecting row', () => {
    const covered = new Set(rows.map((r) => r[3]));
    for (const r of RAIL_REASONS) expect(covered.has(r), r).toBe(true);
  });
});
