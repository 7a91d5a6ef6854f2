/**
 * The simulator's stream dialects through the real ccxt.pro classes (`ccxt.pro.binance`, `binanceusdm`, `kraken`)
 * pointed at it the way the gateway points them (urls.api.ws rewritten, paths kept), and the strict parts of
 * the venues' protocols (what they refuse or cut) with a plain WebSocket client.
 */
import { createHmac } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { pointExchangeAt } from '../../src/venues/venue-urls.js';

let sim: Simulator;
const clients: Exchange[] = [];
const sockets: WebSocket[] = [];

async function pro(id: 'binance' | 'binanceusdm' | 'kraken'): Promise<Exchange> {
  const venue = id === 'kraken' ? 'kraken' : 'binance';
  const ex = new ccxt.pro[id]({
    ...sim.keys[venue],
    // Kraken's default REST pacing is 3 s a call; ccxt's Binance stream sends stall at 1 ms (see pro-exchange.ts).
    ...(id === 'kraken' ? { rateLimit: 1 } : {}),
    options: id === 'binance' ? { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false } : {},
  }) as unknown as Exchange;
  if (id === 'binanceusdm') Object.assign(ex.options, { fetchCurrencies: false, fetchMargins: false });
  pointExchangeAt(ex, sim.baseUrl);
  await ex.loadHttpProxyAgent();
  await ex.loadMarkets();
  clients.push(ex);
  return ex;
}

/** A raw client: every message it receives, in order. */
async function raw(path: string): Promise<{ ws: WebSocket; got: unknown[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${sim.baseUrl.replace('http', 'ws')}${path}`);
  sockets.push(ws);
  const got: unknown[] = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, got, closed };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, streams: { pushMs: 50, heartbeatMs: 50 } });
});

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
});

describe('market streams through ccxt.pro', () => {
  it('Binance spot: <symbol>@ticker pushes the 24hrTicker with bid and ask', async () => {
    const ex = await pro('binance');
    const t = await ex.watchTickers(['BTC/USDT'], { name: 'ticker' });
    const btc = t['BTC/USDT'];
    expect(btc?.bid).toBeGreaterThan(0);
    expect(btc?.ask).toBeGreaterThan(btc?.bid ?? Number.POSITIVE_INFINITY);
    expect(btc?.last).toBeGreaterThan(0);
  });

  it('Binance USDⓈ-M: tickers on /market/ws, as ccxt routes them', async () => {
    const ex = await pro('binanceusdm');
    const t = await ex.watchTickers(['BTC/USDT:USDT']);
    expect(t['BTC/USDT:USDT']?.last).toBeGreaterThan(0);
  });

  it('Kraken v2: ticker snapshot then updates, with bid and ask', async () => {
    const ex = await pro('kraken');
    const first = await ex.watchTicker('BTC/USD');
    const next = await ex.watchTicker('BTC/USD');
    expect(first.bid).toBeGreaterThan(0);
    expect(next.ask).toBeGreaterThan(next.bid ?? Number.POSITIVE_INFINITY);
  });
});

describe('user data streams through ccxt.pro', () => {
  it('Binance spot (WebSocket API): a market order arrives as an order and a fill with the REST trade id', async () => {
    const ex = await pro('binance');
    // authenticate() resolves on the subscribe acknowledgement; only then is an order certain to be streamed.
    await (ex as unknown as { authenticate(p: object): Promise<unknown> }).authenticate({ type: 'spot' });
    const orders = ex.watchOrders('BTC/USDT');
    const trades = ex.watchMyTrades('BTC/USDT');
    const balance = ex.watchBalance();
    const futures = () => Object.values(ex.clients).flatMap((c) => Object.keys((c as { futures: object }).futures));
    await waitFor('the three watches', () =>
      ['orders:BTC/USDT', 'myTrades:BTC/USDT', 'spot:balance'].every((h) => futures().includes(h)) ? true : undefined,
    );
    const o = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'ws-mkt-1' });
    const [o1] = await orders;
    const [t1] = await trades;
    const b = await balance;
    const [rest] = await ex.fetchMyTrades('BTC/USDT', undefined, undefined, { orderId: o.id });
    expect(o1?.clientOrderId).toBe('ws-mkt-1');
    expect(t1?.order).toBe(o.id);
    expect(t1?.id).toBe(rest?.id);
    expect(t1?.amount).toBeCloseTo(0.01, 10);
    expect(b.BTC?.free).toBeGreaterThan(0);
  });

  it('Kraken v2: executions and balances with a GetWebSocketsToken token', async () => {
    const ex = await pro('kraken');
    const trades = ex.watchMyTrades();
    const balance = ex.watchBalance();
    const snapshot = await balance; // the balances snapshot: both subscriptions are in
    const o = await ex.createOrder('BTC/USD', 'market', 'buy', 0.01, undefined, {
      cl_ord_id: 'b3c5c0ae-0000-4000-8000-000000000001',
    });
    const [t1] = await trades;
    const rest = await ex.fetchMyTrades('BTC/USD');
    expect(snapshot.USD?.total).toBeGreaterThan(0);
    expect(t1?.order).toBe(o.id);
    expect(rest.map((t) => t.id)).toContain(t1?.id);
  });
});

describe('what the venues refuse', () => {
  it('Binance answers SUBSCRIBE with {"result":null,"id"} and a bad id with an error', async () => {
    const c = await raw('/ws/9');
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@bookTicker'], id: 1 }));
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@ticker'], id: 'x' }));
    await waitFor('two answers', () => (c.got.filter((m) => 'id' in (m as object)).length >= 2 ? true : undefined));
    expect(c.got).toContainEqual({ result: null, id: 1 });
    expect(c.got).toContainEqual(expect.objectContaining({ error: expect.objectContaining({ code: 2 }) }));
    await waitFor('a bookTicker', () => c.got.find((m) => (m as { s?: string }).s === 'ETHUSDT'));
  });

  it('Binance cuts a connection that sends more than 5 messages a second', async () => {
    const c = await raw('/ws/8');
    for (let i = 1; i <= 7; i++) c.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: i }));
    expect(await c.closed).toBe(1008);
  });

  it('the WebSocket API refuses a wrong signature (-1022) and a stale timestamp (-1021)', async () => {
    const c = await raw('/ws-api/v3');
    const { apiKey, secret } = sim.keys.binance;
    const sign = (p: Record<string, string | number>) =>
      createHmac('sha256', secret)
        .update(
          Object.keys(p)
            .sort()
            .map((k) => `${k}=${p[k]}`)
            .join('&'),
        )
        .digest('hex');
    const stale = { apiKey, timestamp: Date.now() - 60_000 };
    c.ws.send(
      JSON.stringify({
        id: 'a',
        method: 'userDataStream.subscribe.signature',
        params: { apiKey, timestamp: Date.now(), signature: '00'.repeat(32) },
      }),
    );
    c.ws.send(
      JSON.stringify({
        id: 'b',
        method: 'userDataStream.subscribe.signature',
        params: { ...stale, signature: sign(stale) },
      }),
    );
    await waitFor('two answers', () => (c.got.length >= 2 ? true : undefined));
    expect(c.got).toContainEqual(expect.objectContaining({ id: 'a', error: expect.objectContaining({ code: -1022 }) }));
    expect(c.got).toContainEqual(expect.objectContaining({ id: 'b', error: expect.objectContaining({ code: -1021 }) }));
  });

  it('Kraken refuses private channels without a valid token and unknown pairs', async () => {
    const c = await raw('/v2');
    c.ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: 'forged' }, req_id: 1 }));
    c.ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: ['NOPE/USD'] }, req_id: 2 }));
    await waitFor('two refusals', () =>
      c.got.filter((m) => (m as { success?: boolean }).success === false).length >= 2 ? true : undefined,
    );
    expect(c.got).toContainEqual(
      expect.objectContaining({ req_id: 1, success: false, error: 'ESession:Invalid session' }),
    );
    expect(c.got).toContainEqual(
      expect.objectContaining({ req_id: 2, success: false, error: 'Currency pair not supported' }),
    );
  });
});

describe('stream faults (control API)', () => {
  it('an outage refuses new connections with 503, a storm cuts them as they open, drop cuts open ones', async () => {
    const post = (body: object) =>
      fetch(`${sim.baseUrl}/__sim/streams/faults`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ kind: 'outage', venue: 'kraken' })).status).toBe(201);
    await expect(raw('/v2')).rejects.toThrow(/503/);
    await fetch(`${sim.baseUrl}/__sim/streams/faults`, { method: 'DELETE' });

    await post({ kind: 'storm', venue: 'kraken', count: 1 });
    const cut = await raw('/v2');
    expect(await cut.closed).toBe(1006);

    const open = await raw('/v2');
    const listed = (await (await fetch(`${sim.baseUrl}/__sim/streams`)).json()) as { open: { kraken: number } };
    expect(listed.open.kraken).toBeGreaterThanOrEqual(1);
    await post({ kind: 'drop', venue: 'kraken' });
    expect(await open.closed).toBe(1006);
    expect((await post({ kind: 'silence', venue: 'nowhere' })).status).toBe(400);
  });

  it('a silenced stream sends nothing, not even pongs, until it is cleared', async () => {
    const c = await raw('/v2');
    c.ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: ['ETH/USD'] }, req_id: 1 }));
    await waitFor('a heartbeat', () => c.got.find((m) => (m as { channel?: string }).channel === 'heartbeat'));
    sim.streams.fault({ kind: 'silence', venue: 'kraken' });
    const pongs: number[] = [];
    c.ws.on('pong', () => pongs.push(Date.now()));
    const before = c.got.length;
    const swallowed = sim.streams.stats().swallowed;
    c.ws.ping();
    c.ws.send(JSON.stringify({ method: 'ping', req_id: 5 }));
    await waitFor('the ping frame and the ping message swallowed', () =>
      sim.streams.stats().swallowed >= swallowed + 2 ? true : undefined,
    );
    sim.streams.clearFaults();
    c.ws.send(JSON.stringify({ method: 'ping', req_id: 6 }));
    await waitFor('the pong after the silence', () => c.got.find((m) => (m as { req_id?: number }).req_id === 6));
    expect(c.got.slice(before).some((m) => (m as { req_id?: number }).req_id === 5)).toBe(false);
    expect(pongs).toHaveLength(0);
  });
});
