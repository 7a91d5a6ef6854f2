/**
 * A maker shadow on a Kraken taker order in paper mode is judged, not dropped (issue #16): Bosun's own
 * composition (buildBosun, real ccxt kraken / ccxt.pro kraken against the simulator, LMDB, HTTP) with
 * MAKER_MODE=shadow sends a market buy through POST /orders; the shadow follows Kraken's WebSocket v2 `trade`
 * channel (its opening read is GET /0/public/Trades) and `GET /maker` reports its result. Before the simulator
 * had a Kraken tape, the tape read failed and the shadow was dropped with a warning; before the shadow waited for
 * budget, an order sent right after boot lost its shadow the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MakerReport } from '../../src/supervisor/trading-port.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type InProcessBosun, startInProcess } from './in-process.js';
import { getJson, post, startVenue, until } from './support.js';

let sim: Simulator;
let b: InProcessBosun;

beforeAll(async () => {
  sim = await startVenue(29);
  b = await startInProcess(sim, {
    VENUES: 'kraken',
    TRADE_SYMBOLS: 'BTCUSD',
    STREAMS_ENABLED: 'true',
    MAKER_MODE: 'shadow',
    MAKER_TIMEOUT_SEC: '1',
    // Hour-long bars: the strategies never trade here; the only order is the test's.
    BAR_MS: '3600000',
  });
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await sim?.close();
});

describe('maker shadow on Kraken in paper mode', () => {
  it("judges a Kraken taker order's post-only alternative from Kraken's trade channel", async () => {
    // Right after boot, as an operator would: the boot has spent Kraken's public budget (10 calls per 10 s; the
    // budget's pressure reads about 0.91 here), so the shadow's reads meet Bosun's own refusals. Its quotes come
    // from the feed's fresh touch and its opening tape read waits for room; before, it was dropped.
    const res = await post(`${b.engine}/orders`, { symbol: 'BTCUSD.KRAKEN', side: 'buy', quote: 40 });
    expect(res.status).toBeLessThan(300);
    const cid = (res.body.order as { clientOrderId: string }).clientOrderId;
    const judged = await until(
      'the shadow result in GET /maker',
      async () => {
        const m = await getJson<MakerReport>(`${b.engine}/maker`);
        return m.shadow.recent.find((x) => x.clientOrderId === cid) ? m : undefined;
      },
      30_000,
    );
    expect(judged.shadow.summary).toEqual([expect.objectContaining({ venue: 'kraken', market: 'spot', orders: 1 })]);
    const tapes = (judged.shadow as { tapes?: unknown }).tapes;
    expect(tapes).toEqual([{ venue: 'kraken', market: 'spot', symbols: ['BTCUSD'], stream: 'live' }]);
    // The report is in memory at once; its journal entry is visible once its commit is: wait for it.
    const journaled = await until('the shadow in the journal', () => {
      const j = [...b.store.journal.readFrom(0)].filter(
        (e) => e.type === 'order.maker_shadow' && e.clientOrderId === cid,
      );
      return j.length > 0 ? j : undefined;
    });
    expect(journaled).toEqual([expect.objectContaining({ venue: 'kraken', market: 'spot' })]);
  }, 60_000);
});
