import type { Metrics } from '../../metrics/metrics.js';
import type { OrderRecord } from '../../store/index.js';
import type { Trade } from '../../venues/venue-gateway.js';
import { kindOf, num } from './engine-types.js';

/**
 * Slippage of every order (issue #16 item 2): the average fill against the arrival price, the mid when the
 * decision was made (`decisionMid`, journaled with the intent) and the mid when the order was handed to the venue
 * (`sendMid`), in basis points signed so that positive is a cost. `order_slippage_bps` observes the send-mid
 * figure: execution cost alone, what the runbook's "futures taker slippage > 8–10 bps" line is about; the
 * decision-mid figure adds the drift between decision and send (queueing, rails, the intent's commit) and is on
 * the order (`GET /orders`, `orders.jsonl`).
 */
export type Liquidity = 'maker' | 'taker';

export interface OrderSlippage {
  decisionMid: number;
  sendMid: number | null;
  averagePrice: number;
  /** Against the decision mid. */
  decisionBps: number;
  /** Against the send mid (null when the order was never handed off by this process). */
  sendBps: number | null;
  liquidity: Liquidity;
}

/** Positive = cost: a buy filled above the arrival price, a sell below it. */
export function slippageBps(side: 'buy' | 'sell', arrival: number, averageFill: number): number {
  const raw = ((averageFill - arrival) / arrival) * 1e4;
  return side === 'buy' ? raw : -raw;
}

/**
 * The order's liquidity: its trades' maker flags weighted by amount when the venue told them (ccxt's
 * `takerOrMaker`), else its type (a post-only order only ever makes; a market order only ever takes; a plain
 * limit order is taken as maker only when it rested before filling).
 */
export function liquidityOf(rec: OrderRecord, trades: readonly Trade[] = []): Liquidity {
  let maker = 0;
  let taker = 0;
  for (const t of trades) {
    if (t.maker === true) maker += t.amount;
    else if (t.maker === false) taker += t.amount;
  }
  if (maker + taker > 0) return maker > taker ? 'maker' : 'taker';
  if (rec.postOnly === true) return 'maker';
  if (rec.type === 'limit' && rec.restedBeforeFill === true) return 'maker';
  return 'taker';
}

/** The slippage of a filled order, or null (nothing filled, no average price, no arrival price). */
export function measureSlippage(rec: OrderRecord, trades: readonly Trade[] = []): OrderSlippage | null {
  const avg = typeof rec.averagePrice === 'number' ? rec.averagePrice : null;
  const decision = num(rec.decisionMid, num(rec.price));
  if (!(rec.filled > 0) || avg === null || !(avg > 0) || !(decision > 0)) return null;
  const side = rec.side === 'sell' ? 'sell' : 'buy';
  const send = typeof rec.sendMid === 'number' && rec.sendMid > 0 ? rec.sendMid : null;
  return {
    decisionMid: decision,
    sendMid: send,
    averagePrice: avg,
    decisionBps: round2(slippageBps(side, decision, avg)),
    sendBps: send === null ? null : round2(slippageBps(side, send, avg)),
    liquidity: liquidityOf(rec, trades),
  };
}

/** Hundredths of a bp: what a person reads, and what `orders.jsonl` keeps stable across float noise. */
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Feeds `order_slippage_bps` (against the send mid, else the decision mid). */
export function observeSlippage(metrics: Metrics, rec: OrderRecord, s: OrderSlippage): void {
  metrics.orderSlippageBps.observe(
    {
      venue: String(rec.venue ?? ''),
      market: kindOf(rec),
      symbol: String(rec.symbol ?? ''),
      side: rec.side === 'sell' ? 'sell' : 'buy',
      strategy: String(rec.strategy ?? ''),
      liquidity: s.liquidity,
    },
    s.sendBps ?? s.decisionBps,
  );
}
