import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvStore } from '../store/index.js';
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
import type { BreakoutLiveWindow } from './breakout-live-window.js';

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
  /**
   * Places the breakout order through the normal path (rails included) at `scale` of its full size (0.5 in the
   * half-size window); resolves with the fill price if filled.
   */
  submit: (d: BreakoutDecision, scale: number) => Promise<{ status: string; averagePrice: number | null }>;
  /** The go-live window (breakout-live-window.ts): when given it, not `dryRun`, says whether breakouts are live. */
  liveWindow?: BreakoutLiveWindow;
  /** Where the armed symbols are kept (`breakout:armed`): an event's arming survives a restart. */
  kv?: KvStore;
}

const ARMED_KEY = 'breakout:armed';

/** The armed symbols as stored; anything unreadable arms nothing (an arming is an opportunity, not a guard). */
function loadArmed(kv: KvStore | undefined): BreakoutState['armed'] {
  try {
    const raw = kv?.get<unknown>(ARMED_KEY);
    return raw !== null && typeof raw === 'object' ? (raw as BreakoutState['armed']) : {};
  } catch {
    return {};
  }
}

/**
 * EVENT_BREAKOUT_ENABLED arms symbols on events; prices decide. EVENT_BREAKOUT_DRY_RUN (the default) logs and
 * counts each decision and sends nothing; live decisions go through the engine and, with EVENT_BREAKOUT_METRICS,
 * their trigger latency and slippage are measured.
 */
export function createBreakout(deps: BreakoutDeps) {
  const log = deps.log.child({ actor: 'breakout' });
  let state: BreakoutState = { ...initialBreakoutState(), armed: loadArmed(deps.kv) };
  const saveArmed = () =>
    void deps.kv
      ?.put(ARMED_KEY, state.armed)
      .catch((e: unknown) => log.warn({ err: errorMessage(e) }, '[BREAKOUT] armed state not saved'));
  const isDry = () => (deps.liveWindow ? !deps.liveWindow.live() : deps.dryRun);
  const unsubscribe = deps.feed.subscribe((e) => {
    const r = onExternalEvent(state, e, { enabled: deps.enabled, tradableSymbols: deps.symbols });
    state = r.state;
    if (r.accepted) saveArmed();
    log.info({ eventId: e.id, source: e.source, accepted: r.accepted, reason: r.reason }, '[BREAKOUT] event');
  });
  return {
    state: () => state,
    /** Feeds a price; resolves once a live decision's order (if any) has been handled. */
    price(symbol: string, price: number, at: number): Promise<void> {
      if (!state.armed[symbol]) return Promise.resolve();
      const r = onPrice(state, symbol, price, at, deps.params);
      const disarmed = r.state.armed[symbol] === undefined;
      state = r.state;
      if (disarmed) saveArmed();
      const d = r.decision;
      if (!d) return Promise.resolve();
      const dry = isDry();
      const mode = dry ? 'dry_run' : 'live';
      deps.metrics.breakoutDecisions.inc({ mode, side: d.side });
      if (deps.kpis) deps.metrics.breakoutLatencyMs.observe(d.latencyMs);
      log.info({ ...d, mode }, `[BREAKOUT] ${mode} decision: ${d.side} ${d.symbol} (${d.movePct.toFixed(2)}%)`);
      if (dry) return Promise.resolve();
      const scale = deps.liveWindow?.scale() ?? 1;
      if (scale < 1) log.info({ symbol: d.symbol, scale }, '[BREAKOUT] half-size window: order at half size');
      return deps
        .submit(d, scale)
        .then((o) => {
          if (deps.kpis && o.averagePrice !== null)
            deps.metrics.breakoutSlippageBps.observe(slippageBps(d.side, d.triggerPrice, o.averagePrice));
        })
        .catch((e: unknown) => log.warn({ err: errorMessage(e), symbol: d.symbol }, '[BREAKOUT] order failed'));
    },
    stop: unsubscribe,
  };
}
