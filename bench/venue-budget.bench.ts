import { DEPEG_SYMBOLS } from '../src/actors/guards.actors.js';
import { loadConfig } from '../src/config/load-config.js';
import {
  type BudgetRefusal,
  type CallPriority,
  createGateway,
  type RateBudget,
  type VenueGateway,
} from '../src/venues/index.js';
import { nextPhaseDelay, POLL_PHASE_MS } from '../src/venues/poll-schedule.js';
import { createManualClock, startSimulator } from '../src/venues/sim/index.js';
import { accountRefreshMs, MIN_TICKER_POLL_MS } from '../src/venues/venue-limits.js';

/**
 * The request budget each venue uses per minute at the default settings (issue 14, item 3), on a simulated
 * clock: five minutes of Bosun's periodic venue calls run in under a minute, through the real gateways and ccxt
 * against the simulator (the same clock drives the simulator, the budget and the schedule).
 *
 * The schedule is Bosun's at the defaults, call for call: the ticker poll (FEED_POLL_MS, Kraken no faster than
 * MIN_TICKER_POLL_MS), the account refresh (accountRefreshMs: balances, valuation tickers, positions, open
 * orders), reconciliation (RECONCILE_INTERVAL_SEC: open orders, balances before and after, trades), the stop
 * validator (STOP_VALIDATOR_INTERVAL_SEC: open orders, balances), the depeg guard's parity books (in the ticker
 * poll: the guard reads the feed) and the funding guard (FUNDING_POLL_SEC: funding rates, positions), and one order per
 * minute with its settlement lookup, each at its phase of the minute (POLL_PHASE_MS). Figures: requests, Binance weight and Kraken counter units spent per
 * minute, peak budget pressure (conn degrades at 0.9), local refusals by priority, venue 429/418.
 */
const MINUTES = 5;
const PARITY = Object.values(DEPEG_SYMBOLS);
const STEP_MS = 250;

interface Job {
  name: string;
  everyMs: number;
  /** Offset past each multiple of the period (POLL_PHASE_MS: Bosun's jobs do not meet on one second). */
  phaseMs?: number;
  run: () => Promise<unknown>;
}

export async function run(): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const clock = createManualClock();
  const sim = await startSimulator({ seed: 17, clock });
  const out: Record<string, unknown> = { minutes: MINUTES, kraken_tier: config.KRAKEN_TIER };
  try {
    for (const venue of ['binance', 'kraken'] as const) {
      const refusals: Record<string, number> = {};
      const gw = createGateway(venue, {
        mode: 'paper',
        simBaseUrl: sim.baseUrl,
        ...sim.keys[venue],
        krakenTier: config.KRAKEN_TIER,
        budgetClock: { now: () => clock.now(), sleep: async (ms) => clock.advance(Math.ceil(ms)) },
        now: () => clock.now(),
        onBudgetRefusal: (r: BudgetRefusal) => {
          refusals[r.priority] = (refusals[r.priority] ?? 0) + 1;
        },
      });
      try {
        out[venue] = await measure(venue, gw, gw.budget, config, clock, refusals, sim);
      } finally {
        await gw.close();
      }
    }
  } finally {
    await sim.close();
  }
  return out;
}

async function measure(
  venue: 'binance' | 'kraken',
  gw: VenueGateway & { atPriority(p: CallPriority): VenueGateway },
  budget: RateBudget,
  config: ReturnType<typeof loadConfig>,
  clock: ReturnType<typeof createManualClock>,
  refusals: Record<string, number>,
  sim: Awaited<ReturnType<typeof startSimulator>>,
): Promise<Record<string, unknown>> {
  await gw.loadMarkets();
  const listed = gw.markets('spot');
  const symbols = (config.TRADE_SYMBOLS ?? []).map((s) => (venue === 'kraken' ? s.replace(/USDT$/, 'USD') : s));
  const live = symbols.filter((s) => listed[s] !== undefined);
  const account = gw.atPriority('account');
  const btc = venue === 'binance' ? 'BTCUSDT' : 'BTCUSD';
  let n = 0;
  const jobs: Job[] = [
    {
      name: 'ticker_poll',
      everyMs: Math.max(config.FEED_POLL_MS, MIN_TICKER_POLL_MS[venue] ?? 0),
      // The feed carries the depeg guard's parity books where the venue lists them (the guard polls nothing).
      run: () => gw.fetchTickers([...new Set([...live, ...PARITY.filter((p) => gw.markets('spot')[p] !== undefined)])]),
    },
    {
      name: 'account_refresh',
      everyMs: accountRefreshMs(venue, config.KRAKEN_TIER),
      phaseMs: POLL_PHASE_MS.accountRefresh,
      run: async () => {
        await account.fetchBalances();
        await account.fetchTickers([btc]);
        if (gw.marketKinds.includes('linear')) await account.fetchPositions();
        await account.fetchOpenOrders();
      },
    },
    {
      name: 'reconcile',
      everyMs: config.RECONCILE_INTERVAL_SEC * 1000,
      phaseMs: POLL_PHASE_MS.reconcile,
      run: async () => {
        if (venue === 'binance') for (const s of live) await gw.fetchOpenOrders(s, 'spot');
        else await gw.fetchOpenOrders(undefined, 'spot');
        await gw.fetchBalances('spot');
        if (venue === 'binance') for (const s of live) await gw.fetchMyTrades({ symbol: s, market: 'spot' });
        else await gw.fetchMyTrades({ market: 'spot' });
        await gw.fetchBalances('spot');
      },
    },
    {
      name: 'stop_validator',
      everyMs: config.STOP_VALIDATOR_INTERVAL_SEC * 1000,
      phaseMs: POLL_PHASE_MS.stopValidator,
      run: async () => {
        if (venue === 'binance') for (const s of live) await gw.fetchOpenOrders(s, 'spot');
        else await gw.fetchOpenOrders(undefined, 'spot');
        await gw.fetchBalances('spot');
      },
    },
    {
      name: 'order_and_settlement',
      everyMs: 60_000,
      phaseMs: POLL_PHASE_MS.orders,
      run: async () => {
        n += 1;
        const r = await gw.createOrder({
          clientOrderId: `bench${venue.slice(0, 1)}${n}${clock.now().toString(36)}`,
          symbol: btc,
          side: n % 2 === 1 ? 'buy' : 'sell',
          type: 'market',
          amount: 0.001,
          market: 'spot',
        });
        if (r.status === 'accepted') await gw.fetchOrder({ symbol: btc, market: 'spot', id: r.order.id });
      },
    },
  ];
  if (venue === 'binance') {
    jobs.push({
      name: 'funding_guard',
      everyMs: config.FUNDING_POLL_SEC * 1000,
      run: () => Promise.all([gw.fetchFundingRates(), gw.fetchPositions()]),
    });
  }
  const before = sim.requests();
  const start = clock.now();
  // Steady state: each job first at its phase (at boot Bosun also runs each once at start).
  const next = new Map(
    jobs.map((j) => [j.name, start + (nextPhaseDelay(start, j.everyMs, j.phaseMs ?? 0) % j.everyMs)]),
  );
  const failures: Record<string, number> = {};
  let peak = 0;
  const weightPerMinute: number[] = [];
  let nextMinute = start + 60_000;
  while (clock.now() - start < MINUTES * 60_000) {
    for (const j of jobs) {
      if ((next.get(j.name) ?? 0) > clock.now()) continue;
      next.set(j.name, clock.now() + j.everyMs);
      try {
        await j.run();
      } catch (e) {
        const code = (e as { info?: { code?: string } }).info?.code ?? 'other';
        failures[`${j.name}:${code}`] = (failures[`${j.name}:${code}`] ?? 0) + 1;
      }
      peak = Math.max(peak, budget.pressure());
    }
    if (clock.now() >= nextMinute) {
      const snap = budget.snapshot();
      weightPerMinute.push(Math.round((snap.spot_weight?.used ?? snap.private_calls?.used ?? 0) * 10) / 10);
      nextMinute += 60_000;
    }
    clock.advance(STEP_MS);
  }
  const after = sim.requests();
  const elapsedMin = (clock.now() - start) / 60_000;
  const byPath: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byPath)) {
    const d = v - (before.byPath[k] ?? 0);
    if (d > 0) byPath[k] = Math.round((d / elapsedMin) * 10) / 10;
  }
  const snap = budget.snapshot();
  const limits = Object.fromEntries(
    budget.limits.map((l) => [l.name, l.kind === 'window' ? l.limit : { max: l.max, decayPerSec: l.decayPerSec }]),
  );
  return {
    requests_per_min: Math.round(((after.byVenue[venue] - before.byVenue[venue]) / elapsedMin) * 10) / 10,
    requests_per_min_by_path: byPath,
    budget_limits_80pct: limits,
    budget_used_at_end: snap,
    ...(venue === 'binance'
      ? { spot_weight_last_minute: weightPerMinute }
      : { private_counter_level_each_minute: weightPerMinute }),
    peak_pressure: Math.round(peak * 1000) / 1000,
    local_refusals_by_priority: refusals,
    call_failures: failures,
    venue_429_or_418: Object.entries(after.byStatus)
      .filter(([k]) => / (429|418)$/.test(k))
      .reduce((s, [k, v]) => s + v - (before.byStatus[k] ?? 0), 0),
  };
}
