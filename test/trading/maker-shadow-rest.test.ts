import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { boot, type EngineRig, engineRig } from './engine-harness.js';
import { until } from './support.js';

/**
 * The maker shadow's REST fallback (no trade stream: STREAMS_ENABLED=false, or the stream down): the same known
 * answers as maker-shadow.test.ts, the prints read by GET aggTrades (ccxt fetchTrades) every poll of the window.
 */
let sim: Simulator;
let r: EngineRig;
let t = 1_000_000;
const waiters: Array<{ at: number; go: () => void }> = [];
const clock = {
  now: () => t,
  sleep: (ms: number) => new Promise<void>((go) => waiters.push({ at: t + ms, go })),
};
/** Moves the shadow clock and wakes every window whose wait is over. */
function advance(ms: number): void {
  t += ms;
  for (const w of waiters.splice(0)) {
    if (w.at <= t) w.go();
    else waiters.push(w);
  }
}
const TIMEOUT_MS = 10_000;

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 18, clock: createManualClock(Date.now()) });
  r = await engineRig(sim, {
    spot: { USDT: 100_000, BTC: 0.05 },
    maker: {
      modes: { spot: 'shadow', perp: 'off' },
      timeoutMs: TIMEOUT_MS,
      pollMs: 500,
      clock,
    },
  });
  await boot(r);
}, 30_000);
afterAll(async () => {
  await r?.engine.stopMaker();
  await r?.close();
  await sim?.close();
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

describe('maker shadow by REST, known answers', () => {
  it('the price falls through the bid: the post-only alternative fills; improvement and adverse move match', async () => {
    const taker = await takerBuy();
    expect(pending(taker.cid)?.postPrice).toBe(taker.bid);
    sim.setPrice({ symbol: 'BTCUSDT', price: taker.bid * 0.998 });
    const atFill = await ticker();
    expect(atFill.last as number).toBeLessThanOrEqual(taker.bid);
    advance(500);
    await until('the would-be fill seen', () => (pending(taker.cid)?.filled ? true : undefined));
    // Then the market keeps falling: the maker fill would have been adverse by this much.
    sim.setPrice({ symbol: 'BTCUSDT', price: taker.bid * 0.995 });
    const atEnd = await ticker();
    advance(TIMEOUT_MS);
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
    sim.setPrice({ symbol: 'BTCUSDT', price: taker.average * 1.004 });
    const atEnd = await ticker();
    expect(atEnd.last as number).toBeGreaterThan(taker.bid);
    advance(500);
    advance(TIMEOUT_MS);
    const s = await result(taker.cid);
    expect(s.filled).toBe(false);
    expect(s.improvementBps).toBeNull();
    expect(s.missedCostBps).toBeCloseTo(bps(atEnd.mid, taker.average, taker.average), 1);
    expect(s.missedCostBps).toBeGreaterThan(30);
  });

  it('read the tape by REST only: no stream followed', () => {
    expect(r.engine.maker().shadow.tapes).toEqual([
      { venue: 'binance', market: 'spot', symbols: ['BTCUSDT'], stream: 'none' },
    ]);
  });
});
