import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../../test/http/support/fakes.js';
import { buildServer } from '../build-server.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function ops() {
  const deps = fakeDeps();
  const app = await buildServer(deps, 'ops');
  apps.push(app);
  const kill = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/kill',
      headers: { 'x-ops-token': TOKEN, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });
  return { app, deps, kill };
}

describe('POST /kill', () => {
  it('halts global trading on {"enabled": false} and answers with the new state and the audit seq', async () => {
    const { deps, kill } = await ops();
    const res = await kill({ enabled: false }, { 'x-ops-actor': 'alice' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      trading_enabled: false,
      trading_state: 'HALTED',
      target: { scope: 'global', key: null, state: 'HALTED' },
      governance: { global: { state: 'HALTED', by: 'alice', command: 'kill', reason: 'operator kill' } },
      audit: { seq: 1 },
    });
    expect(deps.runtime.commands).toEqual([
      { scope: 'global', key: undefined, state: 'HALTED', reason: 'operator kill', actor: 'alice', command: 'kill' },
    ]);
  });

  it('resumes on {"enabled": true} and audits who, what, from where, before and after', async () => {
    const { deps, kill } = await ops();
    await kill({ enabled: false });
    const res = await kill(
      { enabled: true, reason: 'incident over' },
      { 'x-ops-actor': 'bob', 'idempotency-key': 'r-1' },
    );
    expect(res.json()).toMatchObject({ trading_enabled: true, trading_state: 'ACTIVE', audit: { seq: 2 } });
    expect(deps.audit.records[1]).toMatchObject({
      actor: 'bob',
      action: 'resume',
      target: 'global',
      ip: '127.0.0.1',
      before: { state: 'HALTED' },
      after: { state: 'ACTIVE', reason: 'incident over', by: 'bob' },
      result: 'ok',
      reason: 'incident over',
      idempotencyKey: 'r-1',
    });
    expect(deps.audit.records[1]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('halts one venue or one symbol, leaving global trading enabled', async () => {
    const { deps, kill } = await ops();
    const venue = await kill({ enabled: false, venue: 'kraken' });
    expect(venue.json()).toMatchObject({ trading_enabled: true, target: { scope: 'venue', key: 'kraken' } });
    const sym = await kill({ enabled: false, scope: 'symbol', venue: 'binance', symbol: 'BTCUSDT' });
    expect(sym.json().target).toEqual({ scope: 'symbol', key: 'binance:BTCUSDT', state: 'HALTED' });
    expect(deps.runtime.gov.venues.kraken?.state).toBe('HALTED');
    expect(deps.runtime.gov.symbols['binance:BTCUSDT']?.state).toBe('HALTED');
    expect(deps.audit.records.map((r) => r.target)).toEqual(['venue:kraken', 'symbol:binance:BTCUSDT']);
    expect(deps.audit.records[0]?.before).toBeNull();
  });

  it.each([
    [{ enabled: 'false' }, /body\.enabled/],
    [{ enabled: 0 }, /body\.enabled/],
    [{ enable: false }, /body\.enabled|unrecognized/i],
    [{ enabled: false, venue: 'ftx' }, /body\.venue/],
    [{ enabled: false, symbol: 'BTCUSDT' }, /body\.venue: scope 'symbol' needs a venue/],
    [{ enabled: false, scope: 'global', venue: 'binance' }, /body\.scope/],
    [{ enabled: false, scope: 'venue', venue: 'binance', symbol: 'X' }, /body\.symbol/],
    [{ enabled: false, symbol: 'BTC USDT', venue: 'binance' }, /body\.symbol/],
    [[{ enabled: false }], /body/],
    ['false', /body/],
  ])('refuses %j with 400 naming the field and changes nothing', async (body, message) => {
    const { deps, kill } = await ops();
    const res = await kill(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.json().error.message).toMatch(message);
    expect(deps.runtime.commands).toHaveLength(0);
  });

  it('is served on the engine listener too (the inspector talks only to its own origin), with the same auth', async () => {
    const deps = fakeDeps();
    const engine = await buildServer(deps, 'engine');
    apps.push(engine);
    const res = await engine.inject({ method: 'POST', url: '/kill', payload: { enabled: false } });
    expect(res.statusCode).toBe(401);
    expect(deps.runtime.commands).toHaveLength(0);
  });
});
