import type { VenueId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import type { FundingPlan } from '../machines/funding-guard.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvStore, OrderRecord } from '../store/index.js';
import type { VenueGateway } from '../venues/venue-gateway.js';
import { HEDGE_STRATEGY } from './engine/perp-settlement.js';
import type { LedgerBook } from './ledger-book.js';
import type { PerpBook } from './perp-book.js';
import type { TradingEngine } from './trading-engine.js';

/**
 * The funding hedge's lifecycle (runbook "Funding spike", FUNDING_HEDGE_RATIO): opened beside a trim, held by
 * its own position owner (`hedge`: spot in the ledger book, perpetual in the perp book), so no strategy signal
 * sizes against or sells it, and ended by a rule: unwound once the spike on the trimmed symbol is over, or once
 * the trimmed position is closed. The hedge keeps the trimmed position's direction without paying its funding:
 * - a long trim is hedged by a spot buy of the hedge symbol (spot pays no funding);
 * - a short trim is hedged by a short of the hedge symbol's perpetual: a spot sell would sell an asset Bosun
 *   may not hold (and would sell the strategies' or the operator's BTC).
 * Each open hedge is one record in LMDB (`fhedge:<venue>:<trimmed symbol>`), written before the hedge is sent,
 * so a restart still knows what to unwind. Hedges on one hedge symbol share its owner position, which is
 * unwound once no record on it remains.
 */
export interface HedgeRecord {
  trimmed: string;
  symbol: string;
  market: 'spot' | 'linear';
  side: 'buy' | 'sell';
  openedAt: number;
}

export interface FundingHedgesDeps {
  kv: KvStore;
  engine: TradingEngine;
  book: LedgerBook;
  perps?: PerpBook;
  gateway: (venue: string) => VenueGateway | undefined;
  orders: () => Iterable<OrderRecord>;
  minTradeUsdt: number;
  maxNotionalUsdt: (symbol: string) => number;
  metrics: Metrics;
  log: Logger;
  now: () => number;
}

const key = (venue: string, trimmed: string) => `fhedge:${venue}:${trimmed}`;

export function createFundingHedges(d: FundingHedgesDeps) {
  const log = d.log.child({ actor: 'funding-hedge' });
  const records = (venue: string): HedgeRecord[] =>
    d.kv.keys(`fhedge:${venue}:`).flatMap((k) => {
      const r = d.kv.get<HedgeRecord & Record<string, never>>(k) as HedgeRecord | undefined;
      return r ? [r] : [];
    });

  /** The hedge owner's signed base quantity of `symbol` on `market`. */
  function held(venue: string, symbol: string, market: 'spot' | 'linear'): number {
    return market === 'spot' ? d.book.hedgePosition(venue, symbol) : (d.perps?.position(venue, symbol, 'hedge') ?? 0);
  }

  /** Opens the hedge of one trim; resolves whether it went out. */
  async function open(venue: string, plan: FundingPlan): Promise<boolean> {
    const h = plan.hedge;
    if (!h) return false;
    const trimmedShort = plan.trim.side === 'buy';
    const market = trimmedShort ? 'linear' : 'spot';
    if (market === 'linear' && !d.perps) {
      log.warn({ venue, trimmed: plan.symbol }, 'short trim: no perp book, no hedge (a spot sell is never used)');
      return false;
    }
    const rec: HedgeRecord = { trimmed: plan.symbol, symbol: h.symbol, market, side: h.side, openedAt: d.now() };
    await d.kv.put(key(venue, plan.symbol), rec);
    const r = await d.engine.submitGuard({
      venue: venue as VenueId,
      symbol: h.symbol,
      side: h.side,
      quote: Math.min(h.quoteUsdt, d.maxNotionalUsdt(h.symbol)),
      strategy: HEDGE_STRATEGY,
      reason: `funding_hedge:${plan.symbol}`,
      market,
      reduceOnly: false,
    });
    if (r.status === 'rejected') {
      await d.kv.delete(key(venue, plan.symbol));
      log.warn({ venue, trimmed: plan.symbol, reason: r.reason }, 'funding hedge refused');
      return false;
    }
    log.info({ venue, trimmed: plan.symbol, hedge: h, market }, 'funding hedge opened');
    return true;
  }

  /** Whether the trimmed perpetual position is gone at the venue (a failed read keeps the hedge). */
  async function trimmedClosed(venue: string, symbol: string): Promise<boolean> {
    try {
      const ps = (await d.gateway(venue)?.fetchPositions([symbol])) ?? [];
      return !ps.some((p) => p.symbol === symbol && p.amount > 0);
    } catch {
      return false;
    }
  }

  /** Unwinds the hedge owner's position on (symbol, market); resolves whether an order went out. */
  async function unwind(venue: string, symbol: string, market: 'spot' | 'linear'): Promise<boolean> {
    const qty = held(venue, symbol, market);
    const price = d.engine.price(venue, symbol);
    if (qty === 0 || price === undefined) return false;
    const side = qty > 0 ? 'sell' : 'buy';
    // One-way mode nets owners at the venue: the unwind is reduce-only only when it shrinks the net position.
    const net = market === 'linear' ? (d.perps?.venue(venue)?.positions[symbol]?.qty ?? 0) : 0;
    const reduces = market === 'spot' ? side === 'sell' : (net > 0 && side === 'sell') || (net < 0 && side === 'buy');
    const r = await d.engine.submitGuard({
      venue: venue as VenueId,
      symbol,
      side,
      quote: Math.abs(qty) * price,
      price,
      strategy: HEDGE_STRATEGY,
      reason: 'funding_hedge_unwind',
      market,
      reduceOnly: reduces,
    });
    log.info({ venue, symbol, market, qty, status: r.status, reason: r.reason }, 'funding hedge unwind');
    return r.status !== 'rejected';
  }

  /**
   * The end rule, on every funding poll: a hedge whose trimmed symbol no longer spikes, or whose trimmed position
   * is closed, ends; a hedge position with no open record left is unwound. Exports the hedge panels' gauges.
   */
  async function review(venue: string, spiking: readonly string[]): Promise<void> {
    for (const r of records(venue)) {
      const ended = !spiking.includes(r.trimmed)
        ? 'spike_over'
        : (await trimmedClosed(venue, r.trimmed))
          ? 'trim_closed'
          : null;
      if (!ended) continue;
      await d.kv.delete(key(venue, r.trimmed));
      log.info({ venue, trimmed: r.trimmed, why: ended }, 'funding hedge ended');
    }
    const open = records(venue);
    for (const market of ['spot', 'linear'] as const)
      for (const symbol of hedgeSymbols(venue, market))
        if (!open.some((r) => r.symbol === symbol && r.market === market)) await unwind(venue, symbol, market);
    exportGauges(venue);
  }

  /** Symbols the hedge owner holds on a market (from its orders: the only way a hedge position comes to be). */
  function hedgeSymbols(venue: string, market: 'spot' | 'linear'): string[] {
    const out = new Set<string>();
    for (const o of d.orders())
      if (o.venue === venue && o.strategy === HEDGE_STRATEGY && (o.market === 'linear' ? 'linear' : 'spot') === market)
        out.add(String(o.symbol));
    return [...out].filter((s) => held(venue, s, market) !== 0);
  }

  /** Hedge size (signed USDT) per symbol and PnL (cash flows of its fills plus what it holds, at the price). */
  function exportGauges(venue: string): void {
    const pnl = new Map<string, number>();
    for (const o of d.orders()) {
      if (o.venue !== venue || o.strategy !== HEDGE_STRATEGY) continue;
      const filled = Number(o.filled) || 0;
      const avg = typeof o.averagePrice === 'number' ? o.averagePrice : 0;
      const s = String(o.symbol);
      pnl.set(s, (pnl.get(s) ?? 0) + (o.side === 'buy' ? -1 : 1) * filled * avg);
    }
    let total = 0;
    for (const [s, cash] of pnl) {
      const px = d.engine.price(venue, s) ?? 0;
      const qty = held(venue, s, 'spot') + held(venue, s, 'linear');
      d.metrics.fundingHedgeNotional.set({ venue, symbol: s }, qty * px);
      total += cash + qty * px;
    }
    d.metrics.fundingHedgePnl.set({ venue }, total);
  }

  return { open, review, unwind, records, held };
}

export type FundingHedges = ReturnType<typeof createFundingHedges>;
