import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAllocationGuards } from '../../src/actors/allocation-guards.js';
import { createLedgerBook } from '../../src/actors/ledger-book.js';
import { createTradingEngine } from '../../src/actors/trading-engine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import type { VenueGateway } from '../../src/venues/venue-gateway.js';
import { simGateway, startVenue } from '../trading/support.js';

/**
 * Auto-cutback at the engine: the same signal sizes a quarter as large after a breaker trip, and the multiplier a
 * restart reads back is not larger than before it. The real engine, ledger and LMDB against the simulator.
 */
const silent = pino({ level: 'silent' });
let sim: Simulator;
let gw: VenueGateway;
let store: Store;

beforeAll(async () => {
  sim = await startVenue(43);
  gw = simGateway(sim, 'binance');
  await gw.loadMarkets();
  store = await openStore({ dir: mkdtempSync(join(tmpdir(), 'bosun-cutback-')) });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await store?.close();
  await sim?.close();
});

const LIMITS = {
  maxNotionalUsdt: 1_000_000,
  maxSymbolExposureUsdt: 1e12,
  maxVenueExposureUsdt: 1e12,
  maxAssetExposureUsdt: 1e12,
  equityFloorUsd: 0,
  maxDrawdownPct: 20,
  equityCooldownSec: 60,
  orderCooldownSec: 0,
};

describe('auto-cutback at the engine', () => {
  it('sizes shrink to the floor after a breaker trip, and a restart does not enlarge them', async () => {
    const metrics = createMetrics();
    let t = 1_000;
    const guards = createAllocationGuards({
      cutbackEnabled: true,
      riskParityEnabled: false,
      kv: store.kv,
      metrics,
      log: silent,
      barMs: 1_000,
      maxDrawdownPct: 20,
      symbols: { binance: ['BTCUSDT', 'ETHUSDT'] },
      now: () => t,
    });
    const book = createLedgerBook(store.portfolio, ['binance']);
    const b = await gw.fetchBalances('spot');
    await book.baseline('binance', Object.fromEntries(Object.entries(b).map(([a, e]) => [a, e.total])), Date.now());
    const engine = createTradingEngine({
      node: 'test',
      venues: [{ id: 'binance', gateway: gw }],
      symbols: { binance: ['BTCUSDT', 'ETHUSDT'] },
      journal: store.journal,
      orders: store.orders,
      kv: store.kv,
      book,
      metrics,
      log: silent,
      now: Date.now,
      hr: () => performance.now(),
      notify: () => undefined,
      minTradeUsdt: 10,
      inputs: {
        trading: () => ({ global: 'ACTIVE', venue: 'ACTIVE', symbol: 'ACTIVE' }),
        limits: () => LIMITS,
        policyAllowed: () => true,
        // Each symbol's budget is capped at 1,000 USDT, so the order quote is budget × multiplier.
        allocations: () => ({ reserve_pct: 0, max_usdt: { symbols: { BTCUSDT: 1_000, ETHUSDT: 1_000 } } }),
        equityBreaker: () => ({ tripped: false, reason: '' }),
        venueBreaker: () => ({ tripped: false, reason: '' }),
        guards: () => ({ depegActive: false, fundingSpike: false }),
        haltVenue: async () => undefined,
        sizeScale: () => guards.sizeScale(),
      },
    });
    // Nothing is accepted for a venue before its first reconciliation (DESIGN §6).
    await engine.reconcileAll();
    engine.setAccepting(true);
    const prices = sim.prices('binance');
    const signal = (symbol: string) =>
      engine.onSignal({
        venue: 'binance',
        symbol,
        price: Number(prices[`binance:spot:${symbol}`]),
        at: Date.now(),
        t0: performance.now(),
        output: {
          hmm: { signal: 1, confidence: 1, quoteMultiplier: 1, cooldownScale: 1 },
          trend: 0,
          trendFired: false,
          signal: 1,
          strategy: 'hmm',
          quoteMultiplier: 1,
          cooldownScale: 1,
          calibrate: [],
        },
        trading: 'ACTIVE',
      });
    const quoteOf = async (symbol: string) => {
      await expect
        .poll(() => [...store.orders.list()].find((o) => o.symbol === symbol && o.status === 'filled'), {
          timeout: 10_000,
        })
        .toBeDefined();
      return Number([...store.orders.list()].find((o) => o.symbol === symbol)?.quote);
    };

    await guards.observe({ at: t, drawdownPct: 0, tripped: false });
    signal('BTCUSDT');
    expect(await quoteOf('BTCUSDT')).toBeCloseTo(1_000, 6);

    t += 1_000;
    await guards.observe({ at: t, drawdownPct: 0, tripped: true });
    expect((await metrics.autoCutbackScale.get()).values[0]?.value).toBe(0.25);
    signal('ETHUSDT');
    expect(await quoteOf('ETHUSDT')).toBeCloseTo(250, 6);

    // A restart reads the persisted multiplier back: still cut, restoration starts over from it.
    const again = createAllocationGuards({
      cutbackEnabled: true,
      riskParityEnabled: false,
      kv: store.kv,
      metrics: createMetrics(),
      log: silent,
      barMs: 1_000,
      maxDrawdownPct: 20,
      symbols: {},
      now: () => t,
    });
    expect(again.sizeScale()).toBe(0.25);
    await engine.quiesce();
  }, 30_000);

  it('risk parity weights reach the allocator only when enabled', async () => {
    const make = (enabled: boolean, metrics = createMetrics()) =>
      createAllocationGuards({
        cutbackEnabled: false,
        riskParityEnabled: enabled,
        kv: store.kv,
        metrics,
        log: silent,
        barMs: 1_000,
        maxDrawdownPct: 20,
        symbols: { binance: ['BTCUSDT', 'ETHUSDT'] },
        now: () => 0,
      });
    const metrics = createMetrics();
    const on = make(true, metrics);
    const off = make(false);
    // ETH moves four times as much per bar as BTC.
    for (let i = 0; i < 40; i++) {
      const up = i % 2 === 0 ? 1 : -1;
      for (const g of [on, off]) {
        g.notePrice('binance', 'BTCUSDT', 100 * (1 + 0.005 * up), i * 1_000);
        g.notePrice('binance', 'ETHUSDT', 100 * (1 + 0.02 * up), i * 1_000);
      }
    }
    on.refreshWeights();
    off.refreshWeights();
    expect(off.riskWeights('binance')).toBeUndefined();
    expect(off.sizeScale()).toBe(1);
    const w = on.riskWeights('binance');
    expect(w?.BTCUSDT).toBeCloseTo(0.8, 2);
    expect(w?.ETHUSDT).toBeCloseTo(0.2, 2);
    const exported = (await metrics.riskParityWeight.get()).values.find((v) => v.labels.symbol === 'ETHUSDT');
    expect(exported?.value).toBeCloseTo(0.2, 2);
  });
});
