/**
 * Bosun's periodic venue calls at the default settings, and where in each period they run (issue 14, item 3: the
 * default schedule fits Kraken's starter tier with headroom).
 *
 * Every periodic job used to start when its actor did and repeat at its period, so the account refresh (30 s),
 * reconciliation (60 s), the stop validator (60 s) and the orders of a bar close (60 s bars, on the minute) met
 * on the same second each minute: 11 private calls at once on Kraken's starter counter, which the budget holds
 * at 12 (80% of 15, decaying 0.264/s). Peak pressure 0.92, above the 0.9 at which `conn` goes DEGRADED, with no
 * venue error at all. Their per-minute sum (about 13 calls) fits the counter's decay (15.8 a minute); only their
 * alignment did not. So each job runs at its own phase of the wall-clock minute, apart from the bar close (:00):
 * the account refresh at :10 and :40, reconciliation at :25, the stop validator at :50. The first run of each
 * stays immediate (boot needs it); from then on the job keeps its phase.
 */

import type { CallPriority } from './rate-budget.js';
import { RateBudget } from './rate-budget.js';
import {
  accountRefreshMs,
  BINANCE_LIMITS,
  binanceCost,
  type GatewayOp,
  type KrakenTier,
  krakenCost,
  krakenLimits,
  MIN_TICKER_POLL_MS,
  priorityOf,
} from './venue-limits.js';

/** Offsets (ms past each multiple of the period, on the epoch clock) of the periodic venue jobs. */
export const POLL_PHASE_MS = {
  /** Bars close on the minute: orders and their settlement go out at :00. */
  orders: 0,
  accountRefresh: 10_000,
  reconcile: 25_000,
  stopValidator: 50_000,
} as const;

/** ms from `now` to the next instant t > now with t ≡ phaseMs (mod everyMs). */
export function nextPhaseDelay(now: number, everyMs: number, phaseMs: number): number {
  const into = (((now - phaseMs) % everyMs) + everyMs) % everyMs;
  return into === 0 ? everyMs : everyMs - into;
}

export interface PollJob {
  name: string;
  everyMs: number;
  phaseMs: number;
  /** The venue calls of one run, in order, with the priority each is asked at. */
  calls: ReadonlyArray<{ op: GatewayOp; priority: CallPriority }>;
}

export interface PollSettings {
  krakenTier: KrakenTier;
  feedPollMs: number;
  reconcileSec: number;
  stopValidatorSec: number;
  /** Traded spot symbols (Binance reads open orders and trades per symbol; Kraken all at once). */
  symbols: number;
  /** Phases; default POLL_PHASE_MS (all 0: every job aligned on the minute, as before). */
  phases?: Partial<Record<keyof typeof POLL_PHASE_MS, number>>;
}

const at = (op: GatewayOp, priority: CallPriority = priorityOf(op)) => ({ op, priority });

/**
 * The venue's periodic calls with the default REST schedule (streams down: the fallback every deployment must
 * afford), as bench/venue-budget.bench.ts runs them through the real gateways: one order a minute at the bar close
 * with its settlement lookup (Kraken's id-only AddOrder answer is followed by QueryOrders).
 */
export function defaultPollSchedule(venue: 'binance' | 'kraken', s: PollSettings): PollJob[] {
  const phase = { ...POLL_PHASE_MS, ...s.phases };
  const perSymbol = (op: GatewayOp) => Array.from({ length: venue === 'binance' ? s.symbols : 1 }, () => at(op));
  const orders = [at('createOrder'), ...(venue === 'kraken' ? [at('fetchOrder')] : []), at('fetchOrder')];
  return [
    {
      name: 'ticker_poll',
      everyMs: Math.max(s.feedPollMs, MIN_TICKER_POLL_MS[venue] ?? 0),
      phaseMs: 0,
      calls: [at('fetchTickers')],
    },
    {
      name: 'account_refresh',
      everyMs: accountRefreshMs(venue, s.krakenTier),
      phaseMs: phase.accountRefresh,
      calls: [
        at('fetchBalances', 'account'),
        at('fetchTickers', 'account'),
        ...(venue === 'binance' ? [at('fetchPositions', 'account')] : []),
        at('fetchOpenOrders', 'account'),
      ],
    },
    {
      name: 'reconcile',
      everyMs: s.reconcileSec * 1000,
      phaseMs: phase.reconcile,
      calls: [...perSymbol('fetchOpenOrders'), at('fetchBalances'), ...perSymbol('fetchMyTrades'), at('fetchBalances')],
    },
    {
      name: 'stop_validator',
      everyMs: s.stopValidatorSec * 1000,
      phaseMs: phase.stopValidator,
      calls: [...perSymbol('fetchOpenOrders'), at('fetchBalances')],
    },
    { name: 'orders', everyMs: 60_000, phaseMs: phase.orders, calls: orders },
  ];
}

/**
 * Runs a schedule against the venue's budget on a simulated clock (calls that must wait for budget wait, as the
 * gateway's do) and returns the highest pressure seen: what `conn` would read (DEGRADED at 0.9).
 */
export function schedulePeakPressure(
  venue: 'binance' | 'kraken',
  jobs: readonly PollJob[],
  tier: KrakenTier,
  minutes = 10,
): number {
  let t = 0;
  const budget = new RateBudget({
    limits: venue === 'kraken' ? krakenLimits(tier) : BINANCE_LIMITS,
    clock: { now: () => t, sleep: async () => undefined },
  });
  const cost = venue === 'kraken' ? krakenCost : binanceCost;
  const runs = jobs.flatMap((j) => {
    const out: Array<{ at: number; job: PollJob }> = [];
    for (let s = j.phaseMs % j.everyMs; s < minutes * 60_000; s += j.everyMs) out.push({ at: s, job: j });
    return out;
  });
  runs.sort((a, b) => a.at - b.at);
  let peak = 0;
  for (const r of runs) {
    t = Math.max(t, r.at);
    for (const c of r.job.calls) {
      const k = cost(c.op, { market: 'spot', pair: 'XBTUSD', symbols: 2 });
      for (;;) {
        const a = budget.tryAcquire(k, c.priority);
        if (a.ok) break;
        t += Math.max(1, Math.ceil(a.retryInMs));
      }
      peak = Math.max(peak, budget.pressure());
    }
  }
  return peak;
}
