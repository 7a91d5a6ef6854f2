import { afterEach, describe, expect, it } from 'vitest';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import type { BacktestFill } from '../../src/backtest/market-model.js';
import { type ReplayOptions, replay } from '../../src/backtest/replay.js';
import { SIM_BOOK_SLIPPAGE } from '../../src/backtest/slippage-model.js';
import { simPathTicks, simPerpRules, simSpotRules, type TickSeries } from '../../src/backtest/tick-sources.js';
import type { StrategyEnv } from '../../src/strategies/symbol-strategy.js';
import { CROSS_PERP } from '../support/perp-settings.js';
import { OPEN_LIMITS } from '../trading/engine-harness.js';
import { type LivePipeline, livePipeline } from './live-pipeline.js';

/**
 * Parity (issue 16 item 7): the backtest on a seeded path makes the same trades as the runtime's pipeline fed the
 * same ticks (live-pipeline.ts: tick router, symbols supervisor, calibrator, real engine through ccxt to the
 * simulator), each bar left to come to rest before the next. The backtest replays the same ticks through
 * `replay`. Compared: time, side, strategy, amount and reduce-only of every filled strategy order — on spot, and on
 * the USDⓈ-M perpetual with PERP_STRATEGIES_ENABLED (long and short, reduce-only exits, funding settled in the
 * backtest at 08:00).
 */
const SEED = Number(process.env.PARITY_SEED ?? 7);
const VENUE = 'binance';
const SYMBOL = 'BTCUSDT';
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const CAPITAL = 100_000;
const COOLDOWN_MS = 90_000;
const LIMITS = { ...OPEN_LIMITS, maxNotionalUsdt: 400 };
const env: StrategyEnv = {
  weights: { stable_model: 0.7, canary_model: 0.3 },
  // A cooldown scale away from 1, so the parity covers `base × cooldown_scale`.
  calibration: { confidence_gain: 1, quote_multiplier: 1, cooldown_scale: 1.5, states: 3 },
  trend: { fastBars: 8, slowBars: 34, entryZ: 0.5 },
  warmupBars: 150,
  trendWeight: 0.5,
};
const PERP: PerpSettings = CROSS_PERP;

interface TradeRow {
  at: number;
  side: string;
  strategy: string;
  amount: number;
  reduceOnly: boolean;
}

let live: LivePipeline | undefined;
afterEach(async () => {
  await live?.close();
  live = undefined;
});

function liveTrades(p: LivePipeline, market: 'spot' | 'linear'): TradeRow[] {
  return [...p.rig.store.orders.list()]
    .filter(
      (r) =>
        r.status === 'filled' &&
        (r.strategy === 'hmm' || r.strategy === 'trend') &&
        (r.market === 'linear' ? 'linear' : 'spot') === market,
    )
    .map((r) => ({
      at: Number(r.createdAt),
      side: String(r.side),
      strategy: String(r.strategy),
      amount: Number(r.amount),
      reduceOnly: market === 'linear' ? r.reduceOnly === true : r.side === 'sell',
    }))
    .sort((a, b) => a.at - b.at);
}

const base: Omit<ReplayOptions, 'rules'> = {
  mode: 'blend',
  venue: VENUE,
  slippage: SIM_BOOK_SLIPPAGE,
  capitalUsd: CAPITAL,
  barMs: 60_000,
  baseCooldownMs: COOLDOWN_MS,
  env,
  allocations: { reserve_pct: 0 },
  symbols: SYMBOLS,
  limits: LIMITS,
  minTradeUsdt: 10,
};

/** The live pipeline fed `series` (spot, or the perpetual with `perp`); left in `live` for afterEach to close. */
async function runLive(series: TickSeries, perp?: PerpSettings): Promise<LivePipeline> {
  live = await livePipeline({
    seed: SEED,
    venue: VENUE,
    symbol: SYMBOL,
    symbols: SYMBOLS,
    capitalUsd: CAPITAL,
    limits: LIMITS,
    cooldownMs: COOLDOWN_MS,
    env,
    ...(perp ? { perp } : {}),
    startAt: series.ticks[0]?.at ?? 0,
  });
  await live.feed(series.ticks);
  return live;
}

const rowsOf = (fills: readonly BacktestFill[]): TradeRow[] =>
  fills.map((f) => ({ at: f.at, side: f.side, strategy: f.strategy, amount: f.amount, reduceOnly: f.reduceOnly }));

describe('backtest parity with the live pipeline', () => {
  it(`makes the same spot trades as the runtime fed the same ticks (seed ${SEED})`, async () => {
    console.log(`parity seed ${SEED} (replay: PARITY_SEED=${SEED})`);
    const series = simPathTicks({ asset: 'BTC', seed: SEED, bars: 700, tickMs: 5_000 });
    const p = await runLive(series);
    const bt = replay(series.ticks, { ...base, rules: simSpotRules('BTC') });
    const backtest = rowsOf(bt.fills);
    const liveRows = liveTrades(p, 'spot');
    console.log(`parity spot: ${liveRows.length} live trades, ${backtest.length} backtest trades`);
    // Something to compare: both strategies, both sides, and the cooldown in play.
    expect(backtest.length).toBeGreaterThan(10);
    expect(new Set(backtest.map((t) => t.side)).size).toBe(2);
    expect(backtest).toEqual(liveRows);
  }, 600_000);

  it(`makes the same perpetual trades, long and short, as the runtime with PERP_STRATEGIES_ENABLED (seed ${SEED})`, async () => {
    // 560 bars: past the 08:00 funding settlement, which the backtest charges and which must not move the sizes
    // (the engine sizes perpetuals from the spot ledger's equity).
    const series = simPathTicks({ asset: 'BTC', seed: SEED, bars: 560, tickMs: 5_000 });
    const p = await runLive(series, PERP);
    const bt = replay(series.ticks, {
      ...base,
      rules: simPerpRules('BTC'),
      perp: PERP,
      ...(series.funding ? { funding: series.funding } : {}),
    });
    const backtest = rowsOf(bt.fills);
    const liveRows = liveTrades(p, 'linear');
    console.log(
      `parity perp: ${liveRows.length} live trades, ${backtest.length} backtest trades, funding ${bt.fundingUsd.toFixed(2)}`,
    );
    // Something to compare: longs and shorts opened, reduce-only exits, and a funding settlement charged.
    const opened = bt.fills.filter((f) => !f.reduceOnly);
    expect(opened.some((f) => f.positionAfter > 0)).toBe(true);
    expect(opened.some((f) => f.positionAfter < 0)).toBe(true);
    expect(bt.fills.some((f) => f.reduceOnly)).toBe(true);
    expect(bt.perp?.settlements).toBeGreaterThan(0);
    expect(liveRows.every((r) => r.amount > 0)).toBe(true);
    expect(backtest).toEqual(liveRows);
    // The live perp book ends where the backtest's does.
    const net = p.rig.perps?.venue(VENUE)?.positions[SYMBOL]?.qty ?? 0;
    expect(net).toBeCloseTo(bt.fills.at(-1)?.positionAfter ?? 0, 9);
  }, 600_000);
});
