import { intentFor, targetPositionUsdt } from '../strategies/allocator.js';
import { fitBaumWelch } from '../strategies/baum-welch.js';
import type { ModelVariant } from '../strategies/regime-signal.js';
import {
  calibrationWindow,
  initialStrategyState,
  onBar,
  type StrategyEnv,
  withCalibration,
} from '../strategies/symbol-strategy.js';
import { PricePath, volScaleOf } from '../venues/sim/price-path.js';

/**
 * `bosun backtest`: the live strategy code (`onBar`, the HMM calibration the live calibrator runs, the allocator's
 * sizing) over the simulator's seeded price path, minute bars, filled at the bar close with a fee. Same seed, same
 * result: the numbers are comparable across code changes.
 */
export interface BacktestOptions {
  seed: number;
  bars: number;
  asset: string;
  startUsd: number;
  capitalUsd: number;
  maxNotionalUsd: number;
  minTradeUsd: number;
  feeBps: number;
  env: StrategyEnv;
}

export interface BacktestResult {
  seed: number;
  asset: string;
  bars: number;
  trades: number;
  calibrations: number;
  startEquityUsd: number;
  endEquityUsd: number;
  returnPct: number;
  buyAndHoldPct: number;
  maxDrawdownPct: number;
  feesUsd: number;
  exposureBarsPct: number;
  byStrategy: Record<string, number>;
}

const STEPS_PER_MINUTE = 60;

export function runBacktest(o: BacktestOptions): BacktestResult {
  const path = new PricePath({ code: o.asset, startUsd: o.startUsd, stable: false }, o.seed);
  const state = initialStrategyState();
  let cash = o.capitalUsd;
  let qty = 0;
  let fees = 0;
  let trades = 0;
  let calibrations = 0;
  let peak = o.capitalUsd;
  let maxDd = 0;
  let exposed = 0;
  let first: number | undefined;
  let last = o.startUsd;
  const byStrategy: Record<string, number> = {};
  let bar = 0;
  path.advanceTo((o.bars + 1) * STEPS_PER_MINUTE, (k, price) => {
    if (k % STEPS_PER_MINUTE !== STEPS_PER_MINUTE - 1 || bar >= o.bars) return;
    bar += 1;
    first ??= price;
    last = price;
    const out = onBar(state, price, o.env);
    for (const v of out.calibrate as ModelVariant[]) {
      let params = null;
      try {
        params = fitBaumWelch(calibrationWindow(state, v, o.env), {
          k: o.env.calibration.states ?? 3,
          maxIter: 200,
          seed: 1,
        }).params;
        calibrations += 1;
      } catch {
        params = null;
      }
      withCalibration(state, v, params, state.bars);
    }
    const current = qty * price;
    const target = targetPositionUsdt(out.signal, o.capitalUsd, {
      quoteMultiplier: out.quoteMultiplier,
      longOnly: true,
    });
    const d = intentFor(current, target, { minTradeUsdt: o.minTradeUsd, maxNotionalUsdt: o.maxNotionalUsd });
    if (d) {
      const quote = d.side === 'sell' ? Math.min(d.quoteUsdt, current) : Math.min(d.quoteUsdt, cash);
      if (quote > 0) {
        const q = quote / price;
        const fee = (quote * o.feeBps) / 10_000;
        if (d.side === 'buy') {
          qty += q;
          cash -= quote + fee;
        } else {
          qty -= q;
          cash += quote - fee;
        }
        fees += fee;
        trades += 1;
        byStrategy[out.strategy] = (byStrategy[out.strategy] ?? 0) + 1;
      }
    }
    if (qty > 0) exposed += 1;
    const equity = cash + qty * price;
    peak = Math.max(peak, equity);
    maxDd = Math.max(maxDd, ((peak - equity) / peak) * 100);
  });
  const end = cash + qty * last;
  return {
    seed: o.seed,
    asset: o.asset,
    bars: bar,
    trades,
    calibrations,
    startEquityUsd: o.capitalUsd,
    endEquityUsd: Number(end.toFixed(2)),
    returnPct: Number((((end - o.capitalUsd) / o.capitalUsd) * 100).toFixed(4)),
    buyAndHoldPct: Number((((last - (first ?? last)) / (first ?? last)) * 100).toFixed(4)),
    maxDrawdownPct: Number(maxDd.toFixed(4)),
    feesUsd: Number(fees.toFixed(2)),
    exposureBarsPct: Number(((exposed / Math.max(1, bar)) * 100).toFixed(2)),
    byStrategy,
  };
}

/** The asset's volatility scale, for the summary line (the path's parameters are the simulator's). */
export function assetVolScale(asset: string): number {
  return volScaleOf(asset);
}
