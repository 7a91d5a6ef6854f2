import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { createGoLive, GOLIVE_START_KEY } from './golive.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 0, 0, 0);

function kv() {
  const m = new Map<string, unknown>();
  return { get: <T>(k: string) => m.get(k) as T | undefined, put: async (k: string, v: unknown) => void m.set(k, v) };
}

describe('bosun golive', () => {
  it('refuses DEX execution at start, naming the flag and the runbook', () => {
    expect(() => loadConfig({ DEX_EXECUTION_ENABLED: 'true' })).toThrow(/DEX_EXECUTION_ENABLED.*Keep DEX exec off/s);
  });

  it('starts the clock once at the first live start; paper mode never starts it', async () => {
    let now = T0;
    const store = kv();
    const paper = createGoLive({ config: { MODE: 'paper' }, kv: store, registry: new Registry(), now: () => now });
    await paper.noteTradingStarted();
    expect(store.get(GOLIVE_START_KEY)).toBeUndefined();
    expect((await paper.report()).stage.id).toBe('not_started');
    const live = createGoLive({ config: { MODE: 'live' }, kv: store, registry: new Registry(), now: () => now });
    await live.noteTradingStarted();
    now = T0 + 13 * H;
    await live.noteTradingStarted();
    const r = await live.report();
    expect(r.start).toEqual({ at: new Date(T0).toISOString(), source: 'first_live_start' });
    expect(r.stage.id).toBe('small_live');
    expect(r.advisory).toBe(true);
  });

  it('hour 12–36 wants breakouts live and maker shadow, and names the flags that differ', async () => {
    const config = { ...loadConfig({}), GOLIVE_START_AT: new Date(T0).toISOString() };
    const g = createGoLive({ config, kv: kv(), registry: new Registry(), now: () => T0 + 20 * H });
    const r = await g.report();
    expect(r.stage.id).toBe('small_live');
    const flag = (f: string) => r.flags.find((x) => x.flag === f);
    expect(flag('EVENT_BREAKOUT_DRY_RUN')).toMatchObject({ wants: 'false', running: 'true', differs: true });
    expect(flag('DEX_EXECUTION_ENABLED')).toMatchObject({ wants: 'false', running: 'false', differs: false });
    expect(r.differing).toContain('EVENT_BREAKOUT_ENABLED');
    expect(r.evidence.map((e) => e.status)).toEqual(['no_data', 'no_data', 'no_data', 'no_data']);
  });

  it('hour 36–72: futures taker slippage above the line and good maker shadow advise real maker; spot fills do not count', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'order_slippage_bps',
      help: 'slippage',
      labelNames: ['venue', 'market', 'symbol', 'side', 'strategy', 'liquidity'],
      buckets: [1, 5, 10, 20],
      registers: [registry],
    });
    const labels = { venue: 'binance', symbol: 'BTCUSDT', side: 'buy', strategy: 'hmm' };
    for (const v of [11, 13, 12]) h.observe({ ...labels, market: 'linear', liquidity: 'taker' }, v);
    h.observe({ ...labels, market: 'spot', liquidity: 'taker' }, 100);
    h.observe({ ...labels, market: 'linear', liquidity: 'maker' }, -2);
    const g = createGoLive({
      config: { MODE: 'live', GOLIVE_START_AT: new Date(T0).toISOString(), MAKER_MODE: 'shadow' },
      kv: kv(),
      registry,
      now: () => T0 + 40 * H,
      maker: { shadow: () => ({ samples: 50, fillRatePct: 70, improvementBps: 1.5 }) },
      guards: () => [{ kind: 'funding', state: { trims: 2, hedges: 0, pollError: null } }],
      fundingOrders: () => [
        { strategy: 'funding', status: 'filled' },
        { strategy: 'funding', status: 'filled' },
      ],
      audit: () => [{ ts: T0 + 30 * H, actor: 'ops', result: 'ok' }],
    });
    const r = await g.report();
    expect(r.stage.id).toBe('expand');
    const ev = Object.fromEntries(r.evidence.map((e) => [e.id, e]));
    expect(ev.futures_taker_slippage?.status).toBe('pass');
    expect(ev.futures_taker_slippage?.data).toMatchObject({ count: 3, meanBps: 12 });
    expect(ev.funding_trims?.status).toBe('pass');
    expect(ev.depeg_synthetic_test?.status).toBe('pass');
    const flag = (f: string) => r.flags.find((x) => x.flag === f);
    expect(flag('MAKER_MODE')).toMatchObject({ wants: 'live', running: 'shadow', differs: true });
    expect(flag('DEPEG_EXIT_RISK')?.wants).toBe('true');
    expect(flag('FUNDING_HEDGE_RATIO')?.wants).toBe('0.30');
  });

  it('a failed funding trim keeps the hedge at 0 and says why', async () => {
    const g = createGoLive({
      config: { MODE: 'live', GOLIVE_START_AT: new Date(T0).toISOString() },
      kv: kv(),
      registry: new Registry(),
      now: () => T0 + 50 * H,
      guards: () => [{ kind: 'funding', state: { trims: 1, hedges: 0, pollError: null } }],
      fundingOrders: () => [{ strategy: 'funding', status: 'rejected' }],
    });
    const r = await g.report();
    expect(r.evidence.find((e) => e.id === 'funding_trims')?.status).toBe('fail');
    expect(r.flags.find((x) => x.flag === 'FUNDING_HEDGE_RATIO')?.wants).toBe('0');
  });
});
