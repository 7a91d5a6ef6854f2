#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { HmmCalibrationFileSchema, StrategyWeightsFileSchema } from '../config/files.schema.js';
import { errorMessage } from '../domain/errors.js';
import { runBacktest } from './backtest.js';
import { depegRearm } from './depeg-rearm.js';

/**
 * The `bosun` CLI (`npx bosun …` or `npm run bosun -- …`). Today: `backtest`. The operator commands (status,
 * kill, resume, weights, order, reconcile, smoke, audit, backup, restore) come with the operator-surface work.
 */
const USAGE = `usage: bosun backtest [--seed N] [--bars N] [--asset BTC] [--capital USD] [--max-notional USD]
                      [--fee-bps N] [--calibration ops/hmm_calibration.json] [--weights ops/strategy_weights.json]
                      [--warmup-bars N] [--trend-weight 0..1] [--json]
       bosun depeg rearm [--url http://127.0.0.1:8003] [--state-dir state] [--token T] [--note TEXT]`;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function num(args: string[], name: string, d: number): number {
  const v = arg(args, name);
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} expects a number, got '${v}'`);
  return n;
}

function backtest(args: string[]): void {
  const calPath = arg(args, 'calibration') ?? 'ops/hmm_calibration.json';
  const wPath = arg(args, 'weights') ?? 'ops/strategy_weights.json';
  const calibration = HmmCalibrationFileSchema.parse(JSON.parse(readFileSync(calPath, 'utf8')));
  const weights = StrategyWeightsFileSchema.parse(JSON.parse(readFileSync(wPath, 'utf8'))).weights;
  const warmup = num(args, 'warmup-bars', 0);
  const asset = (arg(args, 'asset') ?? 'BTC').toUpperCase();
  const r = runBacktest({
    seed: num(args, 'seed', 42),
    bars: num(args, 'bars', 5_000),
    asset,
    startUsd: asset === 'ETH' ? 3_000 : 60_000,
    capitalUsd: num(args, 'capital', 10_000),
    maxNotionalUsd: num(args, 'max-notional', 100),
    minTradeUsd: num(args, 'min-trade', 10),
    feeBps: num(args, 'fee-bps', 10),
    env: {
      weights,
      calibration,
      trend: { fastBars: 8, slowBars: 34, entryZ: 0.5 },
      warmupBars: warmup > 0 ? warmup : undefined,
      trendWeight: num(args, 'trend-weight', 0.5),
    },
  });
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else
    process.stdout.write(
      `backtest ${r.asset} seed ${r.seed}: ${r.bars} bars, ${r.trades} trades (${Object.entries(r.byStrategy)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), ${r.calibrations} calibrations\n` +
        `  return ${r.returnPct}% (buy & hold ${r.buyAndHoldPct}%), max drawdown ${r.maxDrawdownPct}%, fees ${r.feesUsd} USD, in the market ${r.exposureBarsPct}% of bars\n`,
    );
}

const [cmd, ...rest] = process.argv.slice(2);
try {
  if (cmd === 'backtest') backtest(rest);
  else if (cmd === 'depeg' && rest[0] === 'rearm')
    void depegRearm(rest.slice(1), (l) => process.stdout.write(`${l}\n`)).then(
      (code) => process.exit(code),
      (e: unknown) => {
        process.stderr.write(`bosun: ${errorMessage(e)}\n`);
        process.exit(2);
      },
    );
  else {
    process.stderr.write(`${USAGE}\n`);
    process.exit(cmd === undefined || cmd === '--help' ? 0 : 2);
  }
} catch (e) {
  process.stderr.write(`bosun: ${errorMessage(e)}\n`);
  process.exit(2);
}
