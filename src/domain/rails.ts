import type { RiskLimits } from './risk-limits.js';
import type { TradingState } from './trading-state.js';

/**
 * Pre-trade risk rails (DESIGN §8): one synchronous, allocation-free check per intent. The first rail that fails
 * names the rejection (`breaker_rejections_total{reason}`). Fail closed: a missing or non-finite number rejects.
 * Reduce-only orders (exits, trims) pass REDUCING, the cooldown, the breakers, the guards and the exposure caps,
 * since they only lower risk; they never pass HALTED, the notional cap or an order already in flight.
 */
export const RAIL_REASONS = [
  'bad_price',
  'trading_halted',
  'venue_halted',
  'symbol_halted',
  'trading_reducing',
  'policy_blocked',
  'in_flight',
  'cooldown',
  'notional_cap',
  'min_notional',
  'venue_breaker',
  'equity_floor',
  'drawdown',
  'depeg',
  'funding',
  'rate_budget',
  'symbol_exposure',
  'venue_exposure',
  'asset_exposure',
  'liquidation_distance',
] as const;
export type RailReason = (typeof RAIL_REASONS)[number];

export interface RailIntent {
  venue: string;
  symbol: string;
  base: string;
  quote: string;
  side: 'buy' | 'sell';
  notionalUsdt: number;
  reduceOnly: boolean;
  price: number;
  /**
   * A reduce-only order at the venue that closes a whole perpetual position (perp-intent.ts `perpClose`): the
   * venue refuses it if it would add risk, so MAX_NOTIONAL_USDT (a cap on the size of new risk) does not apply,
   * unless it is 0 (which blocks everything).
   */
  closesPosition?: boolean;
}

export interface RailContext {
  trading: { global: TradingState; venue: TradingState; symbol: TradingState };
  limits: RiskLimits;
  policyAllowed: boolean;
  minNotionalUsdt: number;
  exposure: { symbolUsdt: number; venueUsdt: number; assetUsdt: number };
  equityBreaker: { tripped: boolean; reason: string };
  venueBreaker: { tripped: boolean; reason: string };
  guards: { depegActive: boolean; fundingSpike: boolean };
  inFlight: boolean;
  cooldownUntil: number;
  now: number;
  /** Request budget use 0..1. */
  ratePressure: number;
  /**
   * A perpetual entry: the liquidation price of the position it leads to (perp-ledger.ts `liquidationPrice`) and
   * the closest it may be to the price (PERP_MIN_LIQ_DISTANCE_PCT). Absent for spot.
   */
  perp?: { liquidationPrice: number; minDistancePct: number };
}

export type RailVerdict = { ok: true } | { ok: false; reason: RailReason; message: string };

const OK: RailVerdict = { ok: true };
const no = (reason: RailReason, message: string): RailVerdict => ({ ok: false, reason, message });
const usd = (n: number) => n.toFixed(2);
const USDT_QUOTES = new Set(['USDT']);

export function checkRails(i: RailIntent, c: RailContext): RailVerdict {
  if (!(Number.isFinite(i.price) && i.price > 0 && Number.isFinite(i.notionalUsdt) && i.notionalUsdt > 0))
    return no('bad_price', `price ${i.price} / notional ${i.notionalUsdt} is not a positive number`);
  if (c.trading.global === 'HALTED') return no('trading_halted', 'trading is HALTED (kill switch)');
  if (c.trading.venue === 'HALTED') return no('venue_halted', `venue ${i.venue} is HALTED`);
  if (c.trading.symbol === 'HALTED') return no('symbol_halted', `${i.venue}:${i.symbol} is HALTED`);
  if (
    !i.reduceOnly &&
    (c.trading.global === 'REDUCING' || c.trading.venue === 'REDUCING' || c.trading.symbol === 'REDUCING')
  )
    return no('trading_reducing', 'trading is REDUCING: only orders that reduce exposure may go out');
  if (!c.policyAllowed) return no('policy_blocked', `${i.symbol} is not allowed by ops/policies.yaml`);
  if (c.inFlight) return no('in_flight', `an order for ${i.venue}:${i.symbol} ${i.side} is already in flight`);
  if (!i.reduceOnly && c.now < c.cooldownUntil)
    return no('cooldown', `${i.symbol} cools down for ${((c.cooldownUntil - c.now) / 1000).toFixed(1)} s more`);
  const closes = i.closesPosition === true && i.reduceOnly && c.limits.maxNotionalUsdt > 0;
  if (!closes && !(i.notionalUsdt <= c.limits.maxNotionalUsdt))
    return no(
      'notional_cap',
      `notional ${usd(i.notionalUsdt)} USDT above MAX_NOTIONAL_USDT ${c.limits.maxNotionalUsdt}`,
    );
  if (i.notionalUsdt < c.minNotionalUsdt)
    return no('min_notional', `notional ${usd(i.notionalUsdt)} below the venue minimum ${usd(c.minNotionalUsdt)}`);
  if (i.reduceOnly) return OK;
  if (c.venueBreaker.tripped) return no('venue_breaker', `venue breaker tripped (${c.venueBreaker.reason})`);
  if (c.equityBreaker.tripped)
    return no(
      c.equityBreaker.reason === 'drawdown' ? 'drawdown' : 'equity_floor',
      `equity breaker tripped (${c.equityBreaker.reason})`,
    );
  if (c.guards.depegActive && USDT_QUOTES.has(i.quote))
    return no('depeg', `depeg guard active: no new ${i.quote} entries`);
  if (c.guards.fundingSpike) return no('funding', 'funding guard active: no new entries');
  if (c.ratePressure >= 0.95) return no('rate_budget', `request budget ${(c.ratePressure * 100).toFixed(0)}% used`);
  if (c.exposure.symbolUsdt + i.notionalUsdt > c.limits.maxSymbolExposureUsdt)
    return no(
      'symbol_exposure',
      `${i.symbol} exposure ${usd(c.exposure.symbolUsdt + i.notionalUsdt)} above ${c.limits.maxSymbolExposureUsdt}`,
    );
  if (c.exposure.venueUsdt + i.notionalUsdt > c.limits.maxVenueExposureUsdt)
    return no(
      'venue_exposure',
      `${i.venue} exposure ${usd(c.exposure.venueUsdt + i.notionalUsdt)} above ${c.limits.maxVenueExposureUsdt}`,
    );
  if (c.exposure.assetUsdt + i.notionalUsdt > c.limits.maxAssetExposureUsdt)
    return no(
      'asset_exposure',
      `${i.base} exposure ${usd(c.exposure.assetUsdt + i.notionalUsdt)} above ${c.limits.maxAssetExposureUsdt}`,
    );
  if (c.perp !== undefined) {
    const dist = (Math.abs(i.price - c.perp.liquidationPrice) / i.price) * 100;
    // A non-finite liquidation price (a bad leverage or rate) fails the comparison: refused.
    if (!(dist >= c.perp.minDistancePct))
      return no(
        'liquidation_distance',
        `liquidation price ${c.perp.liquidationPrice.toFixed(2)} is ${dist.toFixed(2)}% from ${i.price}, closer than ${c.perp.minDistancePct}%`,
      );
  }
  return OK;
}
