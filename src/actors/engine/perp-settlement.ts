import { errorMessage } from '../../domain/errors.js';
import type { PerpOwner } from '../../domain/perp-ledger.js';
import { snapNearest } from '../../domain/precision.js';
import type { OrderRecord } from '../../store/index.js';
import type { Position, Trade } from '../../venues/venue-gateway.js';
import type { EngineContext } from './engine-context.js';
import { kindOf, ownerOf } from './engine-types.js';

/**
 * The perpetual side of settlement and reconciliation (DESIGN §5, §6), active when the engine has a perp book
 * (PERP_STRATEGIES_ENABLED or a funding hedge): a perpetual order's trades applied to the perp book once each by
 * trade id, funding payments applied once each by the venue's transaction id, the first boot's baseline (wallet
 * and positions), the boot-time leverage and margin mode of every traded perpetual, and the comparison of the
 * book's net positions with the venue's. Without a perp book a perpetual order settles as before (the venue's
 * positions are the truth and nothing enters a ledger).
 */

/** The perpetual settings the order path and the rails use (env: PERP_*). */
export interface PerpSettings {
  /** PERP_STRATEGIES_ENABLED: the strategies trade the perpetual of a symbol the venue lists, long and short. */
  strategies: boolean;
  leverage: number;
  marginMode: 'cross' | 'isolated';
  minLiqDistancePct: number;
  maintMarginRate: number;
}

/** When a venue's perp baseline was read (kv): owner-less trades up to it are in the baseline. */
const perpBaselineKey = (venue: string) => `pbase:${venue}`;

/** The strategy name of the funding guard's hedge orders: its fills are the `hedge` owner's. */
export const HEDGE_STRATEGY = 'funding-hedge';

/** Whose perpetual share an order's fills move; null: not Bosun's (operator, manual). */
export function perpOwnerOf(strategy: unknown): PerpOwner | null {
  if (strategy === HEDGE_STRATEGY) return 'hedge';
  const o = ownerOf(strategy);
  if (o === null) return null;
  return o === 'guard' ? 'guard' : 'strategies';
}

/** A perpetual fee in the margin asset (USDⓈ-M charges USDT unless BNB pays it, which is not the wallet's). */
const walletFee = (t: Trade) => (t.fee !== null && t.fee.currency === 'USDT' ? t.fee.cost : 0);

export function createPerpSettlement(ctx: EngineContext) {
  const { deps } = ctx;
  const { orders, journal, log } = deps;

  /**
   * Applies perpetual trades once each. A trade of no Bosun order is a triggered protective stop's (owner `stop`:
   * the position it protected) when the stop validator recognises it, else not Bosun's (owner null). `named`: the
   * clientOrderId the user-data stream gave for these trades (REST trades name only the order's venue id).
   */
  async function applyTrades(
    venue: string,
    trades: readonly Trade[],
    known?: ReadonlyMap<string, OrderRecord>,
    named: string | null = null,
  ) {
    const perps = deps.perps;
    if (!perps) return 0;
    const byId = new Map<string, OrderRecord>(known ?? []);
    if (!known)
      for (const r of orders.list())
        if (r.venue === venue && kindOf(r) === 'linear' && typeof r.venueOrderId === 'string')
          byId.set(r.venueOrderId, r);
    const writes: Promise<unknown>[] = [];
    let n = 0;
    const baselineAt = Number(deps.kv.get(perpBaselineKey(venue)) ?? 0) || 0;
    // Applied already, perhaps only in memory: the caller counts it once the first copy's commit has landed.
    const alreadyApplied = (tradeId: string): boolean => {
      if (!perps.hasTrade(venue, tradeId)) return false;
      const first = ctx.fillCommits.pending('linear', venue, tradeId);
      if (first) writes.push(first);
      return true;
    };
    for (const t of [...trades].sort((a, b) => a.timestamp - b.timestamp || a.id.localeCompare(b.id))) {
      if (t.market !== 'linear') continue;
      if (alreadyApplied(t.id)) continue;
      const rec = t.orderId ? byId.get(t.orderId) : undefined;
      // A trade of no known order from before the first-boot baseline is already in the baseline's positions and
      // wallet (found by the campaign: a restart on an empty state dir counted the warm-start position twice).
      if (rec === undefined && t.timestamp <= baselineAt) continue;
      const stopFill =
        rec === undefined &&
        (await deps.stops?.perpStopFill?.(venue, {
          symbol: t.symbol,
          orderId: t.orderId,
          clientOrderId: named,
          amount: t.amount,
        })) === true;
      // Looked up at the venue meanwhile: another path (stream, settlement) may have applied it.
      if (alreadyApplied(t.id)) continue;
      const owner = stopFill ? 'stop' : perpOwnerOf(rec?.strategy);
      const fee = walletFee(t);
      const w = perps.apply(
        venue,
        t.id,
        { symbol: t.symbol, side: t.side, amount: t.amount, price: t.price, fee },
        owner,
      );
      if (!w) continue;
      n += 1;
      const entry = journal.append({
        type: 'perp.fill',
        venue,
        tradeId: t.id,
        clientOrderId: rec?.clientOrderId ?? null,
        symbol: t.symbol,
        side: t.side,
        amount: t.amount,
        price: t.price,
        fee,
        owner,
        strategy: rec?.strategy ?? (stopFill ? 'stop' : 'external'),
        at: t.timestamp,
      });
      writes.push(ctx.fillCommits.track('linear', venue, t.id, Promise.all([w, entry])));
      if (rec === undefined && !stopFill)
        log.warn({ venue, tradeId: t.id, symbol: t.symbol }, 'perpetual trade of no Bosun order');
    }
    await Promise.all(writes);
    // A position changed: the stop validator re-protects it now rather than at its next interval.
    if (n > 0) for (const sym of new Set(trades.map((t) => t.symbol))) deps.onPerpFill?.(venue, sym);
    return n;
  }

  /** A perpetual order's trades into the perp book; the base amount the book now holds of them. */
  async function applyTradesFor(rec: OrderRecord): Promise<number> {
    const gw = ctx.venues.get(rec.venue);
    if (!deps.perps) return rec.filled;
    if (!gw || !rec.venueOrderId) return 0;
    const since = rec.createdAt - 60_000;
    const trades = await gw.gateway.fetchMyTrades({ symbol: rec.symbol, since, market: 'linear' });
    const own = trades.filter((t) => t.orderId === rec.venueOrderId);
    await applyTrades(rec.venue, own, new Map([[rec.venueOrderId as string, rec]]));
    return own.reduce((sum, t) => sum + (deps.perps?.hasTrade(rec.venue, t.id) ? t.amount : 0), 0);
  }

  /** Funding payments since the last applied one (a 24 h look-back covers three 8 h settlements). */
  async function applyFunding(venue: string): Promise<number> {
    const gw = ctx.venues.get(venue);
    const perps = deps.perps;
    if (!gw?.gateway.fetchFundingPayments || !perps) return 0;
    const since = Math.max(0, deps.now() - 24 * 3_600_000);
    const payments = await gw.gateway.fetchFundingPayments(since);
    const writes: Promise<unknown>[] = [];
    for (const p of payments) {
      if (p.asset !== 'USDT') continue;
      const w = perps.applyFunding(venue, p.id, p.symbol, p.amount);
      if (!w) continue;
      writes.push(
        w,
        journal.append({
          type: 'perp.funding',
          venue,
          tranId: p.id,
          symbol: p.symbol,
          amount: p.amount,
          at: p.timestamp,
        }),
      );
    }
    await Promise.all(writes);
    deps.metrics.perpFundingUsdt.set({ venue }, perps.venue(venue)?.funding ?? 0);
    return writes.length / 2;
  }

  /** The perpetuals to follow on a venue: traded symbols the venue lists as perpetuals, and those with orders. */
  function followed(venue: string): string[] {
    const out = new Set<string>();
    for (const s of deps.symbols[venue] ?? []) if (ctx.market(venue, s, 'linear')) out.add(s);
    for (const r of orders.list()) if (r.venue === venue && kindOf(r) === 'linear') out.add(r.symbol);
    return [...out];
  }

  /** Trades and funding since the last run, then the book's net positions against the venue's; the mismatches. */
  async function reconcile(venue: string): Promise<{ fills: number; mismatches: string[] }> {
    const gw = ctx.venues.get(venue);
    const perps = deps.perps;
    if (!gw || !perps || !gw.gateway.marketKinds.includes('linear')) return { fills: 0, mismatches: [] };
    const symbols = followed(venue);
    let fills = 0;
    // Binance serves userTrades 7 days back at most; a day covers every run but a long outage (reported).
    const since = Math.max(0, deps.now() - 24 * 3_600_000);
    for (const s of symbols)
      fills += await applyTrades(venue, await gw.gateway.fetchMyTrades({ symbol: s, since, market: 'linear' }));
    await applyFunding(venue);
    const read = await gw.gateway.fetchPositions(symbols);
    noteVenuePositions(venue, read, symbols);
    const atVenue = new Map(read.map((p) => [p.symbol, signedQty(p)]));
    const book = perps.venue(venue)?.positions ?? {};
    const mismatches: string[] = [];
    for (const s of symbols) {
      const a = book[s]?.qty ?? 0;
      const b = atVenue.get(s) ?? 0;
      if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)))
        mismatches.push(`${s}:perp position: ledger ${a} venue ${b}`);
    }
    return { fills, mismatches };
  }

  /**
   * A venue's first boot: its margin wallet and positions become the baseline (they are not Bosun's). The
   * venue reports the margin balance (wallet + unrealized PnL): the wallet is that minus the positions'
   * unrealized PnL, read on both sides of the balance until both reads agree (the mark moves between reads).
   */
  async function baseline(venue: string): Promise<void> {
    const gw = ctx.venues.get(venue);
    const perps = deps.perps;
    if (!gw || !perps || perps.hasVenue(venue) || !gw.gateway.marketKinds.includes('linear')) return;
    // Taken before the reads: a trade after it is applied on top of the baseline, one before it is in it.
    const at = deps.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await gw.gateway.fetchPositions();
      const total = (await gw.gateway.fetchBalances('linear')).USDT?.total ?? 0;
      const after = await gw.gateway.fetchPositions();
      const upnl = (ps: Position[]) => ps.reduce((s, p) => s + (p.unrealizedPnl ?? 0), 0);
      if (before.length > 0 && upnl(before) !== upnl(after)) continue;
      const positions: Record<string, { qty: number; entryPrice: number }> = {};
      for (const p of after) positions[p.symbol] = { qty: signedQty(p), entryPrice: p.entryPrice ?? 0 };
      await deps.kv.put(perpBaselineKey(venue), at);
      // The venue books the wallet in USDT to 8 decimals; margin balance − unrealized PnL carries binary noise.
      const wallet = snapNearest(total - upnl(after), 1e-8);
      await perps.baseline(venue, wallet, positions);
      await journal.append({ type: 'perp.baseline', venue, wallet, positions });
      return;
    }
    throw new Error(`${venue}: perpetual positions moved between reads five times; no perp baseline (retried)`);
  }

  /**
   * Sets PERP_MAX_LEVERAGE and PERP_MARGIN_MODE on every perpetual the strategies trade. Fail closed: a symbol
   * the venue refused (a margin mode change with a position open) takes no perpetual entries (`isConfigured`),
   * since the liquidation rail assumes PERP_MAX_LEVERAGE; exits still pass.
   */
  async function configure(venue: string): Promise<string[]> {
    const gw = ctx.venues.get(venue);
    const p = deps.perp;
    if (!gw?.gateway.configurePerp || !p?.strategies) return [];
    const failed: string[] = [];
    for (const s of followed(venue)) {
      try {
        await gw.gateway.configurePerp(s, { leverage: p.leverage, marginMode: p.marginMode });
        configured.add(`${venue}:${s}`);
      } catch (e) {
        failed.push(s);
        log.error({ venue, symbol: s, err: errorMessage(e) }, 'could not set leverage / margin mode on a perpetual');
      }
    }
    return failed;
  }

  /**
   * Before the first entry on a perpetual the boot did not configure (a symbol the scanner added, or one the venue
   * refused at boot): PERP_MARGIN_MODE and PERP_MAX_LEVERAGE now. False: still unconfigured (entries refused).
   */
  async function configureOne(venue: string, symbol: string): Promise<boolean> {
    const gw = ctx.venues.get(venue);
    const p = deps.perp;
    if (!gw?.gateway.configurePerp || !p?.strategies) return false;
    try {
      await gw.gateway.configurePerp(symbol, { leverage: p.leverage, marginMode: p.marginMode });
      configured.add(`${venue}:${symbol}`);
      return true;
    } catch (e) {
      log.error({ venue, symbol, err: errorMessage(e) }, 'could not set leverage / margin mode on a perpetual');
      return false;
    }
  }

  /**
   * The venue's own liquidation price per position, as the last read of its positions reported it (reconciliation,
   * the stop validator's pass). It knows what the rail's formula cannot: fees and margin taken from an isolated
   * position, margin removed by hand, the maintenance bracket; the rail takes the nearer of both (fail closed).
   */
  const venueLiq = new Map<string, { side: 'long' | 'short'; price: number }>();
  function noteVenuePositions(venue: string, positions: readonly Position[], read?: readonly string[]): void {
    for (const s of read ?? []) venueLiq.delete(`${venue}:${s}`);
    for (const p of positions)
      if (p.liquidationPrice !== null && p.liquidationPrice > 0)
        venueLiq.set(`${venue}:${p.symbol}`, { side: p.side, price: p.liquidationPrice });
      else venueLiq.delete(`${venue}:${p.symbol}`);
  }

  const configured = new Set<string>();
  return {
    configureOne,
    noteVenuePositions,
    venueLiquidation: (venue: string, symbol: string) => venueLiq.get(`${venue}:${symbol}`),
    applyTrades,
    applyTradesFor,
    applyFunding,
    reconcile,
    baseline,
    configure,
    followed,
    isConfigured: (venue: string, symbol: string) => configured.has(`${venue}:${symbol}`),
  };
}

export type PerpSettlement = ReturnType<typeof createPerpSettlement>;

const signedQty = (p: Position) => (p.side === 'short' ? -p.amount : p.amount);
