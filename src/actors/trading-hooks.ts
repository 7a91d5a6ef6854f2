import type { AnyActorRef } from 'xstate';
import type { Policies } from '../config/files.schema.js';
import { isSymbolAllowedByPolicy, resolveRiskLimits } from '../config/risk-limits.js';
import { AppError, errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import type { Store } from '../store/index.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { UserDataEvent } from '../venues/streams/user-data-stream.js';
import type { MarketKind, VenueGateway } from '../venues/venue-gateway.js';
import type { LedgerBook } from './ledger-book.js';
import type { TradingConfig } from './trading-deps.js';
import type { EngineVenue, TradingEngine } from './trading-engine.js';

/**
 * What the rest of Bosun reads from and hands to the trading pipeline besides its port (trading.actors.ts wires
 * them): the ledger as the venue view's drift reads it, the scanner's and the executor's hooks, the venue link's
 * gateway swap, the user-data stream's settlement and gap fill, the venue breaker's outcomes.
 */
export function createTradingHooks(d: {
  config: TradingConfig;
  engine: TradingEngine;
  book: LedgerBook;
  store: Store;
  engineVenues: EngineVenue[];
  liveSymbols: Record<string, readonly string[]>;
  symbolSpecs: ReadonlyMap<string, (symbol: string) => ChildSpec>;
  policies: () => Policies;
  lookup: (id: string) => AnyActorRef | undefined;
  log: Logger;
  now: () => number;
}) {
  const { engine, book, store, engineVenues, liveSymbols, log } = d;
  return {
    /** The ledger as the venue view's drift and `/status` read it (account-book.ts). */
    ledgerView: {
      balances: (venue: string) => book.balances(venue),
      valuation: () => book.valuation(engine.assetPrices()),
      markets: (venue: string) => engineVenues.find((v) => v.id === venue)?.gateway.markets('spot') ?? {},
    },
    /** The venue link's gateway replaces the raw one, so order traffic counts toward conn and is blocked with it. */
    useLinkedGateway(venue: string, gw: VenueGateway): void {
      const ev = engineVenues.find((v) => v.id === venue);
      if (ev) ev.gateway = gw;
    },
    /** The live symbol set of a venue (feed, engine) and the scanner's hooks to change it. */
    liveSymbols: (venue: string): readonly string[] => liveSymbols[venue] ?? [],
    setLiveSymbols(venue: string, list: readonly string[]): void {
      liveSymbols[venue] = [...list];
    },
    symbolSpec(venue: string, symbol: string): ChildSpec {
      const f = d.symbolSpecs.get(venue);
      if (!f) throw new AppError('NOT_FOUND', `no symbols supervisor for '${venue}'`);
      return f(symbol);
    },
    /** Symbols whose actor must stay: a strategy position, or a protective order (reduce-only, stop) resting. */
    protectedSymbols(venue: string): Set<string> {
      const out = new Set<string>();
      for (const s of liveSymbols[venue] ?? []) if (book.ownedPosition(venue, s) > 0) out.add(s);
      for (const r of store.orders.listOpen()) {
        if (r.venue !== venue) continue;
        const type = String(r.type ?? '');
        if (r.reduceOnly === true || type.startsWith('stop') || type.startsWith('take_profit')) out.add(r.symbol);
      }
      return out;
    },
    /** ops/policies.yaml's allow/block lists (the scanner's candidates pass it). */
    symbolAllowed: (symbol: string) => isSymbolAllowedByPolicy(d.policies(), symbol),
    maxNotionalUsdt: (symbol: string) => resolveRiskLimits(d.config, d.policies(), symbol).maxNotionalUsdt,
    equityUsd: () => book.valuation(engine.assetPrices()).equityUsd,
    /** The executor's own position in USD at the latest price the engine has (null before any). */
    positionUsd(venue: string, symbol: string): { usd: number; price: number } | null {
      const p = engine.price(venue, symbol);
      return p === undefined ? null : { usd: book.executorPosition(venue, symbol) * p, price: p };
    },
    /** Cancels a symbol's resting entry orders (reduce-only orders and stops stay; see engine.cancelOpen). */
    drain: (venue: string, symbol: string) => engine.cancelOpen({ venue, symbol }),
    /**
     * The venue's user-data stream (venue.actors.ts runs it): fills and order updates to settlement; a gap (the
     * stream was not listening) filled by reconciling the venue by REST, ranked as settlement, unless a
     * reconciliation finished after it. The first gap of a boot is boot recovery's.
     */
    userData: (venue: string) => ({
      onEvent(e: UserDataEvent): void {
        if (e.type === 'order' || e.type === 'fill') engine.onUserData(venue, e);
        if (e.type !== 'gap') return;
        // The first gap of a stream (since null) is boot recovery's, and orders settled before the stream was live
        // read REST anyway; a reconnect's gap is filled unless a reconciliation finished after it.
        const at = engine.reconciledAt(venue);
        if (e.since === null || (at !== undefined && at >= e.until)) return;
        log.info({ venue, since: e.since, until: e.until, reason: e.reason }, 'user-data gap: reconciling by REST');
        void engine
          .reconcileVenue(venue)
          .catch((err: unknown) => log.warn({ venue, err: errorMessage(err) }, 'gap fill failed'));
      },
      onLive: (on: boolean, market: MarketKind) => engine.setUserDataLive(venue, on, market),
    }),
    onVenueOutcome(venue: string, ok: boolean): void {
      d.lookup(actorId.venueBreaker(venue))?.send({ type: 'breaker.result', ok, at: d.now() });
    },
  };
}
