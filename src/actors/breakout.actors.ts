import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import {
  type BreakoutDecision,
  type BreakoutParams,
  type BreakoutState,
  type ExternalEvent,
  initialBreakoutState,
  onExternalEvent,
  onPrice,
  slippageBps,
} from '../strategies/breakout.js';

/**
 * `events.external_feed`: the in-process feed accepted external events are published onto (the signed
 * `POST /events/external` route publishes here), and the event-breakout consumer of it.
 */
export function createExternalFeed() {
  const subs = new Set<(e: ExternalEvent) => void>();
  return {
    publish(e: ExternalEvent): void {
      for (const s of subs) s(e);
    },
    subscribe(fn: (e: ExternalEvent) => void): () => void {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}
export type ExternalFeed = ReturnType<typeof createExternalFeed>;

export interface BreakoutDeps {
  feed: ExternalFeed;
  enabled: boolean;
  dryRun: boolean;
  kpis: boolean;
  symbols: readonly string[];
  params: BreakoutParams;
  metrics: Metrics;
  log: Logger;
  /** Places the breakout order through the normal path (rails included); resolves with the fill price if filled. */
  submit: (d: BreakoutDecision) => Promise<{ status: string; averagePrice: number | null }>;
}

/**
 * EVENT_BREAKOUT_ENABLED arms symbols on events; prices decide. EVENT_BREAKOUT_DRY_RUN (the default) logs and
 * counts each decision and sends nothing; live decisions go through the engine and, with EVENT_BREAKOUT_METRICS,
 * their trigger latency and slippage are measured.
 */
export function createBreakout(deps: BreakoutDeps) {
  const log = deps.log.child({ actor: 'breakout' });
  let state: BreakoutState = initialBreakoutState();
  const unsubscribe = deps.feed.subscribe((e) => {
    const r = onExternalEvent(state, e, { enabled: deps.enabled, tradableSymbols: deps.symbols });
    state = r.state;
    log.info({ eventId: e.id, source: e.source, accepted: r.accepted, reason: r.reason }, '[BREAKOUT] event');
  });
  return {
    state: () => state,
    /** Feeds a price; resolves once a live decision's order (if any) has been handled. */
    price(symbol: string, price: number, at: number): Promise<void> {
      if (!state.armed[symbol]) return Promise.resolve();
      const r = onPrice(state, symbol, price, at, deps.params);
      state = r.state;
      const d = r.decision;
      if (!d) return Promise.resolve();
      const mode = deps.dryRun ? 'dry_run' : 'live';
      deps.metrics.breakoutDecisions.inc({ mode, side: d.side });
      if (deps.kpis) deps.metrics.breakoutLatencyMs.observe(d.latencyMs);
      log.info({ ...d, mode }, `[BREAKOUT] ${mode} decision: ${d.side} ${d.symbol} (${d.movePct.toFixed(2)}%)`);
      if (deps.dryRun) return Promise.resolve();
      return deps
        .submit(d)
        .then((o) => {
          if (deps.kpis && o.averagePrice !== null)
            deps.metrics.breakoutSlippageBps.observe(slippageBps(d.side, d.triggerPrice, o.averagePrice));
        })
        .catch((e: unknown) => log.warn({ err: errorMessage(e), symbol: d.symbol }, '[BREAKOUT] order failed'));
    },
    stop: unsubscribe,
  };
}
