import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps } from '../../../test/http/support/fakes.js';
import type { MakerReport, TradingPort } from '../../supervisor/trading-port.js';
import { buildServer } from '../build-server.js';

/** `GET /maker` (engine): maker mode's state and KPIs through the trading port; a read, open like the others. */
const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

const REPORT: MakerReport = {
  modes: { spot: 'shadow', perp: 'live' },
  timeoutSec: 30,
  shadow: {
    summary: [
      {
        venue: 'binance',
        market: 'spot',
        orders: 2,
        filled: 1,
        fillRate: 0.5,
        meanImprovementBps: 4.2,
        meanAdverseBps: 30,
        missed: 1,
        meanMissedCostBps: 40,
      },
    ],
    pending: [],
    recent: [{ clientOrderId: 'bosun-o-bBTCUSDT-A0001', filled: true }],
  },
  live: { resting: [], outcomes: { filled: 1, timeout_taker: 1, timeout_cancelled: 0, rejected_taker: 0, killed: 1 } },
};

async function server(maker: TradingPort['maker']) {
  const trading = (maker ? { maker } : {}) as TradingPort;
  const app = await buildServer(fakeDeps({ trading }), 'engine');
  apps.push(app);
  return app;
}

describe('GET /maker', () => {
  it('answers the maker view without a token (a read)', async () => {
    const app = await server(() => REPORT);
    const res = await app.inject({ method: 'GET', url: '/maker' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(REPORT);
  });

  it('answers 503 NOT_READY with a JSON error when no engine is wired', async () => {
    const app = await server(undefined);
    const res = await app.inject({ method: 'GET', url: '/maker' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'NOT_READY' } });
  });

  it('is documented in the OpenAPI document with its response schema', async () => {
    const app = await server(() => REPORT);
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
    };
    expect(doc.paths['/maker']?.get?.responses?.['200']).toBeDefined();
  });
});
