import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps } from '../../../test/http/support/fakes.js';
import { buildServer } from '../build-server.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function both() {
  const deps = fakeDeps();
  const ops = await buildServer(deps, 'ops');
  const engine = await buildServer(deps, 'engine');
  apps.push(ops, engine);
  return { deps, ops, engine };
}

describe('probes', () => {
  it('answers /readyz 503 with Retry-After until boot recovery is done, then 200', async () => {
    const { deps, ops, engine } = await both();
    deps.runtime.isReady = false;
    for (const app of [ops, engine]) {
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({ ready: false, reason: 'boot recovery in progress' });
    }
    deps.runtime.isReady = true;
    expect((await engine.inject({ url: '/readyz' })).json()).toEqual({ ready: true });
  });

  it('answers /healthz 200 with the root health even when the tree is HALTED', async () => {
    const { deps, ops } = await both();
    deps.runtime.rootHealth = { value: 'HALTED', reason: 'depeg_trigger' };
    const res = await ops.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ alive: true, health: 'HALTED', reason: 'depeg_trigger' });
  });

  it('answers engine /health ok while OK or DEGRADED and 503 ok=false when HALTED', async () => {
    const { deps, engine, ops } = await both();
    expect((await engine.inject({ url: '/health' })).json()).toEqual({ ok: true, health: 'OK', reason: '' });
    deps.runtime.rootHealth = { value: 'DEGRADED', reason: 'stale quotes' };
    expect((await engine.inject({ url: '/health' })).json().ok).toBe(true);
    deps.runtime.rootHealth = { value: 'HALTED', reason: 'depeg_trigger' };
    const halted = await engine.inject({ url: '/health' });
    expect(halted.statusCode).toBe(503);
    expect(halted.json()).toEqual({ ok: false, health: 'HALTED', reason: 'depeg_trigger' });
    expect((await ops.inject({ url: '/health' })).statusCode).toBe(404);
  });
});

describe('GET /status', () => {
  it('reports trading_enabled from global governance, health, readiness and the runtime extras', async () => {
    const { deps, ops, engine } = await both();
    deps.runtime.extras = { balances: { binance: { USDT: 1000 } }, snapshot_loaded: true };
    const res = await ops.inject({ url: '/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      trading_enabled: true,
      trading_state: 'ACTIVE',
      governance: deps.runtime.gov,
      health: { value: 'OK', reason: '' },
      ready: true,
      snapshot_loaded: true,
      balances: { binance: { USDT: 1000 } },
    });
    deps.runtime.gov.global = { ...deps.runtime.gov.global, state: 'REDUCING' };
    const reducing = (await engine.inject({ url: '/status/' })).json();
    expect(reducing.trading_enabled).toBe(false);
    expect(reducing.trading_state).toBe('REDUCING');
  });

  it('reports snapshot_loaded false until the runtime says otherwise', async () => {
    const { ops } = await both();
    expect((await ops.inject({ url: '/status' })).json().snapshot_loaded).toBe(false);
  });
});

describe('GET /metrics', () => {
  it("serves the passed registry in Prometheus' text format on both listeners", async () => {
    const { deps, ops, engine } = await both();
    deps.metrics.tradingEnabled.set(1);
    for (const app of [ops, engine]) {
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(deps.metrics.registry.contentType);
      expect(res.body).toMatch(/^metrics_trading_enabled 1$/m);
    }
  });
});

describe('GET /audit', () => {
  it('lists audit records newest first with filters', async () => {
    const { deps, ops } = await both();
    await deps.audit.append({ actor: 'a', action: 'kill', result: 'ok' });
    await deps.audit.append({ actor: 'b', action: 'resume', result: 'ok' });
    const all = (await ops.inject({ url: '/audit' })).json();
    expect(all.records.map((r: { seq: number }) => r.seq)).toEqual([2, 1]);
    const filtered = (await ops.inject({ url: '/audit?action=kill&limit=5' })).json();
    expect(filtered.records.map((r: { actor: string }) => r.actor)).toEqual(['a']);
  });
});
