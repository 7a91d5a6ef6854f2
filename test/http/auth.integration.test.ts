import { afterEach, describe, expect, it } from 'vitest';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

/** Real runtime + LMDB store: a refused command leaves governance, LMDB and the audit chain as they were. */
const stacks: RealStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close();
});

async function stack() {
  const s = await startRealStack();
  stacks.push(s);
  return s;
}

const snapshot = (s: RealStack) => ({
  governance: JSON.stringify(s.runtime.governance()),
  persisted: JSON.stringify(s.store.kv.get('governance')),
  audit: auditCount(s.store),
});

describe('mutating routes without a valid X-Ops-Token (real runtime and store)', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { 'x-ops-token': 'not-the-token' }],
    ['the token with a suffix', { 'x-ops-token': 'integration-token-6f1c2a ' }],
  ])('POST /kill with %s is 401 and changes nothing', async (_label, headers) => {
    const s = await stack();
    const before = snapshot(s);
    const res = await s.ops.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...headers, 'idempotency-key': 'kill-1', 'content-type': 'application/x-www-form-urlencoded' },
      payload: '{"enabled": false}',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHORIZED');
    expect(snapshot(s)).toEqual(before);
    expect(s.runtime.governance().global.state).toBe('ACTIVE');
    expect(s.store.idempotency.get('kill-1')).toBeUndefined();
    // The key was never claimed: the operator's retry with the right token runs.
    const retry = await s.ops.inject({
      method: 'POST',
      url: '/kill',
      headers: {
        'x-ops-token': s.token,
        'idempotency-key': 'kill-1',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: '{"enabled": false}',
    });
    expect(retry.statusCode).toBe(200);
    expect(auditCount(s.store)).toBe(1);
  });

  it('POST /actors/:id/events without a token is 401, delivers nothing and audits nothing', async () => {
    const s = await stack();
    const before = snapshot(s);
    const restartsBefore = s.runtime.actor('heartbeat')?.restarts;
    const res = await s.engine.inject({
      method: 'POST',
      url: '/actors/heartbeat/events',
      headers: { 'content-type': 'application/json' },
      payload: { type: 'sup.restartChild' },
    });
    expect(res.statusCode).toBe(401);
    expect(snapshot(s)).toEqual(before);
    expect(s.runtime.actor('heartbeat')?.restarts).toBe(restartsBefore);
    expect((await s.metrics.authFailures.get()).values[0]?.value).toBe(1);
  });

  it('with the token, the same command is delivered and audited durably', async () => {
    const s = await stack();
    const res = await s.engine.inject({
      method: 'POST',
      url: '/actors/heartbeat/events',
      headers: { 'x-ops-token': s.token, 'x-ops-actor': 'carol', 'content-type': 'application/json' },
      payload: { type: 'sup.restartChild' },
    });
    expect(res.statusCode).toBe(202);
    expect(s.store.audit.list({ limit: 1 })[0]).toMatchObject({
      actor: 'carol',
      action: 'actor.event',
      target: 'heartbeat',
      result: 'ok',
    });
  });
});
