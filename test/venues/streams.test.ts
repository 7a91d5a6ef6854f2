/**
 * The stream ports (src/venues/streams/) through real ccxt.pro against the simulator, under stream faults: a
 * dropped stream, a silent one, a reconnect storm, and a fill missed while the private stream was away. The
 * market stream must come back on its own and ticks resume; the user-data stream must report the gap, and the
 * missed fill must be in the REST window it names.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BosunGateway,
  createVenueStreams,
  type StreamStatus,
  type Ticker,
  type UserDataEvent,
} from '../../src/venues/index.js';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { until } from '../trading/support.js';
import { paperGateway } from './gateway-harness.js';

const TIMING = {
  silenceMs: 400,
  keepAliveMs: 100,
  backoffMinMs: 20,
  backoffMaxMs: 200,
  resetAfterMs: 60_000,
};

let sim: Simulator;
const gateways: BosunGateway[] = [];
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  // Real time: the venue's clock is the wall clock, as a gap's REST window assumes.
  sim = await startSimulator({ seed: 11, streams: { pushMs: 30, heartbeatMs: 30 } });
});

afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
  sim.streams.clearFaults();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await sim.close();
});

function gateway(venue: 'binance' | 'kraken'): BosunGateway {
  const g = paperGateway(sim, venue);
  gateways.push(g);
  return g;
}

function tickers(venue: 'binance' | 'kraken', symbols: string[]) {
  const stream = createVenueStreams(gateway(venue), { timing: TIMING }).tickers('spot');
  const ticks: Ticker[] = [];
  const states: StreamStatus[] = [];
  stream.start(symbols, { onTickers: (t) => ticks.push(...t), onStatus: (s) => states.push(s) });
  stops.push(() => stream.stop());
  return { stream, ticks, states };
}

function userData(venue: 'binance' | 'kraken', market: 'spot' | 'linear' = 'spot') {
  const gw = gateway(venue);
  const stream = createVenueStreams(gw, { timing: TIMING }).userData(market);
  const events: UserDataEvent[] = [];
  const states: StreamStatus[] = [];
  stream.start({ onEvent: (e) => events.push(e), onStatus: (s) => states.push(s) });
  stops.push(() => stream.stop());
  return { gw, stream, events, states };
}

const gaps = (events: UserDataEvent[]) =>
  events.filter((e): e is Extract<UserDataEvent, { type: 'gap' }> => e.type === 'gap');
const fills = (events: UserDataEvent[]) =>
  events.filter((e): e is Extract<UserDataEvent, { type: 'fill' }> => e.type === 'fill');

describe('market stream', () => {
  it('streams Binance spot tickers with bid and ask, then survives a dropped connection', async () => {
    const { stream, ticks, states } = tickers('binance', ['BTCUSDT', 'ETHUSDT']);
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    await until('both symbols', () =>
      ['BTCUSDT', 'ETHUSDT'].every((s) => ticks.some((t) => t.symbol === s)) ? true : undefined,
    );
    expect(ticks.find((t) => t.symbol === 'BTCUSDT')?.bid).toBeGreaterThan(0);

    sim.streams.fault({ kind: 'drop', venue: 'binance' });
    await until('down', () => (states.some((s) => s.state === 'down') ? true : undefined), 10_000);
    const after = ticks.length;
    await until(
      'live again',
      () => (stream.status().reconnects >= 1 && stream.status().state === 'live' ? true : undefined),
      10_000,
    );
    await until('ticks resume', () => (ticks.length > after ? true : undefined), 10_000);
  });

  it('tears down a silent Kraken stream (no data, no heartbeats) and recovers when it speaks again', async () => {
    const { stream, states } = tickers('kraken', ['BTCUSD']);
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    sim.streams.fault({ kind: 'silence', venue: 'kraken' });
    const down = await until('down', () => states.find((s) => s.state === 'down'), 10_000);
    // Either the data watchdog or ccxt's unanswered keepalive pings notice first; both are silence.
    expect(down.reason).toMatch(/silent|timed out|ping-pong/i);
    sim.streams.clearFaults();
    await until(
      'live again',
      () => (stream.status().state === 'live' && stream.status().reconnects >= 1 ? true : undefined),
      10_000,
    );
  });

  it('backs off through a reconnect storm and ends live', async () => {
    const { stream } = tickers('kraken', ['ETHUSD']);
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    const accepted = sim.streams.stats().accepted;
    sim.streams.fault({ kind: 'storm', venue: 'kraken', count: 4 });
    sim.streams.fault({ kind: 'drop', venue: 'kraken' });
    await until(
      'live after the storm',
      () => (stream.status().state === 'live' && stream.status().failures >= 5 ? true : undefined),
      10_000,
    );
    // One connection per attempt: four cut by the storm, then the one that held.
    expect(sim.streams.stats().accepted - accepted).toBe(5);
  });
});

describe('user-data stream', () => {
  it('Binance: first a gap from nothing, then orders and fills with the REST trade ids', async () => {
    const { gw, stream, events } = userData('binance');
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    expect(gaps(events)[0]).toMatchObject({ since: null });

    const r = await gw.createOrder({
      clientOrderId: 'uds-b-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      market: 'spot',
    });
    expect(r.status).toBe('accepted');
    const fill = await until('the fill', () => fills(events).find((f) => f.clientOrderId === 'uds-b-1'));
    const rest = await gw.fetchMyTrades({ symbol: 'BTCUSDT' });
    expect(rest.map((t) => t.id)).toContain(fill.trade.id);
    await until('the order filled', () =>
      events.find((e) => e.type === 'order' && e.order.clientOrderId === 'uds-b-1' && e.order.status === 'closed'),
    );
    await until('a balance', () => events.find((e) => e.type === 'balance' && e.balances.BTC !== undefined));
  });

  it('Binance: a fill during an outage never comes by stream; the gap names the REST window that holds it', async () => {
    const { gw, stream, events, states } = userData('binance');
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    sim.streams.fault({ kind: 'outage', venue: 'binance' });
    sim.streams.fault({ kind: 'drop', venue: 'binance' });
    await until('down', () => (states.some((s) => s.state === 'down') ? true : undefined), 10_000);

    const r = await gw.createOrder({
      clientOrderId: 'uds-b-gap',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      market: 'spot',
    });
    expect(r.status).toBe('accepted');
    sim.streams.clearFaults();
    await until(
      'live again',
      () => (stream.status().reconnects >= 1 && stream.status().state === 'live' ? true : undefined),
      10_000,
    );

    const gap = gaps(events).at(-1);
    expect(gap?.since).not.toBeNull();
    expect(fills(events).some((f) => f.clientOrderId === 'uds-b-gap')).toBe(false);
    const missed = await gw.fetchMyTrades({ symbol: 'BTCUSDT', since: (gap?.since ?? 0) - 5_000 });
    const orderId = r.status === 'accepted' ? r.order.id : '';
    expect(missed.some((t) => t.orderId === orderId)).toBe(true);
  });

  it('Binance USDⓈ-M: a listenKey stream brings the perpetual order and its fill with the userTrades id, and resumes after a drop', async () => {
    const { gw, stream, events, states } = userData('binance', 'linear');
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    expect(gaps(events)[0]).toMatchObject({ since: null });
    const before = sim.requests().byPath['POST /fapi/v1/listenKey'] ?? 0;
    expect(before).toBeGreaterThanOrEqual(1);

    const r = await gw.createOrder({
      clientOrderId: 'uds-p-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      market: 'linear',
    });
    expect(r.status).toBe('accepted');
    const fill = await until('the perpetual fill', () => fills(events).find((f) => f.clientOrderId === 'uds-p-1'));
    expect(fill.trade).toMatchObject({ market: 'linear', symbol: 'BTCUSDT', side: 'buy', amount: 0.01 });
    const rest = await gw.fetchMyTrades({ symbol: 'BTCUSDT', market: 'linear' });
    expect(rest.map((t) => t.id)).toContain(fill.trade.id);
    await until('the order filled', () =>
      events.find((e) => e.type === 'order' && e.order.clientOrderId === 'uds-p-1' && e.order.status === 'closed'),
    );
    // No spot event leaks into the perpetual stream.
    expect(fills(events).every((f) => f.trade.market === 'linear')).toBe(true);

    sim.streams.fault({ kind: 'drop', venue: 'binance' });
    await until('down', () => (states.some((s) => s.state === 'down') ? true : undefined), 10_000);
    await until(
      'live again',
      () => (stream.status().reconnects >= 1 && stream.status().state === 'live' ? true : undefined),
      10_000,
    );
    expect(gaps(events).at(-1)?.since).not.toBeNull();
    // A new session asks for its key again (Binance answers the active one, extended).
    expect(sim.requests().byPath['POST /fapi/v1/listenKey'] ?? 0).toBeGreaterThan(before);
  });

  it('Kraken: executions and balances by token; a silenced stream is noticed by its keepalive and reported as a gap', async () => {
    const { gw, stream, events, states } = userData('kraken');
    await until('live', () => (stream.status().state === 'live' ? true : undefined), 10_000);
    const r = await gw.createOrder({
      clientOrderId: 'uds-k-1',
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      market: 'spot',
    });
    expect(r.status).toBe('accepted');
    const orderId = r.status === 'accepted' ? r.order.id : '';
    const fill = await until('the fill', () => fills(events).find((f) => f.trade.orderId === orderId));
    expect((await gw.fetchMyTrades({ symbol: 'BTCUSD' })).map((t) => t.id)).toContain(fill.trade.id);

    sim.streams.fault({ kind: 'silence', venue: 'kraken' });
    await until('down', () => (states.some((s) => s.state === 'down') ? true : undefined), 10_000);
    sim.streams.clearFaults();
    await until(
      'live again',
      () => (stream.status().reconnects >= 1 && stream.status().state === 'live' ? true : undefined),
      10_000,
    );
    const gap = gaps(events).at(-1);
    expect(gap?.since).toBeLessThanOrEqual(gap?.until ?? 0);
    expect(gaps(events).length).toBeGreaterThanOrEqual(2);
  });
});
