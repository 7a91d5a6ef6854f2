/**
 * Orders and trades as the venues see them: the shapes the engine produces and the dialects print, plus the
 * store that indexes them by account, venue id and client order id.
 */
import type { Account } from './accounts.js';
import type { MarketDef } from './instruments.js';
import { mix32 } from './random.js';

export type Side = 'buy' | 'sell';
/** Generic order kinds; the dialects map their own names (STOP_LOSS_LIMIT, stop-loss-limit…) onto these. */
export type OrderKind = 'market' | 'limit' | 'stop_market' | 'stop_limit' | 'tp_market' | 'tp_limit';
export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'canceled' | 'expired' | 'rejected';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';

export interface SimOrder {
  seq: number;
  /** Binance: the numeric id as a string; Kraken: the txid (`OABCDE-FGHIJ-KLMNOP`). */
  venueOrderId: string;
  account: Account;
  market: MarketDef;
  clientOrderId: string;
  side: Side;
  kind: OrderKind;
  /** The venue's own type name, echoed back (`STOP_LOSS_LIMIT`, `stop-loss-limit`). */
  venueType: string;
  postOnly: boolean;
  tif: TimeInForce;
  /** Base quantity; undefined for market orders by cost (`quoteOrderQty`, Kraken `viqc`). */
  qty: number | undefined;
  quoteQty: number | undefined;
  price: number | undefined;
  stopPrice: number | undefined;
  reduceOnly: boolean;
  status: OrderStatus;
  /** Stops: whether the trigger fired (then the order works as market/limit). */
  triggered: boolean;
  /**
   * Binance USDⓈ-M: the id of the regular order a triggered algo order became (`actualOrderId`). Algo ids and order
   * ids are separate sequences at Binance, so the triggered order, its trades and its stream events carry this id,
   * not the algo id; its clientOrderId stays the `clientAlgoId`.
   */
  actualSeq?: number;
  executedQty: number;
  cumQuote: number;
  fee: number;
  feeAsset: string;
  createdAt: number;
  updatedAt: number;
  /** Funds held for the rest of the order. */
  lockedAsset: string | undefined;
  lockedAmount: number;
  tradeIds: number[];
  /** Why the order ended when it did not fill (`Post only order`, `User requested`…). */
  reason: string | undefined;
  /** Extra venue fields kept verbatim (Kraken userref, oflags; Binance workingType…). */
  extra: Record<string, string>;
}

export interface SimTrade {
  id: number;
  venueTradeId: string;
  order: SimOrder;
  price: number;
  qty: number;
  quoteQty: number;
  fee: number;
  feeAsset: string;
  maker: boolean;
  time: number;
  realizedPnl: number;
}

export function isStopKind(k: OrderKind): boolean {
  return k !== 'market' && k !== 'limit';
}

export function isOpen(o: SimOrder): boolean {
  return o.status === 'new' || o.status === 'partially_filled';
}

export function remainingQty(o: SimOrder): number {
  return o.qty === undefined ? 0 : Math.max(0, o.qty - o.executedQty);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Kraken-style id: prefix + 5-5-6 base32 groups; the first group encodes `seq`, so ids never collide. */
export function krakenStyleId(prefix: 'O' | 'T', seq: number, seed: number): string {
  const chars = (v: number, n: number) => {
    let out = '';
    let x = v;
    for (let i = 0; i < n; i++) {
      out = ALPHABET[x % 32] + out;
      x = Math.floor(x / 32);
    }
    return out;
  };
  const h1 = mix32(seed, seq, prefix.charCodeAt(0));
  const h2 = mix32(h1, seq);
  return `${prefix}${chars(seq, 5)}-${chars(h1 >>> 7, 5)}-${chars(h2 >>> 2, 6)}`;
}

export class OrderStore {
  private readonly bySeq = new Map<number, SimOrder>();
  private readonly byVenueId = new Map<string, SimOrder>();
  private readonly open = new Set<SimOrder>();
  readonly trades: SimTrade[] = [];

  add(o: SimOrder): void {
    this.bySeq.set(o.seq, o);
    this.byVenueId.set(`${o.market.venue}|${o.venueOrderId}`, o);
    if (o.actualSeq !== undefined) this.indexActual(o);
    if (isOpen(o)) this.open.add(o);
  }

  /** A triggered algo order is found by its regular order id too (`actualSeq`). */
  indexActual(o: SimOrder): void {
    if (o.actualSeq === undefined) return;
    this.bySeq.set(o.actualSeq, o);
    this.byVenueId.set(`${o.market.venue}|${o.actualSeq}`, o);
  }

  /** Keeps the open set right after a status change. */
  touch(o: SimOrder): void {
    if (isOpen(o)) this.open.add(o);
    else this.open.delete(o);
  }

  get(seq: number): SimOrder | undefined {
    return this.bySeq.get(seq);
  }

  byVenueOrderId(account: Account, venueOrderId: string): SimOrder | undefined {
    const o = this.byVenueId.get(`${account.venue}|${venueOrderId}`);
    return o?.account === account ? o : undefined;
  }

  /** The most recent order of this account with this client id (open orders win over closed ones). */
  byClientId(account: Account, clientOrderId: string, market?: MarketDef): SimOrder | undefined {
    let best: SimOrder | undefined;
    for (const o of this.ofAccount(account, market)) {
      if (o.clientOrderId !== clientOrderId) continue;
      if (best === undefined || (isOpen(o) && !isOpen(best)) || (isOpen(o) === isOpen(best) && o.seq > best.seq))
        best = o;
    }
    return best;
  }

  /** Open orders, oldest first (a Set keeps insertion order, and orders are added in sequence order). */
  openOrders(account?: Account, market?: MarketDef): SimOrder[] {
    const out: SimOrder[] = [];
    for (const o of this.open)
      if ((account === undefined || o.account === account) && (market === undefined || o.market === market))
        out.push(o);
    return out;
  }

  allOpen(): SimOrder[] {
    return [...this.open];
  }

  ofAccount(account: Account, market?: MarketDef): SimOrder[] {
    const out: SimOrder[] = [];
    for (const o of this.bySeq.values())
      if (o.account === account && (market === undefined || o.market === market)) out.push(o);
    return out;
  }

  tradesOf(account: Account, market?: MarketDef): SimTrade[] {
    return this.trades.filter(
      (t) => t.order.account === account && (market === undefined || t.order.market === market),
    );
  }

  all(): SimOrder[] {
    return [...this.bySeq.values()];
  }

  clear(): void {
    this.bySeq.clear();
    this.byVenueId.clear();
    this.open.clear();
    this.trades.length = 0;
  }
}
