import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../../test/http/support/fakes.js';
import type { OperatorOrderRequest, OrderView, TradingPort } from '../../supervisor/trading-port.js';
import { buildServer } from '../build-server.js';

/**
 * The trading routes against a small port that records what reached it: validation, auth and idempotency are the
 * HTTP layer's job, so a bad request must never reach the port.
 */
const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

function recordingPort() {
  const calls: Array<{ op: string; arg?: unknown }> = [];
  const order = (r: OperatorOrderRequest): OrderView => ({
    clientOrderId: 'bosun-o-bBTCUSDT-1',
    venue: r.venue,
    symbol: r.symbol,
    side: r.side,
    strategy: 'operator',
    status: 'filled',
    amount: 0.0004,
    filled: 0.0004,
    averagePrice: 60_000,
    quote: r.quote,
    venueOrderId: '1',
    reason: null,
    createdAt: 1,
    updatedAt: 2,
  });
  let weights = { stable_model: 0.7, canary_model: 0.3 };
  const port: TradingPort = {
    async submitOrder(r) {
      calls.push({ op: 'submit', arg: r });
      if (r.quote > 1_000) return { status: 'rejected', reason: 'notional_cap', message: 'notional above cap' };
      return { status: 'accepted', order: order(r) };
    },
    listOrders: (q) => {
      calls.push({ op: 'list', arg: q });
      return [];
    },
    portfolio: () => ({ version: 1 }),
    async reconcile(actor) {
      calls.push({ op: 'reconcile', arg: actor });
      return { fillsApplied: 2, venues: {}, at: 5 };
    },
    weights: () => ({ weights, raw: weights }),
    async setWeights(w) {
      calls.push({ op: 'weights', arg: w });
      weights = w as typeof weights;
      return { weights, raw: weights };
    },
    breakers: () => [{ id: 'breaker:equity', tripped: true, reason: 'drawdown', since: 1 }],
    async resetBreaker(id) {
      calls.push({ op: 'reset', arg: id });
      return { id, tripped: false, reason: '', since: null };
    },
    async resetAutoTune() {
      return { reset: true };
    },
  };
  return { port, calls };
}

async function server(listener: 'ops' | 'engine') {
  const { port, calls } = recordingPort();
  const deps = { ...fakeDeps(), trading: port };
  const app = await buildServer(deps, listener);
  apps.push(app);
  const post = (url: string, body?: unknown, headers: Record<string, string> = { 'x-ops-token': TOKEN }) =>
    app.inject({
      method: 'POST',
      url,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  return { app, calls, post, deps };
}

describe('POST /orders', () => {
  it("takes the runbook's body and answers 201 with the order", async () => {
    const { post, calls } = await server('engine');
    const res = await post('/orders', { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      status: 'accepted',
      order: { venue: 'binance', symbol: 'BTCUSDT', side: 'buy' },
    });
    expect(calls[0]).toMatchObject({
      op: 'submit',
      arg: { venue: 'binance', symbol: 'BTCUSDT', side: 'buy', quote: 25 },
    });
  });

  it('answers 422 with the rail reason when the order is refused', async () => {
    const { post } = await server('engine');
    const res = await post('/orders', { symbol: 'ETHUSDT', venue: 'kraken', side: 'sell', quote: 5_000 });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: { code: 'ORDER_REJECTED' }, reason: 'notional_cap' });
  });

  it.each([
    [{ symbol: 'BTCUSDT.FTX', side: 'BUY', quote: 25 }, /venue must be one of/],
    [{ symbol: 'BTCUSDT.BINANCE', side: 'HOLD', quote: 25 }, /side must be BUY or SELL/],
    [{ symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 0 }, /quote must be > 0/],
    [{ symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25, type: 'limit' }, /needs a price/],
    [{ symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25, extra: 1 }, /extra|Unrecognized/i],
  ])('refuses %j with a 400 naming the problem, and never reaches the port', async (body, message) => {
    const { post, calls } = await server('engine');
    const res = await post('/orders', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(message);
    expect(calls).toEqual([]);
  });

  it('needs the token, and replays an Idempotency-Key without a second order', async () => {
    const { post, calls } = await server('engine');
    expect((await post('/orders', { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25 }, {})).statusCode).toBe(401);
    const h = { 'x-ops-token': TOKEN, 'idempotency-key': 'o-1' };
    const a = await post('/orders', { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25 }, h);
    const b = await post('/orders', { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25 }, h);
    expect(b.statusCode).toBe(201);
    expect(b.json()).toEqual(a.json());
    expect(calls.filter((c) => c.op === 'submit')).toHaveLength(1);
  });
});

describe('POST /reconcile/manual', () => {
  it('works with no token and no body (the runbook line), and refuses a wrong token', async () => {
    const { post, calls, deps } = await server('engine');
    const res = await post('/reconcile/manual', undefined, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ fills_applied: 2 });
    // Without a token it is not an operator command: nothing is added to the hash-chained audit log.
    expect(deps.audit.records).toEqual([]);
    expect((await post('/reconcile/manual', undefined, { 'x-ops-token': 'wrong' })).statusCode).toBe(401);
    const withToken = await post('/reconcile/manual');
    expect(withToken.statusCode).toBe(200);
    expect(deps.audit.records.at(-1)).toMatchObject({ action: 'reconcile', result: 'ok' });
    expect(calls.filter((c) => c.op === 'reconcile')).toHaveLength(2);
  });
});

describe('strategy weights and breakers', () => {
  it("POST /strategy/weights takes the runbook's body on the ops listener and refuses unknown models", async () => {
    const { post, app, calls } = await server('ops');
    const ok = await post('/strategy/weights', { weights: { stable_model: 0.6, canary_model: 0.4 } });
    expect(ok.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/strategy/weights' })).json().weights).toEqual({
      stable_model: 0.6,
      canary_model: 0.4,
    });
    const bad = await post('/strategy/weights', { weights: { stable_modle: 1 } });
    expect(bad.statusCode).toBe(400);
    const none = await post('/strategy/weights', { weights: { stable_model: 0, canary_model: 0 } });
    expect(none.statusCode).toBe(400);
    expect(calls.filter((c) => c.op === 'weights')).toHaveLength(1);
  });

  it('lists breakers and resets one with the token', async () => {
    const { post, app } = await server('engine');
    expect((await app.inject({ method: 'GET', url: '/breakers' })).json().breakers[0]).toMatchObject({ tripped: true });
    expect((await post('/breakers/breaker:equity/reset', undefined, {})).statusCode).toBe(401);
    const res = await post('/breakers/breaker:equity/reset');
    expect(res.json()).toEqual({ breaker: { id: 'breaker:equity', tripped: false, reason: '', since: null } });
  });

  it('answers 503 NOT_READY when no trading pipeline is running', async () => {
    const app = await buildServer(fakeDeps(), 'engine');
    apps.push(app);
    const res = await app.inject({ method: 'GET', url: '/state' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('NOT_READY');
  });
});
