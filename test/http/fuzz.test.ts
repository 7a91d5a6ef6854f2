import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/store/index.js';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

/**
 * DESIGN §9/§12 fuzzing (performance-and-safety §2.5): 2,000 generated requests through `inject()` against
 * both listeners over the real runtime and LMDB store. Properties: never a 5xx; every answer is JSON (or the
 * metrics text); nothing changes without the valid token; the audit chain stays valid; the app still answers.
 */
const RUNS = 2_000;

const ascii = (max: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });

const ROUTES = [
  '/readyz',
  '/healthz',
  '/health',
  '/status',
  '/status/',
  '/metrics',
  '/kill',
  '/audit',
  '/actors',
  '/actors/governance',
  '/actors/heartbeat/events',
  '/actors/conn:binance/events',
  '/actors/core/events',
  '/strategy/weights',
  '/reconcile/manual',
];

const path = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ROUTES) },
  { weight: 2, arbitrary: fc.constantFrom(...ROUTES).chain((r) => ascii(40).map((q) => `${r}?${encodeURI(q)}`)) },
  { weight: 2, arbitrary: ascii(30).map((id) => `/actors/${encodeURIComponent(id)}`) },
  { weight: 1, arbitrary: ascii(30).map((id) => `/actors/${encodeURIComponent(id)}/events`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('/%zz', '/actors/%E0%A4%A', '//kill', `/actors/${'a'.repeat(300)}`, '/audit?limit=-1'),
  },
  { weight: 2, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
);

const killBody = fc.record(
  {
    enabled: fc.oneof(fc.boolean(), fc.constantFrom('false', 0, null)),
    reason: ascii(20),
    venue: fc.constantFrom('binance', 'kraken', 'ftx'),
    symbol: fc.constantFrom('BTCUSDT', 'ETH/USDT', ''),
    scope: fc.constantFrom('global', 'venue', 'symbol', 'planet'),
  },
  { requiredKeys: [] },
);

/** Event types that exist nowhere or are forbidden: a fuzzed command must never restart real actors. */
const eventBody = fc.record(
  { type: fc.oneof(ascii(20), fc.constantFrom('xstate.stop', 'xstate.init', 'gov.set', '')), extra: fc.json() },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  killBody.map((b) => JSON.stringify(b)),
  eventBody.map((b) => JSON.stringify(b)),
  ascii(200),
  fc.constantFrom('{', '{"enabled": false', 'enabled=false', '{"__proto__": {"x": 1}}', '[]', 'null', '"x"'),
  fc.constant('x'.repeat(70 * 1024)),
);

const contentType = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-8',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('text/plain', 'multipart/form-data; boundary=x', 'application/', ';;;', 'application/json;;'),
      ascii(30),
    ),
  },
);

const request = fc.record({
  engine: fc.boolean(),
  method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
  path,
  body,
  contentType,
  token: fc.constantFrom('valid', 'valid', 'wrong', 'none'),
  key: fc.option(fc.oneof(ascii(20), fc.constant('k'.repeat(300))), { nil: undefined }),
  actor: fc.option(ascii(80), { nil: undefined }),
  extra: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,10}$/), ascii(40), { maxKeys: 3 }),
});

describe('HTTP fuzzing (real runtime and store)', () => {
  let s: RealStack;
  beforeAll(async () => {
    s = await startRealStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  it(`answers ${RUNS} generated requests on both listeners without a 5xx or an unauthenticated change`, async () => {
    let count = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        count++;
        const app: FastifyInstance = r.engine ? s.engine : s.ops;
        const headers: Record<string, string> = { ...r.extra };
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        if (r.token === 'valid') headers['x-ops-token'] = s.token;
        if (r.token === 'wrong') headers['x-ops-token'] = 'guess';
        if (r.key !== undefined) headers['idempotency-key'] = r.key;
        if (r.actor !== undefined) headers['x-ops-actor'] = r.actor;
        const before = { gov: JSON.stringify(s.runtime.governance()), audit: auditCount(s.store) };
        const opts: InjectOptions = { method: r.method as InjectOptions['method'], url: r.path, headers };
        if (r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD') opts.payload = r.body;
        const res = await app.inject(opts);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);

        // 503 NOT_READY is the one 5xx allowed: this server has no trading pipeline, so its routes say so.
        const notReady =
          res.statusCode === 503 && (r.method === 'HEAD' || JSON.parse(res.body).error?.code === 'NOT_READY');
        if (!notReady) expect(res.statusCode, `${r.method} ${r.path} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (r.method !== 'HEAD' && !r.path.startsWith('/metrics')) expect(() => JSON.parse(res.body)).not.toThrow();
        if (res.statusCode >= 400 && r.method !== 'HEAD')
          expect(Object.keys(JSON.parse(res.body).error ?? {})).toEqual(['code', 'message']);
        if (r.token !== 'valid') {
          expect(JSON.stringify(s.runtime.governance())).toBe(before.gov);
          expect(auditCount(s.store)).toBe(before.audit);
        }
      }),
      { numRuns: RUNS, seed: 20_260_101, endOnFailure: true },
    );
    // The generator must reach the handlers, not only the edges: successes and audited commands happen.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    expect(auditCount(s.store)).toBeGreaterThan(20);
    expect(count).toBe(RUNS);
    expect(verifyAuditChain(s.store).ok).toBe(true);
    for (const app of [s.ops, s.engine]) expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect(s.fatal).toEqual([]);
  });
});
