import type { PerpSettings } from '../actors/engine/perp-settlement.js';
import { createPerpBook, type PerpBook } from '../actors/perp-book.js';
import { liquidationPrice, type PerpPosition } from '../domain/perp-ledger.js';
import { snapDown } from '../domain/precision.js';
import { createMemoryKv } from '../store/index.js';
import type { BacktestFill, MarketRules } from './market-model.js';
import { fillPrice, type SlippageModel, slippageBps } from './slippage-model.js';

/**
 * The backtest's USDⓈ-M perpetual venue: the live perp book (`createPerpBook`, on an in-memory store) holds the
 * margin wallet, the one-way net position and the strategies' share, so fills, realized PnL, fees and funding are
 * accounted by the very code the engine settles live fills with. What is modelled is only the venue's part:
 * the fill price (slippage model), the taker fee in USDT, Binance's checks on an order (a reduce-only order may
 * only shrink the position and is cut to it; an entry needs the initial margin free: wallet + unrealized PnL −
 * |position| × price / leverage, as the simulator's `availableMargin`), funding at each settlement
 * (−position × mark × rate: longs pay when the rate is positive) and liquidation, which the simulator does not do.
 *
 * The engine sizes perpetual signals from the spot ledger's equity (`riskView().equityUsd()` values the spot
 * ledger only), which perp PnL and funding do not move: `sizingEquity` is the starting capital, as live.
 */
export interface PerpOrder {
  at: number;
  bar: number;
  side: 'buy' | 'sell';
  amount: number;
  /** The decision price (the tick that closed the bar). */
  price: number;
  strategy: string;
  reduceOnly: boolean;
}

export type PerpFillOutcome = BacktestFill | 'insufficient_margin' | 'reduce_only_rejected';

export class PerpBacktestAccount {
  readonly book: PerpBook;
  readonly fills: BacktestFill[] = [];
  feesUsd = 0;
  slippageUsd = 0;
  fundingPaidUsd = 0;
  fundingReceivedUsd = 0;
  settlements = 0;
  liquidations = 0;
  private seq = 0;

  constructor(
    readonly venue: string,
    readonly rules: MarketRules,
    readonly slippage: SlippageModel,
    readonly capitalUsd: number,
    readonly settings: Pick<PerpSettings, 'leverage' | 'marginMode' | 'maintMarginRate'>,
  ) {
    this.book = createPerpBook(createMemoryKv(), [venue]);
    void this.book.baseline(venue, capitalUsd, {});
  }

  /** The venue's net position on the symbol (one-way mode). */
  net(): PerpPosition {
    return this.book.venue(this.venue)?.positions[this.rules.symbol] ?? { qty: 0, entryPrice: 0 };
  }

  /** The strategies' signed share in base (what the engine sizes against). */
  strategyPosition(): number {
    return this.book.position(this.venue, this.rules.symbol, 'strategies');
  }

  get fundingUsd(): number {
    return this.fundingReceivedUsd - this.fundingPaidUsd;
  }

  sizingEquity(): number {
    return this.capitalUsd;
  }

  equity(price: number): number {
    const p = this.net();
    return (this.book.venue(this.venue)?.wallet ?? 0) + p.qty * (price - p.entryPrice);
  }

  /** Signed position value (a short is negative). */
  positionUsd(price: number): number {
    return this.net().qty * price;
  }

  /** Perpetual notional on the venue (the exposure the rails count), as the engine reads it from the book. */
  notionalUsd(price: number): number {
    return this.book.notionalUsdt(this.venue, () => this.rules.base, { [this.rules.base]: price }).venueUsdt;
  }

  amountFor(quoteUsd: number, price: number): number {
    return snapDown(quoteUsd / price, this.rules.stepSize);
  }

  /** Fills a market order as the venue would: reduce-only cut to the position, entries checked for margin. */
  fill(o: PerpOrder): PerpFillOutcome {
    const before = this.net();
    let amount = o.amount;
    if (o.reduceOnly) {
      const shrinks = o.side === 'sell' ? before.qty > 0 : before.qty < 0;
      if (!shrinks) return 'reduce_only_rejected';
      amount = Math.min(amount, Math.abs(before.qty));
    } else {
      const free = this.equity(o.price) - (Math.abs(before.qty) * o.price) / this.settings.leverage;
      if ((amount * o.price) / this.settings.leverage > free) return 'insufficient_margin';
    }
    return this.execute({ ...o, amount });
  }

  private execute(o: PerpOrder): BacktestFill {
    const before = this.book.venue(this.venue);
    const notional = o.amount * o.price;
    const px = fillPrice(this.slippage, o.side, o.price, notional);
    const cost = o.amount * px;
    const fee = cost * this.rules.takerFee;
    void this.book.apply(
      this.venue,
      `bt-${++this.seq}`,
      { symbol: this.rules.symbol, side: o.side, amount: o.amount, price: px, fee },
      'strategies',
    );
    const realized = (this.book.venue(this.venue)?.realizedPnl ?? 0) - (before?.realizedPnl ?? 0);
    const slip = Math.abs(px - o.price) * o.amount;
    this.feesUsd += fee;
    this.slippageUsd += slip;
    const prevQty = before?.positions[this.rules.symbol]?.qty ?? 0;
    const f: BacktestFill = {
      at: o.at,
      bar: o.bar,
      side: o.side,
      strategy: o.strategy,
      amount: o.amount,
      price: o.price,
      fillPrice: px,
      notionalUsd: cost,
      feeUsd: fee,
      slippageBps: slippageBps(this.slippage, notional),
      slippageUsd: slip,
      pnlUsd: realized - fee,
      reduceOnly: o.reduceOnly,
      closing: prevQty !== 0 && Math.sign(prevQty) !== Math.sign(o.side === 'buy' ? 1 : -1),
      positionAfter: this.net().qty,
    };
    this.fills.push(f);
    return f;
  }

  /** One funding settlement at `rate` on the net position at `mark`; returns the payment (negative: paid). */
  settleFunding(fundingTime: number, rate: number, mark: number): number {
    const q = this.net().qty;
    if (q === 0 || !Number.isFinite(rate)) return 0;
    // Rounded to 8 decimals, as the venue credits it.
    const payment = Number((-q * mark * rate).toFixed(8));
    void this.book.applyFunding(this.venue, `f-${fundingTime}`, this.rules.symbol, payment);
    this.settlements += 1;
    if (payment < 0) this.fundingPaidUsd -= payment;
    else this.fundingReceivedUsd += payment;
    return payment;
  }

  /**
   * Liquidates the position when `price` reaches its liquidation: isolated at the position's own liquidation price,
   * cross when equity falls to the maintenance margin (mmr × notional). The close goes through the book at `price`
   * with the taker fee (the venue's insurance-fund charge is not modelled). Returns the fill, if any.
   */
  liquidateIfDue(at: number, bar: number, price: number): BacktestFill | null {
    const p = this.net();
    if (p.qty === 0) return null;
    const mmr = this.settings.maintMarginRate;
    const due =
      this.settings.marginMode === 'isolated'
        ? p.qty > 0
          ? price <= liquidationPrice('long', p.entryPrice, this.settings.leverage, mmr)
          : price >= liquidationPrice('short', p.entryPrice, this.settings.leverage, mmr)
        : this.equity(price) <= mmr * Math.abs(p.qty) * price;
    if (!due) return null;
    this.liquidations += 1;
    return this.execute({
      at,
      bar,
      side: p.qty > 0 ? 'sell' : 'buy',
      amount: Math.abs(p.qty),
      price,
      strategy: 'liquidation',
      reduceOnly: true,
    });
  }
}
