import { afterEach, describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { createAccountBook } from '../../src/actors/account-book.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { type BudgetClock, createGateway, VenueError } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { startVenueRig } from '../support/runtime-options.js';
import { until } from '../trading/support.js';
import { BTC, cid, paperGateway, startTestSim } from './gateway-harness.js';

/**
 * The per-venue budget planner against the simulator through the real ccxt classes: a venue 429 with
 * Retry-After stops that venue's calls of that class until then, Kraken's "rate limit exceeded" fills our
 * counter, and our own refusals are never counted as venue errors.
 */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A budget clock a test moves by hand (the simulator's market clock is separate and stays put). */
function steppedClock(): BudgetClock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      offset += ms;
    },
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** The runtime's governance key/value, in memory (nothing here outlives the test). */
function memoryKv() {
  const m = new Map<string, unknown>();
  return {
    get: (k: string) => m.get(k),
    put: async (k: string, v: unknown) => m.set(k, v),
  };
}

async function sim(): Promise<Simulator> {
  const s = await startTestSim(11);
  cleanup.push(() => s.close());
  return s;
}

const BALANCE = 'POST /0/private/BalanceEx';

/** A Kraken gateway on a stepped budget clock, its markets loaded. */
async function krakenGateway(extra: { settlementBudgetWaitMs?: number } = {}) {
  const s = await sim();
  const clock = steppedClock();
  const gw = paperGateway(s, 'kraken', { budgetClock: clock, maxBudgetWaitMs: 1_000, ...extra });
  cleanup.push(() => gw.close());
  await gw.loadMarkets();
  return { s, clock, gw };
}

/** The next `count` balance reads meet Kraken's "EAPI:Rate limit exceeded" (no Retry-After). */
function refuseBalances(s: Simulator, count: number): void {
  s.faults.add({
    kind: 'venue_error',
    venue: 'kraken',
    path: '/0/private/BalanceEx',
    error: 'EAPI:Rate limit exceeded',
    count,
  });
}

/**
 * A Kraken gateway whose balance read met "EAPI:Rate limit exceeded" on its first ask and both retries: the
 * private counter is full from here on.
 */
async function krakenRateLimited(extra: { settlementBudgetWaitMs?: number } = {}) {
  const k = await krakenGateway(extra);
  refuseBalances(k.s, 3);
  await expect(k.gw.fetchBalances()).rejects.toMatchObject({ info: { tag: 'rate_limit' } });
  return k;
}

describe('Retry-After from the venue', () => {
  it('a Binance 429 with Retry-After: 30 stops every spot call until then, orders included', async () => {
    const s = await sim();
    const clock = steppedClock();
    // Settlement-class calls wait no longer than the rest here, so the pause shows as refusals.
    const gw = paperGateway(s, 'binance', {
      budgetClock: clock,
      maxBudgetWaitMs: 5_000,
      settlementBudgetWaitMs: 5_000,
    });
    cleanup.push(() => gw.close());
    await gw.loadMarkets();
    s.faults.add({ kind: 'http_429', venue: 'binance', path: '/api/v3/ticker', retryAfterSec: 30, count: 1 });
    const err = await gw.fetchTickers([BTC.binance]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).info).toMatchObject({ tag: 'rate_limit', retryAfterMs: 30_000 });

    const before = s.requests().byVenue.binance;
    const order = await gw.createOrder({
      clientOrderId: cid('ra'),
      symbol: BTC.binance,
      side: 'buy',
      type: 'market',
      amount: 0.001,
      market: 'spot',
    });
    expect(order).toMatchObject({ status: 'rejected', error: { code: 'BudgetExhausted' } });
    await expect(gw.fetchTickers([BTC.binance])).rejects.toMatchObject({ info: { code: 'BudgetExhausted' } });
    await expect(gw.fetchBalances()).rejects.toMatchObject({ info: { code: 'BudgetExhausted' } });
    // Nothing reached the venue inside the 30 s.
    expect(s.requests().byVenue.binance).toBe(before);
    // USDⓈ-M is another limit at Binance and keeps working.
    await expect(gw.fetchFundingRates()).resolves.toBeDefined();

    clock.advance(30_001);
    await expect(gw.fetchTickers([BTC.binance])).resolves.toHaveProperty(BTC.binance);
  });

  it("Kraken 'EAPI:Rate limit exceeded' (no Retry-After) fills the private counter: the next call waits for it to drain", async () => {
    const { s, clock, gw } = await krakenRateLimited({ settlementBudgetWaitMs: 1_000 });
    const before = s.requests().byVenue.kraken;
    await expect(gw.fetchOpenOrders()).rejects.toMatchObject({ info: { code: 'BudgetExhausted' } });
    expect(s.requests().byVenue.kraken).toBe(before);
    // Settlement may fill 95% of the 80% counter (11.4 of 12): 1.6 units drain in 6.1 s at 0.264/s.
    clock.advance(6_200);
    await expect(gw.fetchOpenOrders()).resolves.toBeInstanceOf(Array);
  });

  it('a settlement read refused for rate is asked again once the counter drained, at most twice', async () => {
    // A boot after a restart: our budget is empty, the venue's counter still holds the last process's calls.
    const { s, clock, gw } = await krakenGateway();
    const before = s.requests().byPath[BALANCE] ?? 0;
    const t0 = clock.now();
    refuseBalances(s, 2);
    await expect(gw.fetchBalances()).resolves.toBeDefined();
    expect((s.requests().byPath[BALANCE] ?? 0) - before).toBe(3);
    // Each retry waited for the filled counter to drain to settlement's share: 1.6 units at 0.264/s, 6.1 s.
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2 * 6_000);

    // A third refusal in a row is the caller's: the read fails after three asks.
    const again = s.requests().byPath[BALANCE] ?? 0;
    refuseBalances(s, 3);
    await expect(gw.fetchBalances()).rejects.toMatchObject({ info: { tag: 'rate_limit' } });
    expect((s.requests().byPath[BALANCE] ?? 0) - again).toBe(3);
  });

  it('an account refresh read (below settlement) refused for rate is not asked again: its next run is', async () => {
    const { s, gw } = await krakenGateway();
    const before = s.requests().byPath[BALANCE] ?? 0;
    refuseBalances(s, 1);
    await expect(gw.atPriority('account').fetchBalances()).rejects.toMatchObject({ info: { tag: 'rate_limit' } });
    expect((s.requests().byPath[BALANCE] ?? 0) - before).toBe(1);
  });

  it('by default a settlement call waits for the Kraken counter to drain instead of failing (nothing sent early)', async () => {
    const { gw } = await krakenRateLimited();
    await expect(gw.fetchOpenOrders()).resolves.toBeInstanceOf(Array);
  });
});

describe('local refusals are not venue errors', () => {
  async function stack(s: Simulator) {
    const metrics: Metrics = createMetrics({ defaultMetrics: false });
    const book = createAccountBook(metrics);
    const outcomes: boolean[] = [];
    // 2% of Binance's limits: 120 weight a minute, so the 25 ms ticker poll runs out within a second.
    const gateway = createGateway('binance', {
      mode: 'paper',
      simBaseUrl: s.baseUrl,
      ...s.keys.binance,
      timeoutMs: 2_000,
      budgetFraction: 0.02,
      maxBudgetWaitMs: 0,
      onBudgetRefusal: (r) => metrics.venueLocalRefusals.inc({ venue: 'binance', priority: r.priority }),
    });
    cleanup.push(() => gateway.close());
    const runtime = await startVenueRig({
      metrics,
      kv: memoryKv(),
      venue: {
        venue: 'binance',
        gateway,
        book,
        symbols: ['BTCUSDT'],
        feedIntervalMs: 25,
        feedStaleMs: 60_000,
        accountIntervalMs: 60_000,
        onOutcome: (ok) => outcomes.push(ok),
      },
    });
    cleanup.push(() => runtime.shutdown());
    const conn = () => runtime.root().system.get('conn:binance') as AnyActorRef;
    const counter = async (m: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> }, l: object) =>
      (await m.get()).values.find((v) => Object.entries(l).every(([k, x]) => (v.labels as never)[k] === x))?.value ?? 0;
    return { metrics, conn, outcomes, counter };
  }

  it('budget refusals count in engine_venue_local_refusals_total, not as 429s, conn errors or breaker outcomes', async () => {
    const s = await sim();
    const st = await stack(s);
    await until('five local refusals of the ticker poll', async () =>
      (await st.counter(st.metrics.venueLocalRefusals, { priority: 'market' })) >= 5 ? true : undefined,
    );
    expect(await st.counter(st.metrics.venueLocalRefusals, { venue: 'binance', priority: 'market' })).toBeGreaterThan(
      0,
    );
    expect(await st.counter(st.metrics.venueErrors, { venue: 'binance', kind: 'rate_limit' })).toBe(0);
    const c = st.conn().getSnapshot().context;
    expect(c.errors).toBe(0);
    expect(c.health.reason).not.toMatch(/rate_limited/);
    expect(st.outcomes).not.toContain(false);
    expect(s.requests().byStatus['binance 429'] ?? 0).toBe(0);
  });
});
