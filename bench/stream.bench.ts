import { createGateway, createVenueStreams, type Ticker } from '../src/venues/index.js';
import { startSimulator } from '../src/venues/sim/index.js';

/**
 * Venue event → tick in Bosun, streamed vs polled, through the real Binance gateway and ccxt.pro against the
 * simulator. The event is a price move (`setPrice`); the tick is the first ticker Bosun maps that carries it.
 * - `streamed_push`: the venue pushes right after the move (a real-time stream such as bookTicker): the cost of
 *   the stream path itself (socket, ccxt parse, mapping).
 * - `streamed_1s`: the move at a random moment, the venue pushing on its own 1 s update speed (`@ticker`).
 * - `polled_1s`: the move at a random moment, REST `fetchTickers` every 1 s (FEED_POLL_MS default), as the feed
 *   did before streams.
 */
const SYMBOL = 'BTCUSDT';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN).toFixed(2));
}

function summary(xs: number[]) {
  return { samples: xs.length, p50_ms: pct(xs, 50), p99_ms: pct(xs, 99), max_ms: pct(xs, 100) };
}

/** Resolves with the receive time of the first tick at ≥ `price` (or ≤, moving down). */
function waiter() {
  let want: { price: number; up: boolean; resolve: (t: number) => void } | undefined;
  return {
    seen(t: Ticker, at: number) {
      if (want === undefined || t.symbol !== SYMBOL || t.last === null) return;
      if (want.up ? t.last >= want.price : t.last <= want.price) {
        want.resolve(at);
        want = undefined;
      }
    },
    next(price: number, up: boolean): Promise<number> {
      return new Promise((resolve) => {
        want = { price, up, resolve };
      });
    },
  };
}

async function measure(
  n: number,
  sim: Awaited<ReturnType<typeof startSimulator>>,
  w: ReturnType<typeof waiter>,
  after?: () => void,
  jitterMs = 0,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (jitterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * jitterMs));
    // Moves of ±1,000 around 60,000; the tick carries the move once it is past the midpoint (the path keeps walking).
    const up = i % 2 === 0;
    const price = up ? 61_000 : 59_000;
    const seen = w.next(up ? 60_500 : 59_500, up);
    const t0 = performance.now();
    sim.setPrice({ venue: 'binance', symbol: SYMBOL, price });
    after?.();
    out.push((await seen) - t0);
  }
  return out;
}

export async function run(): Promise<Record<string, unknown>> {
  const sim = await startSimulator({ seed: 9, streams: { pushMs: 1000 } });
  const gw = createGateway('binance', { mode: 'paper', simBaseUrl: sim.baseUrl, ...sim.keys.binance });
  try {
    await gw.loadMarkets();
    sim.setPrice({ venue: 'binance', symbol: SYMBOL, price: 60_000 });

    // Streamed.
    const ws = waiter();
    const stream = createVenueStreams(gw).tickers('spot');
    const live = new Promise<void>((resolve) =>
      stream.start([SYMBOL], {
        onTickers: (ts) => {
          const at = performance.now();
          for (const t of ts) ws.seen(t, at);
        },
        onStatus: (s) => s.state === 'live' && resolve(),
      }),
    );
    await live;
    const push = await measure(200, sim, ws, () => sim.streams.push());
    const streamed1s = await measure(20, sim, ws, undefined, 1000);
    await stream.stop();

    // Polled, as the feed's REST path does it.
    const pw = waiter();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const started = performance.now();
        const tickers = await gw.fetchTickers([SYMBOL]);
        const at = performance.now();
        for (const t of Object.values(tickers)) pw.seen(t, at);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - started))));
      }
    })();
    const polled1s = await measure(20, sim, pw, undefined, 1000);
    polling = false;
    await poller;

    return {
      what: 'venue event (price move) → ticker mapped in Bosun, Binance spot via the real gateway',
      streamed_push: summary(push),
      streamed_1s: summary(streamed1s),
      polled_1s: summary(polled1s),
    };
  } finally {
    await gw.close();
    await sim.close();
  }
}
