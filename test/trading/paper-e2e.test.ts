import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import {
  getJson,
  type OrderViewJson,
  opsCopy,
  post,
  relDiff,
  simBalances,
  simOrders,
  startVenue,
  tradingEnv,
  until,
} from './support.js';

/**
 * The trading pipeline end to end in paper mode (issue 4): ticks flow through the symbol actors, the strategies
 * trade on both venues through the real ccxt classes, and Bosun's three records of that — LMDB (`GET /orders`,
 * `GET /state`), `orders.jsonl` and the venue's own books — agree.
 */
let sim: Simulator;
let bosun: BosunProcess;
let ops: string;

const VENUES = ['binance', 'kraken'] as const;

async function orders(query = ''): Promise<OrderViewJson[]> {
  return (await getJson<{ orders: OrderViewJson[] }>(`${bosun.engine}/orders?limit=1000${query}`)).orders;
}

beforeAll(async () => {
  sim = await startVenue(23);
  ops = opsCopy();
  bosun = await startBosun(tradingEnv(sim, { OPS_DIR: ops, TREND_SIGNAL_WEIGHT: '1' }));
}, 30_000);

afterAll(async () => {
  await bosun?.stop();
  await sim?.close();
});

describe('paper trading end to end', () => {
  it('trades on both venues from the strategies, and LMDB, orders.jsonl and the venue agree', async () => {
    for (const venue of VENUES) {
      await until(
        `a strategy order filled on ${venue}`,
        async () => {
          const filled = (await orders(`&venue=${venue}`)).filter(
            (o) => o.status === 'filled' && (o.strategy === 'trend' || o.strategy === 'hmm'),
          );
          return filled.length > 0 ? filled : undefined;
        },
        60_000,
      );
    }
    // Quiesce: halt so nothing is in flight while the three records are compared.
    const kill = await post(`${bosun.ops}/kill`, { enabled: false });
    expect(kill.status).toBe(200);
    const settled = await until('every order settled', async () => {
      const all = await orders();
      return all.every((o) => ['filled', 'cancelled', 'rejected'].includes(o.status)) ? all : undefined;
    });
    const recon = await post(`${bosun.engine}/reconcile/manual`, undefined, { token: false });
    expect(recon.status).toBe(200);

    // LMDB vs the venue: every order Bosun sent is at the venue, with the same fill.
    for (const venue of VENUES) {
      const atVenue = new Map(simOrders(sim, venue).map((o) => [o.id, o]));
      const ours = settled.filter((o) => o.venue === venue && o.venueOrderId !== null);
      expect(ours.length).toBeGreaterThan(0);
      for (const o of ours) {
        const v = atVenue.get(o.venueOrderId as string);
        expect(v, `${o.clientOrderId} at ${venue}`).toBeDefined();
        expect(relDiff(v?.executedQty ?? -1, o.filled)).toBeLessThan(1e-9);
      }
      // Nothing at the venue that Bosun does not know.
      const known = new Set(settled.map((o) => o.venueOrderId));
      for (const id of atVenue.keys()) expect(known.has(id), `venue order ${id} known to Bosun`).toBe(true);
    }

    // orders.jsonl: the last line per clientOrderId says what LMDB says.
    const lines = readFileSync(join(bosun.stateDir, 'logs', 'orders.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const lastStatus = new Map<string, unknown>();
    for (const l of lines)
      if (typeof l.clientOrderId === 'string' && l.status) lastStatus.set(l.clientOrderId, l.status);
    for (const o of settled) expect(lastStatus.get(o.clientOrderId), o.clientOrderId).toBe(o.status);

    // Portfolio: the ledger equals the venue's balances, and equity = cash + market value to 1e-9.
    const state = await getJson<{
      ledger: { venues: Record<string, { balances: Record<string, number> }> };
      valuation: { equityUsd: number; cashUsd: number; marketValueUsd: number; residualUsd: number };
    }>(`${bosun.engine}/state`);
    for (const venue of VENUES) {
      const venueBal = simBalances(sim, venue);
      const ledger = state.ledger.venues[venue]?.balances ?? {};
      for (const asset of new Set([...Object.keys(venueBal), ...Object.keys(ledger)])) {
        expect(relDiff(ledger[asset] ?? 0, venueBal[asset] ?? 0), `${venue} ${asset}`).toBeLessThan(1e-9);
      }
    }
    const v = state.valuation;
    expect(Math.abs(v.residualUsd) / v.equityUsd).toBeLessThan(1e-9);
    expect(relDiff(v.cashUsd + v.marketValueUsd, v.equityUsd)).toBeLessThan(1e-9);

    // Metrics saw it.
    const metrics = await (await fetch(`${bosun.engine}/metrics`)).text();
    expect(metrics).toMatch(/strategy_ticks_total\{venue="binance",symbol="BTCUSDT"\} [1-9]/);
    expect(metrics).toMatch(/orders_submitted_total\{venue="kraken",side="buy"\} [1-9]/);
    expect(metrics).toMatch(/strategy_tick_to_order_latency_ms_count\{venue="binance"\} [1-9]/);

    const resume = await post(`${bosun.ops}/kill`, { enabled: true });
    expect(resume.status).toBe(200);
  }, 120_000);

  it('fills and order updates arrive by the user-data stream: an order settles with no REST order or trade read', async () => {
    for (const symbol of ['BTCUSDT.BINANCE', 'ETHUSDT.KRAKEN']) {
      const venue = symbol.endsWith('KRAKEN') ? 'kraken' : 'binance';
      await until(`${venue} user-data stream live`, async () => {
        const a = await getJson<{ context?: Record<string, unknown> }>(
          `${bosun.engine}/actors/account:${venue}?context=true`,
        );
        return JSON.stringify(a).includes('"health":"OK"') ? true : undefined;
      });
      const before = sim.requests().byPath;
      const ledgerBefore = (
        await getJson<{ ledger: { venues: Record<string, { balances: Record<string, number> }> } }>(
          `${bosun.engine}/state`,
        )
      ).ledger.venues[venue]?.balances;
      const r = await post(`${bosun.engine}/orders`, { symbol, side: 'BUY', quote: 20 });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const cid = (r.body.order as OrderViewJson).clientOrderId;
      await until(`${cid} filled and settled`, async () => {
        const o = (await orders()).find((x) => x.clientOrderId === cid);
        return o?.status === 'filled' ? o : undefined;
      });
      // The ledger moved by the fill (applied from the stream's trade).
      await until(`${venue} ledger moved`, async () => {
        const now = (
          await getJson<{ ledger: { venues: Record<string, { balances: Record<string, number> }> } }>(
            `${bosun.engine}/state`,
          )
        ).ledger.venues[venue]?.balances;
        return JSON.stringify(now) !== JSON.stringify(ledgerBefore) ? true : undefined;
      });
      const after = sim.requests().byPath;
      const reads = (paths: string[]) => paths.reduce((n, p) => n + (after[p] ?? 0) - (before[p] ?? 0), 0);
      expect(
        reads(['GET /api/v3/myTrades', 'POST /0/private/QueryOrders', 'POST /0/private/TradesHistory']),
        `${venue}: REST reads of orders or trades during settlement`,
      ).toBe(0);
      // One order read on Binance: the Idempotency-Key's lookup before the create (its keyed id unknown at the
      // venue), none after it. Kraken's lookup scans OpenOrders and ClosedOrders, not counted above.
      expect(reads(['GET /api/v3/order']), `${venue}: order reads besides the key's lookup`).toBe(
        venue === 'binance' ? 1 : 0,
      );
    }
  }, 60_000);

  it('after a kill the venue receives no new orders while cancels go through; resume trades again', async () => {
    // A resting operator limit order far below the market, so the kill has something to cancel.
    const px = Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    const limit = await post(`${bosun.engine}/orders`, {
      symbol: 'BTCUSDT.BINANCE',
      side: 'BUY',
      quote: 25,
      type: 'limit',
      price: Math.round(px * 0.5),
    });
    expect(limit.status).toBe(201);
    const restingId = (limit.body.order as OrderViewJson).clientOrderId;

    sim.resetRequests();
    const kill = await post(`${bosun.ops}/kill`, { enabled: false });
    expect(kill.status).toBe(200);
    const createsAtKill = sim.requests();
    // The resting order is cancelled at the venue (a cancel goes through while halted)…
    await until('the resting order cancelled', async () => {
      const o = (await orders()).find((x) => x.clientOrderId === restingId);
      return o?.status === 'cancelled' ? o : undefined;
    });
    // …and while ticks keep flowing through the symbol actors, no order reaches the venue.
    const ticks = async () => {
      const m = await (await fetch(`${bosun.engine}/metrics`)).text();
      return [...m.matchAll(/^strategy_ticks_total\{[^}]*\} (\d+)/gm)].reduce((a, x) => a + Number(x[1]), 0);
    };
    const t0 = await ticks();
    await until('40 more ticks delivered while halted', async () => ((await ticks()) > t0 + 40 ? true : undefined));
    const rejected = await post(`${bosun.engine}/orders`, { symbol: 'ETHUSDT.KRAKEN', side: 'BUY', quote: 20 });
    expect(rejected.status).toBe(422);
    expect(JSON.stringify(rejected.body)).toMatch(/trading_halted/);
    expect(createCount(sim.requests()) - createCount(createsAtKill)).toBe(0);
    expect(cancelCount(sim.requests())).toBeGreaterThan(0);

    const resume = await post(`${bosun.ops}/kill`, { enabled: true });
    expect(resume.status).toBe(200);
    const before = createCount(sim.requests());
    await until(
      'orders flow again after resume',
      async () => (createCount(sim.requests()) > before ? true : undefined),
      60_000,
    );
  }, 120_000);

  it('uses new strategy weights from the next tick, and a calibration edit within the reload interval', async () => {
    const set = await post(`${bosun.ops}/strategy/weights`, { weights: { stable_model: 0.2, canary_model: 0.8 } });
    expect(set.status).toBe(200);
    const file = JSON.parse(readFileSync(join(ops, 'strategy_weights.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toEqual({ weights: { stable_model: 0.2, canary_model: 0.8 } });
    const actor = async () =>
      (
        await getJson<{
          context: {
            hot: { ticks: number };
            env: { weights: Record<string, number>; calibration: Record<string, number> };
          };
        }>(`${bosun.engine}/actors/sym:binance:BTCUSDT?context=true`)
      ).context;
    const atSet = await actor();
    expect(atSet.env.weights.canary_model).toBeCloseTo(0.8, 12);
    const after = await until('the next tick', async () => {
      const c = await actor();
      return c.hot.ticks > atSet.hot.ticks ? c : undefined;
    });
    expect(after.env.weights).toEqual({ stable_model: 0.2, canary_model: 0.8 });

    // A calibration edit is applied within CONFIG_POLL_SEC; a bad one leaves the last good one in force.
    const calPath = join(ops, 'hmm_calibration.json');
    const cal = JSON.parse(readFileSync(calPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(calPath, JSON.stringify({ ...cal, quote_multiplier: 0.4 }));
    await until(
      'calibration applied',
      async () => ((await actor()).env.calibration.quote_multiplier === 0.4 ? true : undefined),
      10_000,
    );
    writeFileSync(calPath, '{"quote_multiplier": "lots"');
    await until(
      'config DEGRADED',
      async () => {
        const c = await getJson<{ health: string }>(`${bosun.engine}/actors/config`);
        return c.health === 'DEGRADED' ? true : undefined;
      },
      10_000,
    );
    expect((await actor()).env.calibration.quote_multiplier).toBe(0.4);
  }, 60_000);
});

/** Order creates at the venue: Binance `POST /api/v3/order`, Kraken `POST /0/private/AddOrder`. */
function createCount(r: ReturnType<Simulator['requests']>): number {
  return (r.byPath['POST /api/v3/order'] ?? 0) + (r.byPath['POST /0/private/AddOrder'] ?? 0);
}
/** Cancels at the venue: Binance `DELETE /api/v3/order`, Kraken `POST /0/private/CancelOrder`. */
function cancelCount(r: ReturnType<Simulator['requests']>): number {
  return (r.byPath['DELETE /api/v3/order'] ?? 0) + (r.byPath['POST /0/private/CancelOrder'] ?? 0);
}
