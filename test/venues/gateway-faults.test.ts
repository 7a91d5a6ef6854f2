/**
 * The simulator's fault matrix (FAULT_MATRIX, reference §3) through the gateway: every fault and natural failure
 * surfaces with the ccxt class the table lists (Binance tables chosen by path), lands on the right side of the
 * classifier (retryable / fatal / unknown outcome, with the conn actor's tag), and costs exactly one request —
 * the gateway never retries on its own, except a settlement read refused for rate (asked three times in all).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorKind, ErrorTag, VenueErrorInfo } from '../../src/venues/error-classifier.js';
import { type BosunGateway, isVenueError } from '../../src/venues/index.js';
import { type CcxtErrorClass, FAULT_MATRIX, type FaultCase, type Simulator } from '../../src/venues/sim/index.js';
import { BTC, paperGateway, requestStats, startTestSim, type VenueName } from './gateway-harness.js';

type Side = { read: ErrorKind; create: ErrorKind; tag: ErrorTag };

/** Where each ccxt class must land, written independently of the classifier's own table. */
const SIDE: Record<CcxtErrorClass, Side> = {
  AuthenticationError: { read: 'fatal', create: 'fatal', tag: 'auth' },
  PermissionDenied: { read: 'fatal', create: 'fatal', tag: 'auth' },
  AccountSuspended: { read: 'fatal', create: 'fatal', tag: 'auth' },
  BadRequest: { read: 'fatal', create: 'fatal', tag: 'bad_request' },
  BadSymbol: { read: 'fatal', create: 'fatal', tag: 'bad_request' },
  InsufficientFunds: { read: 'fatal', create: 'fatal', tag: 'insufficient_funds' },
  InvalidOrder: { read: 'fatal', create: 'fatal', tag: 'invalid_order' },
  OrderNotFound: { read: 'fatal', create: 'fatal', tag: 'not_found' },
  OrderImmediatelyFillable: { read: 'fatal', create: 'fatal', tag: 'invalid_order' },
  ExchangeError: { read: 'fatal', create: 'fatal', tag: 'rejected' },
  OperationFailed: { read: 'retryable', create: 'unknown_outcome', tag: 'unavailable' },
  NetworkError: { read: 'retryable', create: 'unknown_outcome', tag: 'network' },
  DDoSProtection: { read: 'retryable', create: 'retryable', tag: 'rate_limit' },
  RateLimitExceeded: { read: 'retryable', create: 'retryable', tag: 'rate_limit' },
  ExchangeNotAvailable: { read: 'retryable', create: 'unknown_outcome', tag: 'unavailable' },
  OnMaintenance: { read: 'retryable', create: 'unknown_outcome', tag: 'unavailable' },
  InvalidNonce: { read: 'retryable', create: 'retryable', tag: 'nonce' },
  RequestTimeout: { read: 'retryable', create: 'unknown_outcome', tag: 'timeout' },
};

/** Rows where the gateway knows better than the ccxt class (418 = ban; Kraken strings ccxt leaves unmapped). */
const OVERRIDE: Record<string, Partial<Side>> = {
  'binance/http-418': { tag: 'ban' },
  'binance/natural:weight_limit_418': { tag: 'ban' },
  'kraken/http-418': { tag: 'ban' },
  'kraken/lockout': { tag: 'ban' },
  'kraken/invalid-signature': { tag: 'auth' },
  'kraken/natural:bad_secret': { tag: 'auth' },
  'kraken/throttled': { read: 'retryable', tag: 'rate_limit' },
  'kraken/cost-minimum': { tag: 'invalid_order' },
};

let sim: Simulator;
const shared = {} as Record<VenueName, BosunGateway>;
const slow = {} as Record<VenueName, BosunGateway>;
const extra: BosunGateway[] = [];

beforeAll(async () => {
  sim = await startTestSim(41);
  for (const v of ['binance', 'kraken'] as const) {
    shared[v] = paperGateway(sim, v);
    slow[v] = paperGateway(sim, v, { timeoutMs: 400 });
    await Promise.all([shared[v].loadMarkets(), slow[v].loadMarkets()]);
  }
});

afterAll(async () => {
  for (const gw of [...Object.values(shared), ...Object.values(slow), ...extra]) await gw.close();
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

/** A gateway with no successful private call yet (ccxt turns Binance -2015 into DDoSProtection after one). */
async function freshGateway(c: FaultCase): Promise<BosunGateway> {
  const bin = c.venue === 'binance';
  const keys =
    c.natural === 'bad_api_key'
      ? { apiKey: bin ? randomBytes(32).toString('hex') : randomBytes(42).toString('base64') }
      : c.natural === 'bad_secret'
        ? { secret: bin ? randomBytes(32).toString('hex') : randomBytes(64).toString('base64') }
        : {};
  const gw = paperGateway(sim, c.venue, keys);
  extra.push(gw);
  await gw.loadMarkets();
  return gw;
}

async function gatewayFor(c: FaultCase): Promise<BosunGateway> {
  if (c.fault?.kind === 'hang' || c.fault?.kind === 'latency') return slow[c.venue];
  if (c.natural === 'bad_api_key' || c.natural === 'bad_secret' || c.natural === 'reused_nonce') return freshGateway(c);
  if (c.id === 'binance/code-2015-fresh') return freshGateway(c);
  return shared[c.venue];
}

const fair = (venue: VenueName) =>
  Number(sim.prices(venue)[venue === 'binance' ? 'binance:spot:BTCUSDT' : 'kraken:spot:XXBTZUSD']);

/** Runs the probe through the gateway; returns the classification of its failure. */
async function probe(gw: BosunGateway, c: FaultCase): Promise<VenueErrorInfo> {
  const symbol = BTC[c.venue];
  const order = async (req: Partial<Parameters<BosunGateway['createOrder']>[0]>) => {
    const r = await gw.createOrder({
      clientOrderId: `fm${randomBytes(6).toString('hex')}`,
      symbol,
      side: 'buy',
      type: 'limit',
      amount: 0.001,
      price: 50_000,
      market: 'spot',
      ...req,
    });
    if (r.status === 'accepted') throw new Error(`${c.id}: the order was accepted`);
    return r.error;
  };
  const thrown = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => new Error(`${c.id}: the call succeeded`),
      (err: unknown) => err,
    );
    if (!isVenueError(e)) throw e;
    return e.info;
  };
  switch (c.natural) {
    case 'reused_nonce':
      gw.members[0]!.exchange.nonce = () => 1_000;
      await gw.fetchBalances().catch(() => undefined);
      return thrown(gw.fetchBalances());
    case 'insufficient_funds':
      return order({ amount: 10 });
    case 'lot_size':
      return order({ amount: c.venue === 'binance' ? 0.00002 : 0.000001 });
    case 'min_notional':
      return order({ amount: 0.0001, price: 30_000 });
    case 'post_only_would_take':
      return order({ postOnly: true, price: Math.round(fair('binance') * 1.02) });
    case 'stop_would_trigger':
      return order({
        side: 'sell',
        type: 'stop_loss',
        price: undefined,
        stopPrice: Math.round(fair('binance') * 1.05),
      });
    case 'weight_limit_429':
      sim.setLimits({ spotWeightPerMinute: 5 });
      await gw.fetchTickers([symbol]);
      await gw.fetchTickers([symbol]);
      return thrown(gw.fetchTickers([symbol]));
    case 'weight_limit_418':
      sim.setLimits({ spotWeightPerMinute: 2, banAfter429s: 1 });
      await gw.fetchTickers([symbol]);
      await gw.fetchTickers([symbol]).catch(() => undefined);
      return thrown(gw.fetchTickers([symbol]));
    default:
      break;
  }
  switch (c.probe) {
    case 'fetchBalance':
      return thrown(gw.fetchBalances());
    case 'fetchTicker':
      return thrown(gw.fetchTickers([symbol]));
    case 'createOrder':
      return order({});
    case 'cancelOrder':
      return thrown(gw.cancelOrder({ symbol, id: c.venue === 'binance' ? '987654321' : 'OZZZZZ-ZZZZZ-ZZZZZZ' }));
  }
}

describe('fault matrix through the gateway', () => {
  it('covers both venues and every fault kind of the simulator', () => {
    const kinds = new Set(FAULT_MATRIX.flatMap((c) => (c.fault === undefined ? [] : [c.fault.kind])));
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining([
        'accept_then_502',
        'clock_skew',
        'disconnect',
        'hang',
        'http_418',
        'http_429',
        'http_5xx',
        'latency',
        'venue_error',
      ]),
    );
    expect(FAULT_MATRIX.filter((c) => c.venue === 'kraken').length).toBeGreaterThan(15);
  });

  it.each(FAULT_MATRIX.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const gw = await gatewayFor(c);
    const before = await requestStats(sim);
    if (c.fault !== undefined) sim.faults.add(c.fault);
    const info = await probe(gw, c);
    const after = await requestStats(sim);

    expect(info.code).toBe(c.withPathTables ?? c.expected);
    const side = { ...SIDE[c.withPathTables ?? c.expected], ...OVERRIDE[c.id] };
    const op = c.probe === 'createOrder' ? 'create' : 'read';
    expect({ kind: info.kind, tag: info.tag }).toEqual({ kind: side[op], tag: side.tag });
    if (c.fault?.kind === 'http_429' || c.fault?.kind === 'http_418') {
      if (c.venue === 'binance') expect(info.retryAfterMs).toBe((c.fault.retryAfterSec ?? 0) * 1000);
    }
    // One probe, one request: whatever the failure, the gateway did not retry — except a settlement read (the
    // balance probe) the venue refused for rate, which is asked twice more once the budget drained.
    const asks = c.probe === 'fetchBalance' && info.tag === 'rate_limit' ? 3 : 1;
    if (c.fault !== undefined) expect(after.total - before.total).toBe(asks);
  });
});

describe.each(['binance', 'kraken'] as const)('%s: HTTP 200 with a non-JSON body', (venue) => {
  const reads: Array<[string, (gw: BosunGateway) => Promise<unknown>]> = [
    ['fetchBalances', (gw) => gw.fetchBalances()],
    ['fetchTickers', (gw) => gw.fetchTickers([BTC[venue]])],
    ['fetchOrderBook', (gw) => gw.fetchOrderBook(BTC[venue], 5)],
    ['fetchOpenOrders', (gw) => gw.fetchOpenOrders(BTC[venue])],
    ['fetchMyTrades', (gw) => gw.fetchMyTrades({ symbol: BTC[venue] })],
    ['fetchOrder', (gw) => gw.fetchOrder({ symbol: BTC[venue], id: '42' })],
  ];

  // ccxt would hand back an empty balance, an empty list or an id-less order: each must be an error instead.
  it.each(reads)('makes %s a retryable bad response, not an empty answer', async (_name, call) => {
    // Active for the whole call (not `count: 1`): a helper request ccxt makes first (a time sync after the
    // clock-skew rows, say) must not use up the fault and let the real call through.
    const fault = sim.faults.add({ kind: 'garbage_200', venue });
    const err = await call(shared[venue]).catch((e: unknown) => e);
    sim.faults.remove(fault.id);
    expect(isVenueError(err) && err.info).toMatchObject({
      kind: 'retryable',
      code: 'BadResponse',
      tag: 'bad_response',
    });
  });
});
