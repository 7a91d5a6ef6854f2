import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderBody } from '../../src/http/routes/trading.routes.js';
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

describe('signed external events across a restart', () => {
  const sign = (secret: string, body: string, ts?: string) =>
    `sha256=${createHmac('sha256', secret)
      .update(ts === undefined ? body : `${ts}.${body}`)
      .digest('hex')}`;

  it('refuses a captured event (with and without X-Events-Timestamp) after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-replay-'));
    const captured: Array<{ headers: Record<string, string>; payload: string }> = [];
    let s = await startRealStack({ dir });
    try {
      const plain = '{"source":"capture","payload":{"n":1}}';
      const ts = String(Math.floor(Date.now() / 1000));
      const stamped = '{"source":"capture","payload":{"n":2}}';
      captured.push(
        { payload: plain, headers: { 'x-events-signature': sign(s.eventsSecret, plain) } },
        {
          payload: stamped,
          headers: { 'x-events-signature': sign(s.eventsSecret, stamped, ts), 'x-events-timestamp': ts },
        },
      );
      for (const c of captured) {
        const r = await s.engine.inject({ method: 'POST', url: '/events/external', ...c });
        expect(r.statusCode).toBe(202);
        expect((await s.engine.inject({ method: 'POST', url: '/events/external', ...c })).statusCode).toBe(401);
      }
      await s.close();
      s = await startRealStack({ dir });
      const published: unknown[] = [];
      s.feed.subscribe((e) => published.push(e));
      for (const c of captured) {
        const r = await s.engine.inject({ method: 'POST', url: '/events/external', ...c });
        expect(r.statusCode).toBe(401);
        expect(r.json().error.message).toMatch(/replay/);
      }
      expect(published).toEqual([]);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires X-Events-Timestamp when EXTERNAL_EVENTS_REQUIRE_TIMESTAMP is on', async () => {
    const s = await startRealStack({ requireTimestamp: true });
    try {
      const body = '{"source":"nots","payload":{}}';
      const r = await s.engine.inject({
        method: 'POST',
        url: '/events/external',
        headers: { 'x-events-signature': sign(s.eventsSecret, body) },
        payload: body,
      });
      expect(r.statusCode).toBe(401);
      expect(r.json().error.message).toMatch(/X-Events-Timestamp/);
    } finally {
      await s.close();
    }
  });

  it('without a secret: refuses everything in live mode, and same-site browser pages in paper mode', async () => {
    const live = await startRealStack({ eventsSecret: '', unsigned: 'refuse' });
    const paper = await startRealStack({ eventsSecret: '' });
    try {
      const body = { source: 'unsigned', payload: {} };
      const refused = await live.engine.inject({ method: 'POST', url: '/events/external', payload: body });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.message).toMatch(/EXTERNAL_EVENTS_SECRET/);
      const page = await paper.engine.inject({
        method: 'POST',
        url: '/events/external',
        headers: { 'sec-fetch-site': 'same-site', origin: 'http://localhost:1' },
        payload: body,
      });
      expect(page.statusCode).toBe(401);
      const curl = await paper.engine.inject({ method: 'POST', url: '/events/external', payload: body });
      expect(curl.statusCode).toBe(202);
    } finally {
      await live.close();
      await paper.close();
    }
  });
});

describe('strict bodies and one error format for everything the server answers', () => {
  let s: RealStack;
  let port = 0;
  beforeAll(async () => {
    s = await startRealStack();
    const url = await s.ops.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(url).port);
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Writes raw bytes and reads the answer until the server closes the connection. */
  const raw = (bytes: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let text = '';
      sock.on('data', (d) => {
        text += String(d);
      });
      sock.on('error', reject);
      sock.on('close', () => {
        const [head = '', body = ''] = text.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(body) });
      });
      sock.write(bytes);
    });

  it.each([
    ['a bad Content-Length', 'POST /kill HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n', 400],
    ['a control character in a header', 'GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0001b\r\n\r\n', 400],
    ['a request without Host', 'GET /status HTTP/1.1\r\nConnection: close\r\n\r\n', 403],
    ['headers over the limit', `GET /status HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('answers %s in the documented error format', async (_name, bytes, status) => {
    const r = await raw(bytes);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  it.each([
    ['/backup', '{}'],
    ['/backup', '[1,2]'],
  ])('refuses a body on %s, which takes none, before anything runs', async (url, payload) => {
    const before = auditCount(s.store);
    const r = await s.ops.inject({
      method: 'POST',
      url,
      headers: { 'x-ops-token': s.token, 'content-type': 'application/json' },
      payload,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/takes no request body/);
    for (const e of s.store.audit.readAll()) if (e.seq > before) expect(e.result).toBe('error');
  });

  it('refuses an order symbol with more than one venue suffix', () => {
    const r = OrderBody.safeParse({ symbol: 'BTCUSDT.BINANCE.X', side: 'buy', quote: 10 });
    expect(r.success).toBe(false);
    expect(OrderBody.safeParse({ symbol: 'BTCUSDT.BINANCE', side: 'buy', quote: 10 }).success).toBe(true);
  });
});
