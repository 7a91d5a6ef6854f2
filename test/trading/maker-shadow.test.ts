import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BosunGateway, createVenueStreams } from '../../src/venues/index.js';
import { type EngineRig, frozenMarketRig, steppedClock } from './engine-harness.js';
import { until } from './support.js';

/**
 * Maker shadow (issue #16 item 3) on the simulator with a known answer: the market is frozen (manual sim clock)
 * and the test moves the price, so each path's outcome is certain — after a taker buy, the price falls through the
 * bid (a post-only bid at the touch fills for sure) or rises away from it (it never fills). The shadow judges from
 * the venue's public trades: the simulator's tape prints a seller hitting the bid when the price falls and a buyer
 * lifting the ask when it rises, on Binance's `<symbol>@trade` stream (ccxt.pro watchTrades) and GET aggTrades. The shadow windows run
 * on a clock the test steps, so no timing decides the answer. The expected KPIs are computed here from the
 * venue's own tickers, by hand.
 */
let r: EngineRig;
/** The shadow windows' clock: `advance` wakes every window whose wait is over. */
const clock = steppedClock(1_000_000);
const TIMEOUT_MS = 10_000;

beforeAll(async () => {
  r = await frozenMarketRig(17, {
    spot: { USDT: 100_000, BTC: 0.05 },
    maker: {
      modes: { spot: 'shadow', perp: 'off' },
      timeoutMs: TIMEOUT_MS,
      pollMs: 500,
      clock,
      tradeStream: (_v, market) => createVenueStreams(r.gateway as BosunGateway).trades(market),
    },
  });
}, 30_000);
afterAll(async () => {
  await r?.engine.stopMaker();
  await r?.close();
});

async function ticker() {
  const tk = (await r.gateway.fetchTickers(['BTCUSDT'])).BTCUSDT;
  if (!tk || tk.bid === null || tk.ask === null) throw new Error('no touch');
  return { bid: tk.bid, ask: tk.ask, last: tk.last, mid: (tk.bid + tk.ask) / 2 };
}

/** A taker buy with the touch the feed showed; resolves once it settled (its average fill known). */
async function takerBuy() {
  const q = await ticker();
  r.engine.notePrice('binance', 'BTCUSDT', q.mid);
  r.engine.noteTick('binance', 'BTCUSDT', q);
  const res = await r.engine.submitOperator({
    venue: 'binance',
    symbol: 'BTCUSDT',
    side: 'buy',
    quote: 200,
    actor: 't',
  });
  const cid = res.order?.clientOrderId as string;
  // The shadow read where the tape stood at its open: only prints after that count.
  await until('the tape read at the open', () =>
    pending(cid)?.afterTradeId !== null && pending(cid) !== undefined ? true : undefined,
  );
  const rec = await until('the taker settled', () => {
    const x = r.store.orders.get(cid);
    return x?.status === 'filled' && x.slippage ? x : undefined;
  });
  return { cid, bid: q.bid, average: rec.averagePrice as number };
}

const pending = (cid: string) => r.engine.maker().shadow.pending.find((p) => p.clientOrderId === cid);
const result = (cid: string) =>
  until('the shadow result', () => r.engine.maker().shadow.recent.find((x) => x.clientOrderId === cid));
/** (a − b) in bps of `base`. */
const bps = (a: number, b: number, base: number) => ((a - b) / base) * 1e4;

describe('maker shadow, known answers', () => {
  it('the price falls through the bid: the post-only alternative fills; improvement and adverse move match', async () => {
    const taker = await takerBuy();
    expect(pending(taker.cid)?.postPrice).toBe(taker.bid);
    r.sim.setPrice({ symbol: 'BTCUSDT', price: taker.bid * 0.998 });
    const atFill = await ticker();
    expect(atFill.last as number).toBeLessThanOrEqual(taker.bid);
    clock.advance(500);
    await until('the would-be fill seen', () => (pending(taker.cid)?.filled ? true : undefined));
    // Then the market keeps falling: the maker fill would have been adverse by this much.
    r.sim.setPrice({ symbol: 'BTCUSDT', price: taker.bid * 0.995 });
    const atEnd = await ticker();
    clock.advance(TIMEOUT_MS);
    const s = await result(taker.cid);
    expect(s.filled).toBe(true);
    expect(s.takerAverage).toBeCloseTo(taker.average, 8);
    expect(s.improvementBps).toBeCloseTo(bps(taker.average, taker.bid, taker.average), 1);
    expect(s.improvementBps).toBeGreaterThan(0);
    expect(s.adverseBps).toBeCloseTo(bps(atFill.mid, atEnd.mid, atFill.mid), 1);
    expect(s.adverseBps).toBeGreaterThan(20);
    expect(s.missedCostBps).toBeNull();
  });

  it('the price rises away from the bid: never fills; the missed cost is the price at the timeout vs the taker fill', async () => {
    const taker = await takerBuy();
    r.sim.setPrice({ symbol: 'BTCUSDT', price: taker.average * 1.004 });
    const atEnd = await ticker();
    expect(atEnd.last as number).toBeGreaterThan(taker.bid);
    clock.advance(500);
    clock.advance(TIMEOUT_MS);
    const s = await result(taker.cid);
    expect(s.filled).toBe(false);
    expect(s.improvementBps).toBeNull();
    expect(s.missedCostBps).toBeCloseTo(bps(atEnd.mid, taker.average, taker.average), 1);
    expect(s.missedCostBps).toBeGreaterThan(30);
  });

  it('the KPIs add up per venue and market, in the metrics and the journal (orders.jsonl)', async () => {
    const [sum] = r.engine.maker().shadow.summary;
    expect(sum).toMatchObject({ venue: 'binance', market: 'spot', orders: 2, filled: 1, missed: 1, fillRate: 0.5 });
    const text = await r.metrics.registry.metrics();
    expect(text).toContain('maker_shadow_fill_rate{venue="binance",market="spot"} 0.5');
    expect(text).toMatch(/maker_shadow_missed_cost_bps_count\{venue="binance",market="spot"\} 1/);
    // The summary counts a result when it is decided; its journal entry commits after: poll for exactly two.
    const journaled = () => [...r.store.journal.readFrom(0)].filter((e) => e.type === 'order.maker_shadow');
    await until('both results journaled', () => (journaled().length === 2 ? true : undefined));
  });

  it('the prints came from the trade stream, which delivered the simulator tape (fills and synthetic flow)', async () => {
    const tape = r.engine.maker().shadow.tapes;
    expect(tape).toEqual([{ venue: 'binance', market: 'spot', symbols: ['BTCUSDT'], stream: 'live' }]);
    // REST serves the same tape: the taker's own fills at the ask (the buyer took) and the falls at the bid.
    const prints = await (r.gateway.fetchTrades?.('BTCUSDT', 50) ?? Promise.resolve([]));
    expect(prints.some((p) => p.side === 'buy')).toBe(true);
    expect(prints.some((p) => p.side === 'sell')).toBe(true);
  });
});
