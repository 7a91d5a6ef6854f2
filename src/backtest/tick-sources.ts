import { seededFundingRate } from '../venues/sim/funding-rate.js';
import { buildCatalogue, CORE_ASSETS } from '../venues/sim/instruments.js';
import { PricePath, type RegimeName } from '../venues/sim/price-path.js';
import type { FundingSource } from './backtest-venue.js';
import type { MarketRules } from './market-model.js';
import type { Tick } from './replay.js';

/**
 * Where a backtest's ticks come from: the simulator's seeded regime-switching price paths (`PricePath`, the very
 * generator the simulator quotes from, with the regime it was in), or a venue's OHLCV history (ohlcv-cache.ts).
 */
export interface RegimeSpan {
  from: number;
  to: number;
  regime: RegimeName;
}

export interface TickSeries {
  label: string;
  ticks: Tick[];
  /** The true regime over time (simulator paths only). */
  regimes: RegimeSpan[];
  /** The perpetual's funding rates over the series (the seeded path's, or the venue's history when fetched). */
  funding?: FundingSource;
}

/** Binance USDⓈ-M settles funding every 8 hours (00:00, 08:00, 16:00 UTC). */
export const FUNDING_INTERVAL_MS = 8 * 3_600_000;

/** 2025-01-01T00:00:00Z: the simulator's manual-clock origin, so bars align with its klines. */
export const SIM_ORIGIN_MS = Date.UTC(2025, 0, 1);

/** `bars` one-minute bars of the simulator's path for `asset` and `seed`, one tick every `tickMs`. */
export function simPathTicks(o: {
  asset: string;
  seed: number;
  bars: number;
  tickMs: number;
  barMs?: number;
}): TickSeries {
  const def = CORE_ASSETS.find((a) => a.code === o.asset && !a.stable);
  if (!def)
    throw new RangeError(
      `no simulated volatile asset '${o.asset}' (${CORE_ASSETS.filter((a) => !a.stable)
        .map((a) => a.code)
        .join(', ')})`,
    );
  const barMs = o.barMs ?? 60_000;
  const path = new PricePath(def, o.seed, 1000, SIM_ORIGIN_MS);
  const ticks: Tick[] = [];
  // One bar more than asked: a bar closes on the first tick of the next.
  const end = ((o.bars + 1) * barMs) / 1000;
  path.advanceTo(end, (k, price) => {
    if ((k * 1000) % o.tickMs === 0) ticks.push({ at: SIM_ORIGIN_MS + k * 1000, price });
  });
  const runs = path.regimeRuns();
  const endAt = SIM_ORIGIN_MS + end * 1000;
  const regimes = runs.map((r, i) => ({
    from: SIM_ORIGIN_MS + r.fromStep * 1000,
    to: i + 1 < runs.length ? SIM_ORIGIN_MS + (runs[i + 1] as { fromStep: number }).fromStep * 1000 : endAt,
    regime: r.regime,
  }));
  return {
    label: `sim ${o.asset} seed ${o.seed}`,
    ticks,
    regimes,
    funding: seededFunding(o.seed, `${o.asset}USDT`, regimes),
  };
}

/**
 * The simulator's funding on a seeded path: the rate its `/fapi` publishes and settles (`seededFundingRate`), from
 * the regime the path is in at each settlement.
 */
export function seededFunding(seed: number, marketId: string, regimes: readonly RegimeSpan[]): FundingSource {
  return {
    intervalMs: FUNDING_INTERVAL_MS,
    rateAt(t) {
      const span = regimes.find((r) => r.from <= t && t < r.to) ?? regimes.at(-1);
      return span === undefined ? undefined : seededFundingRate(seed, marketId, span.regime, t);
    },
  };
}

/** The simulator's Binance spot rules for `<asset>USDT` (step, minimums, taker fee). */
export function simSpotRules(asset: string): MarketRules {
  return simRules(asset, 'spot');
}

/** The simulator's Binance USDⓈ-M perpetual rules for `<asset>USDT` (fees in USDT). */
export function simPerpRules(asset: string): MarketRules {
  return simRules(asset, 'perp');
}

function simRules(asset: string, kind: 'spot' | 'perp'): MarketRules {
  const m = buildCatalogue().markets.find((x) => x.venue === 'binance' && x.kind === kind && x.id === `${asset}USDT`);
  if (!m) throw new RangeError(`the simulator lists no binance ${kind} market ${asset}USDT`);
  return {
    kind: kind === 'perp' ? 'linear' : 'spot',
    symbol: m.id,
    base: m.base,
    quote: m.quote,
    stepSize: m.stepSize,
    minQty: m.minQty,
    minNotional: m.minNotional,
    takerFee: m.takerFee,
    feeIn: kind === 'perp' ? 'quote' : 'received',
  };
}
