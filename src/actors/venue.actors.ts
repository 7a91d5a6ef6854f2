import { type AnyActorRef, fromCallback } from 'xstate';
import { actorId } from '../domain/ids.js';
import { valueHoldings } from '../domain/valuation.js';
import type { Logger } from '../logging/logger.js';
import { accountMachine } from '../machines/account.machine.js';
import { CONN_DEFAULTS, type ConnContext, type ConnInput, connMachine, judge } from '../machines/conn.machine.js';
import { feedMachine } from '../machines/feed.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { SubtreeProvider } from '../supervisor/runtime.js';
import { createSupervisor, type SupervisorHooks } from '../supervisor/supervisor.js';
import { POLL_PHASE_MS } from '../venues/poll-schedule.js';
import type { MarketStream } from '../venues/streams/market-stream.js';
import type { UserDataEvent, UserDataStream } from '../venues/streams/user-data-stream.js';
import type { MarketKind, Ticker, VenueGateway } from '../venues/venue-gateway.js';
import type { AccountBook } from './account-book.js';
import { streamingFeedSource } from './feed-stream.js';
import { everyInterval } from './periodic.js';
import type { RoutedTick } from './tick-router.js';
import { createVenueLink, type LinkOutcome } from './venue-link.js';

/**
 * The effects of one venue subtree (DESIGN §3: venue:<v> rest_for_one over conn, feed, account) and the
 * subtree itself. Every async failure in a callback actor is caught and turned into an event: a throw inside a
 * timer would escape XState as an uncaughtException (reference §2.3).
 */
export interface VenueActorsDeps {
  venue: string;
  gateway: VenueGateway;
  metrics: Metrics;
  log: Logger;
  book: AccountBook;
  /** Looks an actor up by systemId in the running tree (the tree exists only after the runtime starts). */
  lookup: (systemId: string) => AnyActorRef | undefined;
  symbols: string[];
  /** The symbols to poll now, when the set changes at run time (the scanner's shortlist); else `symbols`. */
  symbolsNow?: () => readonly string[];
  feedIntervalMs: number;
  feedStaleMs: number;
  accountIntervalMs: number;
  hooks: SupervisorHooks;
  now?: () => number;
  restartIntensity?: number;
  restartPeriodMs?: number;
  /** Overrides of the conn health thresholds (window size, error-rate limits). */
  conn?: Partial<Omit<ConnInput, 'venue' | 'failClosed'>>;
  /** Where ticks go (the coalescing tick router); without it they are sent straight to the symbol actors. */
  onTick?: (tick: RoutedTick) => void;
  /** High-resolution clock for tick receive times (`strategy_tick_to_order_latency_ms`). */
  hr?: () => number;
  /** Children started after conn, feed and account (symbols:<venue>, breakers), in this order. */
  extra?: Array<{ spec: ChildSpec; logics: Record<string, unknown> }>;
  /** Period of venue clock measurements (default 10 min). */
  clockSyncMs?: number;
  /** Every venue request outcome, for the venue error-rate breaker. */
  onOutcome?: (ok: boolean) => void;
  /** Receives the linked gateway (outcomes reported, blocked on auth/ban/breaker) for the order path. */
  onLink?: (gateway: VenueGateway) => void;
  /** Streamed tickers (STREAMS_ENABLED): a new stream per feed source; REST polling stays the fallback. */
  marketStream?: () => MarketStream;
  /**
   * Symbols the feed also reads for readers other than the strategies (the depeg guard's parity books): they go
   * to `onQuote` only, never to a symbol actor, and one the venue does not list is skipped without complaint.
   */
  watchSymbols?: readonly string[];
  /** Every tick the feed delivers, traded or watched (the shared quote board). */
  onQuote?: (venue: string, t: Ticker) => void;
  /**
   * The account's user-data streams (STREAMS_ENABLED), one per market kind (Binance spot and USDⓈ-M), run by the
   * account actor beside its REST refresh.
   */
  userData?: {
    /** New streams per invocation of the account's refresher. */
    streams: () => UserDataStream[];
    onEvent: (e: UserDataEvent, market: MarketKind) => void;
    onLive: (live: boolean, market: MarketKind) => void;
    /**
     * The refresh period while the stream is live: balances and orders arrive by stream, so the REST refresh
     * only checks (on Kraken's starter counter a 30 s refresh took 4 of its 15.8 calls a minute).
     */
    liveRefreshMs: number;
  };
}

/** How often the venue clock is measured again (GET /time, weight 1). */
const CLOCK_SYNC_MS = 10 * 60_000;

/** Reasons for which the link stops sending requests until conn recovers or an operator resets it. */
const BLOCKING = /^(auth|ban|breaker):/;

export function buildVenueSubtree(deps: VenueActorsDeps): SubtreeProvider {
  const { venue, metrics } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ actor: actorId.venue(venue) });
  const connId = actorId.conn(venue);

  const report = (o: LinkOutcome) => {
    // Our own budget said no: nothing reached the venue, so it is neither a venue error nor a 429 for conn
    // (the budget counts it in engine_venue_local_refusals_total).
    if (o.local) return;
    if (!o.ok) metrics.venueErrors.inc({ venue, kind: o.kind ?? 'other' });
    // The venue error-rate breaker counts what the venue did: answers and venue-side failures (network, 5xx,
    // exchange errors). Local refusals (budget, blocked), our own invalid orders, auth and bans are judged by conn.
    if (o.ok) deps.onOutcome?.(true);
    else if (o.kind === 'network' || o.kind === 'exchange') deps.onOutcome?.(false);
    const conn = deps.lookup(connId);
    if (!conn) return;
    conn.send({
      type: 'conn.result',
      ok: o.ok,
      kind: o.kind,
      message: o.message,
      retryAfterMs: o.retryAfterMs,
      at: now(),
    });
    // `venue_error_rate_pct` is the venue breaker's measure (VENUE_ERROR_BREAKER_PCT), set where it is judged.
  };
  const link = createVenueLink(venue, deps.gateway, report);
  deps.onLink?.(link.gateway);

  const conn = connMachine.provide({
    actions: {
      'conn.publish': ({ context }) => {
        const h = judge(context as ConnContext, (context as ConnContext).lastAt);
        if (h.value === 'HALTED' && BLOCKING.test(h.reason)) {
          if (link.blocked() !== h.reason)
            log.error({ reason: h.reason }, 'venue blocked: no more requests until it clears');
          link.block(h.reason);
        } else if (link.blocked() !== undefined) {
          log.info('venue unblocked');
          link.unblock();
        }
      },
    },
  });

  /**
   * A configured symbol the venue does not list never ticks: its actor says so (DEGRADED with the reason, not a
   * healthy actor with 0 ticks) and the log names it once. The feed polls the listed ones.
   */
  const unlisted = new Set<string>();
  const refuseUnlisted = (symbols: readonly string[]) => {
    for (const s of symbols) {
      const reason = `unlisted: ${s} is not listed at ${venue}`;
      if (!unlisted.has(s)) {
        unlisted.add(s);
        log.error({ symbol: s }, `configured symbol refused: ${reason}`);
      }
      // Same value and reason is not an edge: a no-op after the first, and it survives a symbol actor restart.
      deps.lookup(actorId.symbol(venue, s))?.send({ type: 'health.degrade', reason });
    }
  };

  const watch = new Set(deps.watchSymbols ?? []);
  const traded = () => deps.symbolsNow?.() ?? deps.symbols;
  /** What the feed reads: the traded symbols, then the watched ones not traded. */
  const feedSymbols = (tradedNow: readonly string[]): string[] =>
    watch.size === 0 ? [...tradedNow] : [...new Set([...tradedNow, ...watch])];

  /** One tick to the quote board, then to the router (or straight to its symbol actor) when it is traded. */
  const deliver = (t: Ticker, t0: number) => {
    deps.onQuote?.(venue, t);
    if (watch.has(t.symbol) && !traded().includes(t.symbol)) return;
    if (deps.onTick) {
      deps.onTick({ venue, symbol: t.symbol, bid: t.bid, ask: t.ask, last: t.last, receivedAt: t.receivedAt, t0 });
      return;
    }
    deps.lookup(actorId.symbol(venue, t.symbol))?.send({
      type: 'venue.tick',
      venue,
      symbol: t.symbol,
      bid: t.bid,
      ask: t.ask,
      last: t.last,
      receivedAt: t.receivedAt,
    });
  };

  /** One REST poll of every listed symbol; returns the ticks delivered. */
  const pollOnce = async (alive: () => boolean, symbolsAtStart: readonly string[]): Promise<number> => {
    deps.lookup(connId)?.send({ type: 'conn.pressure', value: link.gateway.pressure(), at: now() });
    await link.gateway.loadMarkets();
    // Only symbols this venue lists; an unknown one would fail the whole batch.
    const spot = link.gateway.markets('spot');
    const wanted = deps.symbolsNow?.() ?? symbolsAtStart;
    if (wanted.some((s) => spot[s] === undefined)) refuseUnlisted(wanted.filter((s) => spot[s] === undefined));
    const symbols = feedSymbols(wanted).filter((s) => spot[s] !== undefined);
    const tickers = symbols.length > 0 ? await link.gateway.fetchTickers(symbols) : {};
    if (!alive()) return 0;
    const t0 = (deps.hr ?? (() => performance.now()))();
    let n = 0;
    for (const t of Object.values(tickers)) {
      deliver(t, t0);
      n += 1;
    }
    return n;
  };
  // Every poll, good or bad, lets conn re-judge time-based conditions (a ban expiring, a 429 cooling down).
  const connTick = () => deps.lookup(connId)?.send({ type: 'conn.tick', at: now() });

  const poller = fromCallback<{ type: string }, { venue: string; symbols: string[]; intervalMs: number }>(
    ({ input, sendBack }) =>
      everyInterval(
        input.intervalMs,
        async (alive) => {
          const n = await pollOnce(alive, input.symbols);
          if (alive()) sendBack({ type: 'feed.polled', at: now(), ticks: n });
        },
        (error) => sendBack({ type: 'feed.failed', at: now(), error }),
        connTick,
      ),
  );

  // The account refresh reads what reconciliation reads (balances, open orders), one class below it.
  const accountGw = link.gateway.atPriority?.('account') ?? link.gateway;
  // The venue clock is measured at loadMarkets, again every CLOCK_SYNC_MS and after a -1021 (conn shows it).
  let clockSyncedAt = now();
  const checkClock = async () => {
    const due = now() - clockSyncedAt >= (deps.clockSyncMs ?? CLOCK_SYNC_MS);
    const needed = due || accountGw.clockOffsetMs?.() === undefined || accountGw.clockSyncNeeded?.() === true;
    if (accountGw.syncClock && needed) {
      clockSyncedAt = now();
      await accountGw.syncClock();
    }
    const offsetMs = accountGw.clockOffsetMs?.();
    if (offsetMs !== undefined) deps.lookup(connId)?.send({ type: 'conn.clock', offsetMs, at: now() });
  };
  const marketStream = deps.marketStream;
  const source =
    marketStream === undefined
      ? poller
      : streamingFeedSource({
          stream: marketStream,
          poll: (alive) => pollOnce(alive, deps.symbols),
          deliver,
          // The stream subscribes only what the venue lists (market-stream.ts maps each through the symbol map).
          symbols: () => feedSymbols(traded()),
          now,
          hr: deps.hr ?? (() => performance.now()),
          afterEach: connTick,
        });

  const refresher = fromCallback<{ type: string }, { venue: string; intervalMs: number }>(({ input, sendBack }) => {
    const ud = deps.userData;
    const streams = ud?.streams() ?? [];
    const live = new Set<MarketKind>();
    let refreshedAt = Number.NEGATIVE_INFINITY;
    for (const stream of streams) {
      const market = stream.market;
      stream.start({
        onEvent: (e) => ud?.onEvent(e, market),
        onStatus: (st) => {
          const on = st.state === 'live';
          if (on === live.has(market)) return;
          if (on) live.add(market);
          else live.delete(market);
          ud?.onLive(on, market);
          const reason = st.reason ?? 'closed';
          sendBack({ type: 'account.stream', market, state: on ? 'live' : 'down', reason, at: now() });
          if (on) log.info({ market }, 'user-data stream live: fills and orders by stream, account refresh slowed');
          else log.warn({ market, reason }, 'user-data stream down: settlement reads REST');
        },
      });
    }
    // Balances and orders come by stream only while every stream is live; otherwise the refresh keeps its pace.
    const streamLive = () => streams.length > 0 && live.size === streams.length;
    const stop = everyInterval(
      input.intervalMs,
      async (alive) => {
        if (streamLive() && ud !== undefined && now() - refreshedAt < ud.liveRefreshMs) return;
        refreshedAt = now();
        await accountGw.loadMarkets();
        await checkClock();
        const balances = await accountGw.fetchBalances();
        const holdings = Object.entries(balances).map(([asset, b]) => ({ asset, total: b.total }));
        const spot = link.gateway.markets('spot');
        const pairs: Record<string, string> = {};
        for (const h of holdings) {
          for (const q of ['USDT', 'USD', 'USDC']) {
            if (spot[`${h.asset}${q}`] && !pairs[h.asset]) pairs[h.asset] = `${h.asset}${q}`;
          }
        }
        const tickers = Object.keys(pairs).length > 0 ? await accountGw.fetchTickers(Object.values(pairs)) : {};
        const prices: Record<string, number> = {};
        for (const [asset, sym] of Object.entries(pairs)) {
          const t = tickers[sym];
          const p = t?.last ?? (t?.bid != null && t?.ask != null ? (t.bid + t.ask) / 2 : null);
          if (p !== null && p !== undefined) prices[asset] = p;
        }
        const positions = accountGw.marketKinds.includes('linear') ? await accountGw.fetchPositions() : [];
        const open = await accountGw.fetchOpenOrders();
        if (!alive()) return;
        const v = valueHoldings(holdings, prices, positions);
        const summary = {
          cashUsd: v.cashUsd,
          marketValueUsd: v.marketValueUsd,
          equityUsd: v.equityUsd,
          exposureUsd: v.exposureUsd,
          openOrders: open.length,
          assets: holdings.filter((h) => h.total !== 0).length,
        };
        deps.book.update(venue, { summary, balances, at: now() });
        sendBack({ type: 'account.refreshed', at: now(), summary });
      },
      (error) => sendBack({ type: 'account.failed', at: now(), error }),
      undefined,
      // Its own second of the minute, away from the bar close, reconciliation and the stop validator.
      { phaseMs: POLL_PHASE_MS.accountRefresh, now },
    );
    return () => {
      stop();
      for (const market of live) ud?.onLive(false, market);
      for (const stream of streams) void stream.stop().catch(() => undefined);
    };
  });

  const feed = feedMachine.provide({ actors: { poller: source } });
  const account = accountMachine.provide({ actors: { refresher } });
  const sup = createSupervisor({
    strategy: 'rest_for_one',
    intensity: deps.restartIntensity ?? 5,
    periodMs: deps.restartPeriodMs ?? 30_000,
    backoff: { minMs: 250, maxMs: 8_000, factor: 2, jitter: 0.2, resetAfterMs: 30_000, immediateFirst: true },
    now,
    hooks: deps.hooks,
    logics: { conn, feed, account, ...Object.assign({}, ...(deps.extra ?? []).map((e) => e.logics)) },
    children: [
      { id: connId, src: 'conn', input: { venue, ...CONN_DEFAULTS, ...deps.conn }, shutdownMs: 0 },
      {
        id: actorId.feed(venue),
        src: 'feed',
        input: { venue, symbols: deps.symbols, intervalMs: deps.feedIntervalMs, staleMs: deps.feedStaleMs },
        shutdownMs: 1_000,
      },
      {
        id: actorId.account(venue),
        src: 'account',
        input: { venue, intervalMs: deps.accountIntervalMs, maxFailures: 3 },
        shutdownMs: 1_000,
      },
      ...(deps.extra ?? []).map((e) => e.spec),
    ],
  });
  return {
    spec: { id: actorId.venue(venue), src: `venue:${venue}`, shutdownMs: 5_000 },
    logics: { [`venue:${venue}`]: sup },
    allowedEvents: { conn: ['conn.reset'] },
  };
}
