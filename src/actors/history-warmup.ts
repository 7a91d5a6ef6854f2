/**
 * History warm-up (DESIGN §7): a symbol actor is warm when `/readyz` answers. At boot, and whenever the scanner
 * adds a symbol, the venue's OHLCV (`fetchHistory`, paginated within the venue's limits and request budget) is
 * folded into the actor as `history.bars`, and the warm-up waits for the HMM fits it made due. Without history
 * (a venue with no such interval, a failed request) the actor warms live, as before: history is an optimisation,
 * never a gate on trading safety, so a failure is logged and counted, not fatal.
 */
import type { AnyActorRef } from 'xstate';
import { errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import type { SymbolContext } from '../machines/symbol.machine.js';
import { fetchHistory } from '../venues/ohlcv-history.js';
import { BudgetExhausted } from '../venues/rate-budget.js';
import type { VenueGateway } from '../venues/venue-gateway.js';

export interface WarmupDeps {
  barMs: number;
  /** Closed bars to fetch: enough for the slowest strategy (the stable HMM's warm-up at the defaults). */
  bars: number;
  gateway: (venue: string) => Pick<VenueGateway, 'venue' | 'fetchOHLCV'> | undefined;
  lookup: (systemId: string) => AnyActorRef | undefined;
  log: Logger;
  now?: () => number;
  /** Longest wait for the actor to exist and for its fits to finish, and for request budget (ms). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface WarmupOutcome {
  venue: string;
  symbol: string;
  bars: number;
  requests: number;
  /** Fits made due by the history and finished before the timeout. */
  calibrated: boolean;
  short?: string;
  error?: string;
  /** Time spent fetching the history, and waiting for the fits it made due (ms). */
  fetchMs?: number;
  fitMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Resolves with the actor once it exists and is active, or undefined after `timeoutMs`. */
function actorOf(deps: WarmupDeps, id: string, timeoutMs: number): Promise<AnyActorRef | undefined> {
  const found = deps.lookup(id);
  if (found?.getSnapshot().status === 'active') return Promise.resolve(found);
  // A symbol the scanner just added is spawned a macrotask later: look again on a short timer, bounded.
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const ref = deps.lookup(id);
      if (ref?.getSnapshot().status === 'active') {
        clearInterval(timer);
        resolve(ref);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        resolve(undefined);
      }
    }, 25);
    timer.unref();
  });
}

/** Resolves true once no variant of the actor waits for a fit, false on timeout or if the actor stops. */
function fitsDone(ref: AnyActorRef, timeoutMs: number): Promise<boolean> {
  const idle = () => {
    const s = ref.getSnapshot();
    if (s.status !== 'active') return false;
    const v = (s.context as SymbolContext).strat.variants;
    return !v.stable_model.pending && !v.canary_model.pending;
  };
  if (idle()) return Promise.resolve(true);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref();
    const sub = ref.subscribe({
      next: () => {
        if (idle()) finish(true);
        else if (ref.getSnapshot().status !== 'active') finish(false);
      },
      error: () => finish(false),
      complete: () => finish(false),
    });
  });
}

export function createHistoryWarmup(deps: WarmupDeps) {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const warmed = new Map<string, WarmupOutcome>();

  /**
   * The history is market data, the planner's last priority: at boot, beside the first account refresh and ticker
   * polls, the venue's budget can refuse it for a few seconds (Kraken starter: `retry in 8603 ms`). A cold strategy
   * costs hours, a wait costs seconds: wait for the budget the planner names, within the timeout.
   */
  async function withBudget<T>(fetch: () => Promise<T>): Promise<T> {
    const deadline = now() + timeoutMs;
    for (;;) {
      try {
        return await fetch();
      } catch (e) {
        // The gateway wraps its budget's refusal in a VenueError (the refusal is its cause).
        const refusal = e instanceof BudgetExhausted ? e : e instanceof Error ? e.cause : undefined;
        const wait = refusal instanceof BudgetExhausted ? Math.ceil(refusal.retryInMs) : undefined;
        if (wait === undefined || now() + wait > deadline) throw e;
        await sleep(wait);
      }
    }
  }

  async function warm(venue: string, symbol: string): Promise<WarmupOutcome> {
    const id = actorId.symbol(venue, symbol);
    const base = { venue, symbol, bars: 0, requests: 0, calibrated: false };
    const gw = deps.gateway(venue);
    let outcome: WarmupOutcome;
    try {
      if (gw === undefined) throw new Error(`no gateway for ${venue}`);
      const t0 = performance.now();
      const h = await withBudget(() => fetchHistory(gw, { symbol, barMs: deps.barMs, bars: deps.bars, now: now() }));
      const t1 = performance.now();
      outcome = {
        ...base,
        bars: h.bars.length,
        requests: h.requests,
        ...(h.short ? { short: h.short } : {}),
        fetchMs: Math.round(t1 - t0),
      };
      const ref = h.bars.length > 0 ? await actorOf(deps, id, timeoutMs) : undefined;
      if (ref !== undefined) {
        ref.send({ type: 'history.bars', bars: h.bars.map((b) => ({ openAt: b.openTime, close: b.close })) });
        outcome.calibrated = await fitsDone(ref, timeoutMs);
        outcome.fitMs = Math.round(performance.now() - t1);
      }
    } catch (e) {
      outcome = { ...base, error: errorMessage(e) };
    }
    warmed.set(id, outcome);
    // A bar length the venue has no interval for is a setting, not news: once per symbol at debug.
    const level = outcome.error !== undefined ? 'warn' : outcome.short === 'no_timeframe' ? 'debug' : 'info';
    deps.log[level](outcome, `history warm-up ${venue}:${symbol}: ${outcome.bars} bars`);
    return outcome;
  }

  return {
    warm,
    /** Warms every symbol: one at a time per venue (the venue's budget), venues in parallel. */
    async warmAll(symbols: ReadonlyMap<string, readonly string[]>): Promise<WarmupOutcome[]> {
      const perVenue = await Promise.all(
        [...symbols].map(async ([venue, list]) => {
          const out: WarmupOutcome[] = [];
          for (const s of list) out.push(await warm(venue, s));
          return out;
        }),
      );
      return perVenue.flat();
    },
    /** The last outcome per symbol actor id. */
    outcomes: (): WarmupOutcome[] => [...warmed.values()],
  };
}

export type HistoryWarmup = ReturnType<typeof createHistoryWarmup>;
