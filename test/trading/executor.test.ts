import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTOR_MAX_ATTEMPTS } from '../../src/actors/executor.actors.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type InProcessBosun, startInProcess } from './in-process.js';
import { getJson, type OrderViewJson, opsCopy, post, simOrders, startVenue, until } from './support.js';

/**
 * The executor end to end (issue 5 item 5): the trading stack composed in this process as main.ts composes it
 * (real ccxt classes against the simulator, real LMDB, engine and rails), EXEC_INTERVAL_SEC=1. Bars close every
 * second, and every close brings the strategies' signal to the engine; the strategies are still warming up (signal
 * 0, target 0) for the whole test. The executor's position is its own: a strategy at target 0 must not sell what
 * the executor bought (it did once, when both shared one position: the next bar close sold it back), so every
 * order at the venue here is the executor's.
 * The allocation targets BTCUSDT on binance only, capped by `max_usdt` so one order (≤ MAX_NOTIONAL_USDT) reaches it.
 * The only knob env cannot set: the live stack's retry back-off is 50 ms (main.ts: EXECUTOR_BACKOFF_MS, 2 s); the
 * attempt bound (EXECUTOR_MAX_ATTEMPTS) is the production one.
 */
interface ExecutorViewJson {
  enabled: boolean;
  running: boolean;
  stopped: boolean;
  dryRun: boolean;
  health: string;
  reason: string | null;
  rebalances: number;
  failures: number;
  attempt: number;
  lastError: string | null;
}

const allocations = (ops: string, btcUsdt: number) =>
  writeFileSync(
    join(ops, 'capital_allocations.json'),
    JSON.stringify({
      reserve_pct: 0,
      venues: { binance: 1 },
      symbols: { BTCUSDT: 1 },
      max_usdt: { symbols: { BTCUSDT: btcUsdt } },
    }),
  );

const env = (ops: string, dryRun: boolean) => ({
  OPS_DIR: ops,
  VENUES: 'binance',
  TRADE_SYMBOLS: 'BTCUSDT',
  EXECUTOR_ENABLED: 'true',
  EXEC_INTERVAL_SEC: '1',
  DRY_RUN: dryRun ? 'true' : 'false',
  BAR_MS: '1000',
  TREND_SLOW_BARS: '200',
  HMM_WARMUP_BARS: '100000',
  MIN_TRADE_USDT: '10',
  MAX_NOTIONAL_USDT: '50',
});

async function metric(b: InProcessBosun, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${b.ops}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The venue's orders, one line each, so a count that is off says which order was extra. */
const venueOrders = (sim: Simulator) =>
  simOrders(sim, 'binance').map((o) => `${o.side} ${o.status} ${o.clientOrderId ?? ''}`);
/** Bars the BTCUSDT symbol actor has closed (its strategies' bar count). */
const barsClosed = (b: InProcessBosun): number =>
  (b.runtime.actor('sym:binance:BTCUSDT', true)?.context as { strat?: { bars?: number } } | undefined)?.strat?.bars ??
  0;
const view = (b: InProcessBosun) => getJson<ExecutorViewJson>(`${b.engine}/executor`);
const executorOrders = async (b: InProcessBosun) =>
  (await getJson<{ orders: OrderViewJson[] }>(`${b.engine}/orders?limit=1000`)).orders.filter(
    (o) => o.strategy === 'executor',
  );
const simCreates = (sim: Simulator) => sim.requests().byPath['POST /api/v3/order'] ?? 0;
const tickerReads = (sim: Simulator) =>
  Object.entries(sim.requests().byPath)
    .filter(([k]) => k.startsWith('GET /api/v3/ticker'))
    .reduce((n, [, v]) => n + v, 0);
/** Waits until the simulator has served `n` more feed reads (the feed polls every FEED_POLL_MS): time passing, observed. */
async function feedReads(sim: Simulator, n: number): Promise<void> {
  const from = tickerReads(sim);
  await until(`${n} feed reads`, () => (tickerReads(sim) >= from + n ? true : undefined), 10_000);
}

let sim: Simulator;
let ops: string;
let b: InProcessBosun;
let drySim: Simulator;
let dry: InProcessBosun;

// Both stacks boot side by side (the DRY_RUN one keeps deciding while the live tests run).
beforeAll(async () => {
  [sim, drySim] = await Promise.all([startVenue(51), startVenue(52)]);
  ops = opsCopy();
  allocations(ops, 40);
  const dryOps = opsCopy();
  allocations(dryOps, 40);
  [b, dry] = await Promise.all([
    startInProcess(sim, env(ops, false), undefined, { executorBackoffMs: 50 }),
    startInProcess(drySim, env(dryOps, true)),
  ]);
}, 15_000);
afterAll(async () => {
  await Promise.all([b?.stop(), dry?.stop()]);
  await Promise.all([sim?.close(), drySim?.close()]);
});

describe('executor, live (DRY_RUN=false)', () => {
  it('sends one rebalancing order through the rails to the simulator, then nothing once the target is reached', async () => {
    const filled = await until('an executor order filled', async () => {
      const o = (await executorOrders(b)).find((x) => x.status === 'filled');
      return o;
    });
    expect(filled).toMatchObject({ venue: 'binance', symbol: 'BTCUSDT', side: 'buy', strategy: 'executor' });
    const atVenue = simOrders(sim, 'binance');
    expect(atVenue.length).toBe(1);
    expect(atVenue[0]).toMatchObject({ side: 'buy', status: 'filled' });
    expect(atVenue[0]?.id).toBe(filled.venueOrderId);
    // The same order in Bosun's LMDB, tagged with the executor's strategy.
    expect(b.store.orders.get(filled.clientOrderId)).toMatchObject({ strategy: 'executor', status: 'filled' });
    // Counted when the engine answers the executor; the fill can reach the store first (user-data stream).
    await expect.poll(() => metric(b, 'executor_orders_total', 'mode="live"'), { timeout: 10_000 }).toBe(1);
    // Two more passes with the target reached (|40 − position| < MIN_TRADE_USDT), and bars closing meanwhile (each
    // close hands the strategies' target-0 signal to the engine): nothing more is sent.
    const r0 = (await view(b)).rebalances;
    const bars0 = barsClosed(b);
    await until('two more rebalances', async () => ((await view(b)).rebalances >= r0 + 2 ? true : undefined), 10_000);
    await until('two more bar closes', () => (barsClosed(b) >= bars0 + 2 ? true : undefined), 10_000);
    expect(venueOrders(sim)).toHaveLength(1);
    expect(b.trading.book.executorPosition('binance', 'BTCUSDT')).toBeGreaterThan(0);
    expect(b.trading.book.strategyPosition('binance', 'BTCUSDT')).toBe(0);
    expect(await metric(b, 'executor_orders_total', 'mode="live"')).toBe(1);
    expect((await view(b)).health).toBe('OK');
  });

  it('POST /executor/stop parks it (no orders, even with a new target); POST /executor/start resumes', async () => {
    expect((await post(`${b.engine}/executor/stop`, undefined, { token: false })).status).toBe(401);
    const stopped = await post(`${b.engine}/executor/stop`, undefined);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ stopped: true, running: false });
    const r0 = (await view(b)).rebalances;
    allocations(ops, 80);
    await until('the new allocation is loaded', () =>
      b.trading.allocations().max_usdt?.symbols?.BTCUSDT === 80 ? true : undefined,
    );
    // More than an interval's worth of feed reads (FEED_POLL_MS=200): a running executor would have sent a buy by now.
    await feedReads(sim, 8);
    expect((await view(b)).rebalances).toBe(r0);
    expect(venueOrders(sim)).toHaveLength(1);
    expect(await metric(b, 'executor_orders_total', 'mode="live"')).toBe(1);

    const started = await post(`${b.engine}/executor/start`, undefined);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ stopped: false, running: true });
    await until('the second executor order', async () =>
      (await executorOrders(b)).filter((o) => o.status === 'filled').length === 2 ? true : undefined,
    );
    expect(venueOrders(sim)).toHaveLength(2);
    await expect.poll(() => metric(b, 'executor_orders_total', 'mode="live"'), { timeout: 10_000 }).toBe(2);
  });

  it('every attempt failing: at most EXECUTOR_MAX_ATTEMPTS per rebalance, then DEGRADED until the next interval', async () => {
    // Every order create fails at the venue (502, nothing booked): the first attempt's outcome is unknown, and the
    // order holds the executor's slot while it is resolved (binance's accept window), so the retries are refused
    // by the rails (in_flight) before anything more is sent.
    const creates0 = simCreates(sim);
    const inFlight0 = await metric(b, 'breaker_rejections_total', 'reason="in_flight"');
    const live0 = await metric(b, 'executor_orders_total', 'mode="live"');
    const v0 = await view(b);
    const fault = sim.faults.add({
      venue: 'binance',
      kind: 'http_5xx',
      status: 502,
      path: '/api/v3/order',
      method: 'POST',
    });
    allocations(ops, 130);
    const degraded = await until(
      'executor DEGRADED',
      async () => {
        const v = await view(b);
        return v.health === 'DEGRADED' ? v : undefined;
      },
      8_000,
    );
    expect(degraded.reason).toMatch(/^retries_exhausted: 3 attempts failed \(binance:BTCUSDT in_flight/);
    expect(degraded.failures - v0.failures).toBe(EXECUTOR_MAX_ATTEMPTS);
    expect(degraded.attempt).toBe(0);
    expect(degraded.rebalances).toBe(v0.rebalances);
    const node = await getJson<{ health: string; reason: string }>(`${b.engine}/actors/executor`);
    expect(node.health).toBe('DEGRADED');
    expect(node.reason).toMatch(/^retries_exhausted/);
    // One create reached the venue (attempt 1); attempts 2 and 3 were refused by the rails, never sent.
    expect(simCreates(sim) - creates0).toBe(1);
    expect((await metric(b, 'breaker_rejections_total', 'reason="in_flight"')) - inFlight0).toBe(
      EXECUTOR_MAX_ATTEMPTS - 1,
    );
    await expect
      .poll(async () => (await metric(b, 'executor_orders_total', 'mode="live"')) - live0, { timeout: 10_000 })
      .toBe(1);

    // The next interval starts a fresh rebalance, again bounded: failures grow by maxAttempts per interval, and
    // the attempts that reach the venue stay at one per unresolved order.
    const again = await until(
      'the next interval exhausts its attempts too',
      async () => {
        const v = await view(b);
        return v.failures >= degraded.failures + EXECUTOR_MAX_ATTEMPTS && v.attempt === 0 ? v : undefined;
      },
      8_000,
    );
    expect(again.failures - v0.failures).toBe(2 * EXECUTOR_MAX_ATTEMPTS);
    expect(again.health).toBe('DEGRADED');
    expect(simCreates(sim) - creates0).toBeLessThanOrEqual(2);
    expect(sim.faults.remove(fault.id)).toBe(true);
  });

  it('/kill: the rails refuse with trading_halted, one refusal per interval, nothing sent, nothing counted as an order', async () => {
    // The baselines are read once the kill is acknowledged, not before: the executor still wants its 130 USDT
    // (the previous test's fault is gone), so a pass landing between a baseline read before the kill and the kill
    // itself sent a real create and the counts below were off by one (about 1 run in 22 with other suites, whose
    // load widens that window). The ack is given only once every create already handed to the venue is answered.
    expect((await post(`${b.ops}/kill`, { enabled: false })).status).toBe(200);
    const creates0 = simCreates(sim);
    const live0 = await metric(b, 'executor_orders_total', 'mode="live"');
    const halted0 = await metric(b, 'breaker_rejections_total', 'reason="trading_halted"');
    const r0 = (await view(b)).rebalances;
    const v = await until(
      'two rebalances answered by the halted rails',
      async () => {
        const x = await view(b);
        return x.rebalances >= r0 + 2 ? x : undefined;
      },
      10_000,
    );
    const refusals = (await metric(b, 'breaker_rejections_total', 'reason="trading_halted"')) - halted0;
    // A refusal is an answer, not a failure: no retries, so at most one refusal per rebalance (+1 in progress).
    expect(refusals).toBeGreaterThanOrEqual(2);
    expect(refusals).toBeLessThanOrEqual(v.rebalances - r0 + 1);
    expect(v.health).toBe('OK');
    expect(simCreates(sim)).toBe(creates0);
    expect(await metric(b, 'executor_orders_total', 'mode="live"')).toBe(live0);
    expect((await post(`${b.ops}/kill`, { enabled: true })).status).toBe(200);
  });
});

describe('executor, DRY_RUN=true', () => {
  it('counts its decisions in executor_orders_total{mode="dry_run"} and sends nothing', async () => {
    // The target is never reached (nothing is sent), so every pass decides the same buy again.
    await until('two dry-run decisions', async () =>
      (await metric(dry, 'executor_orders_total', 'mode="dry_run"')) >= 2 ? true : undefined,
    );
    const v = await view(dry);
    expect(v).toMatchObject({ dryRun: true, health: 'OK' });
    expect(v.rebalances).toBeGreaterThanOrEqual(2);
    expect(await metric(dry, 'executor_orders_total', 'mode="live"')).toBe(0);
    expect(simCreates(drySim)).toBe(0);
    expect(simOrders(drySim, 'binance')).toEqual([]);
    expect(await executorOrders(dry)).toEqual([]);
  });
});
