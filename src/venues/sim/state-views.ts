/**
 * Read-only views for tests and operators: the venue state (`GET /__sim/state`), the true regimes behind a
 * price path (`GET /__sim/truth`) and current fair prices (`GET /__sim/prices`).
 */

import { fmt } from '../../domain/precision.js';
import type { Account } from './accounts.js';
import type { Venue } from './faults.js';
import { liquidationPriceOf, positionMargin, unrealizedPnl } from './futures-ledger.js';
import type { Market } from './market.js';
import type { MatchingEngine } from './matching-engine.js';
import type { SimOrder } from './order-store.js';
import { PEG, REGIMES, type RegimeName, TRANSITIONS, volScaleOf } from './price-path.js';

export interface OrderState {
  venue: Venue;
  market: 'spot' | 'perp';
  account: string;
  id: string;
  clientOrderId: string;
  symbol: string;
  side: string;
  type: string;
  status: string;
  qty: number | undefined;
  executedQty: number;
  price: number | undefined;
  stopPrice: number | undefined;
  triggered: boolean;
  reduceOnly: boolean;
  /** Post-only (Binance LIMIT_MAKER / USDⓈ-M GTX, Kraken oflags=post). */
  postOnly: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface PositionState {
  symbol: string;
  qty: number;
  entryPrice: number;
  markPrice: number;
  unrealizedPnl: number;
  initialMargin: number;
  leverage: number;
  /** ISOLATED: the position's isolated wallet; 0 in cross mode. */
  isolatedMargin: number;
  /** Binance's liquidation price (futures-ledger.ts `liquidationPriceOf`); 0: none. */
  liquidationPrice: number;
}

export interface AccountState {
  id: string;
  venue: Venue;
  apiKey: string;
  spot: Record<string, { free: number; locked: number }>;
  futures: {
    wallet: Record<string, number>;
    positions: PositionState[];
    leverage: Record<string, number>;
    /** Margin type per perpetual set on the account (absent: CROSSED). */
    marginType: Record<string, 'CROSSED' | 'ISOLATED'>;
    fundingPaid: { symbol: string; income: number; rate: number | undefined; time: number }[];
  };
}

export interface SimState {
  now: number;
  step: number;
  accounts: AccountState[];
  orders: OrderState[];
  trades: number;
}

export function orderState(o: SimOrder): OrderState {
  return {
    venue: o.market.venue,
    market: o.market.kind,
    account: o.account.id,
    id: o.venueOrderId,
    clientOrderId: o.clientOrderId,
    symbol: o.market.id,
    side: o.side,
    type: o.venueType,
    status: o.status,
    qty: o.qty,
    executedQty: o.executedQty,
    price: o.price,
    stopPrice: o.stopPrice,
    triggered: o.triggered,
    reduceOnly: o.reduceOnly,
    postOnly: o.postOnly,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export function accountState(a: Account, engine: MatchingEngine): AccountState {
  return {
    id: a.id,
    venue: a.venue,
    apiKey: a.keys.apiKey,
    spot: Object.fromEntries([...a.spot.entries()].map(([k, b]) => [k, { free: b.free, locked: b.locked }])),
    futures: {
      wallet: Object.fromEntries(a.wallet),
      positions: [...a.positions.entries()].map(([symbol, p]) => {
        const mark = engine.mark(symbol);
        return {
          symbol,
          qty: p.qty,
          entryPrice: p.entryPrice,
          markPrice: mark,
          unrealizedPnl: unrealizedPnl(p, mark),
          initialMargin: positionMargin(p, mark, a.leverageOf(symbol)),
          leverage: a.leverageOf(symbol),
          isolatedMargin: a.marginTypeOf(symbol) === 'ISOLATED' ? (p.isolatedMargin ?? 0) : 0,
          liquidationPrice: liquidationPriceOf(a, symbol, (s) => engine.mark(s)),
        };
      }),
      leverage: Object.fromEntries(a.leverage),
      marginType: Object.fromEntries(a.marginType),
      fundingPaid: a.income
        .filter((r) => r.incomeType === 'FUNDING_FEE')
        .map((r) => ({ symbol: r.symbol, income: r.income, rate: r.rate, time: r.time })),
    },
  };
}

export interface RegimeTruth {
  symbol: string;
  asset: string;
  seed: number;
  stepMs: number;
  originMs: number;
  currentStep: number;
  /** Regime parameters as applied to this asset (drift and volatility already scaled). */
  regimes: { name: RegimeName; driftPerHour: number; volPerHour: number }[];
  /** Per-minute transition probabilities between the regimes above (rows = from). */
  transitionsPerMinute: readonly (readonly number[])[];
  /** The true regime sequence: runs of constant regime, `toStep` inclusive. */
  runs: { regime: RegimeName; fromStep: number; toStep: number; fromMs: number; toMs: number }[];
}

export function regimeTruth(market: Market, seed: number, symbol: string, asset: string): RegimeTruth {
  const path = market.path(asset);
  const scale = volScaleOf(asset);
  const runs = path.regimeRuns();
  const cur = path.step;
  return {
    symbol,
    asset,
    seed,
    stepMs: market.stepMs,
    originMs: market.opts.originMs,
    currentStep: cur,
    regimes: path.asset.stable
      ? [{ name: 'peg', driftPerHour: 0, volPerHour: PEG.volPerHour }]
      : REGIMES.map((r) => ({ name: r.name, driftPerHour: r.driftPerHour * scale, volPerHour: r.volPerHour * scale })),
    transitionsPerMinute: path.asset.stable ? [[1]] : TRANSITIONS,
    runs: runs.map((r, i) => {
      const toStep = (runs[i + 1]?.fromStep ?? cur + 1) - 1;
      return {
        regime: r.regime,
        fromStep: r.fromStep,
        toStep,
        fromMs: market.timeOfStep(r.fromStep),
        toMs: market.timeOfStep(toStep),
      };
    }),
  };
}

export function fairPrices(market: Market, now: number, venue?: Venue): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of market.catalogue.markets) {
    if (venue !== undefined && m.venue !== venue) continue;
    out[`${m.venue}:${m.kind}:${m.id}`] = fmt(market.fair(m, now), 8);
  }
  return out;
}
