import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps } from '../../../test/http/support/fakes.js';
import type { StopsView, TradingPort } from '../../supervisor/trading-port.js';
import { buildServer } from '../build-server.js';
import { GuardsStopsResponse } from '../openapi-responses.js';

/** `GET /guards/stops` (engine): the stop validator's view through the trading port. */
const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

const VIEW: StopsView = {
  venue: 'binance',
  health: { value: 'DEGRADED', reason: 'missing_stop: ETHUSDT' },
  passes: 3,
  lastPassAt: 9,
  missingTotal: 1,
  placedTotal: 1,
  positions: [
    {
      market: 'spot',
      symbol: 'BTCUSDT',
      side: 'long',
      qty: 0.01,
      entryPrice: 60_000,
      stop: {
        clientOrderId: 'bosun-s-bBTCUSDT-1',
        generation: 1,
        status: 'live',
        side: 'sell',
        qty: 0.01,
        stopPrice: 58_200,
        reduceOnly: false,
        venueOrderId: '7',
        sentAt: 3,
      },
      unprotectedSince: null,
    },
    { market: 'spot', symbol: 'ETHUSDT', side: 'long', qty: 0.2, entryPrice: null, stop: null, unprotectedSince: 5 },
  ],
  stops: [
    {
      market: 'spot',
      symbol: 'BTCUSDT',
      side: 'sell',
      triggerPrice: 58_200,
      amount: 0.01,
      reduceOnly: false,
      status: 'live',
      clientOrderId: 'bosun-s-bBTCUSDT-1',
      generation: 1,
      venueOrderId: '7',
      protects: { side: 'long', qty: 0.01, entryPrice: 60_000 },
    },
  ],
};

async function server(stops: TradingPort['stops']) {
  // Only what this route reads: the other port methods are never called here.
  const trading = (stops ? { stops } : {}) as TradingPort;
  const app = await buildServer(fakeDeps({ trading }), 'engine');
  apps.push(app);
  return app;
}

describe('GET /guards/stops', () => {
  it('lists every position with its server-side stop, per venue', async () => {
    const app = await server(() => [VIEW]);
    const res = await app.inject({ method: 'GET', url: '/guards/stops' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ venues: [VIEW] });
    expect(GuardsStopsResponse.safeParse(res.json()).success).toBe(true);
  });

  it('answers 503 NOT_READY with a JSON error when no validator is wired', async () => {
    const app = await server(undefined);
    const res = await app.inject({ method: 'GET', url: '/guards/stops' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      error: { code: 'NOT_READY', message: expect.stringMatching(/stop validator/) },
    });
  });
});
