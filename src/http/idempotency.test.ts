import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../test/http/support/fakes.js';
import { AppError } from '../domain/errors.js';
import { buildServer } from './build-server.js';
import { requestHash } from './idempotency.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function ops(deps = fakeDeps()) {
  const app = await buildServer(deps, 'ops');
  apps.push(app);
  return { app, deps };
}

const kill = (key: string | undefined, payload = '{"enabled": false}') => ({
  method: 'POST' as const,
  url: '/kill',
  headers: {
    'x-ops-token': TOKEN,
    'content-type': 'application/x-www-form-urlencoded',
    ...(key === undefined ? {} : { 'idempotency-key': key }),
  },
  payload,
});

describe('requestHash', () => {
  it('ignores key order in the body but not the method, URL or values', () => {
    const a = requestHash('POST', '/kill', { enabled: false, reason: 'x' });
    expect(requestHash('POST', '/kill', { reason: 'x', enabled: false })).toBe(a);
    expect(requestHash('POST', '/kill', { reason: 'x', enabled: true })).not.toBe(a);
    expect(requestHash('POST', '/kill?x=1', { reason: 'x', enabled: false })).not.toBe(a);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, with Idempotent-Replayed, and runs the command once', async () => {
    const { app, deps } = await ops();
    const first = await app.inject(kill('k-1'));
    const again = await app.inject(kill('k-1', '{ "enabled" : false }'));
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.json()).toEqual(first.json());
    expect(deps.runtime.commands).toHaveLength(1);
    expect(deps.audit.records).toHaveLength(1);
    expect(deps.audit.records[0]?.idempotencyKey).toBe('k-1');
  });

  it('answers the same key with another body with 422 IDEMPOTENCY_MISMATCH and no effect', async () => {
    const { app, deps } = await ops();
    await app.inject(kill('k-2'));
    const res = await app.inject(kill('k-2', '{"enabled": true}'));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('IDEMPOTENCY_MISMATCH');
    expect(deps.runtime.gov.global.state).toBe('HALTED');
    expect(deps.audit.records).toHaveLength(1);
  });

  it('answers a concurrent duplicate with 409 IDEMPOTENCY_IN_FLIGHT and Retry-After', async () => {
    const { app, deps } = await ops();
    let release!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = new Promise<void>((r) => {
      entered = r;
    });
    const setTrading = deps.runtime.setTrading.bind(deps.runtime);
    deps.runtime.setTrading = async (cmd) => {
      entered();
      await gate;
      return setTrading(cmd);
    };
    const first = app.inject(kill('k-3'));
    await running;
    const dup = await app.inject(kill('k-3'));
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('IDEMPOTENCY_IN_FLIGHT');
    expect(dup.headers['retry-after']).toBe('1');
    release();
    expect((await first).statusCode).toBe(200);
    expect(deps.runtime.commands).toHaveLength(1);
    expect(deps.audit.records).toHaveLength(1);
  });

  it('abandons the key when the command fails before its effect, so a retry with the same key runs', async () => {
    const { app, deps } = await ops();
    deps.runtime.failSetTrading = new AppError('STORE_FAILED', 'disk full');
    const failed = await app.inject(kill('k-4'));
    expect(failed.statusCode).toBe(503);
    expect(deps.idempotency.abandoned).toEqual(['k-4']);
    expect(deps.audit.records.map((r) => r.result)).toEqual(['error']);
    deps.runtime.failSetTrading = undefined;
    const retry = await app.inject(kill('k-4'));
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(deps.runtime.commands).toHaveLength(1);
  });

  it('answers 503 STORE_FAILED, not a replayable 200, when the answer cannot be stored', async () => {
    const { app, deps } = await ops();
    deps.idempotency.failComplete = new Error('commit failed');
    const res = await app.inject(kill('k-5'));
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('STORE_FAILED');
    expect(deps.idempotency.inFlight.size).toBe(0);
  });

  it('refuses keys over 255 characters with 400 and claims nothing', async () => {
    const { app, deps } = await ops();
    const res = await app.inject(kill('k'.repeat(256)));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/Idempotency-Key/);
    expect(deps.runtime.commands).toHaveLength(0);
    expect((await app.inject(kill('k'.repeat(255)))).statusCode).toBe(200);
  });

  it('runs every request without a key (the key is optional)', async () => {
    const { app, deps } = await ops();
    await app.inject(kill(undefined));
    await app.inject(kill(undefined));
    expect(deps.runtime.commands).toHaveLength(2);
    expect(deps.idempotency.done.size).toBe(0);
  });

  it('scopes keys by route: the same key on another route is a mismatch', async () => {
    const deps = fakeDeps();
    const { app } = await ops(deps);
    const engine = await buildServer(deps, 'engine');
    apps.push(engine);
    await app.inject(kill('shared'));
    const res = await engine.inject({
      method: 'POST',
      url: '/actors/conn:binance/events',
      headers: { 'x-ops-token': TOKEN, 'idempotency-key': 'shared' },
      payload: { type: 'conn.reset' },
    });
    expect(res.statusCode).toBe(422);
    expect(deps.runtime.sent).toHaveLength(0);
  });

  it('checks auth before the key: a replay needs the token too', async () => {
    const { app } = await ops();
    await app.inject(kill('k-6'));
    const res = await app.inject({ ...kill('k-6'), headers: { 'idempotency-key': 'k-6' } });
    expect(res.statusCode).toBe(401);
  });
});
