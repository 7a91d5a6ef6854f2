/**
 * `GET /guards/stops` with a perpetual position, end to end in Bosun's own composition (buildBosun, real ccxt
 * against the simulator, LMDB, the engine listener over HTTP): a long perpetual opened by a strategy signal gets
 * its reduce-only sell stop from the stop validator, and the route lists it — market `perp`, side, trigger price,
 * amount, reduce-only and the position it protects — as the venue holds it; once the position is closed the stop
 * is gone from the venue and from the list. A stop that triggers: its fill (by the user-data stream) closes the
 * strategies' share in the perp book, and the stop leaves the list as triggered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardsStopsResponse } from '../../src/http/openapi-responses.js';
import type { ProtectiveStopView, StopsView } from '../../src/supervisor/trading-port.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type InProcessBosun, perpSignal, startInProcess } from './in-process.js';
import { getJson, startVenue, until } from './support.js';

let sim: Simulator;
let b: InProcessBosun;
const STOP_PCT = 5;

beforeAll(async () => {
  sim = await startVenue(173);
  b = await startInProcess(sim, {
    VENUES: 'binance',
    PERP_STRATEGIES_ENABLED: 'true',
    PERP_MAX_LEVERAGE: '2',
    TRADE_SYMBOLS: 'BTCUSDT',
    // USDⓈ-M BTCUSDT's minimum notional is 100 USDT.
    MAX_NOTIONAL_USDT: '300',
    // Hour-long bars: the strategies never warm up here, the test sends the signals.
    BAR_MS: '3600000',
    STOP_VALIDATOR_REPAIR: 'true',
    // Fills by the USDⓈ-M user-data stream: a triggered stop's fill names the stop's clientOrderId there.
    STREAMS_ENABLED: 'true',
    STOP_LOSS_PCT: String(STOP_PCT),
  });
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await sim?.close();
});

const account = () => {
  const a = sim.state({ venue: 'binance', account: sim.keys.binance.apiKey }).accounts[0];
  if (!a) throw new Error('no sim account');
  return a;
};
const venuePosition = () => account().futures.positions.find((p) => p.symbol === 'BTCUSDT');
const venueStops = () =>
  sim
    .state({ venue: 'binance', account: sim.keys.binance.apiKey, open: true })
    .orders.filter((o) => o.market === 'perp' && o.symbol === 'BTCUSDT' && o.type === 'STOP_MARKET' && !o.triggered);
const mark = () => Number(sim.prices('binance')['binance:perp:BTCUSDT']);

const signal = (value: number) => perpSignal(b, sim, value);

async function binanceStops(): Promise<StopsView> {
  const body = await getJson(`${b.engine}/guards/stops`);
  // The answer holds to the route's OpenAPI schema (/docs).
  expect(GuardsStopsResponse.parse(body)).toEqual(body);
  const v = (body as { venues: StopsView[] }).venues.find((x) => x.venue === 'binance');
  if (!v) throw new Error('no binance validator in GET /guards/stops');
  return v;
}

describe('GET /guards/stops lists perpetual stops', () => {
  it('shows a long perpetual and its reduce-only sell stop as the venue holds them, and drops it once flat', async () => {
    // A long of about 180 USDT (0.06 of the symbol's 3,000 budget), under MAX_NOTIONAL_USDT: a full signal's entry
    // is clipped at 300, and once the price drifts up the close is clipped at 300 too and leaves a step behind
    // (a clean-clone CI run: 0.005 bought, 0.004 closed; see the session note).
    signal(0.06);
    await until('a long perpetual at the venue', () => ((venuePosition()?.qty ?? 0) > 0 ? true : undefined), 20_000);
    const stop = await until('the perpetual stop in GET /guards/stops', async () => {
      const v = await binanceStops();
      return v.stops.find((s) => s.market === 'perp' && s.status === 'live');
    });
    const pos = venuePosition();
    const [atVenue] = venueStops();
    expect(venueStops()).toHaveLength(1);
    expect(stop).toMatchObject<Partial<ProtectiveStopView>>({
      market: 'perp',
      symbol: 'BTCUSDT',
      side: 'sell',
      reduceOnly: true,
      amount: pos?.qty,
      triggerPrice: atVenue?.stopPrice,
      clientOrderId: atVenue?.clientOrderId,
      protects: { side: 'long', qty: pos?.qty as number, entryPrice: pos?.entryPrice as number },
    });
    expect(stop.triggerPrice).toBeLessThan(mark());
    expect(stop.triggerPrice).toBeCloseTo((pos?.entryPrice ?? 0) * (1 - STOP_PCT / 100), -1);
    const v = await binanceStops();
    expect(v.positions).toContainEqual(
      expect.objectContaining({
        market: 'perp',
        symbol: 'BTCUSDT',
        side: 'long',
        qty: pos?.qty,
        stop: expect.objectContaining({ side: 'sell', reduceOnly: true, clientOrderId: stop.clientOrderId }),
      }),
    );
    // The same stop in GET /orders, on its closing side.
    const orders = await getJson<{ orders: Array<{ kind: string; clientOrderId: string; side: string }> }>(
      `${b.engine}/orders?open=true`,
    );
    expect(orders.orders.find((o) => o.clientOrderId === stop.clientOrderId)).toMatchObject({
      kind: 'stop',
      side: 'sell',
    });

    // Flat: the validator cancels the stop; the route no longer lists it. The exit signal goes once the entry is
    // settled: a signal while the strategies' order on the other side is in flight is skipped (its size would come
    // from a position about to change).
    await until('the entry settled', () => (b.trading.engine.inflightCount() === 0 ? true : undefined), 30_000);
    signal(-1);
    await until(
      'the position closed at the venue',
      async () => {
        if ((venuePosition()?.qty ?? 0) === 0) return true;
        // Not yet: what a timeout reports (two clean-clone CI runs timed out here under load; alone, about 1 s).
        const { orders } = await getJson<{ orders: unknown[] }>(`${b.engine}/orders?limit=4`);
        const share = b.trading.engine.perpLedger('binance')?.owners.BTCUSDT;
        throw new Error(
          `venue ${JSON.stringify(venuePosition())}; perp book ${JSON.stringify(share)}; orders ${JSON.stringify(orders)}`,
        );
      },
      45_000,
    );
    await until('the stop gone from GET /guards/stops', async () => {
      const after = await binanceStops();
      return after.stops.some((s) => s.market === 'perp') ? undefined : after;
    });
    expect(venueStops()).toHaveLength(0);
  }, 90_000);

  it("a triggered stop's fill closes the strategies' share by the stream, and the stop leaves the list", async () => {
    await until(
      'futures stream live',
      () => (b.trading.engine.userDataLive('binance', 'linear') ? true : undefined),
      20_000,
    );
    await until('the last exit settled', () => (b.trading.engine.inflightCount() === 0 ? true : undefined), 30_000);
    signal(1);
    await until('a long perpetual at the venue', () => ((venuePosition()?.qty ?? 0) > 0 ? true : undefined), 20_000);
    const stop = await until('the perpetual stop listed', async () =>
      (await binanceStops()).stops.find((s) => s.market === 'perp' && s.status === 'live'),
    );
    const streamed = b.trading.engine.perpLedger('binance')?.owners.BTCUSDT?.strategies ?? 0;
    expect(streamed).toBeGreaterThan(0);
    const sells = () => [...b.store.journal.readFrom(0)].filter((e) => e.type === 'perp.fill' && e.side === 'sell');
    const sellsBefore = sells().length;
    sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: stop.triggerPrice * 0.97 });
    await until('the stop closed the position at the venue', () =>
      (venuePosition()?.qty ?? 0) === 0 ? true : undefined,
    );
    await until("the strategies' share closed in the perp book", () => {
      const l = b.trading.engine.perpLedger('binance');
      return l?.positions.BTCUSDT === undefined && Object.keys(l?.owners.BTCUSDT ?? {}).length === 0 ? l : undefined;
    });
    // The book is in memory at once; a journal entry is visible once its commit is (a clean-clone CI run read the
    // journal in between and found the first test's exit as the last sell): wait for the stop's entry.
    const fills = await until('the stop fill in the journal', () => {
      const f = sells();
      return f.length > sellsBefore ? f : undefined;
    });
    expect(fills.slice(sellsBefore)).toEqual([
      expect.objectContaining({ owner: 'stop', strategy: 'stop', symbol: 'BTCUSDT' }),
    ]);
    await until('the triggered stop gone from GET /guards/stops', async () => {
      const v = await binanceStops();
      return v.stops.some((s) => s.market === 'perp') ? undefined : v;
    });
    const triggered = await until('the trigger in the journal', () => {
      const t = [...b.store.journal.readFrom(0)].filter((e) => e.type === 'order.stop.triggered');
      return t.length > 0 ? t : undefined;
    });
    expect(triggered).toEqual([expect.objectContaining({ clientOrderId: stop.clientOrderId, market: 'linear' })]);
    expect(venueStops()).toHaveLength(0);
  }, 90_000);
});
