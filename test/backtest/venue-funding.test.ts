import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest } from '../../src/cli/backtest.js';
import { createGateway } from '../../src/venues/index.js';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import type { VenueGateway } from '../../src/venues/venue-gateway.js';

/**
 * `bosun backtest --perp --venue binance`: the perpetual's klines and its published funding rates come from the
 * venue through real ccxt (`fetchOHLCV` on the USDⓈ-M market, `fetchFundingRateHistory` = `GET /fapi/v1/fundingRate`),
 * here the simulator's, are cached on disk, and a re-run reads the cache without a request; funding is charged at
 * each settlement the history spans.
 */
let sim: Simulator;
const clock = createManualClock();
const opened: VenueGateway[] = [];
let gatewayCalls = 0;

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 5, clock });
  // A day and a bit of history: three funding settlements (08:00, 16:00, 00:00) behind the clock.
  clock.advance(26 * 3_600_000);
}, 60_000);

afterAll(async () => {
  for (const g of opened) await g.close();
  await sim?.close();
});

describe('perpetual backtest on venue history', () => {
  it('fetches the perpetual klines and funding history, caches both, and charges the funding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-bt-funding-'));
    const out = join(dir, 'summary.json');
    const err: string[] = [];
    const io = {
      stateDir: dir,
      opsDir: resolve(import.meta.dirname, '../../ops'),
      json: false,
      out: () => {},
      err: (t: string) => err.push(t),
      async gateway() {
        gatewayCalls += 1;
        const g = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl });
        opened.push(g);
        return g;
      },
    };
    const args = [
      '--perp',
      '--venue',
      'binance',
      '--symbol',
      'BTCUSDT',
      '--until',
      new Date(clock.now()).toISOString(),
      '--bars',
      '1500',
      '--modes',
      'buy_and_hold',
      '--out',
      out,
    ];
    expect(await backtest(io, args)).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8'));
    expect(s.source.market).toBe('linear');
    // 1,500 bars back from 02:00 on day 2 span the 08:00, 16:00 and 00:00 settlements.
    expect(s.source.funding.rates).toBe(3);
    const hold = s.paths[0].runs[0];
    expect(hold.perp.settlements).toBe(3);
    expect(hold.perp.fundingPaidUsd + hold.perp.fundingReceivedUsd).toBeGreaterThan(0);
    expect(gatewayCalls).toBeGreaterThan(0);

    // Again: both from the cache, no gateway, the same figures.
    const calls = gatewayCalls;
    expect(await backtest(io, args)).toBe(0);
    expect(gatewayCalls).toBe(calls);
    expect(err.join('')).toMatch(/funding: 3 rates from cache/);
    expect(JSON.parse(readFileSync(out, 'utf8')).paths[0].runs[0].fundingUsd).toBe(hold.fundingUsd);
  }, 60_000);
});
