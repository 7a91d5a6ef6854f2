import { expect, it } from 'vitest';
import { type BosunGateway, createVenueStreams } from '../../src/venues/index.js';
import { type EngineRig, frozenMarketRig, ISOLATED_PERP, perpOrder, steppedClock } from './engine-harness.js';
import { until } from './support.js';

/**
 * The maker shadow's known-answer rig (issue #16 item 3), shared by the spot and perpetual, stream and REST tests:
 * a booted engine on a simulator of its own whose market is frozen (manual sim clock), MAKER_MODE=shadow for the
 * market under test, and the shadow windows on a clock the test steps, so no timing decides the answer. After a
 * taker buy the test moves the price: through the bid (a post-only bid at the touch fills for sure) or away from
 * it (it never fills). The shadow judges from the venue's public trades — the simulator's tape prints a seller
 * hitting the bid on a fall and a buyer lifting the ask on a rise — by the trade stream (`<symbol>@trade`, spot
 * `/ws` or USDⓈ-M `/fapi` through ccxt.pro watchTrades) or, without one, GET aggTrades every poll. The expected
 * KPIs are computed from the venue's own touch, by hand.
 */
export const SHADOW_TIMEOUT_MS = 10_000;

export interface ShadowRig {
  r: EngineRig;
  market: 'spot' | 'perp';
  /** The shadow windows' clock: `advance` wakes every window whose wait is over. */
  clock: ReturnType<typeof steppedClock>;
  close(): Promise<void>;
}

export async function makerShadowRig(o: {
  seed: number;
  market: 'spot' | 'perp';
  stream: boolean;
}): Promise<ShadowRig> {
  const clock = steppedClock(1_000_000);
  let gateway: BosunGateway | undefined;
  const r = await frozenMarketRig(o.seed, {
    spot: { USDT: 100_000, BTC: 0.05 },
    ...(o.market === 'perp' ? { futures: { USDT: 20_000 }, perp: ISOLATED_PERP } : {}),
    maker: {
      modes: { spot: o.market === 'spot' ? 'shadow' : 'off', perp: o.market === 'perp' ? 'shadow' : 'off' },
      timeoutMs: SHADOW_TIMEOUT_MS,
      pollMs: 500,
      clock,
      // Asked for when the first shadow opens, after the rig is built.
      ...(o.stream ? { tradeStream: (_v, market) => createVenueStreams(gateway as BosunGateway).trades(market) } : {}),
    },
  });
  gateway = r.gateway as BosunGateway;
  return {
    r,
    market: o.market,
    clock,
    async close() {
      await r.engine.stopMaker();
      await r.close();
    },
  };
}

const kind = (s: ShadowRig) => (s.market === 'perp' ? 'linear' : 'spot');

/** The venue's touch now: spot's ticker; USDⓈ-M's book top (its 24 h ticker carries no bid/ask) and last. */
async function touch(s: ShadowRig) {
  const gw = s.r.gateway;
  const [book, tickers] = await Promise.all([
    gw.fetchOrderBook('BTCUSDT', 5, kind(s)),
    gw.fetchTickers(['BTCUSDT'], kind(s)),
  ]);
  const bid = book.bids[0]?.[0];
  const ask = book.asks[0]?.[0];
  if (bid === undefined || ask === undefined) throw new Error('no touch');
  const sizes = { bidSize: book.bids[0]?.[1] ?? null, askSize: book.asks[0]?.[1] ?? null };
  return { bid, ask, ...sizes, last: tickers.BTCUSDT?.last ?? null, mid: (bid + ask) / 2 };
}

const pending = (s: ShadowRig, cid: string) => s.r.engine.maker().shadow.pending.find((p) => p.clientOrderId === cid);
const result = (s: ShadowRig, cid: string) =>
  until('the shadow result', () => s.r.engine.maker().shadow.recent.find((x) => x.clientOrderId === cid));
const setPrice = (s: ShadowRig, price: number) => s.r.sim.setPrice({ market: s.market, symbol: 'BTCUSDT', price });
/** (a − b) in bps of `base`. */
const bps = (a: number, b: number, base: number) => ((a - b) / base) * 1e4;

/** A taker buy with the touch the feed showed; resolves once it settled (its average fill known). */
async function takerBuy(s: ShadowRig) {
  const q = await touch(s);
  const { engine } = s.r;
  let cid: string;
  if (s.market === 'spot') {
    engine.notePrice('binance', 'BTCUSDT', q.mid);
    engine.noteTick('binance', 'BTCUSDT', q);
    const res = await engine.submitOperator({
      venue: 'binance',
      symbol: 'BTCUSDT',
      side: 'buy',
      quote: 200,
      actor: 't',
    });
    cid = res.order?.clientOrderId as string;
  } else {
    const res = await perpOrder(s.r, { side: 'buy', quote: 200, price: q.mid });
    cid = res.clientOrderId as string;
  }
  expect(cid).toBeTypeOf('string');
  // The shadow read where the tape stood at its open: only prints after that count.
  await until('the tape read at the open', () =>
    pending(s, cid) !== undefined && pending(s, cid)?.afterTradeId !== null ? true : undefined,
  );
  const rec = await until('the taker settled', () => {
    const x = s.r.store.orders.get(cid);
    return x?.status === 'filled' && x.slippage ? x : undefined;
  });
  return { cid, bid: q.bid, bidSize: q.bidSize, average: rec.averagePrice as number };
}

/** The two known answers, then the KPIs they add up to; registered in the caller's describe. */
export function knownAnswers(rig: () => ShadowRig): void {
  it('the price falls through the bid: the post-only alternative fills; improvement and adverse move match', async () => {
    const s = rig();
    const taker = await takerBuy(s);
    expect(pending(s, taker.cid)?.postPrice).toBe(taker.bid);
    setPrice(s, taker.bid * 0.998);
    const atFill = await touch(s);
    expect(atFill.last as number).toBeLessThanOrEqual(taker.bid);
    s.clock.advance(500);
    await until('the would-be fill seen', () => (pending(s, taker.cid)?.filled ? true : undefined));
    // Then the market keeps falling: the maker fill would have been adverse by this much.
    setPrice(s, taker.bid * 0.995);
    const atEnd = await touch(s);
    s.clock.advance(SHADOW_TIMEOUT_MS);
    const r = await result(s, taker.cid);
    expect(r.filled).toBe(true);
    expect(r.takerAverage).toBeCloseTo(taker.average, 8);
    expect(r.improvementBps).toBeCloseTo(bps(taker.average, taker.bid, taker.average), 1);
    expect(r.improvementBps).toBeGreaterThan(0);
    expect(r.adverseBps).toBeCloseTo(bps(atFill.mid, atEnd.mid, atFill.mid), 1);
    expect(r.adverseBps).toBeGreaterThan(20);
    expect(r.missedCostBps).toBeNull();
  });

  it('the price rises away from the bid: never fills; the missed cost is the price at the timeout vs the taker fill', async () => {
    const s = rig();
    const taker = await takerBuy(s);
    setPrice(s, taker.average * 1.004);
    const atEnd = await touch(s);
    expect(atEnd.last as number).toBeGreaterThan(taker.bid);
    s.clock.advance(500);
    s.clock.advance(SHADOW_TIMEOUT_MS);
    const r = await result(s, taker.cid);
    expect(r.filled).toBe(false);
    expect(r.improvementBps).toBeNull();
    expect(r.missedCostBps).toBeCloseTo(bps(atEnd.mid, taker.average, taker.average), 1);
    expect(r.missedCostBps).toBeGreaterThan(30);
  });

  it('prints at the bid smaller than the queue ahead: filled at the touch, not through the queue', async () => {
    const s = rig();
    const taker = await takerBuy(s);
    expect(pending(s, taker.cid)?.postPrice).toBe(taker.bid);
    // Up a tick and back: the fall back prints one seller hitting the bid, at exactly the post.
    const before = await touch(s);
    const tick = s.r.gateway.markets(kind(s)).BTCUSDT?.tickSize ?? 0.01;
    setPrice(s, before.mid + tick);
    await touch(s);
    setPrice(s, before.mid);
    const after = await touch(s);
    expect(after.bid).toBe(taker.bid);
    const prints = await (s.r.gateway.fetchTrades?.('BTCUSDT', 5, kind(s)) ?? Promise.resolve([]));
    const atBid = prints.filter((p) => p.price === taker.bid);
    expect(atBid.length).toBeGreaterThan(0);
    const printed = atBid.reduce((n, p) => n + p.amount, 0);
    // The queue the shadow joined: the size the venue showed at the bid, larger than what printed there.
    expect(taker.bidSize).toBeGreaterThan(printed);
    // One poll step (REST reads the tape then; a stream pushed it already), then the prints are seen.
    s.clock.advance(500);
    await until('the shadow saw the prints at its price', () =>
      (pending(s, taker.cid)?.printedAtPrice ?? 0) >= printed - 1e-12 ? true : undefined,
    );
    expect(pending(s, taker.cid)?.filled).toBe(false);
    s.clock.advance(SHADOW_TIMEOUT_MS);
    const r = await result(s, taker.cid);
    expect(r).toMatchObject({ filled: false, filledAtTouch: true, queueAhead: taker.bidSize });
    expect(r.missedCostBps).not.toBeNull();
  });

  it('the KPIs add up per venue and market, in the metrics and the journal (orders.jsonl)', async () => {
    const s = rig();
    const [sum] = s.r.engine.maker().shadow.summary;
    expect(sum).toMatchObject({
      venue: 'binance',
      market: s.market,
      orders: 3,
      filled: 1,
      missed: 2,
      fillRate: 1 / 3,
      fillRateAtTouch: 2 / 3,
    });
    const text = await s.r.metrics.registry.metrics();
    expect(text).toContain(`maker_shadow_fill_rate{venue="binance",market="${s.market}"} ${1 / 3}`);
    expect(text).toContain(`maker_shadow_missed_cost_bps_count{venue="binance",market="${s.market}"} 2`);
    // The summary counts a result when it is decided; its journal entry commits after: poll for exactly three.
    const journaled = () => [...s.r.store.journal.readFrom(0)].filter((e) => e.type === 'order.maker_shadow');
    await until('the three results journaled', () => (journaled().length === 3 ? true : undefined));
    expect(journaled().map((e) => e.market)).toEqual([s.market, s.market, s.market]);
    expect(journaled().map((e) => e.filledAtTouch)).toEqual([true, false, true]);
  });
}
