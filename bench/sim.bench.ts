/**
 * The exchange simulator on loopback: createOrder round trip through the real ccxt classes (signing, HTTP,
 * the sim's auth, filters and matching, ccxt's parsing) for Binance spot and Kraken, and the simulator's
 * sustained rate of signed requests (HMAC checked on every one). Measures; never asserts.
 */
import ccxt, { type Exchange } from 'ccxt';
import { type Simulator, signBinance, startSimulator } from '../src/venues/sim/index.js';

function quantiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: s.length,
    p50_ms: r(at(0.5)),
    p99_ms: r(at(0.99)),
    max_ms: r(at(1)),
    mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

function rewrite(tree: unknown, base: string): unknown {
  if (typeof tree === 'string') return tree.replace(/^(https?|wss?):\/\/[^/]+/, base);
  if (Array.isArray(tree)) return tree.map((t) => rewrite(t, base));
  if (tree !== null && typeof tree === 'object')
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, rewrite(v, base)]));
  return tree;
}

function client(sim: Simulator, venue: 'binance' | 'kraken'): Exchange {
  const ex =
    venue === 'binance'
      ? new ccxt.binance({
          ...sim.keys.binance,
          enableRateLimit: false,
          options: { fetchMarkets: { types: ['spot', 'linear'] }, fetchCurrencies: false, fetchMargins: false },
        })
      : new ccxt.kraken({ ...sim.keys.kraken, enableRateLimit: false });
  if (venue === 'kraken') {
    // ccxt's Kraken nonce is Date.now(): two calls in one millisecond collide (EAPI:Invalid nonce). Strictly increasing here.
    let last = Date.now() * 1000;
    ex.nonce = () => (last = Math.max(last + 1, Date.now() * 1000));
  }
  const urls = ex.urls as Record<string, unknown>;
  for (const k of ['api', 'test', 'demo', 'apiBackup'])
    if (urls[k] !== undefined) urls[k] = rewrite(urls[k], sim.baseUrl);
  return ex;
}

/** createOrder latencies for resting limit buys 20 % under the market (no fills, no balance drift). */
async function createOrderRoundTrip(sim: Simulator, venue: 'binance' | 'kraken', n: number) {
  const ex = client(sim, venue);
  await ex.loadMarkets();
  const symbol = venue === 'binance' ? 'BTC/USDT' : 'BTC/USD';
  const last = (await ex.fetchTicker(symbol)).last ?? 60_000;
  const price = Math.round(last * 0.8);
  const samples: number[] = [];
  let failures = 0;
  const run = Date.now().toString(36);
  for (let i = -20; i < n; i++) {
    if (i % 150 === 0) await ex.cancelAllOrders(venue === 'binance' ? symbol : undefined).catch(() => 0);
    const t0 = performance.now();
    try {
      await ex.createOrder(symbol, 'limit', 'buy', 0.001, price, { clientOrderId: `b${run}${i + 20}` });
    } catch {
      failures++;
    }
    if (i >= 0) samples.push(performance.now() - t0);
  }
  await ex.cancelAllOrders(venue === 'binance' ? symbol : undefined).catch(() => 0);
  return { ...quantiles(samples), failures };
}

/** Signed GET /api/v3/openOrders at a fixed concurrency over keep-alive connections. */
async function signedThroughput(sim: Simulator, total: number, concurrency: number) {
  const headers = { 'X-MBX-APIKEY': sim.keys.binance.apiKey };
  let sent = 0;
  let ok = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const q = `symbol=BTCUSDT&timestamp=${Date.now()}&recvWindow=5000`;
      const r = await fetch(`${sim.baseUrl}/api/v3/openOrders?${signBinance(sim.keys.binance.secret, q)}`, { headers });
      await r.arrayBuffer();
      if (r.status === 200) ok++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (performance.now() - t0) / 1000;
  return {
    requests: total,
    ok,
    concurrency,
    seconds: Math.round(s * 1000) / 1000,
    signed_requests_per_s: Math.round(total / s),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const sim = await startSimulator({
    seed: 7,
    limits: { spotWeightPerMinute: 1e9, futuresWeightPerMinute: 1e9 },
  });
  try {
    return {
      note: 'loopback, real ccxt 4.5.84 (enableRateLimit off); resting limit buys; throughput = signed GET openOrders (HMAC-SHA256 checked)',
      binance_spot_createOrder: await createOrderRoundTrip(sim, 'binance', 500),
      kraken_createOrder: await createOrderRoundTrip(sim, 'kraken', 500),
      binance_signed_throughput: await signedThroughput(sim, 4000, 8),
    };
  } finally {
    await sim.close();
  }
}
