/**
 * createOrder round trip through CcxtGateway against the simulator on loopback (real ccxt: signing, HTTP,
 * parsing, our validation and budget), with plain ccxt `createOrder` on the same instance as the baseline, so
 * the gateway's own overhead is the difference. Measures; never asserts.
 */
import { createGateway } from '../src/venues/index.js';
import type { CreateOrderRequest, VenueGateway } from '../src/venues/venue-gateway.js';

type Sim = {
  baseUrl: string;
  keys: Record<'binance' | 'kraken', { apiKey: string; secret: string }>;
  close(): Promise<void>;
};

function quantiles(samples: number[]): { n: number; p50_ms: number; p99_ms: number; mean_ms: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: s.length,
    p50_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    mean_ms: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

async function timeIt(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

/** A resting limit buy well under the market: no fills, no balance drift between samples. */
async function restingPrice(gw: VenueGateway, symbol: string): Promise<number> {
  const t = (await gw.fetchTickers([symbol]))[symbol];
  const tick = gw.markets()[symbol]?.tickSize ?? 0.01;
  const ref = t?.bid ?? t?.last ?? 1;
  return Math.round((ref * 0.8) / tick) * tick;
}

async function benchVenue(sim: Sim, venue: 'binance' | 'kraken', symbol: string, n: number) {
  const gw = createGateway(venue, {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    ...sim.keys[venue],
    rateLimitMs: 1,
    // The bench measures latency, not our limiter: allow the whole run without waiting.
    maxBudgetWaitMs: 0,
    ...(venue === 'kraken' ? { krakenTier: 'pro' as const } : {}),
  });
  try {
    await gw.loadMarkets();
    const price = await restingPrice(gw, symbol);
    const minQty = gw.markets()[symbol]?.minQty ?? 0.001;
    const amount = Math.max(minQty, (gw.markets()[symbol]?.minNotional ?? 10) / price) * 1.5;
    const member = gw.members[0]!;
    const ccxtSymbol = await member.venueSymbol(symbol, 'spot');
    const req = (id: string): CreateOrderRequest => ({
      clientOrderId: id,
      symbol,
      side: 'buy',
      type: 'limit',
      amount: Number(amount.toPrecision(6)),
      price,
      market: 'spot',
    });
    const run = Date.now().toString(36);
    const failures: string[] = [];
    const place = async (id: string) => {
      const r = await gw.createOrder(req(id));
      if (r.status !== 'accepted') failures.push(r.error.code);
    };
    await timeIt(20, (i) => place(`w${run}${i}`)); // warm-up: connections, JIT
    const gateway = await timeIt(n, (i) => place(`g${run}${i}`));
    const raw = await timeIt(n, (i) =>
      member.exchange.createOrder(ccxtSymbol, 'limit', 'buy', Number(amount.toPrecision(6)), price, {
        ...(venue === 'binance' ? { newClientOrderId: `r${run}${i}` } : {}),
      }),
    );
    await gw.cancelAllOrders().catch(() => 0);
    return {
      gateway: quantiles(gateway),
      plain_ccxt_baseline: quantiles(raw),
      failures: failures.length,
      failure_codes: [...new Set(failures)],
    };
  } finally {
    await gw.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const simModule = '../src/venues/sim/index.js';
  let startSimulator: (opts: { port?: number; seed?: number }) => Promise<Sim>;
  try {
    ({ startSimulator } = (await import(simModule)) as { startSimulator: typeof startSimulator });
  } catch (e) {
    return { skipped: `simulator unavailable: ${e instanceof Error ? e.message : String(e)}` };
  }
  const sim = await startSimulator({ seed: 7 });
  try {
    const n = 300;
    return {
      note: 'createOrder round trip on loopback, limit orders resting below market; baseline = ccxt.createOrder on the same instance',
      binance_spot: await benchVenue(sim, 'binance', 'BTCUSDT', n),
      kraken_spot: await benchVenue(sim, 'kraken', 'BTCUSD', n),
    };
  } finally {
    await sim.close();
  }
}
