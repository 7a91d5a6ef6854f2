/**
 * The simulator's Kraken tape, as Kraken's API documents it, through the real ccxt classes: REST
 * `GET /0/public/Trades` (ccxt kraken fetchTrades: `[price, volume, time, b|s, ord_type, misc, trade_id]`, `last`
 * in nanoseconds) and the WebSocket v2 `trade` channel (ccxt.pro kraken watchTrades, through Bosun's trade stream).
 * The market is frozen (manual clock): a fall prints a seller hitting the bid, a rise a buyer lifting the ask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVenueStreams } from '../../src/venues/index.js';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import type { PublicTrade } from '../../src/venues/venue-gateway.js';
import { simGateway, until } from '../trading/support.js';
import { krakenClient } from './sim-ccxt.js';

let sim: Simulator;
const SYM = 'BTC/USD';

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 23, clock: createManualClock(Date.now()) });
});
afterAll(async () => {
  await sim?.close();
});

const fair = () => Number(sim.prices('kraken')['kraken:spot:BTCUSD'] ?? sim.prices('kraken')['kraken:spot:XXBTZUSD']);

describe('Kraken public trades on the simulator', () => {
  it('GET /0/public/Trades: a fall prints a sell at the bid, a rise a buy at the ask; `since` pages forward', async () => {
    const ex = krakenClient(sim);
    await ex.loadMarkets();
    await ex.fetchTrades(SYM); // the first read starts the tape
    const before = await ex.fetchOrderBook(SYM, 5);
    sim.setPrice({ venue: 'kraken', symbol: 'XXBTZUSD', price: fair() * 0.995 });
    const fall = (await ex.fetchTrades(SYM)).at(-1);
    expect(fall).toMatchObject({ side: 'sell', symbol: SYM });
    expect(fall?.price).toBeLessThanOrEqual(before.bids[0]?.[0] as number);
    const mid = await ex.fetchOrderBook(SYM, 5);
    sim.advance(2_000);
    sim.setPrice({ venue: 'kraken', symbol: 'XXBTZUSD', price: fair() * 1.01 });
    const all = await ex.fetchTrades(SYM);
    const rise = all.at(-1);
    expect(rise).toMatchObject({ side: 'buy' });
    expect(rise?.price).toBeGreaterThanOrEqual(mid.asks[0]?.[0] as number);
    // Every print carries its trade_id, increasing.
    const ids = all.map((t) => Number(t.id));
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    // `since` (ccxt sends whole seconds): only what printed after it.
    const later = await ex.fetchTrades(SYM, (fall?.timestamp as number) + 1_000);
    expect(later.map((t) => t.id)).not.toContain(fall?.id);
    expect(later.at(-1)?.id).toBe(rise?.id);
    expect(later.every((t) => (t.timestamp ?? 0) > (fall?.timestamp as number))).toBe(true);
  });

  it('WebSocket v2 `trade`: the prints reach Bosun’s trade stream (ccxt.pro kraken) as they happen', async () => {
    const gw = simGateway(sim, 'kraken');
    await gw.loadMarkets();
    const stream = createVenueStreams(gw).trades('spot');
    if (!stream) throw new Error('no Kraken trade stream');
    const got: PublicTrade[] = [];
    stream.start(['BTCUSD'], { onTrades: (t) => got.push(...t), onStatus: () => undefined });
    try {
      await until('the trade stream live', () => (stream.status().state === 'live' ? true : undefined), 20_000);
      const n = got.length;
      const book = await gw.fetchOrderBook('BTCUSD', 5);
      sim.setPrice({ venue: 'kraken', symbol: 'XXBTZUSD', price: fair() * 0.99 });
      sim.streams.push();
      const sell = await until('a streamed sell print', () => got.slice(n).find((t) => t.side === 'sell'), 20_000);
      expect(sell).toMatchObject({ symbol: 'BTCUSD' });
      expect(sell.price).toBeLessThanOrEqual(book.bids[0]?.[0] as number);
      // The same print by REST, under the same trade id.
      const rest = await gw.fetchTrades?.('BTCUSD', 50);
      expect(rest?.some((t) => t.id === sell.id && t.side === 'sell')).toBe(true);
    } finally {
      await stream.stop();
      await gw.close();
    }
  });
});
