import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fundingFromHistory, loadFundingHistory } from '../backtest/funding-history.js';
import { type HistoryGateway, loadOhlcv, ohlcvRules, ohlcvTicks } from '../backtest/ohlcv-cache.js';
import type { BacktestPerpSettings } from '../backtest/order-path.js';
import { RUN_MODES, type RunMode } from '../backtest/replay.js';
import { renderReport } from '../backtest/report-html.js';
import { type BacktestPlan, runBacktest } from '../backtest/run-backtest.js';
import { simPathTicks, simPerpRules, simSpotRules, type TickSeries } from '../backtest/tick-sources.js';
import { HmmCalibrationFileSchema, StrategyWeightsFileSchema } from '../config/files.schema.js';
import { errorMessage } from '../domain/errors.js';
import { parse } from './args.js';
import { EXIT_OK, UsageError } from './cli-context.js';

/**
 * `bosun backtest`: the live pipeline (src/backtest/replay.ts) over the simulator's seeded regime-switching paths
 * (`--seed`, `--paths`) or a venue's OHLCV history (`--venue`, cached under `<state-dir>/backtest/ohlcv/`), in every
 * mode asked (`blend` = the configured HMM + trend mix, `hmm` = the HMM stable/canary blend alone, `trend`,
 * `buy_and_hold`), net of fees and the slippage model; a JSON summary and `--html FILE`. With
 * PERP_STRATEGIES_ENABLED (or `--perp`) the signals trade the asset's USDⓈ-M perpetual, long and short, at the
 * PERP_* leverage, margin mode and liquidation distance, paying the seeded path's funding.
 */
export interface BacktestIo {
  stateDir: string;
  opsDir: string;
  json: boolean;
  out(t: string): void;
  err(t: string): void;
  /** The venue gateway for `--venue` (composition root: bosun.ts). */
  gateway(venue: string, simUrl: string | undefined): Promise<HistoryGateway>;
  /** The PERP_* flags as the process would read them (bosun.ts parses the env); absent: spot, the defaults. */
  perp?: BacktestPerpSettings & { enabled: boolean };
}

/** PERP_* defaults as src/config/env.schema.ts writes them (when the caller passes no env). */
const PERP_DEFAULTS: BacktestPerpSettings & { enabled: boolean } = {
  enabled: false,
  leverage: 2,
  marginMode: 'cross',
  minLiqDistancePct: 20,
  maintMarginRate: 0.004,
};

const OPTIONS = {
  seed: { type: 'string' },
  paths: { type: 'string' },
  bars: { type: 'string' },
  asset: { type: 'string' },
  'tick-ms': { type: 'string' },
  venue: { type: 'string' },
  symbol: { type: 'string' },
  until: { type: 'string' },
  'sim-url': { type: 'string' },
  modes: { type: 'string' },
  capital: { type: 'string' },
  'max-notional': { type: 'string' },
  'max-exposure': { type: 'string' },
  'min-trade': { type: 'string' },
  'cooldown-sec': { type: 'string' },
  'fee-bps': { type: 'string' },
  'spread-bps': { type: 'string' },
  'level-usd': { type: 'string' },
  'gap-bps': { type: 'string' },
  'trend-weight': { type: 'string' },
  'warmup-bars': { type: 'string' },
  calibration: { type: 'string' },
  weights: { type: 'string' },
  perp: { type: 'boolean' },
  spot: { type: 'boolean' },
  leverage: { type: 'string' },
  'margin-mode': { type: 'string' },
  'min-liq-distance': { type: 'string' },
  html: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A number option in [min, max] (integers when `int`), or a usage error naming the option. */
function numOpt(v: string | undefined, name: string, d: number, min: number, max: number, int = false): number {
  if (v === undefined) return d;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n)))
    throw new UsageError(`--${name} expects ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got '${v}'`);
  return n;
}

function readJsonFile<T>(path: string, option: string, schema: { parse(v: unknown): T }): T {
  if (!existsSync(path)) throw new UsageError(`--${option}: no such file '${path}'`);
  try {
    return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new UsageError(`--${option}: '${path}' is not a valid file: ${errorMessage(e).slice(0, 300)}`);
  }
}

function modesOpt(v: string | undefined): RunMode[] {
  if (v === undefined) return [...RUN_MODES];
  const modes = v.split(',').map((s) => s.trim());
  for (const m of modes)
    if (!(RUN_MODES as readonly string[]).includes(m))
      throw new UsageError(`--modes: unknown mode '${m}' (one or more of ${RUN_MODES.join(', ')})`);
  return [...new Set(modes)] as RunMode[];
}

/** The command line that reproduces a run (for the report). */
function commandLine(args: string[]): string {
  return ['npm run bosun -- backtest', ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`))].join(' ');
}

/** The perpetual settings of this run (env, then the options), or undefined for spot. */
function perpOpt(io: BacktestIo, v: Record<string, string | boolean | undefined>): BacktestPerpSettings | undefined {
  const d = io.perp ?? PERP_DEFAULTS;
  if (v.perp === true && v.spot === true) throw new UsageError('--perp and --spot exclude each other');
  const on = v.perp === true || (d.enabled && v.spot !== true);
  const mode = v['margin-mode'];
  if (mode !== undefined && mode !== 'cross' && mode !== 'isolated')
    throw new UsageError(`--margin-mode must be cross or isolated, got '${String(mode)}'`);
  const leverage = numOpt(v.leverage as string | undefined, 'leverage', d.leverage, 1, 20, true);
  const dist = numOpt(v['min-liq-distance'] as string | undefined, 'min-liq-distance', d.minLiqDistancePct, 1, 100);
  if (!on) {
    if (v.leverage !== undefined || mode !== undefined || v['min-liq-distance'] !== undefined)
      throw new UsageError('--leverage/--margin-mode/--min-liq-distance need --perp (or PERP_STRATEGIES_ENABLED)');
    return undefined;
  }
  return { leverage, marginMode: mode ?? d.marginMode, minLiqDistancePct: dist, maintMarginRate: d.maintMarginRate };
}

export async function backtest(io: BacktestIo, args: string[]): Promise<number> {
  const { values: v } = parse(args, OPTIONS);
  const perp = perpOpt(io, v);
  const capital = numOpt(v.capital, 'capital', 10_000, 1, 1e12);
  const barMs = 60_000;
  const calibration = readJsonFile(
    v.calibration ?? join(io.opsDir, 'hmm_calibration.json'),
    'calibration',
    HmmCalibrationFileSchema,
  );
  const weights = readJsonFile(
    v.weights ?? join(io.opsDir, 'strategy_weights.json'),
    'weights',
    StrategyWeightsFileSchema,
  ).weights;
  const warmup = numOpt(v['warmup-bars'], 'warmup-bars', 0, 0, 100_000, true);
  const bars = numOpt(v.bars, 'bars', 3_000, 10, 1_000_000, true);
  const exposure = numOpt(v['max-exposure'], 'max-exposure', capital, 0, 1e15);
  const modes = modesOpt(v.modes);
  if (v.html !== undefined && v.html.trim() === '') throw new UsageError('--html needs a file name');

  let series: TickSeries[];
  let rules: BacktestPlan['rules'];
  let source: Record<string, unknown>;
  if (v.venue !== undefined) {
    if (v.venue !== 'binance' && v.venue !== 'kraken')
      throw new UsageError(`--venue must be binance or kraken, got '${v.venue}'`);
    if (v.symbol === undefined) throw new UsageError('--venue needs --symbol (the venue id, e.g. BTCUSDT)');
    if (v.seed !== undefined || v.paths !== undefined)
      throw new UsageError('--seed/--paths are for simulator paths, not with --venue');
    if (perp && v.venue !== 'binance')
      throw new UsageError(`--perp with --venue needs binance (${v.venue} lists no perpetuals here)`);
    const until = v.until === undefined ? Math.floor(Date.now() / barMs) * barMs : Date.parse(v.until);
    if (!Number.isFinite(until)) throw new UsageError(`--until expects an ISO date, got '${v.until}'`);
    const venue = v.venue;
    const cacheDir = join(io.stateDir, 'backtest', 'ohlcv');
    const market = perp ? 'linear' : 'spot';
    const gateway = () => io.gateway(venue, v['sim-url']);
    const loaded = await loadOhlcv({ venue, symbol: v.symbol, barMs, bars, until, cacheDir, market }, gateway);
    io.err(`history: ${loaded.data.bars.length} bars from ${loaded.source} (${loaded.path})\n`);
    const defaultFee = perp ? 5 : venue === 'kraken' ? 26 : 10;
    rules = ohlcvRules(loaded.data, numOpt(v['fee-bps'], 'fee-bps', defaultFee, 0, 1_000) / 1e4, market);
    const s0 = ohlcvTicks(loaded.data);
    source = {
      kind: 'venue',
      venue,
      symbol: v.symbol,
      market,
      until: new Date(until).toISOString(),
      cache: loaded.path,
    };
    if (perp) {
      const from = loaded.data.bars[0]?.openTime ?? until;
      const f = await loadFundingHistory({ venue, symbol: v.symbol, from, until, cacheDir }, gateway);
      io.err(`funding: ${f.data.rates.length} rates from ${f.source} (${f.path})\n`);
      s0.funding = fundingFromHistory(f.data);
      source.funding = { rates: f.data.rates.length, cache: f.path };
    }
    series = [s0];
  } else {
    if (v.symbol !== undefined || v['sim-url'] !== undefined || v.until !== undefined)
      throw new UsageError('--symbol/--until/--sim-url need --venue');
    const asset = (v.asset ?? 'BTC').toUpperCase();
    const seed = numOpt(v.seed, 'seed', 42, 0, 2 ** 31 - 1, true);
    const paths = numOpt(v.paths, 'paths', 1, 1, 1_000, true);
    const tickMs = numOpt(v['tick-ms'], 'tick-ms', 5_000, 1_000, 60_000, true);
    if (60_000 % tickMs !== 0 || tickMs % 1000 !== 0)
      throw new UsageError(`--tick-ms must be whole seconds dividing a minute, got '${v['tick-ms']}'`);
    try {
      rules = perp ? simPerpRules(asset) : simSpotRules(asset);
    } catch (e) {
      throw new UsageError(`--asset: ${errorMessage(e)}`);
    }
    const base = rules;
    rules = { ...base, takerFee: numOpt(v['fee-bps'], 'fee-bps', base.takerFee * 1e4, 0, 1_000) / 1e4 };
    series = Array.from({ length: paths }, (_, i) => simPathTicks({ asset, seed: seed + i, bars, tickMs }));
    source = { kind: 'simulator', asset, market: perp ? 'perp' : 'spot', seeds: [seed, seed + paths - 1], tickMs };
  }

  const plan: BacktestPlan = {
    venue: v.venue ?? 'binance',
    rules,
    slippage: {
      spreadBps: numOpt(v['spread-bps'], 'spread-bps', 1, 0, 1_000),
      levelNotionalUsd: numOpt(v['level-usd'], 'level-usd', 5_000, 1, 1e12),
      gapBps: numOpt(v['gap-bps'], 'gap-bps', 0.5, 0, 1_000),
      levelGrowth: 0.3,
    },
    capitalUsd: capital,
    barMs,
    baseCooldownMs: numOpt(v['cooldown-sec'], 'cooldown-sec', 30, 0, 86_400) * 1000,
    env: {
      weights,
      calibration,
      trend: { fastBars: 8, slowBars: 34, entryZ: 0.5 },
      warmupBars: warmup > 0 ? warmup : undefined,
      trendWeight: numOpt(v['trend-weight'], 'trend-weight', 0.5, 0, 1),
    },
    allocations: { reserve_pct: 0 },
    symbols: [rules.symbol],
    limits: {
      maxNotionalUsdt: numOpt(v['max-notional'], 'max-notional', 100, 0, 1e12),
      maxSymbolExposureUsdt: exposure,
      maxVenueExposureUsdt: exposure,
      maxAssetExposureUsdt: exposure,
      equityFloorUsd: 0,
      maxDrawdownPct: 100,
      equityCooldownSec: 0,
      orderCooldownSec: 0,
    },
    minTradeUsdt: numOpt(v['min-trade'], 'min-trade', 10, 0, 1e12),
    modes,
    ...(perp ? { perp } : {}),
  };
  const outcome = runBacktest(plan, series, (i, p) =>
    io.err(
      `path ${i + 1}/${series.length} ${p.label}: ${p.runs.map((r) => `${r.mode} sharpe ${r.sharpe}`).join(', ')}\n`,
    ),
  );
  const command = commandLine(args);
  const summary = {
    command,
    source,
    options: {
      capitalUsd: plan.capitalUsd,
      bars,
      barMs,
      maxNotionalUsdt: plan.limits.maxNotionalUsdt,
      maxExposureUsdt: exposure,
      minTradeUsdt: plan.minTradeUsdt,
      baseCooldownSec: plan.baseCooldownMs / 1000,
      takerFeeBps: plan.rules.takerFee * 1e4,
      slippage: plan.slippage,
      trendWeight: plan.env.trendWeight,
      market: perp ? 'perp' : 'spot',
      ...(perp ? { perp } : {}),
      weights,
      calibration,
    },
    aggregates: outcome.aggregates,
    paths: outcome.paths,
  };
  if (v.out !== undefined) writeFileSync(v.out, `${JSON.stringify(summary, null, 2)}\n`);
  if (v.html !== undefined) {
    const s0 = series[0] as TickSeries;
    writeFileSync(
      v.html,
      renderReport({
        title: `bosun backtest — ${s0.label}${series.length > 1 ? ` (and ${series.length - 1} more paths)` : ''}`,
        command,
        capitalUsd: capital,
        runs: outcome.first.map((r, i) => ({ summary: outcome.paths[0]?.runs[i] as never, bars: r.bars })),
        regimes: s0.regimes,
        aggregates: outcome.aggregates,
        summary,
      }),
    );
  }
  if (io.json || v.json) io.out(`${JSON.stringify(summary)}\n`);
  else {
    for (const a of outcome.aggregates)
      io.out(
        `${a.mode.padEnd(13)} paths ${a.paths}  return ${a.mean.returnPct}%  sharpe ${a.mean.sharpe} (median ${a.median.sharpe})  max DD ${a.mean.maxDrawdownPct}%  turnover ${a.mean.turnover}  trades ${a.mean.trades}  fees $${a.mean.feesUsd}  slippage $${a.mean.slippageUsd}${perp ? `  funding $${a.mean.fundingUsd}` : ''}\n`,
      );
    if (v.html !== undefined) io.out(`report: ${v.html}\n`);
  }
  return EXIT_OK;
}
