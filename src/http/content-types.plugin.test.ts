import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../test/http/support/fakes.js';
import { buildServer } from './build-server.js';
import { parseJsonBody } from './content-types.plugin.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function ops() {
  const deps = fakeDeps();
  const app = await buildServer(deps, 'ops');
  apps.push(app);
  return { app, deps };
}

const auth = { 'x-ops-token': TOKEN };

describe('parseJsonBody', () => {
  it('parses JSON and treats an empty or blank body as no body', () => {
    expect(parseJsonBody('{"enabled": false}')).toEqual({ enabled: false });
    expect(parseJsonBody('')).toBeUndefined();
    expect(parseJsonBody(' \n')).toBeUndefined();
  });

  it('refuses a form body with a 400 that says it is not JSON', () => {
    expect(() => parseJsonBody('enabled=false')).toThrow(/not valid JSON/);
  });

  it('refuses prototype-poisoning keys', () => {
    expect(() => parseJsonBody('{"__proto__": {"admin": true}}')).toThrow(/__proto__/);
    expect(() => parseJsonBody('{"a": {"constructor": {"prototype": {}}}}')).toThrow(/constructor/);
    expect(parseJsonBody('{"constructor": "fine"}')).toEqual({ constructor: 'fine' });
  });
});

describe('request bodies', () => {
  it("accepts the runbook's curl -d JSON under application/x-www-form-urlencoded", async () => {
    const { app, deps } = await ops();
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '{"enabled": false}',
    });
    expect(res.statusCode).toBe(200);
    expect(deps.runtime.gov.global.state).toBe('HALTED');
  });

  it('accepts application/json with a charset parameter', async () => {
    const { app } = await ops();
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      payload: '{"enabled": true}',
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers a real form body under the form label with 400 BAD_REQUEST, changing nothing', async () => {
    const { app, deps } = await ops();
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'enabled=false',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_REQUEST');
    expect(deps.runtime.commands).toHaveLength(0);
  });

  it('answers text/plain and multipart with 415', async () => {
    const { app } = await ops();
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml']) {
      const res = await app.inject({
        method: 'POST',
        url: '/kill',
        headers: { ...auth, 'content-type': type },
        payload: '{"enabled": false}',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('parses a body sent without any Content-Type as JSON', async () => {
    const { app, deps } = await ops();
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...auth, 'transfer-encoding': 'chunked' },
      payload: '{"enabled": false}',
    });
    expect(res.statusCode).toBe(200);
    expect(deps.runtime.gov.global.state).toBe('HALTED');
  });

  it('lets a body-less POST reach the route, which names the missing body', async () => {
    const { app } = await ops();
    const res = await app.inject({ method: 'POST', url: '/kill', headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'body: a JSON body {"enabled": false|true} is required',
    });
  });

  it('treats an empty body under a JSON label like no body', async () => {
    const { app } = await ops();
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 413 PAYLOAD_TOO_LARGE past the body limit', async () => {
    const deps = fakeDeps({ bodyLimit: 1024 });
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ enabled: false, reason: 'x'.repeat(2000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(deps.runtime.commands).toHaveLength(0);
  });

  it('answers an unknown route with 404 even when its body is garbage or of an unknown type', async () => {
    const { app } = await ops();
    for (const type of ['application/json', 'text/plain']) {
      const res = await app.inject({
        method: 'POST',
        url: '/nowhere',
        headers: { 'content-type': type },
        payload: '{{',
      });
      expect(res.statusCode).toBe(404);
    }
  });
});
