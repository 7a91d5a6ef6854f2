/**
 * Real ccxt clients pointed at a running simulator: every URL of every tree rewritten to the sim's base URL
 * (paths kept), the options from reference §1.2 that keep loadMarkets on served endpoints, and a constructor
 * `rateLimit` small enough for tests.
 */
import ccxt, { type Exchange } from 'ccxt';
import type { Simulator } from '../../src/venues/sim/index.js';

function rewrite(tree: unknown, base: string): unknown {
  if (typeof tree === 'string') return tree.replace(/^(https?|wss?):\/\/[^/]+/, base);
  if (Array.isArray(tree)) return tree.map((t) => rewrite(t, base));
  if (tree !== null && typeof tree === 'object')
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, rewrite(v, base)]));
  return tree;
}

/** Points every ccxt URL at `base` and refuses any request that would leave it. */
export function pointAt(ex: Exchange, base: string): Exchange {
  const urls = ex.urls as Record<string, unknown>;
  for (const k of ['api', 'test', 'demo', 'apiBackup']) if (urls[k] !== undefined) urls[k] = rewrite(urls[k], base);
  const fetch = ex.fetch.bind(ex);
  ex.fetch = async (url: string, method?: string, headers?: unknown, body?: unknown) => {
    if (!url.startsWith(`${base}/`)) throw new Error(`test client refused non-simulator URL ${url}`);
    return fetch(url, method, headers, body);
  };
  return ex;
}

export interface ClientOptions {
  apiKey?: string;
  secret?: string;
  timeout?: number;
}

const BINANCE_OPTIONS = { fetchMarkets: { types: ['spot', 'linear'] }, fetchCurrencies: false, fetchMargins: false };

export function binanceClient(sim: Simulator, o: ClientOptions = {}): Exchange {
  return pointAt(
    new ccxt.binance({
      apiKey: o.apiKey ?? sim.keys.binance.apiKey,
      secret: o.secret ?? sim.keys.binance.secret,
      options: { ...BINANCE_OPTIONS, fetchOpenOrders: { warnWithoutSymbol: false } },
      rateLimit: 1,
      timeout: o.timeout ?? 5000,
    }),
    sim.baseUrl,
  );
}

export function usdmClient(sim: Simulator, o: ClientOptions = {}): Exchange {
  return pointAt(
    new ccxt.binanceusdm({
      apiKey: o.apiKey ?? sim.keys.binance.apiKey,
      secret: o.secret ?? sim.keys.binance.secret,
      options: { fetchCurrencies: false, fetchMargins: false, warnOnFetchOpenOrdersWithoutSymbol: false },
      rateLimit: 1,
      timeout: o.timeout ?? 5000,
    }),
    sim.baseUrl,
  );
}

export function krakenClient(sim: Simulator, o: ClientOptions = {}): Exchange {
  return pointAt(
    new ccxt.kraken({
      apiKey: o.apiKey ?? sim.keys.kraken.apiKey,
      secret: o.secret ?? sim.keys.kraken.secret,
      rateLimit: 1,
      timeout: o.timeout ?? 5000,
    }),
    sim.baseUrl,
  );
}

/** A fresh client sharing already-loaded markets (no loadMarkets round trip, no prior private call). */
export function freshLike(template: Exchange, make: () => Exchange): Exchange {
  const ex = make();
  ex.setMarkets(template.markets);
  return ex;
}

/** The rejection of `p`, or a failure when it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, the call succeeded');
}
