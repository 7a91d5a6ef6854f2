import type { Rejection } from './order-path.js';
import type { ReplayResult, RunMode } from './replay.js';

/**
 * The numbers a backtest run is judged by, net of fees and slippage (both are already in the equity curve):
 * return, Sharpe (per-bar returns annualised by √(bars per year)), max drawdown, turnover (traded notional over
 * the starting capital), hit rate (sells that closed above their average entry, after fees), fees, slippage.
 */
export interface RunSummary {
  mode: RunMode;
  bars: number;
  trades: number;
  returnPct: number;
  sharpe: number;
  maxDrawdownPct: number;
  /** Traded notional ÷ starting capital. */
  turnover: number;
  /** Share of closing fills (spot sells, perpetual exits) with positive PnL after fees (null: none). */
  hitRatePct: number | null;
  feesUsd: number;
  slippageUsd: number;
  /** Notional-weighted average slippage of the fills (bps, a cost). */
  slippageBps: number;
  fundingUsd: number;
  /** Bars holding a position, % of bars. */
  exposurePct: number;
  calibrations: number;
  rejections: Partial<Record<Rejection, number>>;
  /** Perpetual runs: funding both ways, the side held, reduce-only exits and liquidations. */
  perp?: PerpSummary;
  /** Trades and fees by the strategy each order was attributed to (hmm, trend, buy_and_hold). */
  byStrategy: Record<string, { trades: number; notionalUsd: number; feesUsd: number; pnlUsd: number }>;
}

export interface PerpSummary {
  fundingPaidUsd: number;
  fundingReceivedUsd: number;
  settlements: number;
  /** Bars ending long / short, % of bars. */
  longPct: number;
  shortPct: number;
  /** Fills that opened or added to a long / a short, and reduce-only exits. */
  longEntries: number;
  shortEntries: number;
  reduceOnlyExits: number;
  liquidations: number;
}

const MINUTES_PER_YEAR = 365 * 24 * 60;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
const r2 = (v: number) => Math.round(v * 100) / 100;

export function summarise(r: ReplayResult, o: { capitalUsd: number; barMs: number }): RunSummary {
  const eq = r.bars.map((b) => b.equity);
  const rets: number[] = [];
  let prev = o.capitalUsd;
  for (const e of eq) {
    rets.push(prev > 0 ? e / prev - 1 : 0);
    prev = e;
  }
  const mean = rets.reduce((a, b) => a + b, 0) / Math.max(1, rets.length);
  const sd = Math.sqrt(rets.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, rets.length - 1));
  const barsPerYear = (MINUTES_PER_YEAR * 60_000) / o.barMs;
  let peak = o.capitalUsd;
  let dd = 0;
  for (const e of eq) {
    peak = Math.max(peak, e);
    dd = Math.max(dd, (peak - e) / peak);
  }
  const end = eq.at(-1) ?? o.capitalUsd;
  const closing = r.fills.filter((f) => f.closing);
  const notional = r.fills.reduce((a, f) => a + f.notionalUsd, 0);
  const byStrategy: RunSummary['byStrategy'] = {};
  for (const f of r.fills) {
    const s = byStrategy[f.strategy] ?? { trades: 0, notionalUsd: 0, feesUsd: 0, pnlUsd: 0 };
    byStrategy[f.strategy] = s;
    s.trades += 1;
    s.notionalUsd += f.notionalUsd;
    s.feesUsd += f.feeUsd;
    s.pnlUsd += f.pnlUsd;
  }
  for (const s of Object.values(byStrategy)) {
    s.notionalUsd = r2(s.notionalUsd);
    s.feesUsd = r2(s.feesUsd);
    s.pnlUsd = r2(s.pnlUsd);
  }
  return {
    mode: r.mode,
    bars: r.bars.length,
    trades: r.fills.length,
    returnPct: r4((end / o.capitalUsd - 1) * 100),
    sharpe: sd > 0 ? r4((mean / sd) * Math.sqrt(barsPerYear)) : 0,
    maxDrawdownPct: r4(dd * 100),
    turnover: r4(notional / o.capitalUsd),
    hitRatePct: closing.length > 0 ? r2((closing.filter((f) => f.pnlUsd > 0).length / closing.length) * 100) : null,
    feesUsd: r2(r.feesUsd),
    slippageUsd: r2(r.slippageUsd),
    slippageBps: notional > 0 ? r4(r.fills.reduce((a, f) => a + f.slippageBps * f.notionalUsd, 0) / notional) : 0,
    fundingUsd: r2(r.fundingUsd),
    exposurePct: r2((r.bars.filter((b) => b.positionUsd !== 0).length / Math.max(1, r.bars.length)) * 100),
    calibrations: r.calibrations,
    rejections: r.rejections,
    byStrategy,
    ...(r.perp ? { perp: perpSummary(r, r.perp) } : {}),
  };
}

function perpSummary(r: ReplayResult, p: NonNullable<ReplayResult['perp']>): PerpSummary {
  const pct = (n: number) => r2((n / Math.max(1, r.bars.length)) * 100);
  const entries = r.fills.filter((f) => !f.reduceOnly && !f.closing);
  return {
    fundingPaidUsd: r2(p.fundingPaidUsd),
    fundingReceivedUsd: r2(p.fundingReceivedUsd),
    settlements: p.settlements,
    longPct: pct(r.bars.filter((b) => b.positionUsd > 0).length),
    shortPct: pct(r.bars.filter((b) => b.positionUsd < 0).length),
    longEntries: entries.filter((f) => f.side === 'buy').length,
    shortEntries: entries.filter((f) => f.side === 'sell').length,
    reduceOnlyExits: r.fills.filter((f) => f.reduceOnly).length,
    liquidations: p.liquidations,
  };
}

/** Mean and median of each headline figure across paths, per mode. */
export interface Aggregate {
  mode: RunMode;
  paths: number;
  mean: {
    returnPct: number;
    sharpe: number;
    maxDrawdownPct: number;
    turnover: number;
    trades: number;
    feesUsd: number;
    slippageUsd: number;
    /** Net funding (received − paid). */
    fundingUsd: number;
  };
  median: { returnPct: number; sharpe: number; maxDrawdownPct: number; turnover: number };
}

export function aggregate(mode: RunMode, runs: RunSummary[]): Aggregate {
  const mean = (f: (s: RunSummary) => number) => r4(runs.reduce((a, s) => a + f(s), 0) / Math.max(1, runs.length));
  const median = (f: (s: RunSummary) => number) => {
    const v = runs.map(f).sort((a, b) => a - b);
    if (v.length === 0) return 0;
    const m = Math.floor(v.length / 2);
    return r4(v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2);
  };
  return {
    mode,
    paths: runs.length,
    mean: {
      returnPct: mean((s) => s.returnPct),
      sharpe: mean((s) => s.sharpe),
      maxDrawdownPct: mean((s) => s.maxDrawdownPct),
      turnover: mean((s) => s.turnover),
      trades: mean((s) => s.trades),
      feesUsd: mean((s) => s.feesUsd),
      slippageUsd: mean((s) => s.slippageUsd),
      fundingUsd: mean((s) => s.fundingUsd),
    },
    median: {
      returnPct: median((s) => s.returnPct),
      sharpe: median((s) => s.sharpe),
      maxDrawdownPct: median((s) => s.maxDrawdownPct),
      turnover: median((s) => s.turnover),
    },
  };
}
