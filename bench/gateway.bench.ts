/**
 * createOrder round trip through CcxtGateway against the simulator on loopback (real ccxt signing, HTTP and
 * parsing, plus our validation, budget and mapping), with plain ccxt `createOrder` on the same instance as the
 * baseline, so the gateway's own cost is the difference. Kraken's gateway figure includes the QueryOrders
 * follow-up its id-only AddOrder answer needs. Measures; never asserts.
 */
import { type BosunGateway, createGateway } from '../src/venues/index.js';
import type { BudgetClock } from '../src/venues/rate-budget.js';
import type { CreateOrderRequest } from '../src/venues/venue-gateway.js';

interface Sim {
  baseUrl: string;
  keys: Record<'binance' | 'kraken', { apiKey: string; secret: string }>;
  prices(venue?: 'binance' | 'kraken'): Record<string, string>;
  close(): Promise<void>;
}

const N = 400;
const WARMUP = 30;
/** The simulator caps open orders per market (MAX_NUM_ORDERS 200): sweep well before. */
const SWEEP_EVERY = 150;

function quantiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: s.length,
    p50_ms: r(at(0.5)),
    p90_ms: r(at(0.9)),
    p99_ms: r(at(0.99)),
    max_ms: r(s.at(-1) ?? Number.NaN),
  };
}

/**
 * Our budget would (rightly) spread 400 orders over minutes; on virtual time it still meters every call but
 * never sleeps, so the figures are round trips, not our own pacing.
 */
function virtualClock(): BudgetClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      offset += ms;
    },
  };
}

async function timed(n: number, fn: (i: number) => Promise<void>, sweep: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % SWEEP_EVERY === 0) await sweep();
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  await sweep();
  return out;
}

async function benchVenue(sim: Sim, venue: 'binance' | 'kraken') {
  const symbol = venue === 'binance' ? 'BTCUSDT' : 'BTCUSD';
  const gw: BosunGateway = createGateway(venue, {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    ...sim.keys[venue],
    budgetClock: virtualClock(),
    maxBudgetWaitMs: 86_400_000, // waits are virtual: let the budget pace on its own clock, never refuse
  });
  try {
    await gw.loadMarkets();
    const m = gw.markets('spot')[symbol]!;
    const fair = Number(sim.prices(venue)[venue === 'binance' ? 'binance:spot:BTCUSDT' : 'kraken:spot:XXBTZUSD']);
    const price = Math.round((fair * 0.7) / m.tickSize) * m.tickSize; // rests: no fills, no balance drift
    const amount = Math.max(m.minQty, (m.minNotional * 2) / price);
    const qty = Number(amount.toPrecision(4));
    const run = Date.now().toString(36);
    const req = (id: string): CreateOrderRequest => ({
      clientOrderId: id,
      symbol,
      side: 'buy',
      type: 'limit',
      amount: qty,
      price,
      market: 'spot',
    });
    const failures: string[] = [];
    const viaGateway = async (id: string) => {
      const r = await gw.createOrder(req(id));
      if (r.status !== 'accepted') failures.push(r.error.code);
    };
    const sweep = async () => {
      await gw.cancelAllOrders(undefined, 'spot');
    };
    const member = gw.members[0]!;
    const ccxtSymbol = await member.venueSymbol(symbol, 'spot');
    const viaCcxt = async (id: string) => {
      const params = venue === 'binance' ? { newClientOrderId: id } : {};
      await member.exchange.createOrder(ccxtSymbol, 'limit', 'buy', qty, price, params);
    };

    await timed(WARMUP, (i) => viaGateway(`w${run}${i}`), sweep);
    await timed(WARMUP, (i) => viaCcxt(`v${run}${i}`), sweep);
    const gateway = await timed(N, (i) => viaGateway(`g${run}${i}`), sweep);
    const baseline = await timed(N, (i) => viaCcxt(`c${run}${i}`), sweep);
    return {
      gateway_create_order: quantiles(gateway),
      plain_ccxt_create_order: quantiles(baseline),
      gateway_overhead_p50_ms: Math.round((quantiles(gateway).p50_ms - quantiles(baseline).p50_ms) * 1000) / 1000,
      failures: failures.length,
      failure_codes: [...new Set(failures)],
      budget_pressure_after: Math.round(gw.pressure() * 1000) / 1000,
    };
  } finally {
    await gw.close();
  }
}

/** Runs the benchmark; reports `skipped` when the simulator cannot be loaded. */
export async function run(): Promise<Record<string, unknown>> {
  const simModule = '../src/venues/sim/index.js';
  let start: (opts: { seed?: number }) => Promise<Sim>;
  try {
    start = ((await import(simModule)) as { startSimulator: typeof start }).startSimulator;
  } catch (e) {
    return { skipped: `simulator unavailable: ${e instanceof Error ? e.message : String(e)}` };
  }
  const sim = await start({ seed: 7 });
  try {
    return {
      note: `${N} limit orders resting below market per venue, sequential, loopback; target p99 <= 5 ms`,
      binance_spot: await benchVenue(sim, 'binance'),
      kraken_spot: await benchVenue(sim, 'kraken'),
    };
  } finally {
    await sim.close();
  }
}
