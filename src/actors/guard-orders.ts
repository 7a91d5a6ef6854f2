import type { RiskLimits } from '../config/risk-limits.js';
import type { VenueId } from '../domain/ids.js';
import type { EngineVenue } from './engine/engine-types.js';
import type { FundingHedges } from './funding-hedge.js';
import type { GuardsDeps } from './guards.actors.js';
import type { LedgerBook } from './ledger-book.js';
import type { ReducingScopes } from './reducing-scopes.js';
import type { TradingEngine } from './trading-engine.js';

/**
 * The guards' orders (DESIGN §8), sent through the engine and its rails like every order: the depeg exit
 * (DEPEG_EXIT_RISK sells Bosun's own USDT-quoted positions) and the funding trim (a reduce-only perpetual order,
 * with an optional BTC hedge). Each first puts the scope it unwinds in REDUCING (reducing-scopes.ts): the exit's
 * sells pass, new entries there do not, until the cause is gone.
 */
export interface GuardOrdersDeps {
  engine: TradingEngine;
  book: LedgerBook;
  venues: readonly EngineVenue[];
  limits: (symbol: string) => RiskLimits;
  minTradeUsdt: number;
  reducing: ReducingScopes;
  /** The funding hedge's lifecycle (own owner, end rule); without it no hedge is placed. */
  hedges?: FundingHedges;
}

export function createGuardOrders(
  d: GuardOrdersDeps,
): Pick<GuardsDeps, 'reduceUsdtExposure' | 'executeFunding' | 'reviewFundingHedges'> {
  return {
    async reduceUsdtExposure(reason) {
      let sent = 0;
      const px = d.engine.assetPrices();
      for (const v of d.venues) {
        for (const [symbol, m] of Object.entries(v.gateway.markets('spot'))) {
          if (m.quote !== 'USDT') continue;
          const held = d.book.ownedPosition(v.id, symbol);
          const price = px[m.base];
          if (!(held > 0) || price === undefined || held * price < d.minTradeUsdt) continue;
          await d.reducing.enter('symbol', `${v.id}:${symbol}`, 'depeg_exit');
          const r = await d.engine.submitGuard({
            venue: v.id,
            symbol,
            side: 'sell',
            quote: d.limits(symbol).maxNotionalUsdt,
            strategy: 'depeg',
            reason,
          });
          if (r.status !== 'rejected') sent += 1;
        }
      }
      return sent;
    },
    async executeFunding(venue, plan) {
      const limits = d.limits(plan.symbol);
      const price = plan.trim.amount > 0 ? plan.trim.notionalUsdt / plan.trim.amount : 0;
      // One reduce-only order per spike, capped at MAX_NOTIONAL_USDT (the rails' notional cap applies to trims).
      const trim = await d.engine.submitGuard({
        venue: venue as VenueId,
        symbol: plan.symbol,
        side: plan.trim.side,
        quote: Math.min(plan.trim.notionalUsdt, limits.maxNotionalUsdt),
        price,
        market: 'linear',
        reduceOnly: true,
        strategy: 'funding',
        reason: `funding_trim:${plan.ratePct.toFixed(4)}%`,
      });
      const trimmed = trim.status !== 'rejected';
      // The hedge has its own owner and end rule (funding-hedge.ts); a short trim is hedged on the perpetual.
      const hedged =
        trimmed && plan.hedge !== null && d.hedges !== undefined ? await d.hedges.open(venue, plan) : false;
      // After the hedge (an entry of its own): the trimmed symbol takes only reducing orders while the spike lasts.
      if (trimmed) await d.reducing.enter('symbol', `${venue}:${plan.symbol}`, 'funding_trim');
      return { trimmed, hedged };
    },
    reviewFundingHedges: async (venue, spiking) => {
      await d.hedges?.review(venue, spiking);
    },
  };
}
