import { snapDown } from '../domain/precision.js';
import { fillPrice, type SlippageModel, slippageBps } from './slippage-model.js';

/**
 * The backtest's venue: one market's trading rules, its fee, the slippage model, and the account the fills move.
 *
 * This is the spot account (long only, as `sizeSignal(..., longOnly: true)` sizes it); a perpetual's account is
 * `PerpBacktestAccount` (perp-account.ts, on the live perp book). A spot sell of more base than the account
 * holds is refused, as the venue would refuse it (the position is net of the fee Binance takes in base after a
 * buy, as the live ledger's `strategyPosition` is).
 */
export type BacktestMarketKind = 'spot' | 'linear';

export interface MarketRules {
  kind: BacktestMarketKind;
  symbol: string;
  base: string;
  quote: string;
  stepSize: number;
  minQty: number;
  minNotional: number;
  /** Taker fee as a fraction (Binance spot 0.001). */
  takerFee: number;
  /**
   * Where the venue takes the fee: `received` (Binance spot: in the asset received, so a buy leaves less base
   * than the order's amount) or `quote` (Kraken).
   */
  feeIn: 'received' | 'quote';
}

export interface BacktestFill {
  at: number;
  bar: number;
  side: 'buy' | 'sell';
  strategy: string;
  amount: number;
  /** The decision price (the tick that closed the bar: the live path's arrival price). */
  price: number;
  fillPrice: number;
  notionalUsd: number;
  feeUsd: number;
  slippageBps: number;
  slippageUsd: number;
  /** Realised PnL of a closing fill against the average entry, after its fee (0 for a spot buy). */
  pnlUsd: number;
  /** Sent reduce-only (a spot sell of what is held; a perpetual exit). */
  reduceOnly: boolean;
  /** Reduced a position (a spot sell, a perpetual fill against the position's side): counted by the hit rate. */
  closing: boolean;
  /** The position after the fill, in base (signed: a perpetual short is negative). */
  positionAfter: number;
}

export class BacktestAccount {
  cash: number;
  /** The strategies' position in base, net of fees taken in base (the ledger's `strategyPosition`). */
  position = 0;
  /** Base the account holds at the venue (the position less fees taken in base). */
  held = 0;
  private cost = 0;
  feesUsd = 0;
  slippageUsd = 0;
  readonly fills: BacktestFill[] = [];

  constructor(
    readonly rules: MarketRules,
    readonly slippage: SlippageModel,
    startCash: number,
  ) {
    this.cash = startCash;
  }

  equity(price: number): number {
    return this.cash + this.held * price;
  }

  /** The order amount a quote buys at `price`, on the market's step (what the engine journals and sends). */
  amountFor(quoteUsd: number, price: number): number {
    return snapDown(quoteUsd / price, this.rules.stepSize);
  }

  /** Fills a market order of `amount` decided at `price`; returns the fill (or null if spot would go short). */
  fill(o: { at: number; bar: number; side: 'buy' | 'sell'; amount: number; price: number; strategy: string }) {
    if (!(o.amount > 0)) return null;
    if (this.rules.kind === 'spot' && o.side === 'sell' && o.amount > this.held + 1e-12) return null;
    const notional = o.amount * o.price;
    const px = fillPrice(this.slippage, o.side, o.price, notional);
    const cost = o.amount * px;
    const fee = cost * this.rules.takerFee;
    let pnl = 0;
    if (o.side === 'buy') {
      const baseFee = this.rules.feeIn === 'received';
      this.cash -= baseFee ? cost : cost + fee;
      const got = baseFee ? o.amount * (1 - this.rules.takerFee) : o.amount;
      this.held += got;
      // As the live ledger: the position is the base held, net of a fee taken in base.
      this.position += got;
      this.cost += cost;
    } else {
      const avg = this.position > 0 ? this.cost / this.position : px;
      pnl = (px - avg) * o.amount - fee;
      this.cost -= avg * o.amount;
      this.cash += cost - fee;
      this.held -= o.amount;
      this.position = Math.max(0, this.position - o.amount);
      if (this.position <= 1e-12) {
        this.position = 0;
        this.cost = 0;
      }
    }
    const slip = Math.abs(px - o.price) * o.amount;
    this.feesUsd += fee;
    this.slippageUsd += slip;
    const f: BacktestFill = {
      ...o,
      fillPrice: px,
      notionalUsd: cost,
      feeUsd: fee,
      slippageBps: slippageBps(this.slippage, notional),
      slippageUsd: slip,
      pnlUsd: pnl,
      reduceOnly: o.side === 'sell',
      closing: o.side === 'sell',
      positionAfter: this.held,
    };
    this.fills.push(f);
    return f;
  }
}
