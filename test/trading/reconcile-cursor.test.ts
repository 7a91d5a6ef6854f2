import { afterAll, beforeAll, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { boot, type EngineRig, engineRig } from './engine-harness.js';
import { manualBuy, until } from './support.js';

/**
 * Reconciliation reads trades from where the ledger last explained the venue, not from Bosun's latest fill
 * (campaign part B, 10,000 seeds, path 459): a manual buy on the venue's web page, then more than ten minutes in
 * which nobody reconciles while an order of Bosun's own fills. The fill moved the trade cursor past the manual
 * trade (reads start 10 minutes before it), so no later pass read that trade again: the balances stayed
 * unexplained and every pass halted the venue.
 */
let sim: Simulator;
let r: EngineRig;

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 307, clock: createManualClock(Date.now()) });
  r = await engineRig(sim, { now: () => sim.now() });
  await boot(r);
}, 60_000);

afterAll(async () => {
  await r?.close();
  await sim?.close();
});

it('a manual trade older than the latest fill by more than ten minutes is still read, applied and explained', async () => {
  const first = await r.engine.reconcileAll();
  expect(first.venues.binance).toMatchObject({ mismatches: [] });
  expect(first.venues.binance?.error).toBeUndefined();

  // A second on (a venue's clock never stands still: the buy is after the boot's baseline), someone buys by hand.
  sim.advance(1_000);
  const bought = await manualBuy(sim, r.keys, { clientOrderId: 'web-eth-buy', symbol: 'ETHUSDT', amount: 0.02 });
  expect(bought.status).toBe('accepted');

  // Eleven minutes on (reconciliation failing all along, or simply not run), Bosun's own order fills.
  sim.advance(11 * 60_000);
  const placed = await r.engine.submitOperator({
    venue: 'binance',
    symbol: 'BTCUSDT',
    side: 'buy',
    quote: 50,
    actor: 'test',
  });
  expect(placed.status).toBe('accepted');
  // Its fill settles into the ledger, moving the latest fill's time (the old trade cursor) past the manual buy.
  const lastFill = await until('the fill in the ledger', () => {
    const at = r.book.ledger().venues.binance?.lastTradeAt ?? 0;
    return at >= sim.now() - 1_000 ? at : undefined;
  });

  const res = await r.engine.reconcileAll();
  expect(res.venues.binance?.error).toBeUndefined();
  expect(res.venues.binance?.mismatches).toEqual([]);
  expect(r.halts).toEqual([]);
  const acct = sim.state({ venue: 'binance' }).accounts.find((a) => a.apiKey === r.keys.apiKey);
  const ledger = r.book.ledger().venues.binance?.balances ?? {};
  for (const a of ['ETH', 'BTC', 'USDT']) {
    const b = acct?.spot[a];
    expect(ledger[a], a).toBe(Number(((b?.free ?? 0) + (b?.locked ?? 0)).toFixed(8)));
  }
  // The pass left the venue explained: the next one reads from its start, and finds nothing to apply.
  expect(r.book.reconciledThrough('binance')).toBeGreaterThan(lastFill - 1);
  const again = await r.engine.reconcileAll();
  expect(again.venues.binance).toMatchObject({ mismatches: [], fillsApplied: 0 });
});
