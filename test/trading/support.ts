import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BosunGateway, createGateway, type KrakenTier } from '../../src/venues/index.js';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';

/**
 * Trading tests run Bosun as a process against a simulator owned by the test (an external sim, as `npm run sim`
 * gives): the venue outlives Bosun's restarts and the test reads the venue's truth directly.
 */
export const TOKEN = 'test-token-0123456789abcdef';

export async function startVenue(seed = 11): Promise<Simulator> {
  // Streams push as often as tradingEnv's FEED_POLL_MS polls, so a streaming Bosun sees the same tick rate.
  return startSimulator({ host: '127.0.0.1', port: 0, seed, streams: { pushMs: 200 } });
}

/**
 * A private copy of ops/ so a test can edit the operator files; its policies.yaml sets no limits (policies only
 * tighten env, and the shipped one caps assets below the simulator's seeded holdings).
 */
export function opsCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-ops-'));
  cpSync(resolve(import.meta.dirname, '../../ops'), dir, { recursive: true });
  writeFileSync(join(dir, 'policies.yaml'), 'version: 1\n');
  return dir;
}

/** Env pointing Bosun's paper gateways at `sim` (its base URL and default accounts' keys), with the test token. */
export function venueEnv(sim: Simulator): Record<string, string> {
  return {
    BINANCE_BASE_URL: sim.baseUrl,
    KRAKEN_BASE_URL: sim.baseUrl,
    BINANCE_API_KEY: sim.keys.binance.apiKey,
    BINANCE_API_SECRET: sim.keys.binance.secret,
    KRAKEN_API_KEY: sim.keys.kraken.apiKey,
    KRAKEN_API_SECRET: sim.keys.kraken.secret,
    OPS_API_TOKEN: TOKEN,
  };
}

/** Env pointing Bosun's paper gateways at `sim`, with fast bars so strategies trade within seconds. */
export function tradingEnv(sim: Simulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...venueEnv(sim),
    FEED_POLL_MS: '200',
    BAR_MS: '400',
    TREND_FAST_BARS: '3',
    TREND_SLOW_BARS: '10',
    TREND_ENTRY_Z: '0.3',
    HMM_WARMUP_BARS: '60',
    ORDER_COOLDOWN_SEC: '2',
    MIN_TRADE_USDT: '10',
    MAX_NOTIONAL_USDT: '50',
    MAX_SYMBOL_EXPOSURE_USDT: '10000000',
    MAX_VENUE_EXPOSURE_USDT: '10000000',
    MAX_ASSET_EXPOSURE_USDT: '10000000',
    EQUITY_FLOOR_USD: '1000',
    MAX_DRAWDOWN_PCT: '50',
    PORTFOLIO_SNAPSHOT_SEC: '1',
    RECONCILE_INTERVAL_SEC: '3600',
    CONFIG_POLL_SEC: '1',
    OPS_DIR: opsCopy(),
    // These tests hold every order at the venue to Bosun's order records; the stop validator's protective stops
    // live in its own book (test/guards/stop-validator.test.ts), so it only counts here unless a test opts in.
    STOP_VALIDATOR_REPAIR: 'false',
    ...extra,
  };
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

export async function post(
  url: string,
  body: unknown,
  opts: { token?: boolean; key?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-ops-actor': 'test' };
  if (opts.token !== false) headers['x-ops-token'] = TOKEN;
  headers['idempotency-key'] = opts.key ?? randomUUID();
  const r = await fetch(url, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  /** Between probes: 50 ms suits an HTTP probe; an in-process probe run hundreds of times may ask for less. */
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface OrderViewJson {
  clientOrderId: string;
  venue: string;
  symbol: string;
  side: string;
  strategy: string;
  status: string;
  amount: number;
  filled: number;
  venueOrderId: string | null;
  createdAt: number;
}

export function simBalances(sim: Simulator, venue: 'binance' | 'kraken'): Record<string, number> {
  const acct = sim.state({ venue }).accounts.find((a) => a.apiKey === sim.keys[venue].apiKey);
  if (!acct) throw new Error(`no ${venue} account`);
  return Object.fromEntries(Object.entries(acct.spot).map(([a, b]) => [a, b.free + b.locked]));
}

export function simOrders(sim: Simulator, venue: 'binance' | 'kraken') {
  const acct = sim.state({ venue }).accounts.find((a) => a.apiKey === sim.keys[venue].apiKey);
  return sim.state({ venue }).orders.filter((o) => o.account === acct?.id && o.market === 'spot');
}

/** Relative difference, with an absolute floor for values near zero. */
export function relDiff(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b), 1e-9);
  return Math.abs(a - b) / scale;
}

/** A paper gateway through the real ccxt classes on `sim`, with the venue's default account, as main.ts builds it. */
export function simGateway(sim: Simulator, venue: 'binance' | 'kraken', krakenTier?: KrakenTier): BosunGateway {
  return createGateway(venue, {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    apiKey: sim.keys[venue].apiKey,
    secret: sim.keys[venue].secret,
    ...(krakenTier === undefined ? {} : { krakenTier }),
  });
}

/**
 * Someone buys on the venue's web page, behind Bosun: a market order through a gateway of its own on the same
 * account (a clientOrderId no Bosun id has). Answers the venue's acknowledgement.
 */
export async function manualBuy(
  sim: Simulator,
  keys: { apiKey: string; secret: string },
  o: { clientOrderId: string; symbol: string; amount: number },
): Promise<{ status: string }> {
  const manual = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl, ...keys });
  try {
    await manual.loadMarkets();
    return await manual.createOrder({ ...o, side: 'buy', type: 'market', market: 'spot' });
  } finally {
    await manual.close();
  }
}
