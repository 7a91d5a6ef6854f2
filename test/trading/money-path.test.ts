import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverBooks } from '../../src/actors/engine/boot-recovery.js';
import { cancelOwnEntries } from '../../src/actors/engine/halt-cancel.js';
import { createPortfolioSnapshots } from '../../src/actors/portfolio-snapshots.js';
import { parseClientOrderId } from '../../src/domain/client-order-id.js';
import type { SignalEffect } from '../../src/machines/symbol.machine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import type { CreateOrderRequest, CreateOrderResult, VenueGateway } from '../../src/venues/venue-gateway.js';
import { boot, type EngineRig, engineRig, silent, venueOrders } from './engine-harness.js';
import { startVenue, until } from './support.js';

/**
 * Regression tests of the money path's ten defects (issue 13), one or more per defect, each against the real
 * engine, LMDB store, ledger and ccxt gateway on the simulator. Each of them failed on the order path before the
 * fix (the note of the issue lists which); the seeded campaign in test/simulation checks the same promises as
 * invariants over random schedules.
 */
let sim: Simulator;
const rigs: EngineRig[] = [];
const rig = async (...a: Parameters<typeof engineRig> extends [Simulator, ...infer R] ? R : never) => {
  const r = await engineRig(sim, ...a);
  rigs.push(r);
  return r;
};

beforeAll(async () => {
  sim = await startVenue(101);
}, 30_000);
afterAll(async () => {
  for (const r of rigs) await r.close().catch(() => undefined);
  await sim?.close();
});

const price = (symbol: string) => Number(sim.prices('binance')[`binance:spot:${symbol}`]);
const operator = (
  r: EngineRig,
  o: { symbol?: string; side?: 'buy' | 'sell'; quote?: number; type?: 'limit'; price?: number; key?: string },
) =>
  r.engine.submitOperator({
    venue: 'binance',
    symbol: o.symbol ?? 'BTCUSDT',
    side: o.side ?? 'buy',
    quote: o.quote ?? 50,
    actor: 'test',
    ...(o.type ? { type: o.type, price: o.price } : {}),
    ...(o.key ? { idempotency: { key: o.key, hash: `hash-of-${o.key}-${o.quote ?? 50}` } } : {}),
  });

/** A gateway whose creates are held until released (the test decides when the venue answers). */
function holdingCreates(gw: VenueGateway) {
  const held: Array<() => void> = [];
  let holding = false;
  const wrapped: VenueGateway = Object.create(gw, {
    createOrder: {
      value: async (req: CreateOrderRequest): Promise<CreateOrderResult> => {
        if (holding) await new Promise<void>((r) => held.push(r));
        return gw.createOrder(req);
      },
    },
  });
  return {
    wrapped,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const r of held.splice(0)) r();
    },
    heldCount: () => held.length,
  };
}

describe('1. exposure caps count orders in flight (reservations)', () => {
  it('a burst of orders in one turn cannot overshoot the venue cap', async () => {
    const r = await rig({ spot: { USDT: 100_000 }, limits: { maxNotionalUsdt: 100, maxVenueExposureUsdt: 250 } });
    await boot(r);
    // Five orders in the same turn, as at a bar close: settled exposure is 0 for all of them.
    const results = await Promise.all(
      ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT'].map((symbol) =>
        r.engine.submitStrategy({
          venue: 'binance',
          symbol,
          side: 'buy',
          quote: 100,
          strategy: 'breakout',
          reason: 'burst',
        }),
      ),
    );
    const accepted = results.filter((x) => x.status === 'accepted');
    // 2 × 100 ≤ 250 < 3 × 100: before reservations all five passed against the same zero exposure.
    expect(accepted.length).toBe(2);
    expect(results.filter((x) => x.reason === 'venue_exposure').length).toBeGreaterThanOrEqual(1);
    expect(venueOrders(r).length).toBe(2);
  });

  it('a sell of what is held is not new exposure: it passes a full cap', async () => {
    const r = await rig({ spot: { USDT: 100_000, BTC: 0.01 }, limits: { maxVenueExposureUsdt: 1 } });
    await boot(r);
    const sell = await operator(r, { side: 'sell', quote: Math.min(50, 0.005 * price('BTCUSDT')) });
    expect(sell.status).toBe('accepted');
    expect((await operator(r, { side: 'buy', quote: 50 })).status).toBe('rejected');
  });
});

describe('1b. a strategy signal is sized within the room left under the caps', () => {
  it('clips an entry to the symbol cap instead of sending one the rails refuse, then sends nothing more', async () => {
    const r = await rig({
      spot: { USDT: 100_000, BTC: 0.01 },
      limits: { maxNotionalUsdt: 500, maxSymbolExposureUsdt: 0.01 * price('BTCUSDT') + 60 },
    });
    await boot(r);
    const signal = () =>
      r.engine.onSignal({
        venue: 'binance',
        symbol: 'BTCUSDT',
        price: price('BTCUSDT'),
        at: Date.now(),
        t0: performance.now(),
        output: { strategy: 'hmm', signal: 1, quoteMultiplier: 1 } as SignalEffect['output'],
        trading: 'ACTIVE',
      });
    signal();
    await until('the clipped entry settled', () =>
      r.engine.inflightCount() === 0 && venueOrders(r).length === 1 ? true : undefined,
    );
    const [entry] = [...r.store.orders.list()];
    // About 60 USDT of room (the held 0.01 BTC counts): sized to it, not to MAX_NOTIONAL_USDT's 500.
    expect(entry?.quote).toBeGreaterThan(10);
    // (the held BTC is valued at the price of the engine's last valuation, which may have moved a little since)
    expect(entry?.quote).toBeLessThanOrEqual(61);
    expect(entry?.reason).toContain('left under the exposure caps');
    expect(entry?.status).toBe('filled');
    // The cap is (about) full now: the next signal sends nothing, and nothing is refused at the rails.
    const refusedBefore = await r.metrics.registry.getSingleMetric('breaker_rejections_total')?.get();
    signal();
    expect(r.engine.inflightCount()).toBe(0);
    expect(venueOrders(r)).toHaveLength(1);
    const refusedAfter = await r.metrics.registry.getSingleMetric('breaker_rejections_total')?.get();
    expect(refusedAfter?.values).toEqual(refusedBefore?.values);
  });
});

describe('2. reconciliation fails closed', () => {
  it('balances that move between the reads three times leave the venue unreconciled, with its lag growing', async () => {
    let moving = false;
    let bump = 0;
    const r = await rig({
      wrap: (gw) =>
        Object.create(gw, {
          fetchBalances: {
            value: async (...a: Parameters<VenueGateway['fetchBalances']>) => {
              const b = await gw.fetchBalances(...a);
              if (moving) {
                bump += 1;
                return { ...b, USDT: { free: 1 + bump, used: 0, total: 1 + bump } };
              }
              return b;
            },
          },
        }),
    });
    await boot(r);
    expect(r.engine.unreconciledVenues()).toEqual([]);
    moving = true;
    const result = await r.engine.reconcileAll();
    expect(result.venues.binance?.error).toMatch(/balances moved/);
    expect(r.engine.unreconciledVenues()).toEqual(['binance']);
    // Nothing new goes out there until a reconciliation succeeds.
    expect((await operator(r, {})).status).toBe('rejected');
    expect(r.engine.reconcileLagSeconds()).toBeGreaterThan(0);
    moving = false;
    await r.engine.reconcileAll();
    expect(r.engine.unreconciledVenues()).toEqual([]);
  });
});

describe('3. boot recovery: nothing accepted before reconciliation; restored halts re-applied', () => {
  it('refuses orders until its reconciliation has finished', async () => {
    const r = await rig();
    await expect(operator(r, {})).rejects.toThrow(/boot recovery has not finished/);
    r.engine.setAccepting(true);
    // Accepting, but the venue was never reconciled: still refused.
    const refused = await operator(r, {});
    expect(refused).toMatchObject({ status: 'rejected', reason: 'not_reconciled' });
    expect(venueOrders(r)).toHaveLength(0);
  });

  it('a HALTED state restored at boot cancels the resting entry a kill -9 left', async () => {
    const first = await rig();
    await boot(first);
    const resting = await operator(first, { type: 'limit', price: Math.round(price('BTCUSDT') * 0.5), quote: 50 });
    expect(resting.status).toBe('accepted');
    const cid = resting.order?.clientOrderId as string;
    await first.close();
    // The process died with the symbol halted (governance is durable): the new incarnation starts HALTED.
    const again = await rig({
      dir: first.dir,
      keys: first.keys,
      gov: { global: 'HALTED', venue: 'ACTIVE', symbol: 'ACTIVE' },
    });
    const portfolio = createPortfolioSnapshots({
      path: `${again.dir}/portfolio.json`,
      store: again.store,
      book: again.book,
      prices: () => ({}),
      now: Date.now,
    });
    await recoverBooks({
      engine: again.engine,
      book: again.book,
      store: again.store,
      venues: [{ id: 'binance', gateway: again.gateway }],
      portfolio,
      metrics: createMetrics({ defaultMetrics: false }),
      log: silent,
      now: Date.now,
      sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
    });
    await until('the resting entry cancelled at the venue', () =>
      venueOrders(again).find((o) => o.clientOrderId === cid)?.status === 'canceled' ? true : undefined,
    );
  });
});

describe('4. kill-switch windows', () => {
  it('a kill acknowledged while a protective stop is being released stops the sell before the venue', async () => {
    let killDuringRelease = false;
    let gov: EngineRig['gov'] | undefined;
    const r = await rig({
      stops: {
        owns: () => false,
        release: async () => {
          // The kill lands during the last await before the hand-off.
          if (killDuringRelease && gov) gov.global = 'HALTED';
        },
      },
    });
    gov = r.gov;
    await boot(r);
    const strategy = (side: 'buy' | 'sell') =>
      r.engine.submitStrategy({
        venue: 'binance',
        symbol: 'BTCUSDT',
        side,
        quote: 50,
        strategy: 'breakout',
        reason: 'test',
      });
    expect((await strategy('buy')).status).toBe('accepted');
    await until('the strategies hold BTC', () =>
      r.book.strategyPosition('binance', 'BTCUSDT') > 0 ? true : undefined,
    );
    const before = venueOrders(r).length;
    killDuringRelease = true;
    expect(await strategy('sell')).toMatchObject({ status: 'rejected', reason: 'trading_halted' });
    expect(venueOrders(r).length).toBe(before);
  });

  it('a kill cancels an order whose create is still on the wire, as soon as the venue answers', async () => {
    let h: ReturnType<typeof holdingCreates> | undefined;
    const r = await rig({
      wrap: (gw) => {
        h = holdingCreates(gw);
        return h.wrapped;
      },
    });
    await boot(r);
    const hold = h as ReturnType<typeof holdingCreates>;
    hold.hold();
    const pending = operator(r, { type: 'limit', price: Math.round(price('BTCUSDT') * 0.5), quote: 50 });
    await until('the create held on the wire', () => (hold.heldCount() > 0 ? true : undefined));
    r.gov.global = 'HALTED';
    const quiesced = r.engine.quiesce(10_000);
    await r.engine.cancelRefused();
    hold.release();
    const answered = await pending;
    await quiesced;
    const cid = answered.order?.clientOrderId as string;
    await until('the late order cancelled', () =>
      venueOrders(r).find((o) => o.clientOrderId === cid)?.status === 'canceled' ? true : undefined,
    );
  });

  it('the fatal path cancels only Bosun’s own entries by clientOrderId: stops and manual orders stay', async () => {
    const r = await rig();
    await boot(r);
    const p = price('BTCUSDT');
    const entry = await operator(r, { type: 'limit', price: Math.round(p * 0.5), quote: 50 });
    const manual = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl, ...r.keys });
    await manual.loadMarkets();
    const stop = await manual.createOrder({
      clientOrderId: 'stopval-like-1',
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'stop_loss_limit',
      amount: 0.001,
      price: Math.round(p * 0.8),
      stopPrice: Math.round(p * 0.8),
      market: 'spot',
    });
    const hand = await manual.createOrder({
      clientOrderId: 'operator-by-hand-1',
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'limit',
      amount: 0.01,
      price: Math.round(price('ETHUSDT') * 0.5),
      market: 'spot',
    });
    expect([stop.status, hand.status]).toEqual(['accepted', 'accepted']);
    await manual.close();
    const n = await cancelOwnEntries(r.store.orders, new Map([['binance', r.gateway]]), silent);
    expect(n).toBe(1);
    const byCid = new Map(venueOrders(r).map((o) => [o.clientOrderId, o.status]));
    expect(byCid.get(entry.order?.clientOrderId as string)).toBe('canceled');
    expect(byCid.get('stopval-like-1')).toBe('new');
    expect(byCid.get('operator-by-hand-1')).toBe('new');
  });
});

describe('5. idempotency is stored with the effect', () => {
  it('a retry after a crash finds the intent its key caused and answers with that order, never a second one', async () => {
    const first = await rig();
    await boot(first);
    const placed = await operator(first, { key: 'retry-1' });
    expect(placed.status).toBe('accepted');
    await first.close();
    // A crash before the HTTP layer stored its answer: the new process has only what the intent's commit holds.
    const again = await rig({ dir: first.dir, keys: first.keys });
    await boot(again);
    const retried = await operator(again, { key: 'retry-1' });
    expect(retried.order?.clientOrderId).toBe(placed.order?.clientOrderId);
    expect(venueOrders(again)).toHaveLength(1);
    // The same key with another body is refused, not placed.
    await expect(operator(again, { key: 'retry-1', quote: 60 })).rejects.toThrow(/different request/);
    expect(venueOrders(again)).toHaveLength(1);
  });
});

describe('5b. idempotency when the store that held the key is gone', () => {
  it('a retry on a fresh state directory finds the first order at the venue by its keyed id and answers with it', async () => {
    const first = await rig();
    await boot(first);
    const placed = await operator(first, { key: 'wiped-1' });
    expect(placed.status).toBe('accepted');
    await first.close();
    // The state directory is lost (or an older backup restored): a fresh store beside the same account.
    const again = await rig({ keys: first.keys });
    await boot(again);
    const retried = await operator(again, { key: 'wiped-1' });
    expect(retried).toMatchObject({ status: 'accepted', order: { clientOrderId: placed.order?.clientOrderId } });
    expect(retried.order?.venueOrderId).toBe(placed.order?.venueOrderId);
    expect(venueOrders(again)).toHaveLength(1);
    // Recorded, so a further retry is answered from the store; a new key still places a new order.
    expect(again.store.orders.get(placed.order?.clientOrderId as string)).toMatchObject({ reason: 'idempotent_retry' });
    // Its fill is in the fresh store's baseline: reconciliation does not apply it again (the ledger equals the venue).
    const rec = await again.engine.reconcileAll();
    expect(rec.venues.binance).toMatchObject({ mismatches: [] });
    expect(again.halts).toEqual([]);
    expect((await operator(again, { key: 'wiped-1' })).order?.clientOrderId).toBe(placed.order?.clientOrderId);
    expect((await operator(again, { key: 'wiped-2' })).status).toBe('accepted');
    expect(venueOrders(again)).toHaveLength(2);
  });

  it('a key the store does not know is sent only after the venue said it has no order under its keyed id', async () => {
    let down = true;
    const r = await rig({
      wrap: (gw) =>
        Object.create(gw, {
          resolveUnknown: {
            value: async (...a: Parameters<VenueGateway['resolveUnknown']>) =>
              down
                ? {
                    status: 'still_unknown',
                    error: { kind: 'retryable', code: 'Timeout', tag: 'network', reason: 'timed out' },
                  }
                : gw.resolveUnknown(...a),
          },
        }) as VenueGateway,
    });
    await boot(r);
    await expect(operator(r, { key: 'lookup-down' })).rejects.toThrow(/could not check binance.*nothing was sent/);
    expect(venueOrders(r)).toHaveLength(0);
    down = false;
    const placed = await operator(r, { key: 'lookup-down' });
    expect(placed.status).toBe('accepted');
    expect(venueOrders(r)).toHaveLength(1);
  });
});

describe('6. clientOrderIds never repeat', () => {
  it('two fresh state directories beside one account use different ids', async () => {
    const a = await rig();
    await boot(a);
    const b = await rig({ keys: a.keys });
    await boot(b);
    const one = await operator(a, {});
    const two = await operator(b, {});
    expect(one.order?.clientOrderId).not.toBe(two.order?.clientOrderId);
    expect(parseClientOrderId(one.order?.clientOrderId as string)?.incarnation).toBe(a.engine.incarnation);
  });

  it('a venue Duplicate answer is a rejection, never resolved to the order that holds the id', async () => {
    // The account already holds an order with the id Bosun will use first (another instance's, say).
    const keys = sim.createAccount('binance', { spot: { USDT: 100_000, BTC: 0.01 } });
    const manual = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl, ...keys });
    await manual.loadMarkets();
    const r = await rig({ keys });
    await boot(r);
    const inc = r.engine.incarnation;
    expect(inc).toMatch(/^[A-Z][0-9A-Z]{3}$/);
    const taken = `test-o-bBTCUSDT-${inc}1`;
    const foreign = await manual.createOrder({
      clientOrderId: taken,
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'limit',
      amount: 0.001,
      price: Math.round(price('BTCUSDT') * 0.5),
      market: 'spot',
    });
    expect(foreign.status).toBe('accepted');
    await manual.close();
    const res = await operator(r, {});
    expect(res).toMatchObject({ status: 'rejected', reason: 'venue_rejected' });
    expect(r.store.orders.get(taken)).toMatchObject({ status: 'rejected', reason: 'duplicate_client_order_id' });
    // The foreign order is untouched at the venue, and the next order gets a fresh id.
    expect(venueOrders(r).find((o) => o.clientOrderId === taken)?.status).toBe('new');
    const next = await operator(r, {});
    expect(next.status).toBe('accepted');
    expect(next.order?.clientOrderId).not.toBe(taken);
  });
});

describe('7. a fresh state directory does not replay trades before its baseline', () => {
  it('a manual trade made before the first boot is in the baseline, not applied again', async () => {
    const keys = sim.createAccount('binance', { spot: { USDT: 100_000 } });
    const manual = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl, ...keys });
    await manual.loadMarkets();
    const bought = await manual.createOrder({
      clientOrderId: 'by-hand-before-boot',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.001,
      market: 'spot',
    });
    expect(bought.status).toBe('accepted');
    await manual.close();
    const r = await rig({ keys });
    await boot(r);
    const result = await r.engine.reconcileAll();
    expect(result.venues.binance?.mismatches).toEqual([]);
    expect(r.halts).toEqual([]);
    const atVenue = (await r.gateway.fetchBalances('spot')).BTC?.total as number;
    expect(atVenue).toBeGreaterThan(0);
    expect(r.book.balance('binance', 'BTC')).toBeCloseTo(atVenue, 12);
  });
});

describe('9. precision: journal what is sent', () => {
  it('a symbol the venue does not list exactly is refused before anything is journaled or sent', async () => {
    const r = await rig();
    await boot(r);
    const before = [...r.store.orders.list()].length;
    for (const symbol of ['FOOUSDT', 'btcusdt', 'BTCUSDT ', 'BTC/USDT']) {
      const res = await operator(r, { symbol });
      expect(res).toMatchObject({ status: 'rejected', reason: 'unknown_symbol' });
    }
    expect([...r.store.orders.list()]).toHaveLength(before);
    expect(venueOrders(r)).toHaveLength(0);
  });

  it('a limit price off the tick is journaled on the tick, on the side that is never more aggressive', async () => {
    const r = await rig();
    await boot(r);
    const tick = r.gateway.markets('spot').BTCUSDT?.tickSize as number;
    const asked = Math.round(price('BTCUSDT') * 0.5) + tick * 0.37;
    const placed = await operator(r, { type: 'limit', price: asked, quote: 50 });
    const rec = r.store.orders.get(placed.order?.clientOrderId as string);
    expect(rec?.limitPrice).toBeLessThanOrEqual(asked);
    expect(Math.abs((rec?.limitPrice as number) / tick - Math.round((rec?.limitPrice as number) / tick))).toBeLessThan(
      1e-6,
    );
    const atVenue = venueOrders(r).find((o) => o.clientOrderId === placed.order?.clientOrderId);
    expect(atVenue?.price).toBe(rec?.limitPrice);
  });
});
