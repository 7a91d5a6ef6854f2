import type { SignalEffect } from '../machines/symbol.machine.js';
import { addTick, initialBars } from '../strategies/bars.js';
import { BacktestAccount, type BacktestFill } from './market-model.js';
import { perpOrder, type Rejection, type SignalOrder, type SignalOutcome, spotOrder } from './order-path.js';
import { PerpBacktestAccount } from './perp-account.js';
import type { BarPoint, ReplayOptions, ReplayResult, Tick } from './replay.js';

/**
 * One backtest run's market: the order path the engine takes for a signal (order-path.ts) and the account that
 * fills it, spot (`BacktestAccount`) or, with `perp` settings, the USDⓈ-M perpetual (`PerpBacktestAccount`, on the
 * live perp book), which also settles funding on each tick that passes a settlement time and liquidates.
 */
export interface FundingSource {
  /** Time between settlements (Binance USDⓈ-M: 8 h, at 00:00, 08:00 and 16:00 UTC). */
  intervalMs: number;
  /** The rate settled at `fundingTime` (a fraction per interval), or undefined when the source has none. */
  rateAt(fundingTime: number): number | undefined;
}

export interface PerpTotals {
  fundingPaidUsd: number;
  fundingReceivedUsd: number;
  settlements: number;
  liquidations: number;
}

export type VenueFill = SignalOrder & { at: number; bar: number; price: number };

export interface BacktestVenue {
  decide(s: SignalEffect): SignalOutcome;
  /** Fills an order the path let through; a string is the venue's refusal. */
  fill(o: VenueFill): BacktestFill | Rejection | null;
  /** Every tick before its bar logic: funding settlements passed by now, a liquidation reached. */
  onTick(t: Tick, bar: number): void;
  point(at: number, close: number): BarPoint;
  amountFor(quoteUsd: number, price: number): number;
  totals(): Pick<ReplayResult, 'fills' | 'feesUsd' | 'slippageUsd' | 'fundingUsd' | 'perp'>;
}

export function createVenue(o: ReplayOptions): BacktestVenue {
  return o.perp ? perpVenue(o, o.perp) : spotVenue(o);
}

function spotVenue(o: ReplayOptions): BacktestVenue {
  const acct = new BacktestAccount(o.rules, o.slippage, o.capitalUsd);
  return {
    decide: (s) => spotOrder(o, acct, s),
    fill: (f) => acct.fill(f),
    onTick: () => undefined,
    point: (at, close) => ({ at, close, equity: acct.equity(close), positionUsd: acct.held * close }),
    amountFor: (q, p) => acct.amountFor(q, p),
    totals: () => ({ fills: acct.fills, feesUsd: acct.feesUsd, slippageUsd: acct.slippageUsd, fundingUsd: 0 }),
  };
}

function perpVenue(o: ReplayOptions, p: NonNullable<ReplayOptions['perp']>): BacktestVenue {
  if (o.rules.kind !== 'linear')
    throw new RangeError(`perp settings need the perpetual's rules (kind linear), got ${o.rules.kind}`);
  const acct = new PerpBacktestAccount(o.venue, o.rules, o.slippage, o.capitalUsd, p);
  let nextFunding: number | undefined;
  return {
    decide: (s) => perpOrder(o, p, acct, s),
    fill: (f) => acct.fill(f),
    onTick(t, bar) {
      const f = o.funding;
      if (f) {
        nextFunding ??= Math.ceil(t.at / f.intervalMs) * f.intervalMs;
        // The first tick at or after a settlement time carries its mark.
        for (; nextFunding <= t.at; nextFunding += f.intervalMs) {
          const rate = f.rateAt(nextFunding);
          if (rate !== undefined) acct.settleFunding(nextFunding, rate, t.price);
        }
      }
      acct.liquidateIfDue(t.at, bar, t.price);
    },
    point: (at, close) => ({ at, close, equity: acct.equity(close), positionUsd: acct.positionUsd(close) }),
    amountFor: (q, px) => acct.amountFor(q, px),
    totals: () => ({
      fills: acct.fills,
      feesUsd: acct.feesUsd,
      slippageUsd: acct.slippageUsd,
      fundingUsd: acct.fundingUsd,
      perp: {
        fundingPaidUsd: acct.fundingPaidUsd,
        fundingReceivedUsd: acct.fundingReceivedUsd,
        settlements: acct.settlements,
        liquidations: acct.liquidations,
      },
    }),
  };
}

/**
 * The benchmark: the whole capital into the market at the first bar close (fee and slippage paid), then held —
 * the asset on spot; on a perpetual a 1× long, which pays (or earns) funding like any long.
 */
export function buyAndHold(ticks: Iterable<Tick>, o: ReplayOptions): ReplayResult {
  const venue = createVenue(o);
  const bars: BarPoint[] = [];
  const barState = initialBars(o.barMs);
  let bought = false;
  for (const t of ticks) {
    venue.onTick(t, bars.length);
    const closed = addTick(barState, t.price, t.at);
    if (!closed) continue;
    if (!bought) {
      bought = true;
      // Leave room for the fee and the slippage of the one buy.
      const budget = o.capitalUsd / (1 + o.rules.takerFee + 0.01);
      venue.fill({
        at: t.at,
        bar: 0,
        side: 'buy',
        amount: venue.amountFor(budget, t.price),
        price: t.price,
        strategy: 'buy_and_hold',
        reduceOnly: false,
      });
    }
    bars.push(venue.point(closed.openAt, t.price));
  }
  return { ...venue.totals(), mode: 'buy_and_hold', bars, rejections: {}, calibrations: 0, signals: 0 };
}
