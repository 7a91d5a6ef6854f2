import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VenueId } from '../../src/domain/ids.js';
import {
  boot,
  type EngineRig,
  engineRig,
  frozenMarketRig,
  type RigOptions,
  steppedClock,
  venueOrders,
} from './engine-harness.js';
import { until } from './support.js';

/**
 * Live maker on the simulator (issue #16 item 3, MAKER_MODE=perp:live): a strategy's perpetual order goes out
 * post-only at the touch (USDⓈ-M GTX), fills as maker when the market comes to it, falls back to a taker order
 * when it times out, and is cancelled by a kill (no fallback after it). The simulator's market is frozen and moved
 * by the test; the maker timeout runs on a clock the test steps.
 */
let r: EngineRig;
const clock = steppedClock();
const TIMEOUT_MS = 30_000;
/** A fresh account with a futures wallet, maker mode live on perpetuals, and the PERP_* settings. */
const LIVE_MAKER: RigOptions = {
  spot: { USDT: 10_000 },
  futures: { USDT: 20_000 },
  maker: { modes: { spot: 'off', perp: 'live' }, timeoutMs: TIMEOUT_MS, clock },
  // Perpetual entries need the PERP_* settings (without them the liquidation rail refuses every entry).
  perp: { strategies: false, leverage: 2, marginMode: 'cross', minLiqDistancePct: 20, maintMarginRate: 0.004 },
};
/** A strategy's perpetual entry (the guard entry is the engine's perp entry; strategy `hmm`). */
const PERP_ENTRY = {
  venue: 'binance' as VenueId,
  symbol: 'BTCUSDT',
  side: 'buy',
  quote: 300,
  strategy: 'hmm',
  reason: 'test:perp_entry',
  market: 'linear',
} as const;

beforeAll(async () => {
  r = await frozenMarketRig(18, LIVE_MAKER);
}, 30_000);
afterAll(async () => {
  await r?.close();
});

async function perpTouch() {
  const b = await r.gateway.fetchOrderBook('BTCUSDT', 5, 'linear');
  return { bid: b.bids[0]?.[0] as number, ask: b.asks[0]?.[0] as number };
}

/** A strategy's perpetual buy at the touch it read. */
async function strategyPerpBuy() {
  const touch = await perpTouch();
  const res = await r.engine.submitGuard(PERP_ENTRY);
  expect(res.reason ?? res.status).toBe('accepted');
  const cid = res.clientOrderId as string;
  return { cid, touch, rec: r.store.orders.get(cid) };
}

const venueOrder = (cid: string) => venueOrders(r).find((o) => o.clientOrderId === cid);
const outcomes = () => r.engine.maker().live.outcomes;
const fallbackOf = (cid: string) => [...r.store.orders.list()].find((o) => o.makerOf === cid);

describe('live maker on perpetuals', () => {
  it('posts post-only at the best bid (GTX) and fills as maker when the market comes to it', async () => {
    const { cid, touch, rec } = await strategyPerpBuy();
    expect(rec).toMatchObject({ type: 'limit', limitPrice: touch.bid, postOnly: true, market: 'linear' });
    const v = venueOrder(cid);
    expect(v).toMatchObject({ market: 'perp', type: 'LIMIT', postOnly: true, status: 'new', price: touch.bid });
    // Resting, it holds its reservation: the rails count it.
    expect(r.engine.reservations().has(cid)).toBe(true);
    r.sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: touch.bid * 0.997 });
    r.sim.advance(1_000);
    await until('the maker fill', () => (outcomes().filled === 1 ? true : undefined));
    const done = r.store.orders.get(cid);
    expect(done?.status).toBe('filled');
    expect(done?.slippage).toMatchObject({ liquidity: 'maker' });
    expect(r.engine.reservations().has(cid)).toBe(false);
    expect(fallbackOf(cid)).toBeUndefined();
  });

  it('times out: cancelled at the venue, the remainder goes out as a taker order through the rails', async () => {
    const { cid, touch } = await strategyPerpBuy();
    r.sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: touch.ask * 1.003 });
    r.sim.advance(1_000);
    expect(venueOrder(cid)?.status).toBe('new');
    clock.advance(TIMEOUT_MS);
    const fb = await until('the taker fallback filled', () => {
      const f = fallbackOf(cid);
      return f?.status === 'filled' ? f : undefined;
    });
    expect(venueOrder(cid)?.status).toBe('canceled');
    expect(r.store.orders.get(cid)?.status).toBe('cancelled');
    expect(fb).toMatchObject({ type: 'market', market: 'linear', strategy: 'hmm' });
    expect(fb.postOnly).toBeUndefined();
    await until('the outcome counted', () => (outcomes().timeout_taker === 1 ? true : undefined));
    // Both orders finished (slot and reservation freed): the next test's entry is not refused as in flight.
    await until('both orders finished', () =>
      [cid, fb.clientOrderId].some((c) => r.engine.reservations().has(c)) ? undefined : true,
    );
  });

  it('is cancelled by a kill, and no taker fallback follows at the timeout', async () => {
    const { cid } = await strategyPerpBuy();
    expect(venueOrder(cid)?.status).toBe('new');
    r.gov.global = 'HALTED';
    await r.engine.cancelOpen();
    await until('the maker order cancelled at the venue', () =>
      venueOrder(cid)?.status === 'canceled' ? true : undefined,
    );
    await until('counted as killed', () => (outcomes().killed === 1 ? true : undefined));
    clock.advance(TIMEOUT_MS);
    expect(fallbackOf(cid)).toBeUndefined();
    expect(r.engine.maker().live.resting).toEqual([]);
    r.gov.global = 'ACTIVE';
  });

  it('a kill after the timeout but before the fallback: the rails refuse the fallback (fail closed)', async () => {
    const { cid, touch } = await strategyPerpBuy();
    r.sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: touch.ask * 1.003 });
    r.sim.advance(1_000);
    r.gov.global = 'HALTED';
    clock.advance(TIMEOUT_MS);
    await until('counted as cancelled at the timeout', () => (outcomes().timeout_cancelled === 1 ? true : undefined));
    const fb = fallbackOf(cid);
    expect(fb === undefined || fb.status === 'rejected').toBe(true);
    expect(venueOrder(cid)?.status).toBe('canceled');
    r.gov.global = 'ACTIVE';
  });

  it('refused as taking (the market moved to the price between the read and the send): taker at once', async () => {
    // The touch Bosun read is the ask already (the book moved up under it): the GTX buy at it would take.
    const moved = await engineRig(r.sim, {
      ...LIVE_MAKER,
      wrap: (gw) =>
        Object.create(gw, {
          fetchOrderBook: {
            value: async (...a: Parameters<typeof gw.fetchOrderBook>) => {
              const b = await gw.fetchOrderBook(...a);
              return { ...b, bids: [b.asks[0], ...b.bids] };
            },
          },
        }),
    });
    try {
      await boot(moved);
      const res = await moved.engine.submitGuard(PERP_ENTRY);
      expect(res.status).toBe('accepted');
      const taker = moved.store.orders.get(res.clientOrderId as string);
      expect(taker).toMatchObject({ type: 'market', market: 'linear' });
      const maker = moved.store.orders.get(String(taker?.makerOf));
      expect(maker).toMatchObject({ postOnly: true, status: 'rejected' });
      expect(String(maker?.reason)).toMatch(/-5022|Post Only/);
      expect(moved.engine.maker().live.outcomes.rejected_taker).toBe(1);
    } finally {
      await moved.close();
    }
  });
});
