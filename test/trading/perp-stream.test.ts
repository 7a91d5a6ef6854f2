/**
 * Perpetual fills by Binance's USDⓈ-M user-data stream (listenKey), end to end in Bosun's own composition
 * (buildBosun, real ccxt.pro against the simulator, LMDB): a perpetual order filled at the venue reaches the perp
 * book by the stream (`engine_stream_fills_total{market="linear"}` counts it); with the futures stream dropped and
 * the venue refusing to reconnect, the account shows "stream down, polling", the next fill is settled by REST
 * (the stream counter does not move), the stream comes back on its own, and the perp book equals the venue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type InProcessBosun, perpSignal, startInProcess } from './in-process.js';
import { getJson, startVenue, until } from './support.js';

let sim: Simulator;
let b: InProcessBosun;

beforeAll(async () => {
  sim = await startVenue(171);
  b = await startInProcess(sim, {
    VENUES: 'binance',
    STREAMS_ENABLED: 'true',
    PERP_STRATEGIES_ENABLED: 'true',
    PERP_MAX_LEVERAGE: '2',
    TRADE_SYMBOLS: 'BTCUSDT',
    // USDⓈ-M BTCUSDT's minimum notional is 100 USDT.
    MAX_NOTIONAL_USDT: '300',
    // Hour-long bars: the strategies never warm up here, the test sends the signals.
    BAR_MS: '3600000',
  });
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await sim?.close();
});

const futures = () => {
  const a = sim.state({ venue: 'binance', account: sim.keys.binance.apiKey }).accounts[0];
  if (!a) throw new Error('no sim account');
  return a.futures;
};
const venueQty = () => futures().positions.find((p) => p.symbol === 'BTCUSDT')?.qty ?? 0;
const bookQty = () => b.trading.engine.perpLedger('binance')?.positions.BTCUSDT?.qty ?? 0;

async function streamFills(): Promise<number> {
  const text = await (await fetch(`${b.engine}/metrics`)).text();
  const m = /^engine_stream_fills_total\{venue="binance",market="linear"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

const signal = (value: number) => perpSignal(b, sim, value);

const account = () => getJson<{ health: string; reason: string }>(`${b.engine}/actors/account:binance`);
const settledAll = () =>
  until('every order settled', () => (b.trading.engine.inflightCount() === 0 ? true : undefined), 20_000);

describe('USDⓈ-M user-data stream into settlement', () => {
  it('settles a perpetual fill by the stream, then by REST while the stream is down, and the perp book equals the venue', async () => {
    await until(
      'futures stream live',
      () => (b.trading.engine.userDataLive('binance', 'linear') ? true : undefined),
      20_000,
    );
    expect(sim.requests().byPath['POST /fapi/v1/listenKey'] ?? 0).toBeGreaterThanOrEqual(1);

    signal(1);
    await until('a long perpetual at the venue', () => (venueQty() > 0 ? true : undefined), 20_000);
    await settledAll();
    await until('the fill by stream', async () => ((await streamFills()) >= 1 ? true : undefined), 10_000);
    expect(bookQty()).toBeCloseTo(venueQty(), 12);
    const byStream = await streamFills();

    // The venue refuses new connections, and every open one is cut: the futures stream is down.
    sim.streams.fault({ kind: 'outage', venue: 'binance' });
    sim.streams.fault({ kind: 'drop', venue: 'binance' });
    await until(
      'futures stream down',
      () => (b.trading.engine.userDataLive('binance', 'linear') ? undefined : true),
      20_000,
    );
    await until('account says stream down, polling', async () => {
      const a = await account();
      return a.health === 'DEGRADED' && /stream down, polling/.test(a.reason) ? a : undefined;
    });

    // A reduce-only close while the stream is away: settled by REST, never by the stream.
    signal(-1);
    await until('the position closed at the venue', () => (venueQty() === 0 ? true : undefined), 20_000);
    await settledAll();
    expect(bookQty()).toBe(0);
    expect(await streamFills()).toBe(byStream);

    sim.streams.clearFaults();
    await until(
      'futures stream live again',
      () => (b.trading.engine.userDataLive('binance', 'linear') ? true : undefined),
      30_000,
    );
    await until('account OK', async () => ((await account()).health === 'OK' ? true : undefined), 30_000);
    await b.trading.engine.reconcileAll();
    const f = futures();
    const book = b.trading.engine.perpLedger('binance');
    expect(book?.positions.BTCUSDT?.qty ?? 0).toBeCloseTo(venueQty(), 12);
    expect(book?.wallet).toBeCloseTo(f.wallet.USDT ?? 0, 6);
  }, 90_000);
});
