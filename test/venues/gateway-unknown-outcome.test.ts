/**
 * DESIGN §5: a create whose outcome is unknown is settled by looking its clientOrderId up — never by sending it
 * again. The simulator's request counters prove what was sent; its state proves what was booked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BosunGateway, CreateOrderRequest } from '../../src/venues/index.js';
import { toKrakenClientId } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import {
  BTC,
  CREATE_PATH,
  cid,
  paperGateway,
  requestStats,
  restingBuyPrice,
  sent,
  startTestSim,
  type VenueName,
} from './gateway-harness.js';

let sim: Simulator;
/** The gateways' clock runs ahead of wall time by `skip`, so tests can step past a venue's accept window. */
let skip = 0;
const gws = {} as Record<VenueName, BosunGateway>;

beforeAll(async () => {
  sim = await startTestSim(21);
  for (const v of ['binance', 'kraken'] as const) {
    gws[v] = paperGateway(sim, v, { now: () => Date.now() + skip });
    await gws[v].loadMarkets();
  }
});

afterAll(async () => {
  for (const gw of Object.values(gws)) await gw.close();
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
  skip = 0;
});

function limitBuy(venue: VenueName, clientOrderId: string): CreateOrderRequest {
  const symbol = BTC[venue];
  const fair = Number(sim.prices(venue)[venue === 'binance' ? 'binance:spot:BTCUSDT' : 'kraken:spot:XXBTZUSD']);
  return {
    clientOrderId,
    symbol,
    side: 'buy',
    type: 'limit',
    amount: 0.01,
    price: restingBuyPrice(gws[venue], symbol, fair),
    market: 'spot',
  };
}

const booked = (venue: VenueName, clientOrderId: string) => {
  const venueId = venue === 'kraken' ? toKrakenClientId(clientOrderId) : clientOrderId;
  return sim.state({ venue }).orders.filter((o) => o.clientOrderId === venueId);
};

describe.each(['binance', 'kraken'] as const)('%s: unknown create outcomes', (venue) => {
  it('ends an accepted-then-502 create as exactly one order, found by its clientOrderId, with no second create sent', async () => {
    const gw = gws[venue];
    const id = cid('u');
    sim.faults.add({ kind: 'accept_then_502', venue, path: CREATE_PATH[venue].split(' ')[1], count: 1 });
    const before = await requestStats(sim);

    const r = await gw.createOrder(limitBuy(venue, id));
    expect(r).toMatchObject({
      status: 'unknown',
      error: { kind: 'unknown_outcome', code: 'ExchangeNotAvailable', httpStatus: 502 },
    });

    const resolved = await gw.resolveUnknown(id);
    expect(resolved).toMatchObject({ status: 'found', order: { clientOrderId: id, status: 'open', amount: 0.01 } });
    expect(await gw.resolveUnknown(id)).toMatchObject({
      status: 'still_unknown',
      error: { code: 'ArgumentsRequired' },
    }); // settled: no longer pending

    const after = await requestStats(sim);
    expect(sent(after, before, CREATE_PATH[venue])).toBe(1);
    expect(booked(venue, id)).toHaveLength(1);
    expect(booked(venue, id)[0]?.id).toBe(resolved.status === 'found' ? resolved.order.id : '');
  });

  it('finds a filled market order booked before a 502, and the balance moved once', async () => {
    const gw = gws[venue];
    const id = cid('um');
    const base = 'BTC';
    const held = () => sim.state({ venue, account: sim.keys[venue].apiKey }).accounts[0]!.spot[base]?.free ?? 0;
    const start = held();
    sim.faults.add({ kind: 'accept_then_502', venue, path: CREATE_PATH[venue].split(' ')[1], count: 1 });
    const r = await gw.createOrder({
      clientOrderId: id,
      symbol: BTC[venue],
      side: 'buy',
      type: 'market',
      amount: 0.003,
      market: 'spot',
    });
    expect(r.status).toBe('unknown');
    expect(await gw.resolveUnknown(id)).toMatchObject({ status: 'found', order: { status: 'closed', filled: 0.003 } });
    expect(held() - start).toBeGreaterThan(0.0029);
    expect(held() - start).toBeLessThan(0.0031);
  });

  it('keeps a create refused before processing unknown until the accept window closes, then reports not_found', async () => {
    const gw = gws[venue];
    const id = cid('un');
    sim.faults.add({ kind: 'http_5xx', status: 503, venue, path: CREATE_PATH[venue].split(' ')[1], count: 1 });
    const before = await requestStats(sim);
    expect(await gw.createOrder(limitBuy(venue, id))).toMatchObject({
      status: 'unknown',
      error: { tag: 'unavailable' },
    });

    const early = await gw.resolveUnknown(id);
    expect(early).toMatchObject({ status: 'still_unknown', error: { code: 'AcceptWindowOpen', kind: 'retryable' } });
    skip = 60_000;
    expect(await gw.resolveUnknown(id)).toEqual({ status: 'not_found' });

    expect(sent(await requestStats(sim), before, CREATE_PATH[venue])).toBe(1);
    expect(booked(venue, id)).toHaveLength(0);
  });

  it('treats a timeout and a garbage 200 on create as unknown, never as failed', async () => {
    const gw = gws[venue];
    const path = CREATE_PATH[venue].split(' ')[1];
    sim.faults.add({ kind: 'garbage_200', venue, path, count: 1 });
    const garbage = await gw.createOrder(limitBuy(venue, cid('ug')));
    expect(garbage).toMatchObject({ status: 'unknown', error: { kind: 'unknown_outcome', tag: 'bad_response' } });

    sim.faults.add({ kind: 'disconnect', venue, path, count: 1 });
    const dropped = await gw.createOrder(limitBuy(venue, cid('ud')));
    expect(dropped).toMatchObject({ status: 'unknown', error: { kind: 'unknown_outcome', tag: 'network' } });
  });

  it('refuses a second create with a taken clientOrderId: rejected as a duplicate, the first order untouched', async () => {
    const gw = gws[venue];
    const id = cid('dup');
    const first = await gw.createOrder(limitBuy(venue, id));
    expect(first.status).toBe('accepted');
    // Bosun never re-sends a create: a taken id is another order's, never to be resolved to (issue 13, defect 6).
    const again = await gw.createOrder(limitBuy(venue, id));
    expect(again).toMatchObject({ status: 'rejected', error: { kind: 'fatal', tag: 'duplicate' } });
    expect(booked(venue, id)).toHaveLength(1);
  });

  it('resolves after a restart from a hint (symbol and send time), with no pending state in the gateway', async () => {
    const id = cid('uh');
    sim.faults.add({ kind: 'accept_then_502', venue, path: CREATE_PATH[venue].split(' ')[1], count: 1 });
    const sentAt = Date.now();
    expect((await gws[venue].createOrder(limitBuy(venue, id))).status).toBe('unknown');
    const fresh = paperGateway(sim, venue);
    try {
      expect(await fresh.resolveUnknown(id)).toMatchObject({ status: 'still_unknown' });
      expect(await fresh.resolveUnknown(id, { symbol: BTC[venue], market: 'spot', sentAt })).toMatchObject({
        status: 'found',
        order: { clientOrderId: id },
      });
    } finally {
      await fresh.close();
    }
  });
});
