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
