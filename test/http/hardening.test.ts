import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/store/index.js';
import { until } from '../trading/support.js';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

/**
 * Regressions of issue #15 (ops API hardening), each against the real runtime and LMDB store: hostile input gets a
 * 4xx in the documented format and has no effect (no restart, no audit record, supervisor tree unchanged).
 */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('hostile bodies and ids on the real stack', () => {
  let s: RealStack;
  const auth = () => ({ 'x-ops-token': s.token, 'content-type': 'application/json' });
  const heartbeat = () => s.runtime.root().system.get('heartbeat');
  const treeText = async () => (await s.engine.inject({ url: '/actors' })).body;

  beforeAll(async () => {
    s = await startRealStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  it.each([3_000, 20_000])('refuses a body nested %i deep with a 400 and restarts nothing', async (depth) => {
    const before = { audit: auditCount(s.store), ref: heartbeat(), tree: await treeText() };
    const r = await s.engine.inject({
      method: 'POST',
      url: '/actors/heartbeat/events',
      headers: auth(),
      payload: `{"type":"sup.restartChild","x":${nested(depth)}}`,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/nested deeper/) } });
    expect(heartbeat()).toBe(before.ref);
    expect(await treeText()).toBe(before.tree);
    // The refused command is on the chain as an error, never as an effect.
    for (const e of s.store.audit.readAll()) if (e.seq > before.audit) expect(e.result).toBe('error');
  });

  it.each(['/backup', '/reconcile/manual', '/strategy/auto-tune/reset', '/scanner/rescan', '/executor/stop'])(
    'answers a deep body on %s with a 400, not a 500',
    async (url) => {
      const app = url === '/backup' ? s.ops : s.engine;
      const r = await app.inject({ method: 'POST', url, headers: auth(), payload: nested(3_000) });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe('BAD_REQUEST');
    },
  );

  it('refuses "__proto__" however it is spelled', async () => {
    const ref = heartbeat();
    const r = await s.engine.inject({
      method: 'POST',
      url: '/actors/heartbeat/events',
      headers: auth(),
      payload: '{"type":"sup.restartChild","\\u005f\\u005fproto__":{"x":1}}',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/forbidden "__proto__"/);
    expect(heartbeat()).toBe(ref);
  });

  it.each(['toString', 'constructor', 'hasOwnProperty', '__proto__'])(
    'answers 404 to a supervisor command naming the prototype member %s, and the tree stays whole',
    async (child) => {
      const before = { audit: auditCount(s.store), tree: await treeText() };
      const r = await s.engine.inject({
        method: 'POST',
        url: '/actors/core/events',
        headers: auth(),
        payload: JSON.stringify({ type: 'sup.restartChild', id: child }),
      });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('NOT_FOUND');
      expect(await treeText()).toBe(before.tree);
      const core = (await s.engine.inject({ url: '/actors/core' })).json();
      expect(core.children.map((c: { id: string }) => c.id)).toEqual(['governance', 'heartbeat']);
    },
  );

  it('restarts a real child by id, audited before the effect', async () => {
    const ref = heartbeat();
    const before = auditCount(s.store);
    const r = await s.engine.inject({
      method: 'POST',
      url: '/actors/core/events',
      headers: auth(),
      payload: JSON.stringify({ type: 'sup.restartChild', id: 'heartbeat' }),
    });
    expect(r.statusCode).toBe(202);
    expect(auditCount(s.store)).toBe(before + 1);
    await until('heartbeat restarted', () => (heartbeat() && heartbeat() !== ref ? true : undefined), 5_000);
    expect(verifyAuditChain(s.store).ok).toBe(true);
  });

  it('shuts down cleanly after hostile supervisor commands', async () => {
    for (const id of ['toString', 'valueOf', 'isPrototypeOf'])
      s.runtime.send('core', { type: 'sup.terminateChild', id });
    await s.runtime.shutdown();
    expect(s.fatal).toEqual([]);
  });
});
