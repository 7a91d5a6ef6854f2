import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../../test/http/support/fakes.js';
import { buildServer } from '../build-server.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function engine() {
  const deps = fakeDeps();
  const app = await buildServer(deps, 'engine');
  apps.push(app);
  const send = (id: string, body: unknown, headers: Record<string, string> = { 'x-ops-token': TOKEN }) =>
    app.inject({
      method: 'POST',
      url: `/actors/${id}/events`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });
  return { app, deps, send };
}

describe('GET /actors', () => {
  it('returns the tree with id, kind, liveness, state value, health, restarts and children', async () => {
    const { app } = await engine();
    const res = await app.inject({ url: '/actors' });
    expect(res.statusCode).toBe(200);
    const root = res.json();
    expect(root).toMatchObject({ id: 'root', kind: 'root', liveness: 'running', health: 'OK', restarts: 0 });
    expect(root.children.map((c: { id: string }) => c.id)).toEqual(['core', 'venue:binance']);
  });

  it('returns one actor, with its context only when asked, and 404 JSON for an unknown id', async () => {
    const { app } = await engine();
    const plain = await app.inject({ url: '/actors/conn:binance' });
    expect(plain.json()).toMatchObject({ id: 'conn:binance', kind: 'conn' });
    expect(plain.json().context).toBeUndefined();
    expect((await app.inject({ url: '/actors/conn:binance?context=true' })).json().context).toEqual({
      secretless: true,
    });
    const missing = await app.inject({ url: '/actors/conn:kraken' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: "no actor 'conn:kraken'" } });
  });

  it('refuses a malformed actor id with 400 naming the parameter', async () => {
    const { app } = await engine();
    const res = await app.inject({ url: '/actors/DROP%20TABLE' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/^params\.id/);
  });

  it('is not served on the ops listener', async () => {
    const deps = fakeDeps();
    const ops = await buildServer(deps, 'ops');
    apps.push(ops);
    expect((await ops.inject({ url: '/actors' })).statusCode).toBe(404);
  });
});

describe('POST /actors/:id/events', () => {
  it('delivers an allow-listed event with 202 and audits it', async () => {
    const { deps, send } = await engine();
    const res = await send('conn:binance', { type: 'conn.reset', why: 'test' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, id: 'conn:binance', type: 'conn.reset', audit: { seq: 1 } });
    expect(deps.runtime.sent).toEqual([{ id: 'conn:binance', event: { type: 'conn.reset', why: 'test' } }]);
    expect(deps.audit.records[0]).toMatchObject({ action: 'actor.event', target: 'conn:binance', result: 'ok' });
  });

  it('refuses an event outside the allow-list with 400 listing what is allowed', async () => {
    const { deps, send } = await engine();
    const res = await send('governance', { type: 'gov.set' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe("event 'gov.set' is not allowed for governance; allowed: sup.restartChild");
    expect(deps.runtime.sent).toHaveLength(0);
    expect(deps.audit.records[0]).toMatchObject({ action: 'actor.event', target: 'governance', result: 'error' });
  });

  it('refuses xstate.* events even when an allow-list names one', async () => {
    const { deps, send } = await engine();
    const res = await send('conn:binance', { type: 'xstate.stop' });
    expect(res.statusCode).toBe(400);
    expect(deps.runtime.sent).toHaveLength(0);
  });

  it('answers 503 with Retry-After while the actor is restarting', async () => {
    const { deps, send } = await engine();
    deps.runtime.restarting.add('conn:binance');
    const res = await send('conn:binance', { type: 'conn.reset' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().error.code).toBe('ACTOR_UNAVAILABLE');
  });

  it('answers 404 for an unknown actor and 401 without a token', async () => {
    const { deps, send } = await engine();
    expect((await send('conn:kraken', { type: 'conn.reset' })).statusCode).toBe(404);
    expect((await send('conn:binance', { type: 'conn.reset' }, {})).statusCode).toBe(401);
    expect(deps.runtime.sent).toHaveLength(0);
  });

  it('refuses a body without a type', async () => {
    const { send } = await engine();
    const res = await send('conn:binance', { kind: 'conn.reset' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/^body\.type/);
  });
});
