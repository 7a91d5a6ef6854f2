import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtest } from './backtest.js';
import { UsageError } from './cli-context.js';

const OPS = resolve(import.meta.dirname, '../../ops');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stateDir: mkdtempSync(join(tmpdir(), 'bosun-bt-')),
      opsDir: OPS,
      json: false,
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      gateway: () => Promise.reject(new Error('no venue in this test')),
    },
  };
}

async function usage(args: string[]): Promise<string> {
  const e = await backtest(io().io, args).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UsageError);
  return (e as Error).message;
}

describe('bosun backtest command line', () => {
  it.each([
    [['--bars', 'many'], '--bars'],
    [['--bars', '3.5'], '--bars'],
    [['--paths', '0'], '--paths'],
    [['--capital', '-5'], '--capital'],
    [['--trend-weight', '2'], '--trend-weight'],
    [['--tick-ms', '7000'], '--tick-ms'],
    [['--modes', 'blend,moon'], '--modes'],
    [['--asset', 'NOPE'], '--asset'],
    [['--venue', 'ftx', '--symbol', 'BTCUSDT'], '--venue'],
    [['--venue', 'binance'], '--symbol'],
    [['--calibration', '/nonexistent/cal.json'], '--calibration'],
    [['--html', ''], '--html'],
    [['--fee-bps'], 'fee-bps'],
    [['--perp', '--spot'], '--perp and --spot'],
    [['--leverage', '3'], 'need --perp'],
    [['--perp', '--margin-mode', 'portfolio'], '--margin-mode'],
    [['--perp', '--leverage', '50'], '--leverage'],
    [['--perp', '--venue', 'kraken', '--symbol', 'XBTUSD'], 'needs binance'],
  ])('refuses %j with an error naming %s', async (args, name) => {
    expect(await usage(args)).toContain(name);
  });

  it('refuses an unknown option by name', async () => {
    expect(await usage(['--sharpe-goal', '3'])).toContain('--sharpe-goal');
  });

  it('runs a short seeded path and writes the JSON summary with every mode', async () => {
    const t = io();
    const out = join(t.io.stateDir, 'summary.json');
    const code = await backtest(t.io, [
      '--bars',
      '400',
      '--warmup-bars',
      '100',
      '--modes',
      'hmm,buy_and_hold',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8'));
    expect(s.aggregates.map((a: { mode: string }) => a.mode)).toEqual(['hmm', 'buy_and_hold']);
    expect(s.paths[0].runs[1].trades).toBe(1);
    expect(s.command).toContain('--bars 400');
    expect(t.out.join('')).toMatch(/hmm .*sharpe/);
  }, 60_000);
});

describe('bosun backtest on perpetuals', () => {
  it('trades the perpetual long and short with PERP_STRATEGIES_ENABLED and reports funding', async () => {
    const t = io();
    const out = join(t.io.stateDir, 'summary.json');
    const perp = {
      enabled: true,
      leverage: 2,
      marginMode: 'cross' as const,
      minLiqDistancePct: 20,
      maintMarginRate: 0.004,
    };
    // 1,000 one-minute bars cross two 8-hourly funding settlements.
    const code = await backtest({ ...t.io, perp }, [
      '--bars',
      '1000',
      '--warmup-bars',
      '100',
      '--max-notional',
      '400',
      '--modes',
      'trend,buy_and_hold',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8'));
    expect(s.options.market).toBe('perp');
    expect(s.options.perp.leverage).toBe(2);
    const [trend, hold] = s.paths[0].runs;
    expect(trend.perp.longEntries).toBeGreaterThan(0);
    expect(trend.perp.shortEntries).toBeGreaterThan(0);
    expect(trend.perp.reduceOnlyExits).toBeGreaterThan(0);
    // The 1x long benchmark holds through both settlements and pays or earns on each.
    expect(hold.perp.settlements).toBe(2);
    expect(hold.perp.fundingPaidUsd + hold.perp.fundingReceivedUsd).toBeGreaterThan(0);
    expect(hold.fundingUsd).toBeCloseTo(hold.perp.fundingReceivedUsd - hold.perp.fundingPaidUsd, 1);
    // At 5x the liquidation price of any entry is 19.6% away, closer than PERP_MIN_LIQ_DISTANCE_PCT 20: refused.
    await backtest({ ...t.io, perp }, [
      '--bars',
      '400',
      '--warmup-bars',
      '100',
      '--modes',
      'trend',
      '--max-notional',
      '400',
      '--leverage',
      '5',
      '--out',
      out,
    ]);
    const five = JSON.parse(readFileSync(out, 'utf8')).paths[0].runs[0];
    expect(five.trades).toBe(0);
    expect(five.rejections.liquidation_distance).toBeGreaterThan(0);
    // --spot overrides the env's flag.
    const spot = io();
    await backtest({ ...spot.io, perp }, ['--bars', '200', '--modes', 'buy_and_hold', '--spot', '--out', out]);
    expect(JSON.parse(readFileSync(out, 'utf8')).options.market).toBe('spot');
  }, 60_000);
});
