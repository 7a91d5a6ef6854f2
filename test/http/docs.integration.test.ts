import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/http/build-server.js';
import { type RealStack, startRealStack } from './support/real-stack.js';

/** The OpenAPI document's own routes are left out of it. */
const DOC_ROUTES = new Set(['/docs', '/docs/json']);
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('GET /docs: OpenAPI generated from the zod route schemas', () => {
  let s: RealStack;
  beforeAll(async () => {
    s = await startRealStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  for (const listener of ['ops', 'engine'] as const) {
    it(`lists every route the ${listener} listener registered, method by method`, async () => {
      const app = s[listener];
      const r = await app.inject('/docs');
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toContain('application/json');
      const doc = r.json();
      expect(doc.openapi).toMatch(/^3\./);
      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      const registered = registeredRoutes(app)
        .filter((route) => !DOC_ROUTES.has(route.url))
        .map((route) => `${route.method} ${openApiPath(route.url)}`);
      expect(registered.length).toBeGreaterThan(5);
      expect(documented.sort()).toEqual(registered.sort());
      expect((await app.inject('/docs/json')).json()).toEqual(doc);
    });
  }

  it('documents the /kill body with a boolean `enabled`, required, and no other keys', async () => {
    const doc = (await s.ops.inject('/docs')).json();
    const schema = doc.paths['/kill'].post.requestBody.content['application/json'].schema;
    expect(schema.properties.enabled).toEqual({ type: 'boolean' });
    expect(schema.required).toEqual(['enabled']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('documents /events/external and the /audit filters', async () => {
    const engine = (await s.engine.inject('/docs')).json();
    const events = engine.paths['/events/external'].post.requestBody.content['application/json'].schema;
    expect(events.required.sort()).toEqual(['payload', 'source']);
    const audit = (await s.ops.inject('/docs')).json().paths['/audit'].get.parameters;
    expect(audit.map((p: { name: string }) => p.name).sort()).toEqual(['action', 'actor', 'limit', 'since']);
  });
});
