import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/http/build-server.js';
import { type RealStack, startRealStack } from './support/real-stack.js';

/** The docs' own routes (page, JSON, YAML, swagger-ui assets) are left out of the document. */
const isDocRoute = (url: string) => url === '/docs' || url.startsWith('/docs/');
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

interface Operation {
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema?: unknown; example?: unknown; examples?: unknown }> }
  >;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  parameters?: Array<{ name: string }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe('GET /docs/json: OpenAPI generated from the zod route schemas', () => {
  let s: RealStack;
  const docs: Partial<Record<'ops' | 'engine', Doc>> = {};
  beforeAll(async () => {
    s = await startRealStack();
    for (const l of ['ops', 'engine'] as const) docs[l] = (await s[l].inject('/docs/json')).json();
  });
  afterAll(async () => {
    await s?.close();
  });

  for (const listener of ['ops', 'engine'] as const) {
    it(`lists every route the ${listener} listener registered, method by method`, async () => {
      const app = s[listener];
      const r = await app.inject('/docs/json');
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toContain('application/json');
      const doc = docs[listener] as Doc;
      expect(doc.openapi).toMatch(/^3\./);
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      const registered = registeredRoutes(app)
        .filter((route) => !isDocRoute(route.url))
        .map((route) => `${route.method} ${openApiPath(route.url)}`);
      expect(registered.length).toBeGreaterThan(5);
      expect(documented.sort()).toEqual(registered.sort());
    });

    it(`gives every ${listener} route a described success schema and its catalogue errors with examples`, () => {
      const doc = docs[listener] as Doc;
      const missing: string[] = [];
      for (const [path, ops] of Object.entries(doc.paths))
        for (const [method, op] of Object.entries(ops)) {
          const name = `${method.toUpperCase()} ${path}`;
          const success = Object.entries(op.responses).filter(([status]) => /^2/.test(status));
          if (success.length === 0) missing.push(`${name}: no 2xx response`);
          for (const [status, r] of Object.entries(op.responses)) {
            if (!r.description || r.description === 'Default Response')
              missing.push(`${name} ${status}: no description`);
            const media = Object.values(r.content ?? {})[0];
            if (!media?.schema) missing.push(`${name} ${status}: no schema`);
            if (/^[45]/.test(status) && !media?.examples && !media?.example)
              missing.push(`${name} ${status}: no example`);
          }
          if (!op.responses['500']) missing.push(`${name}: no 500`);
        }
      expect(missing).toEqual([]);
    });
  }

  it('documents the error codes a command answers, each with an example body', () => {
    const kill = (docs.ops as Doc).paths['/kill']?.post as Operation;
    expect(kill.responses['401']?.description).toMatch(/^UNAUTHORIZED/);
    expect(kill.responses['409']?.description).toContain('IDEMPOTENCY_IN_FLIGHT');
    expect(kill.responses['422']?.description).toContain('IDEMPOTENCY_MISMATCH');
    expect(kill.responses['400']?.content?.['application/json']?.examples).toMatchObject({
      VALIDATION_FAILED: { value: { error: { code: 'VALIDATION_FAILED', message: expect.any(String) } } },
    });
    const actor = (docs.engine as Doc).paths['/actors/{id}']?.get as Operation;
    expect(actor.responses['404']?.description).toMatch(/^NOT_FOUND/);
    // A read without input has no 400.
    expect((docs.ops as Doc).paths['/status']?.get?.responses['400']).toBeUndefined();
  });

  it('documents the /kill body with a boolean `enabled`, required, and no other keys', () => {
    const schema = (docs.ops as Doc).paths['/kill']?.post?.requestBody?.content['application/json']?.schema as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.properties.enabled).toEqual({ type: 'boolean' });
    expect(schema.required).toEqual(['enabled']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('documents /events/external and the /audit filters', () => {
    const events = (docs.engine as Doc).paths['/events/external']?.post?.requestBody?.content['application/json']
      ?.schema as { required: string[] };
    expect(events.required.sort()).toEqual(['payload', 'source']);
    const audit = (docs.ops as Doc).paths['/audit']?.get?.parameters ?? [];
    expect(audit.map((p) => p.name).sort()).toEqual(['action', 'actor', 'limit', 'since']);
  });

  it('serves the browsable page at /docs and its assets from this listener', async () => {
    const page = await s.ops.inject('/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).not.toMatch(/https?:\/\/(?!localhost)[a-z]/i);
    const css = await s.ops.inject('/docs/static/swagger-ui.css');
    expect(css.statusCode).toBe(200);
  });
});
