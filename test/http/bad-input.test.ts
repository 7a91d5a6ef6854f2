import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

/**
 * One table over every mutating and query-taking route of both listeners: bad JSON, wrong types, unknown fields,
 * bad params and queries, oversize and wrong media types. Each answer is a 4xx JSON `{"error":{"code","message"}}`
 * whose message names the problem, and nothing changes: governance is as before, nothing is published, and the
 * audit chain gains at most the `result: "error"` record of an authenticated command that failed (DESIGN §9).
 */
interface Row {
  name: string;
  listener: 'ops' | 'engine';
  method: 'GET' | 'POST';
  url: string;
  /** A string is sent as is (with `type`), an object as JSON. */
  body?: string | object;
  type?: string;
  /** Send X-Ops-Token (default true for POST except /events/external). */
  auth?: boolean;
  /** Sign the raw body for /events/external. */
  signed?: boolean;
  status: number;
  code: string;
  message: string | RegExp;
}

const BIG = JSON.stringify({ enabled: false, reason: 'x'.repeat(70 * 1024) });
const BIG_EVENT = JSON.stringify({ source: 'big', payload: { pad: 'x'.repeat(70 * 1024) } });

const ROWS: Row[] = [
  // ── ops: POST /kill ──
  {
    name: 'kill: bad JSON',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: '{"enabled": fal',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'kill: wrong type',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: { enabled: 'no' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.enabled',
  },
  {
    name: 'kill: unknown field',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: { enable: false },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /enable/,
  },
  {
    name: 'kill: bad enum',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: { enabled: false, venue: 'ftx' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.venue',
  },
  {
    name: 'kill: form body',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: 'enabled=false',
    type: 'application/x-www-form-urlencoded',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'kill: text/plain',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: '{"enabled":false}',
    type: 'text/plain',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'text/plain',
  },
  {
    name: 'kill: oversize',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: BIG,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /too large/i,
  },
  {
    name: 'kill: poisoned key',
    listener: 'ops',
    method: 'POST',
    url: '/kill',
    body: '{"enabled":false,"__proto__":{"x":1}}',
    status: 400,
    code: 'BAD_REQUEST',
    message: '__proto__',
  },
  // ── ops: POST /strategy/weights, GET /audit ──
  {
    name: 'weights: bad JSON',
    listener: 'ops',
    method: 'POST',
    url: '/strategy/weights',
    body: '{"weights":',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'weights: wrong type',
    listener: 'ops',
    method: 'POST',
    url: '/strategy/weights',
    body: { weights: { stable_model: 'lots' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.weights.stable_model',
  },
  {
    name: 'weights: unknown model',
    listener: 'ops',
    method: 'POST',
    url: '/strategy/weights',
    body: { weights: { stable_modle: 1 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /stable_modle/,
  },
  {
    name: 'weights: unknown field',
    listener: 'ops',
    method: 'POST',
    url: '/strategy/weights',
    body: { weights: { stable_model: 1 }, apply: 'now' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /apply/,
  },
  {
    name: 'weights: negative',
    listener: 'ops',
    method: 'POST',
    url: '/strategy/weights',
    body: { weights: { stable_model: -1 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.weights.stable_model',
  },
  {
    name: 'audit: limit not a number',
    listener: 'ops',
    method: 'GET',
    url: '/audit?limit=many',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.limit',
  },
  {
    name: 'audit: limit too big',
    listener: 'ops',
    method: 'GET',
    url: '/audit?limit=100000',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.limit',
  },
  {
    name: 'audit: negative since',
    listener: 'ops',
    method: 'GET',
    url: '/audit?since=-1',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.since',
  },
  {
    name: 'audit: empty actor',
    listener: 'ops',
    method: 'GET',
    url: '/audit?actor=',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.actor',
  },
  // ── engine: actors ──
  {
    name: 'actor: bad id',
    listener: 'engine',
    method: 'GET',
    url: '/actors/not%20an%20id',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'params.id',
  },
  {
    name: 'actor: bad context flag',
    listener: 'engine',
    method: 'GET',
    url: '/actors/root?context=maybe',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.context',
  },
  {
    name: 'actor event: bad id',
    listener: 'engine',
    method: 'POST',
    url: '/actors/%2A%2A/events',
    body: { type: 'x' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'params.id',
  },
  {
    name: 'actor event: missing type',
    listener: 'engine',
    method: 'POST',
    url: '/actors/root/events',
    body: { kind: 'x' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.type',
  },
  {
    name: 'actor event: wrong type',
    listener: 'engine',
    method: 'POST',
    url: '/actors/root/events',
    body: { type: 7 },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.type',
  },
  {
    name: 'actor event: bad JSON',
    listener: 'engine',
    method: 'POST',
    url: '/actors/root/events',
    body: '[',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  // ── engine: orders, breakers, reconcile, auto-tune ──
  {
    name: 'order: bad JSON',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: '{"symbol":"BTCUSDT.BINANCE",',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'order: wrong side',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: { symbol: 'BTCUSDT.BINANCE', side: 'HOLD', quote: 10 },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.side',
  },
  {
    name: 'order: quote as a string',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: '10' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.quote',
  },
  {
    name: 'order: negative quote',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: -5 },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.quote',
  },
  {
    name: 'order: unknown field',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 10, leverage: 100 },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /leverage/,
  },
  {
    name: 'order: unknown venue',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: { symbol: 'BTCUSDT.FTX', side: 'BUY', quote: 10 },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.symbol',
  },
  {
    name: 'order: oversize',
    listener: 'engine',
    method: 'POST',
    url: '/orders',
    body: JSON.stringify({ symbol: 'x'.repeat(70 * 1024) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /too large/i,
  },
  {
    name: 'orders: limit 0',
    listener: 'engine',
    method: 'GET',
    url: '/orders?limit=0',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.limit',
  },
  {
    name: 'orders: unknown venue',
    listener: 'engine',
    method: 'GET',
    url: '/orders?venue=ftx',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.venue',
  },
  {
    name: 'orders: bad open flag',
    listener: 'engine',
    method: 'GET',
    url: '/orders?open=yes',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'querystring.open',
  },
  {
    name: 'orders: unknown query',
    listener: 'engine',
    method: 'GET',
    url: '/orders?status=open',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /status/,
  },
  {
    name: 'breaker reset: id too long',
    listener: 'engine',
    method: 'POST',
    url: `/breakers/${'b'.repeat(150)}/reset`,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'params.id',
  },
  {
    name: 'breaker reset: bad JSON',
    listener: 'engine',
    method: 'POST',
    url: '/breakers/breaker:equity/reset',
    body: '{',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'reconcile: bad JSON',
    listener: 'engine',
    method: 'POST',
    url: '/reconcile/manual',
    body: '{',
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'auto-tune reset: text/plain',
    listener: 'engine',
    method: 'POST',
    url: '/strategy/auto-tune/reset',
    body: 'reset',
    type: 'text/plain',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'text/plain',
  },
  // ── engine: POST /events/external (signed, so each reaches the step under test) ──
  {
    name: 'event: bad JSON',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: '{"source":',
    signed: true,
    status: 400,
    code: 'BAD_REQUEST',
    message: 'not valid JSON',
  },
  {
    name: 'event: source wrong type',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: { source: 5, payload: {} },
    signed: true,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.source',
  },
  {
    name: 'event: payload not an object',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: { source: 'x', payload: 'FOOUSDT' },
    signed: true,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.payload',
  },
  {
    name: 'event: missing payload',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: { source: 'x' },
    signed: true,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.payload',
  },
  {
    name: 'event: unknown field',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: { source: 'x', payload: {}, priority: 1 },
    signed: true,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /priority/,
  },
  {
    name: 'event: ts wrong type',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: { source: 'x', payload: {}, ts: 'now' },
    signed: true,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.ts',
  },
  {
    name: 'event: text/plain',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: '{"source":"x","payload":{}}',
    type: 'text/plain',
    signed: true,
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'text/plain',
  },
  {
    name: 'event: oversize',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: BIG_EVENT,
    signed: true,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /too large/i,
  },
  {
    name: 'event: unsigned',
    listener: 'engine',
    method: 'POST',
    url: '/events/external',
    body: { source: 'x', payload: {} },
    status: 401,
    code: 'UNAUTHORIZED',
    message: 'X-Events-Signature',
  },
];

describe('every route refuses bad input with a 4xx JSON error naming the problem, changing nothing', () => {
  let s: RealStack;
  let published = 0;
  beforeAll(async () => {
    s = await startRealStack();
    s.feed.subscribe(() => {
      published += 1;
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  for (const [i, row] of ROWS.entries()) {
    it(`${row.listener} ${row.method} ${row.url.slice(0, 40)}: ${row.name} → ${row.status}`, async () => {
      const governance = JSON.stringify(s.runtime.governance());
      const auditBefore = auditCount(s.store);
      const raw =
        row.body === undefined ? undefined : typeof row.body === 'string' ? row.body : JSON.stringify(row.body);
      const headers: Record<string, string> = {};
      if (raw !== undefined) headers['content-type'] = row.type ?? 'application/json';
      const isEvent = row.url === '/events/external';
      const authed = row.auth ?? (row.method === 'POST' && !isEvent);
      if (authed) {
        headers['x-ops-token'] = s.token;
        headers['idempotency-key'] = `bad-input-${i}`;
      }
      if (row.signed && raw !== undefined)
        headers['x-events-signature'] = `sha256=${createHmac('sha256', s.eventsSecret).update(raw).digest('hex')}`;

      const r = await s[row.listener].inject({ method: row.method, url: row.url, headers, payload: raw });

      expect(r.statusCode).toBe(row.status);
      expect(r.headers['content-type']).toContain('application/json');
      const { error } = r.json() as { error: { code: string; message: string } };
      expect(error.code).toBe(row.code);
      if (typeof row.message === 'string') expect(error.message).toContain(row.message);
      else expect(error.message).toMatch(row.message);

      expect(JSON.stringify(s.runtime.governance())).toBe(governance);
      expect(published).toBe(0);
      const added = s.store.audit.list({ limit: 10 }).filter((rec) => rec.seq > auditBefore);
      expect(added.length).toBeLessThanOrEqual(authed ? 1 : 0);
      for (const rec of added)
        expect(rec).toMatchObject({ result: 'error', reason: expect.stringContaining(row.code) });
    });
  }

  it('left the audit chain without a single successful command', () => {
    expect(s.store.audit.list({ limit: 1000 }).filter((rec) => rec.result !== 'error')).toEqual([]);
  });
});
