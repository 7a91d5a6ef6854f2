import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BudgetClock, BudgetExhausted, type BudgetRefusal, RateBudget } from './rate-budget.js';
import {
  accountRefreshMs,
  BINANCE_LIMITS,
  binanceCost,
  krakenCost,
  krakenLimits,
  pauseTargets,
  priorityOf,
} from './venue-limits.js';

/** Manual clock: sleep advances time instantly, so waits are deterministic and free. */
function fakeClock(start = 1_700_000_000_000): BudgetClock & { t: number; slept: number[] } {
  const c = {
    t: start,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

const spot = (weight: number) => ({ units: { spot_weight: weight } });

describe('RateBudget windows (Binance)', () => {
  it('allows 80% of 6000 spot weight per minute and refuses the next unit', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock });
    for (let i = 0; i < 240; i++) expect(b.tryAcquire(spot(20)).ok).toBe(true); // 4800
    const r = b.tryAcquire(spot(1));
    expect(r).toMatchObject({ ok: false, limiter: 'spot_weight' });
    expect(b.pressure()).toBe(1);
  });

  it('frees the window a minute (plus one slot) after the spending', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock });
    expect(b.tryAcquire(spot(4800)).ok).toBe(true);
    const r = b.tryAcquire(spot(1));
    if (r.ok) throw new Error('expected a refusal');
    expect(r.retryInMs).toBeGreaterThan(60_000);
    expect(r.retryInMs).toBeLessThanOrEqual(61_000);
    clock.t += r.retryInMs;
    expect(b.tryAcquire(spot(1)).ok).toBe(true);
  });

  it('charges nothing when one of several limiters refuses', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock });
    const order = binanceCost('createOrder', { market: 'spot' });
    for (let i = 0; i < 40; i++) expect(b.tryAcquire(order).ok).toBe(true); // 80% of 50 per 10 s
    expect(b.tryAcquire(order)).toMatchObject({ ok: false, limiter: 'spot_orders_10s' });
    expect(b.snapshot().spot_weight?.used).toBe(40);
  });

  it('keeps every fixed venue window at or under 80%, whatever the request pattern', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 250 })), { maxLength: 400 }),
        (steps) => {
          const clock = fakeClock(0);
          const b = new RateBudget({ limits: BINANCE_LIMITS, clock });
          const perMinute = new Map<number, number>();
          for (const [dt, w] of steps) {
            clock.t += dt;
            if (b.tryAcquire(spot(w)).ok) {
              const minute = Math.floor(clock.t / 60_000);
              perMinute.set(minute, (perMinute.get(minute) ?? 0) + w);
            }
          }
          for (const used of perMinute.values()) expect(used).toBeLessThanOrEqual(4800);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('RateBudget decay counters (Kraken)', () => {
  it('allows a 12-call burst on a starter key, then one call per ~3.8 s', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: krakenLimits('starter'), clock });
    const call = krakenCost('fetchBalances', { market: 'spot' });
    for (let i = 0; i < 12; i++) expect(b.tryAcquire(call).ok).toBe(true);
    const r = b.tryAcquire(call);
    if (r.ok) throw new Error('expected a refusal');
    expect(r.retryInMs).toBeCloseTo(1000 / (0.33 * 0.8), 0);
    clock.t += r.retryInMs;
    expect(b.tryAcquire(call).ok).toBe(true);
  });

  it('counts trading per pair, and AddOrder does not touch the call counter', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: krakenLimits('starter'), clock });
    for (let i = 0; i < 48; i++)
      expect(b.tryAcquire(krakenCost('createOrder', { market: 'spot', pair: 'BTCUSD' })).ok).toBe(true);
    expect(b.tryAcquire(krakenCost('createOrder', { market: 'spot', pair: 'BTCUSD' })).ok).toBe(false);
    expect(b.tryAcquire(krakenCost('createOrder', { market: 'spot', pair: 'ETHUSD' })).ok).toBe(true);
    expect(b.snapshot().private_calls).toBeUndefined();
  });

  it('gives higher tiers more room', () => {
    const clock = fakeClock();
    const pro = new RateBudget({ limits: krakenLimits('pro'), clock });
    const call = krakenCost('fetchOpenOrders', { market: 'spot' });
    for (let i = 0; i < 16; i++) expect(pro.tryAcquire(call).ok).toBe(true);
    expect(pro.tryAcquire(call).ok).toBe(false);
  });
});

describe('RateBudget.acquire', () => {
  it('waits on the injected clock until the cost fits', async () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: krakenLimits('starter'), clock });
    const call = krakenCost('fetchBalances', { market: 'spot' });
    for (let i = 0; i < 14; i++) await b.acquire(call);
    expect(clock.slept.length).toBe(2);
    expect(clock.t - 1_700_000_000_000).toBeGreaterThan(7000);
  });

  it('refuses without charging when the wait would exceed maxWaitMs', async () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock });
    await b.acquire(spot(4800));
    await expect(b.acquire(spot(10), 1000)).rejects.toBeInstanceOf(BudgetExhausted);
    expect(clock.slept).toEqual([]);
  });

  it('refuses a cost larger than the whole capacity at once', async () => {
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock: fakeClock() });
    await expect(b.acquire(spot(5000))).rejects.toMatchObject({ retryInMs: Number.POSITIVE_INFINITY });
  });
});

describe('RateBudget pressure and observation', () => {
  it('reads pressure as the fullest limiter', () => {
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock: fakeClock() });
    expect(b.pressure()).toBe(0);
    b.tryAcquire(spot(2400));
    expect(b.pressure()).toBeCloseTo(0.5);
  });

  it('charges the difference when the venue counted more weight than we did', () => {
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock: fakeClock() });
    b.tryAcquire(spot(100));
    b.observe('spot_weight', 4000);
    expect(b.snapshot().spot_weight?.used).toBe(4000);
    b.observe('spot_weight', 10);
    expect(b.snapshot().spot_weight?.used).toBe(4000);
  });

  it('rejects a fraction above 80% of the published limits', () => {
    expect(() => new RateBudget({ limits: BINANCE_LIMITS, fraction: 0.9 })).toThrow(RangeError);
  });
});

describe('RateBudget as a planner: priorities', () => {
  it('keeps the room above market data for settlement, and the room above settlement for orders', () => {
    const clock = fakeClock();
    const refusals: BudgetRefusal[] = [];
    const b = new RateBudget({ limits: krakenLimits('starter'), clock, onRefuse: (r) => refusals.push(r) });
    const call = { units: { private_calls: 1 } };
    // 12 calls fit the 80% budget (15 × 0.8); account refresh may fill 85% of it, i.e. 10.
    let account = 0;
    while (b.tryAcquire(call, 'account').ok) account += 1;
    expect(account).toBe(10);
    expect(refusals).toEqual([{ limiter: 'private_calls', priority: 'account' }]);
    // Reconciliation still gets its calls although the account refresh was refused.
    expect(b.tryAcquire(call, 'settlement').ok).toBe(true);
    expect(b.tryAcquire(call, 'settlement').ok).toBe(false);
    // …and an order path lookup the last one.
    expect(b.tryAcquire(call, 'order').ok).toBe(true);
  });

  it('never lets market data push the budget to the 90% at which conn degrades', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: krakenLimits('starter'), clock });
    for (let i = 0; i < 100; i++) b.tryAcquire({ units: { public_calls: 1 } }, 'market');
    expect(b.pressure()).toBeLessThan(0.9);
    expect(b.tryAcquire({ units: { public_calls: 1 } }, 'settlement').ok).toBe(true);
  });

  it('gives every gateway call its class: orders, then settlement, then market data', () => {
    expect(priorityOf('createOrder')).toBe('order');
    expect(priorityOf('cancelOrder')).toBe('order');
    expect(priorityOf('fetchMyTrades')).toBe('settlement');
    expect(priorityOf('fetchOpenOrders')).toBe('settlement');
    expect(priorityOf('fetchTickers')).toBe('market');
    expect(priorityOf('fetchFundingRates')).toBe('market');
  });
});

describe('RateBudget as a planner: venue verdicts', () => {
  it('pauses every call that spends a limiter until the Retry-After, and only those', async () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: BINANCE_LIMITS, clock });
    b.pause(['spot_weight'], clock.t + 30_000);
    const ticker = binanceCost('fetchTickers', { market: 'spot', symbols: 2 });
    const order = binanceCost('createOrder', { market: 'spot' });
    expect(b.tryAcquire(ticker, 'market')).toMatchObject({ ok: false, limiter: 'spot_weight', retryInMs: 30_000 });
    expect(b.tryAcquire(order, 'order')).toMatchObject({ ok: false, limiter: 'spot_weight' });
    // USDⓈ-M weight is another limit at Binance: not paused.
    expect(b.tryAcquire(binanceCost('fetchTickers', { market: 'linear' }), 'market').ok).toBe(true);
    await expect(b.acquire(order, 5_000, 'order')).rejects.toMatchObject({ limiter: 'spot_weight' });
    clock.t += 30_000;
    expect(b.tryAcquire(order, 'order').ok).toBe(true);
  });

  it('stops only the order count on Binance -1015, everything on a weight 429', () => {
    const order = binanceCost('createOrder', { market: 'spot' });
    expect(pauseTargets(order, 'binance {"code":-1015,"msg":"Too many new orders"}')).toEqual([
      'spot_orders_10s',
      'spot_orders_1d',
    ]);
    expect(pauseTargets(order, 'binance 429 {"code":-1003}')).toEqual([
      'spot_weight',
      'spot_orders_10s',
      'spot_orders_1d',
    ]);
  });

  it('fills a counter the venue says is full when it gives no Retry-After (Kraken)', () => {
    const clock = fakeClock();
    const b = new RateBudget({ limits: krakenLimits('starter'), clock });
    b.saturate(['private_calls']);
    expect(b.tryAcquire({ units: { private_calls: 1 } }, 'order').ok).toBe(false);
    clock.t += 4_000; // 1 / 0.264 per s
    expect(b.tryAcquire({ units: { private_calls: 1 } }, 'order').ok).toBe(true);
  });
});

describe('default schedule per Kraken tier', () => {
  it.each([
    ['starter', 30_000],
    ['intermediate', 20_000],
    ['pro', 15_000],
  ] as const)('refreshes a %s account every %i ms, inside a third of its call counter', (tier, ms) => {
    expect(accountRefreshMs('kraken', tier)).toBe(ms);
    const spec = krakenLimits(tier).find((l) => l.name === 'private_calls');
    if (spec?.kind !== 'decay') throw new Error('no private_calls counter');
    // Two calls per refresh (BalanceEx, OpenOrders) against the 80% decay rate.
    const perSec = 2 / (ms / 1000);
    expect(perSec / (spec.decayPerSec * 0.8)).toBeLessThan(1 / 3);
  });
});
